"""The roadmap's dates on a monthly grid, turned into quarterly capacity factors (vectorised over samples).

Time is counted in months since ``goal.start`` (a quarter's first day): a date
``y-m-d`` is ``12·(y − y0) + (m − m0) + (d − 1)/days_in_month``. The programme's
quarters are months ``3q … 3q + 2``. Every factor below is computed per month and
averaged over the quarter, so slips of a few weeks move capacity between quarters
smoothly. All functions take the uncertain inputs as arrays with any leading sample
axes (``(..., G)``, ``(..., S)``...) and return arrays with the same leading axes: the
plan (no sample axis) and a Monte Carlo of thousands of samples share one code path.

* **Ramp** of generation g in month m: ``ramp[k]`` with ``k = ⌊m − ship_g⌋`` months since
  first ship (the last value holds after the list), 0 before first ship and from the
  month that starts on or after ``end_of_builds``.
* **Factory active** share of month m: ``clip(m + 1 − start_f, 0, 1)``.
* **Site IT power** of quarter q (what the racks deployed by its end may draw): the last
  facility-power step in effect in q, divided by the site's facility power per W of IT (its
  ``pue``, or at a site the programme plans, its site plan's design-peak ratio:
  :class:`rackwright.roadmap.inputs.SiteFigures`). A step dated (plus the site's power
  delay) on day d is in effect from the quarter that holds d (:func:`step_first_quarter`): a
  step energised on a quarter's first day serves that quarter, not the one before, whose racks
  were deployed during it, before the step.
* **Supply** delivered in month m: the cap per quarter in effect at the month's start,
  / 3, times the share of the month after ``ordered + lead_time`` (lead time times the
  sample's factor); cumulated to each quarter's end (parts are stocked, not lost).
  Deliveries before ``goal.start`` are not counted.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..units import parse_quantity
from .inputs import typed_site_figures
from .schema import Roadmap, quarter_ends, quarter_label

SECONDS_PER_MONTH = 365.25 * 86400 / 12


def months_since(start: dt.date, day: dt.date) -> float:
    """Months (fractional) from ``start`` (a month's first day) to ``day``."""
    return (
        12.0 * (day.year - start.year)
        + (day.month - start.month)
        + (day.day - 1) / calendar.monthrange(day.year, day.month)[1]
    )


def step_first_quarter(month: np.ndarray | float, quarters: int) -> np.ndarray:
    """The first quarter (index) in which a step dated ``month`` (months since ``goal.start``) is in effect: the
    quarter holding its date (quarter q holds months ``[3q, 3q + 3)``), 0 before the start, ``quarters`` after the
    grid. The one rule the roadmap's site power and the programme's site plans (:mod:`rackwright.programme.sites`)
    share."""
    return np.clip(np.floor(np.asarray(month, dtype=float) / 3.0), 0, quarters)


def _padded(rows: list[list[float]], fill: float) -> np.ndarray:
    width = max(len(r) for r in rows) if rows else 1
    out = np.full((len(rows), width), fill)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


@dataclass(frozen=True)
class Timeline:
    """The roadmap's dates and steps as arrays (months since ``goal.start``), and the quarter grid."""

    quarters: tuple[str, ...]
    weeks: np.ndarray  # (Q,) weeks in each quarter
    years_left: np.ndarray  # (Q,) years from each quarter's middle to the horizon's end
    ship: np.ndarray  # (G,) first-ship month
    end_of_builds: np.ndarray  # (G,) month (inf: none)
    ramp: np.ndarray  # (G, K) ramp values (padding never read: indices stop at each ramp's last value)
    ramp_len: np.ndarray  # (G,)
    factory_start: np.ndarray  # (F,)
    site_step: np.ndarray  # (S, K) month of each power step (inf: padding)
    site_it_w: np.ndarray  # (S, K) IT power of each step [W]
    ordered: np.ndarray  # (P,) order month
    lead_months: np.ndarray  # (P,) nominal lead time [months]
    cap_step: np.ndarray  # (P, K) month of each cap step (inf: padding)
    cap_value: np.ndarray  # (P, K) cap per quarter

    @property
    def months(self) -> np.ndarray:
        return np.arange(3 * len(self.quarters), dtype=float)

    def _per_quarter(self, monthly: np.ndarray) -> np.ndarray:
        return monthly.reshape(*monthly.shape[:-1], -1, 3).mean(axis=-1)

    def ramp_factor(self, slip_months: np.ndarray | float = 0.0) -> np.ndarray:
        """Share of a line's capacity open to each generation, ``(..., G, Q)``."""
        ship = self.ship + np.asarray(slip_months, dtype=float)
        since = np.floor(self.months - ship[..., None])  # (..., G, M)
        index = np.clip(since, 0, self.ramp_len[:, None] - 1).astype(int)
        value = self.ramp[np.arange(len(self.ship))[:, None], index]
        open_ = (since >= 0) & (self.months < self.end_of_builds[:, None])
        return self._per_quarter(np.where(open_, value, 0.0))

    def factory_active(self) -> np.ndarray:
        """Share of each quarter a factory is running, ``(F, Q)``."""
        return self._per_quarter(np.clip(self.months + 1 - self.factory_start[:, None], 0.0, 1.0))

    def site_it_power(self, delay_months: np.ndarray | float = 0.0) -> np.ndarray:
        """IT power available at each site in each quarter [W], ``(..., S, Q)`` (:func:`step_first_quarter`)."""
        step = self.site_step + np.asarray(delay_months, dtype=float)[..., None]  # (..., S, K)
        first = step_first_quarter(step, len(self.quarters))
        active = first[..., None, :] <= np.arange(len(self.quarters))[:, None]  # (..., S, Q, K)
        count = active.sum(axis=-1)
        last = np.take_along_axis(
            np.broadcast_to(self.site_it_w[:, None, :], active.shape), np.maximum(count - 1, 0)[..., None], axis=-1
        )[..., 0]
        return np.where(count > 0, last, 0.0)

    def supply_cumulative(self, lead_factor: np.ndarray | float = 1.0) -> np.ndarray:
        """Parts delivered from ``goal.start`` to each quarter's end, ``(..., P, Q)``."""
        arrival = self.ordered + self.lead_months * np.asarray(lead_factor, dtype=float)  # (..., P)
        m = self.months
        in_effect = (self.cap_step[:, None, :] <= m[:, None]).sum(axis=-1)  # (P, M)
        cap = np.take_along_axis(self.cap_value, np.maximum(in_effect - 1, 0), axis=-1)
        cap = np.where(in_effect > 0, cap, 0.0)
        monthly = cap / 3.0 * np.clip(m + 1 - arrival[..., None], 0.0, 1.0)
        return np.cumsum(monthly, axis=-1)[..., 2::3]


def build_timeline(roadmap: Roadmap, facility_per_it: np.ndarray | None = None) -> Timeline:
    """Arrays of the roadmap's dates and steps (see the module docstring); a step carries its facility power /
    ``facility_per_it`` of IT (``(S,)``, each site's ``pue`` when not given)."""
    ratio = typed_site_figures(roadmap).facility_per_it if facility_per_it is None else facility_per_it
    goal = roadmap.goal
    start = goal.start
    ends = quarter_ends(start, goal.by)
    starts = np.r_[np.datetime64(start, "D"), ends[:-1]]
    days = (ends - starts).astype(float)
    mid_years = starts.astype(float) + days / 2
    years_left = (ends[-1].astype(float) - mid_years) / 365.25
    months = lambda day: months_since(start, day)  # noqa: E731 - a local shorthand
    steps = zip(roadmap.sites, ratio, strict=True)
    inf = np.inf
    return Timeline(
        quarters=tuple(quarter_label(m) for m in starts.astype("datetime64[M]")),
        weeks=days / 7.0,
        years_left=years_left,
        ship=np.array([months(g.first_ship) for g in roadmap.generations]),
        end_of_builds=np.array(
            [inf if g.end_of_builds is None else months(g.end_of_builds) for g in roadmap.generations]
        ),
        ramp=_padded([g.ramp for g in roadmap.generations], 0.0),
        ramp_len=np.array([len(g.ramp) for g in roadmap.generations]),
        factory_start=np.array([months(f.start) for f in roadmap.factories]),
        site_step=_padded([[months(p.start) for p in s.power] for s in roadmap.sites], inf),
        site_it_w=_padded([[parse_quantity(p.facility, "power") / k for p in s.power] for s, k in steps], 0.0),
        ordered=np.array([months(s.ordered) for s in roadmap.supply]),
        lead_months=np.array([parse_quantity(s.lead_time, "time") / SECONDS_PER_MONTH for s in roadmap.supply]),
        cap_step=_padded([[months(c.start) for c in s.caps] for s in roadmap.supply], inf),
        cap_value=_padded([[c.per_quarter for c in s.caps] for s in roadmap.supply], 0.0),
    )

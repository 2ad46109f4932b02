"""The roadmap as a mixed-integer linear programme, built from arrays and solved with HiGHS.

Variables, integer and ≥ 0: ``b[g, f, q]`` racks of generation g built (integrated and
tested) at factory f in quarter q, and ``d[g, s, q]`` racks of g deployed at site s in q;
they exist only where factory f has a capacity for g and site s hosts g. Racks built in a
quarter are shipped and deployed in the same quarter (``Σ_f b = Σ_s d`` for each g, q): a
single-commodity flow, so some shipment of factories' racks to sites always realises the
plan (splitting build from deployment keeps the programme free of the factory × site
symmetry, which made the one-variable-per-(g, f, s, q) form several times slower). With
``P_g`` the rack's IT power [MW],
``c_gf`` the factory's rate [racks/week], ``w_q`` the quarter's weeks, ``a_fq`` the
factory's active share, ``y_f`` its yield, ``r_gq`` the ramp share, ``n_pg`` parts p per
rack and ``U_pq`` parts p delivered by the end of q (see :mod:`.timeline`), the rows are
(one constraint family each, all assembled as one sparse matrix):

* **site**   ``Σ_{g,q'≤q} P_g·d[g,s,q'] ≤ IT_sq``  (racks stay deployed: the horizon is shorter
  than a depreciation life of 5–6 years; ``IT_sq`` the step's facility power / the site's facility power per
  W of IT, :mod:`.timeline`);
* **factory** ``Σ_g b[g,f,q] / c_gf ≤ w_q·a_fq·y_f``  (a line's weeks shared between generations);
* **ramp**   ``b[g,f,q] ≤ c_gf·r_gq·w_q·a_fq·y_f``  (availability after first ship, ramp, end of builds);
* **supply** ``Σ_{g,f,q'≤q} n_pg·b[g,f,q'] + Σ_{g,s,q'≤q} m_pgs·d[g,s,q'] ≤ U_pq``  (parts shared between
  generations, stocked; ``m_pgs`` the parts a rack of g brings with it at site s beyond its BOM, such as the
  site's fabric optics, when the figures carry them: ``RackFigures.site_supply_per_rack``, set by the programme);
* **balance** ``Σ_f b[g,f,q] − Σ_s d[g,s,q] = 0``;
* **goal**   ``Σ P_g·d ≥ G``  over the whole horizon (it ends with the goal date's quarter);
* **US share** (optional) ``Σ (u_f − m)·$_g·b ≥ 0``: at least a share m of rack value integrated in US factories.

Objectives: ``training-compute`` maximises ``Σ F_g·L_q·d`` (peak FLOP/s at the goal's
precision times the years from the quarter's middle to the horizon's end: peak compute
over the horizon), ``delivered-training-compute`` maximises ``Σ D_g·L_q·d`` (``D_g`` the
FLOP/s a rack delivers on the reference MoE training workload, :func:`.inputs.delivered_flops`),
``cost`` minimises ``Σ $_g·b + Σ B_s·P_g·d`` (rack BOM cost plus site build
cost per MW of IT, :attr:`.inputs.SiteFigures.build_usd_per_mw`), ``us-share`` maximises
``Σ u_f·$_g·b``, the value of racks integrated in US factories.

**Infeasibility diagnosis** (elastic programme, as in Chinneck, *Feasibility and
Infeasibility in Optimization*, 2008, ch. 6): each site, factory, ramp and supply row
gets a slack ``e ≥ 0`` (``row − e ≤ bound``) and the programme minimises the total slack,
each weighted by the IT power one unit of it could carry (1 per MW of site power,
``max_g c_gf·P_g`` per line-week, ``P_g`` per rack of ramp, ``max_g P_g/(n_pg + max_s m_pgs)`` per part):
the smallest extra capacity, in MW of IT, that meets the goal. The non-zero slacks are
the binding constraints and their shortfalls. The elastic programme is solved as a linear
programme (racks continuous): a diagnosis needs the capacities short, not integer racks,
and the LP is two orders of magnitude faster than its MILP (milliseconds instead of seconds).

**Reach** (the schedule shown when the goal is out of reach, and the Monte Carlo's
programme): maximise ``Σ P_g·(1 + ε·L_q/L_0)·d`` with the goal row dropped, ε = 10⁻³: the
most IT power by the goal date, and of the schedules that give it, the earliest.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp

from .inputs import RackFigures, site_terms
from .schema import Roadmap
from .timeline import Timeline

FAMILIES = ("site", "factory", "ramp", "supply")
#: Rows within this share of their bound (and 1e-6 absolute) count as binding.
BINDING_TOLERANCE = 1e-6
#: Relative MIP gap of a plan: within 0.1 % of the best objective (at 10 GW, a few dozen racks' worth);
#: a start rounded from the LP relaxation (:func:`rounded_start`) usually meets it at the root node.
DEFAULT_GAP = 1e-3
#: Reach programme: a bonus for earlier racks, small enough never to trade IT power for time.
EARLY_WEIGHT = 1e-3
#: Relative MIP gap of the reach programme: within 0.1 % of the most IT power (a tighter gap
#: spends seconds ordering racks by ε-sized bonuses).
REACH_GAP = 1e-3


@dataclass(frozen=True)
class Family:
    """A block of rows: its name, first row, the entity of each row and its quarter."""

    name: str
    start: int
    entity: np.ndarray  # (rows,) index of the site/factory/(g,f) pair/supply line
    quarter: np.ndarray  # (rows,)
    unit: str
    weight: np.ndarray  # (rows,) MW of IT per unit of slack (diagnosis)

    @property
    def rows(self) -> slice:
        return slice(self.start, self.start + len(self.entity))


@dataclass
class Structure:
    """The programme's columns and rows, independent of the uncertain inputs (those move bounds only)."""

    roadmap: Roadmap
    figures: RackFigures
    timeline: Timeline
    col_g: np.ndarray  # generation of each column
    col_f: np.ndarray  # factory of a build column, -1 on deploy columns
    col_s: np.ndarray  # site of a deploy column, -1 on build columns
    col_q: np.ndarray  # quarter of each column
    pair_g: np.ndarray  # (g, f) pairs with a capacity
    pair_f: np.ndarray
    matrix: sp.csc_matrix
    families: dict[str, Family]
    goal_row: int
    us_row: int | None
    rate: np.ndarray  # (G, F) racks/week, 0 where the factory cannot build the generation
    us_factory: np.ndarray  # (F,) bool

    @property
    def n_cols(self) -> int:
        return len(self.col_g)

    @property
    def n_rows(self) -> int:
        return self.matrix.shape[0]

    @property
    def built(self) -> np.ndarray:
        """1 for build columns (racks integrated at factory ``col_f``), else 0."""
        return (self.col_f >= 0).astype(float)

    @property
    def deployed(self) -> np.ndarray:
        """1 for deploy columns (racks installed at site ``col_s``), else 0."""
        return (self.col_s >= 0).astype(float)

    @property
    def power_mw(self) -> np.ndarray:
        """IT power of each deploy column's rack [MW] (0 on build columns)."""
        return self.figures.it_power_w[self.col_g] / 1e6 * self.deployed


def build_structure(roadmap: Roadmap, figures: RackFigures, timeline: Timeline) -> Structure:
    """Build and deploy columns for every buildable (g, f) and hostable (g, s) pair and quarter; every row family."""
    gens = [g.id for g in roadmap.generations]
    G, F, S, Q = len(gens), len(roadmap.factories), len(roadmap.sites), len(timeline.quarters)
    P = len(roadmap.supply)
    rate = figures.factory_rate
    hosts = np.array([[g in s.hosts for s in roadmap.sites] for g in gens])
    pair_g, pair_f = np.nonzero(rate > 0)
    host_g, host_s = np.nonzero(hosts)
    n_build = len(pair_g) * Q
    col_g = np.r_[np.repeat(pair_g, Q), np.repeat(host_g, Q)]
    col_q = np.r_[np.tile(np.arange(Q), len(pair_g)), np.tile(np.arange(Q), len(host_g))]
    col_f = np.r_[np.repeat(pair_f, Q), np.full(len(host_g) * Q, -1)]
    col_s = np.r_[np.full(n_build, -1), np.repeat(host_s, Q)]
    n = len(col_g)
    build, deploy = np.arange(n_build), np.arange(n_build, n)
    power = figures.it_power_w[col_g] / 1e6

    blocks, families, start = [], {}, 0

    def add(rows, cols, values, n_rows, family=None):
        nonlocal start
        blocks.append(sp.csr_matrix((values, (rows, cols)), shape=(n_rows, n)))
        if family is not None:
            families[family[0]] = Family(family[0], start, *family[1:])
        start += n_rows

    def entity_rows(count):
        return np.repeat(np.arange(count), Q), np.tile(np.arange(Q), count)

    def cumulative(cols):
        """(column, quarter) pairs of the columns ``cols`` in the rows of their quarter and every later one."""
        col, q = np.nonzero(np.arange(Q)[None, :] >= col_q[cols, None])
        return cols[col], q

    site_col, site_q = cumulative(deploy)
    add(col_s[site_col] * Q + site_q, site_col, power[site_col], S * Q, ("site", *entity_rows(S), "MW", np.ones(S * Q)))
    line_weight = (rate * figures.it_power_w[:, None] / 1e6).max(axis=0)  # (F,) MW per line-week
    add(
        col_f[build] * Q + col_q[build],
        build,
        1.0 / rate[col_g[build], col_f[build]],
        F * Q,
        ("factory", *entity_rows(F), "line-weeks", np.repeat(line_weight, Q)),
    )
    add(
        build,
        build,
        np.ones(n_build),
        n_build,  # build columns are ordered by (pair, quarter)
        ("ramp", *entity_rows(len(pair_g)), "racks", np.repeat(figures.it_power_w[pair_g] / 1e6, Q)),
    )
    need = figures.supply_per_rack  # (P, G)
    at_site = figures.site_supply_per_rack if figures.site_supply_per_rack is not None else np.zeros((P, G, S))
    made_col, made_q = cumulative(build)
    p_rows, k = np.nonzero(need[:, col_g[made_col]])
    p_site, j = np.nonzero(at_site[:, col_g[site_col], col_s[site_col]])
    most = need + at_site.max(axis=2, initial=0.0)
    with np.errstate(divide="ignore"):
        per_unit = np.where(most > 0, figures.it_power_w[None, :] / 1e6 / most, 0.0).max(axis=1, initial=0.0)
    add(
        np.r_[p_rows * Q + made_q[k], p_site * Q + site_q[j]],
        np.r_[made_col[k], site_col[j]],
        np.r_[need[p_rows, col_g[made_col[k]]], at_site[p_site, col_g[site_col[j]], col_s[site_col[j]]]],
        P * Q,
        ("supply", *entity_rows(P), "", np.repeat(per_unit, Q)),
    )
    add(col_g * Q + col_q, np.arange(n), np.where(col_f >= 0, 1.0, -1.0), G * Q)  # balance: built = deployed
    goal_row = start
    add(np.zeros(len(deploy), int), deploy, power[deploy], 1)
    us_factory = np.array([f.location == "US" for f in roadmap.factories])
    us_row = None
    if roadmap.goal.min_us_share is not None:
        value = figures.rack_usd[col_g[build]] / 1e6 * (us_factory[col_f[build]] - roadmap.goal.min_us_share)
        us_row = start
        add(np.zeros(n_build, int), build, value, 1)
    return Structure(
        roadmap,
        figures,
        timeline,
        col_g,
        col_f,
        col_s,
        col_q,
        pair_g,
        pair_f,
        sp.vstack(blocks, format="csc"),
        families,
        goal_row,
        us_row,
        rate,
        us_factory,
    )


@dataclass(frozen=True)
class Uncertain:
    """The uncertain inputs of one plan or of many samples (leading axes): months, factors."""

    slip_months: np.ndarray | float = 0.0  # (..., G)
    site_delay_months: np.ndarray | float = 0.0  # (..., S)
    lead_factor: np.ndarray | float = 1.0  # (..., P)
    factory_yield: np.ndarray | float = 1.0  # (..., F)


def row_bounds(st: Structure, u: Uncertain = Uncertain()) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper row bounds, ``(..., rows)``, for the uncertain inputs ``u`` (vectorised over samples)."""
    t = st.timeline
    site = t.site_it_power(u.site_delay_months) / 1e6  # (..., S, Q)
    weeks = t.weeks * t.factory_active() * np.asarray(u.factory_yield, dtype=float)[..., None]  # (..., F, Q)
    ramp = t.ramp_factor(u.slip_months)  # (..., G, Q)
    pair_cap = st.rate[st.pair_g, st.pair_f][:, None] * ramp[..., st.pair_g, :] * weeks[..., st.pair_f, :]
    supply = t.supply_cumulative(u.lead_factor)  # (..., P, Q)
    parts = (site, weeks, pair_cap, supply)
    lead_shape = np.broadcast_shapes(*(p.shape[:-2] for p in parts))
    upper = np.concatenate(
        [np.broadcast_to(p, (*lead_shape, *p.shape[-2:])).reshape(*lead_shape, -1) for p in parts], axis=-1
    )
    balance = np.zeros((*lead_shape, st.n_rows - upper.shape[-1] - 1 - (st.us_row is not None)))
    extra_lo = [parse_goal_mw(st.roadmap)] + ([0.0] if st.us_row is not None else [])
    extra = np.broadcast_to(extra_lo, (*lead_shape, len(extra_lo)))
    lower = np.concatenate([np.full(upper.shape, -np.inf), balance, extra], axis=-1)
    upper = np.concatenate([upper, balance, np.full(extra.shape, np.inf)], axis=-1)
    return lower, upper


def parse_goal_mw(roadmap: Roadmap) -> float:
    from ..units import parse_quantity

    return parse_quantity(roadmap.goal.it_power, "power") / 1e6


def objective(st: Structure) -> tuple[np.ndarray, bool, str]:
    """Column costs, whether to maximise, and the objective's unit (see the module docstring)."""
    fig, goal = st.figures, st.roadmap.goal
    years = st.timeline.years_left[st.col_q] * st.deployed
    if goal.objective == "training-compute":
        return (
            fig.peak_flops[st.col_g] / 1e18 * years,
            True,
            f"EFLOP/s·years of peak {goal.precision} compute by the horizon's end",
        )
    if goal.objective == "delivered-training-compute":
        return (
            fig.delivered_flops[st.col_g] / 1e18 * years,
            True,
            f"EFLOP/s·years of training compute delivered on {fig.delivered_on} by the horizon's end",
        )
    if goal.objective == "cost":
        build = site_terms(fig, st.roadmap).build_usd_per_mw
        return (
            fig.rack_usd[st.col_g] / 1e6 * st.built + build[st.col_s] * st.power_mw / 1e6,
            False,
            "M$ capex (rack BOM cost and site build cost)",
        )
    return (
        fig.rack_usd[st.col_g] / 1e6 * st.us_factory[st.col_f] * st.built,
        True,
        "M$ of racks integrated in US factories",
    )


@dataclass
class Solution:
    status: str
    optimal: bool
    x: np.ndarray  # (columns,) racks
    objective: float
    slack: np.ndarray | None  # (site..supply rows,) slack of the elastic programme
    row_activity: np.ndarray
    seconds: float


@dataclass
class LpSpec:
    """The data of one HiGHS solve (picklable, for worker processes)."""

    matrix: sp.csc_matrix
    cost: np.ndarray
    maximise: bool
    integer: np.ndarray  # (columns,) bool
    col_upper: np.ndarray
    options: dict = field(default_factory=dict)


_BANNER_DONE = False


def quiet_highs() -> highspy.Highs:
    """A silent HiGHS instance. HiGHS prints a banner to C stdout when a process creates its first
    instance (before any option can be set), which would corrupt ``--json`` output: that first
    construction runs with file descriptor 1 pointed at /dev/null."""
    global _BANNER_DONE
    if not _BANNER_DONE:
        sys.stdout.flush()
        saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        try:
            h = highspy.Highs()
            ctypes.CDLL(None).fflush(None)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)
        _BANNER_DONE = True
    else:
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def make_highs(spec: LpSpec, lower: np.ndarray, upper: np.ndarray) -> highspy.Highs:
    """A HiGHS instance holding the programme (one ``passModel`` of the column-wise arrays)."""
    lp = highspy.HighsLp()
    m = spec.matrix
    lp.num_col_, lp.num_row_ = m.shape[1], m.shape[0]
    lp.col_cost_ = spec.cost.astype(float)
    lp.col_lower_ = np.zeros(m.shape[1])
    lp.col_upper_ = spec.col_upper.astype(float)
    lp.row_lower_ = np.asarray(lower, dtype=float)
    lp.row_upper_ = np.asarray(upper, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = m.indptr.astype(np.int32)
    lp.a_matrix_.index_ = m.indices.astype(np.int32)
    lp.a_matrix_.value_ = m.data.astype(float)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = m.shape[1], m.shape[0]
    lp.sense_ = highspy.ObjSense.kMaximize if spec.maximise else highspy.ObjSense.kMinimize
    if spec.integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in spec.integer
        ]
    h = quiet_highs()
    for key, value in spec.options.items():
        h.setOptionValue(key, value)
    h.passModel(lp)
    return h


def run(h: highspy.Highs) -> tuple[str, bool, np.ndarray, np.ndarray, float]:
    """Solve; status text, whether a solution exists, column values, row activities, objective."""
    h.run()
    status = h.getModelStatus()
    ok = status in (highspy.HighsModelStatus.kOptimal,) or (
        h.getInfo().primal_solution_status == 2 and status != highspy.HighsModelStatus.kInfeasible
    )
    solution = h.getSolution()
    x = np.asarray(solution.col_value) if ok else np.zeros(h.getNumCol())
    rows = np.asarray(solution.row_value) if ok else np.zeros(h.getNumRow())
    return h.modelStatusToString(status), ok, x, rows, h.getInfo().objective_function_value if ok else float("nan")


def programme(st: Structure, mode: str, lower: np.ndarray, integer: bool = True) -> LpSpec:
    """The programme of ``mode`` (``plan``, ``reach`` or ``elastic``, see :func:`solve`); ``lower`` is
    edited in place for ``reach`` (goal row dropped)."""
    matrix = st.matrix
    n_slack = st.families["supply"].rows.stop
    if mode == "plan":
        cost, maximise, _ = objective(st)
    elif mode == "reach":
        cost, maximise = (
            st.power_mw * (1.0 + EARLY_WEIGHT * st.timeline.years_left[st.col_q] / st.timeline.years_left[0]),
            True,
        )
        lower[..., st.goal_row] = -np.inf
    elif mode == "elastic":
        weights = np.concatenate([st.families[f].weight for f in FAMILIES])
        matrix = sp.hstack(
            [matrix, sp.vstack([-sp.identity(n_slack), sp.csr_matrix((st.n_rows - n_slack, n_slack))])], format="csc"
        )
        cost, maximise = np.r_[np.zeros(st.n_cols), np.maximum(weights, 1e-9)], False
        integer = False
    else:
        raise ValueError(f"unknown mode {mode!r}")
    n = matrix.shape[1]
    flags = np.zeros(n, bool)
    flags[: st.n_cols] = integer
    return LpSpec(matrix, cost, maximise, flags, np.full(n, np.inf))


def solve(
    st: Structure,
    u: Uncertain = Uncertain(),
    mode: str = "plan",
    mip_gap: float = DEFAULT_GAP,
    time_limit: float = 60.0,
    start_from_lp: bool = True,
) -> Solution:
    """Solve the programme; ``mode``: ``plan`` (the goal's objective), ``reach`` (maximise IT power, goal
    row dropped), ``elastic`` (minimise weighted slack, goal kept; an LP). ``start_from_lp`` gives HiGHS
    the rounded LP solution as a start (:func:`rounded_start`; off only to measure what it saves)."""
    lower, upper = row_bounds(st, u)
    spec = programme(st, mode, lower)
    spec.options.update(
        {"mip_rel_gap": max(mip_gap, REACH_GAP) if mode == "reach" else mip_gap, "time_limit": time_limit}
    )
    n = spec.matrix.shape[1]
    start = time.perf_counter()
    h = make_highs(spec, lower, upper)
    if start_from_lp and spec.integer.any():
        guess = rounded_start(st, spec, lower, upper)
        if guess is not None:
            h.setSolution(n, np.arange(n, dtype=np.int32), guess)
    status, ok, x, rows, value = run(h)
    seconds = time.perf_counter() - start
    slack = x[st.n_cols :] if mode == "elastic" else None
    return Solution(status, ok, np.round(x[: st.n_cols]), value, slack, rows, seconds)


def rounded_start(st: Structure, spec: LpSpec, lower: np.ndarray, upper: np.ndarray) -> np.ndarray | None:
    """A feasible integer start from the LP relaxation, or None.

    Racks are rounded down (every site, factory, ramp and supply row has non-negative
    coefficients, so they stay feasible), then, per generation and quarter, the larger of
    built and deployed is trimmed to the smaller (balance rows). Rounding down can leave
    the goal row short by at most the IT power of the racks rounded away; if it does, the
    LP is solved once more with the goal raised by twice that amount and rounded again.
    If the start still breaks a row (goal, US share), it is dropped and HiGHS searches on
    its own. At GW scale the rounding loses a few racks in tens of thousands, so HiGHS
    usually proves the start within the gap at the root node.
    """
    target = lower.copy()
    for _ in range(2):
        x = _relaxed(spec, target, upper)
        if x is None:
            return None
        start = _round_down(st, x)
        activity = spec.matrix @ start
        if np.all(activity >= lower - 1e-6) and np.all(activity <= upper + 1e-6):
            return start
        fractional = (x - np.floor(x + 1e-6)) > 1e-6
        target[st.goal_row] += 2.0 * (st.figures.it_power_w[st.col_g] / 1e6 * fractional).sum()
    return None


def _relaxed(spec: LpSpec, lower: np.ndarray, upper: np.ndarray) -> np.ndarray | None:
    h = make_highs(
        LpSpec(spec.matrix, spec.cost, spec.maximise, np.zeros_like(spec.integer), spec.col_upper), lower, upper
    )
    h.run()
    return np.asarray(h.getSolution().col_value) if h.getModelStatus() == highspy.HighsModelStatus.kOptimal else None


def _round_down(st: Structure, x: np.ndarray) -> np.ndarray:
    x = np.floor(x + 1e-6)
    group = st.col_g * len(st.timeline.quarters) + st.col_q
    built, deployed = (np.bincount(group, x * side, minlength=group.max() + 1) for side in (st.built, st.deployed))
    keep = np.minimum(built, deployed)
    return _trim(x * st.built, group, built - keep) + _trim(x * st.deployed, group, deployed - keep)


def _trim(values: np.ndarray, group: np.ndarray, excess: np.ndarray) -> np.ndarray:
    """Take ``excess[k]`` units off the columns of group k, first columns first (vectorised)."""
    order = np.lexsort((np.arange(len(values)), group))
    v, g = values[order], group[order]
    running = np.cumsum(v)
    before = running - v - np.r_[0.0, running][np.searchsorted(g, g, "left")]
    out = np.empty_like(values)
    out[order] = v - np.minimum(v, np.maximum(0.0, excess[g] - before))
    return out

"""Each design rule's result for one evaluated design: passed, broken (with its worst severity) or not applicable.

A rule applies where the design has what it checks: the CDU rules (THM001, THM002, THM004, THM005) a CDU with
the rating they compare, the busbar rule (PWR003) a busbar, the rear-door rule (THM008) a rear-door heat
exchanger, and so on (:data:`NOT_APPLICABLE`). A rule that does not apply cannot break (its rating is missing, so
:func:`rackwright.rack.rules._gt` never trips), and counting it as passed would claim a check that was not made:
an air-cooled rack does not pass the CDU's flow rule, it has no CDU. A broken rule is broken whatever its
applicability.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..models.mechanical import pitch_name
from .chain import RackModel, design_limits
from .rules import SUMMARIES, _converter_sides

if TYPE_CHECKING:
    from .evaluation import Rack

#: A rule's result: ``pass``, ``broken`` (its ``severity`` says error or warning) or ``not_applicable`` (its
#: ``reason`` says why).
STATUSES = ("pass", "broken", "not_applicable")

Absent = Callable[[RackModel, dict], "str | None"]


def _rated(key: str, absent: str) -> Absent:
    """Applies where the rating ``key`` is known (a finite figure)."""
    return lambda m, f: None if np.isfinite(float(f[key])) else absent


def _present(key: str, absent: str) -> Absent:
    """Applies where the figure ``key`` is above zero."""
    return lambda m, f: None if float(f[key]) > 0 else absent


def _positioned(least: int, absent: str) -> Absent:
    """Applies where at least ``least`` slots give a position."""
    return lambda m, f: None if sum(s.position is not None for s in m.design.slots) >= least else absent


def _liquid(key: str, rating: str) -> Absent:
    """A CDU rule: applies where a CDU is named and its catalog entry gives ``rating``."""

    def reason(m: RackModel, f: dict) -> str | None:
        if not np.isfinite(float(f["limit.cdu_capacity"])):
            return "the design names no CDU (cooling.cdu)"
        return None if np.isfinite(float(f[key])) else f"the CDU's catalog entry gives no {rating}"

    return reason


NO_SCALE_UP_SWITCHES = "no scale-up switches in the rack's slots (the scale-up domain is inside the servers)"
NO_SCALE_OUT = "no scale-out NIC ports in the rack"

#: Why a rule does not apply to a design (None: it applies), by rule code; rules not listed always apply.
NOT_APPLICABLE: dict[str, Absent] = {
    "PWR001": _present("power.shelf_capacity", "no power shelves, DC-DC units or PDUs convert power (see PWR002)"),
    "PWR003": _rated("limit.busbar_current", "no busbar (power.busbar): the rack is fed through PDUs"),
    "PWR005": lambda m, f: (
        "power.architecture ac-pdu: the feed is not a DC bus" if m.architecture == "ac-pdu" else None
    ),
    "PWR006": lambda m, f: None if _converter_sides(m) else "no slot-mounted converter states its bus-side voltage",
    "THM001": _liquid("limit.cdu_max_flow", "maximum flow"),
    "THM002": _liquid("limit.cdu_capacity", "capacity"),
    "THM003": _rated("limit.manifold_max_flow", "no manifold with a flow rating (cooling.manifold)"),
    "THM004": _liquid("limit.cdu_approach", "approach temperature"),
    "THM005": _liquid("limit.cdu_max_facility_supply", "maximum facility supply temperature"),
    "THM006": _rated("limit.air_capacity", "the enclosure's catalog entry gives no air capacity"),
    "THM007": _present("thermal.heat_to_liquid", "no heat goes to liquid: an air-cooled rack"),
    "THM008": _rated("limit.rear_door_max_facility_supply", "no rear-door heat exchanger in the rack"),
    "MEC002": _rated("limit.max_payload", "the enclosure's catalog entry gives no payload rating"),
    "MEC003": _rated("limit.floor_rating", "the design gives no floor_rating"),
    "MEC004": _positioned(1, "no slot gives a position"),
    "MEC005": _positioned(2, "fewer than two slots give a position, so none can overlap"),
    "MEC007": lambda m, f: (
        None if pitch_name(design_limits(m)["unit_pitch"]) == "OU" else "the enclosure is not an Open Rack (OU)"
    ),
    "NET001": _present("limit.scale_up_switch_ports", NO_SCALE_UP_SWITCHES),
    "NET002": _present("limit.scale_up_switch_ports", NO_SCALE_UP_SWITCHES),
    "NET003": lambda m, f: None if m.design.network.links else "the design lists no network.links",
    "NET004": _present("network.scale_out_ports", NO_SCALE_OUT),
    "NET005": _present("network.scale_out_ports", NO_SCALE_OUT),
}


def rule_statuses(rack: Rack) -> list[dict]:
    """One record per design rule (by code): ``code``, ``status`` (:data:`STATUSES`), ``severity`` (the worst of
    a broken rule's violations, else None) and ``reason`` (why a rule does not apply, else None)."""
    worst: dict[str, str] = {}
    for v in rack.violations:
        worst[v.code] = "error" if "error" in (v.severity, worst.get(v.code)) else v.severity
    records = []
    for code in sorted(SUMMARIES):
        absent = NOT_APPLICABLE.get(code)
        reason = None if code in worst or absent is None or rack.model is None else absent(rack.model, rack.figures)
        status = "broken" if code in worst else "not_applicable" if reason else "pass"
        records.append({"code": code, "status": status, "severity": worst.get(code), "reason": reason})
    return records


def status_counts(records: list[dict]) -> dict[str, int]:
    """Rules passed, broken and not applicable: ``{"pass": 22, "broken": 1, "not_applicable": 6}``."""
    counts = Counter(r["status"] for r in records)
    return {status: counts[status] for status in STATUSES}


__all__ = ["NOT_APPLICABLE", "STATUSES", "rule_statuses", "status_counts"]

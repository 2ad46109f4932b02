"""Hold the site planner against published site and fabric facts (``validation/sites/published.yaml``).

Each case plans a site file (or sizes a fabric from its inputs) and compares named figures: keys of
``summary.json`` (dotted for nested ones) or the derived ratios in :data:`DERIVED`. Tolerances and any known
deviation are stated in the file; :func:`sites_markdown` renders the "Sites" table of ``docs/validation.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..published import RelativeCheck
from ..yamlio import read_yaml, to_plain

PUBLISHED = Path("validation/sites/published.yaml")

#: Figures computed from the summary: name → function of the summary.
DERIVED = {
    "accelerators_per_it_mw": lambda s: s["accelerators"] / s["it_power_mw"],
    "accelerators_per_facility_mw": lambda s: s["accelerators"] / s["facility_power_mw"],
}

SITE_HEADER = """
## Sites (site planner)

Published facts of real sites and fabrics from `validation/sites/published.yaml` (sources, a-priori tolerances
and notes there; see `validation/sites/README.md`), against `rackwright site plan` on the named site file or
the fabric model on the same inputs. A case outside its tolerance stays in the table with its stated reason
(`known deviation`); `docs/site.md` ("Validation") discusses them.

"""


@dataclass(frozen=True)
class SiteRow(RelativeCheck):
    case: str
    figure: str
    published: float
    computed: float
    tolerance: float
    kind: str
    known_deviation: str


@lru_cache(maxsize=16)
def _planned_summary(path: str) -> dict:
    from .planner import plan_site

    return plan_site(path).summary()


def _fabric_summary(spec: dict) -> dict:
    from .fabric import size_fabric

    per_rail = np.full(spec["rails"], spec["endpoints"] // spec["rails"])
    size = size_fabric(per_rail, spec["radix"], spec["tiers"], [1.0, 1.0], 1.0)
    return {"switches": size.switches_by_tier}


def _figure(summary: dict, name: str) -> float:
    if name in DERIVED:
        return float(DERIVED[name](summary))
    node: Any = summary  # a JSON tree: dicts down to a number
    for key in name.split("."):
        node = node[key]
    return float(node)


def compare_sites(root: str | Path = ".") -> list[SiteRow]:
    """One row per published figure of every case."""
    root = Path(root)
    rows = []
    for case in to_plain(read_yaml(root / PUBLISHED))["cases"]:
        summary = _planned_summary(str(root / case["site"])) if "site" in case else _fabric_summary(case["fabric"])
        for fig in case["figures"]:
            rows.append(
                SiteRow(
                    case["case"],
                    fig["figure"],
                    float(fig["value"]),
                    _figure(summary, fig["figure"]),
                    float(fig["tolerance"]),
                    case["kind"],
                    case.get("known_deviation", ""),
                )
            )
    return rows


def sites_markdown(rows: list[SiteRow]) -> str:
    lines = [
        "| case | figure | published | computed | error | tolerance | within | source kind |",
        "|---|---|---:|---:|---:|---:|:-:|---|",
    ]
    for r in rows:
        verdict = "yes" if r.within else ("**no** (known deviation)" if r.known_deviation else "**no**")
        lines.append(
            f"| {r.case} | `{r.figure}` | {r.published:,.4g} | {r.computed:,.4g} | {r.error:+.1%} | "
            f"±{r.tolerance:.0%} | {verdict} | {r.kind} |"
        )
    notes = [f"- {r.case}: {r.known_deviation}" for r in rows if r.known_deviation and not r.within]
    return "\n".join(lines) + "\n" + ("\nKnown deviations:\n\n" + "\n".join(notes) + "\n" if notes else "")

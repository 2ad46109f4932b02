"""The folder a site plan is written to (``rackwright site plan -o DIR``, the programme's per-site plans).

summary.json (the document ``site plan --json`` prints, docs/json.md), generations.json (each rack design's file
and rack count, which ``site export-netbox`` reads), cables.parquet, bom.csv and, when asked, report.html.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from ..report.jsonout import document, write_json
from .planner import SitePlan
from .summary import distribution_halls, summary_body

#: The command whose document summary.json is, wherever it is written (``site plan``, the programme's sites).
COMMAND = "site plan"


def write_plan_folder(plan: SitePlan, folder: Path, report: bool = True) -> dict:
    """summary.json, generations.json (each rack design's file and rack count, which ``site export-netbox`` reads),
    cables.parquet, bom.csv (and report.html) in ``folder``; returns the summary's body
    (:func:`rackwright.site.summary.summary_body`)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError.single(str(folder), f"cannot create the output folder: {exc}", "-o") from None
    summary = plan.summary()
    summary["power_chain"]["distribution"]["halls"] = distribution_halls(plan)
    body = summary_body(summary)
    write_json(folder / "summary.json", document(COMMAND, body))
    generations = [
        {"name": g.name, "design": str(Path(g.design).resolve()), "racks": g.racks, "trays": g.trays}
        for g in plan.generations
    ]
    (folder / "generations.json").write_text(json.dumps(generations, indent=2) + "\n", encoding="utf-8")
    plan.cables.write_parquet(folder / "cables.parquet")
    plan.bom_frame().write_csv(folder / "bom.csv")
    if report:
        from .report import write_report

        write_report(plan, folder)
    return body

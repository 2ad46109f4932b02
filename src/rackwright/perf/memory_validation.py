"""The memory verdict on published configurations that ran (``validation/memory_runs.yaml``, issue 18).

The cases are NeMo v2.2.0's H100 pre-training configurations (the NeMo 25.02 release; each cites its CSV line).
Each runs through :func:`rackwright.perf.api.train_report`, as ``rackwright perf train ... --json`` does, with the
file's ``defaults`` and then the case's own ``settings``, and must fit: the predicted memory of the fullest GPU
within the usable HBM (``rackwright.perf.memory.usable_hbm``: the capacity less 5 % and 2 GB, an assumption; 79.6 GB
of an H100's 80 GiB), a reserve that is never changed to make a case pass. A case that does not fit carries its reason
in the file (``known_miss``); ``tests/test_perf_memory_published.py`` holds it as a strict xfail and checks it
against a hand calculation, tensor by tensor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..published import listed, verdict
from ..yamlio import read_yaml, to_plain
from .api import train_report

MEMORY_RUNS = Path("validation/memory_runs.yaml")


@dataclass(frozen=True)
class MemoryRow:
    case: str
    model: str
    accelerators: int
    parallelism: str  # "TP8 PP9 CP2 VP7 DP4": CP, VP and EP only where > 1
    precision: str
    predicted_gb: float  # per GPU, the fullest pipeline stage
    usable_gb: float
    fits: bool
    known_miss: str  # the file's reason where the case is expected not to fit; "" otherwise


def memory_runs(root: str | Path = ".") -> dict:
    """The file as plain data: ``defaults`` and ``cases``, among its sources and assumptions."""
    return to_plain(read_yaml(Path(root) / MEMORY_RUNS))


def case_report(defaults: dict, case: dict) -> dict:
    """The ``perf train`` document of one case: the file's defaults, then the case's own settings."""
    settings = {**defaults, **case["settings"]}
    return train_report(case["model"], settings.pop("system"), **settings)


def parallelism_summary(p: dict) -> str:
    """TP, PP, then CP, VP and EP where above 1, then DP, as ``perf train``'s ``parallelism`` gives them."""
    shown = [("TP", p["tp"]), ("PP", p["pp"])] + [(k.upper(), p[k]) for k in ("cp", "vp", "ep") if p[k] > 1]
    return " ".join(f"{name}{value}" for name, value in shown + [("DP", p["dp"])])


def compare_memory(root: str | Path = ".") -> list[MemoryRow]:
    """One row per case: the predicted memory per GPU against the usable HBM."""
    doc = memory_runs(root)
    rows = []
    for case in doc["cases"]:
        report = case_report(doc["defaults"], case)
        memory = report["memory_breakdown_gb"]
        rows.append(
            MemoryRow(
                case["id"],
                case["model"],
                int(report["accelerators"]),
                parallelism_summary(report["parallelism"]),
                case["settings"]["precision"],
                float(memory["total"]),
                float(memory["available"]),
                bool(report["fits"]),
                case.get("known_miss", ""),
            )
        )
    return rows


def memory_markdown(rows: list[MemoryRow]) -> str:
    """The table (a case that does not fit marked, a known miss so named), then the known misses with reasons."""
    lines = [
        "| case | model | GPUs | parallelism | precision | predicted GB/GPU | usable GB | fits |",
        "|---|---|---:|---|---|---:|---:|:-:|",
    ]
    lines += [
        f"| {r.case} | {r.model} | {r.accelerators:,} | {r.parallelism} | {r.precision} | "
        f"{r.predicted_gb:.1f} | {r.usable_gb:.1f} | {verdict(r.fits, r.known_miss)} |"
        for r in rows
    ]
    misses = [f"- {r.case}: {r.known_miss}" for r in rows if r.known_miss]
    return "\n".join(lines) + "\n" + listed("Known misses", misses)

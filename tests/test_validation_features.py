"""The ``features`` column of docs/validation.md's training runs and its per-feature count (issue 18)."""

from pathlib import Path

from rackwright.perf.validation import RUNS_FILE, RunComparison, features_markdown, runs_markdown
from rackwright.yamlio import read_yaml, to_plain

ROOT = Path(__file__).resolve().parents[1]
RUNS = to_plain(read_yaml(ROOT / RUNS_FILE))["runs"]


def row(run: str, error: float, *features: str) -> RunComparison:
    return RunComparison(run, "tflops", 100.0, 100.0 * (1 + error), 1.0, True, features)


def test_features_count_rows_and_rows_within_tolerance():
    """Three hand-made rows: moe on two (errors +18 % and -12 %: neither within ±10 %), fp8 on all three (the
    third at +5 % is within), dense on one; ties in count go by name."""
    rows = [row("a", 0.18, "moe", "fp8"), row("b", -0.12, "moe", "fp8"), row("c", 0.05, "dense", "fp8")]
    assert features_markdown(rows).splitlines()[2:] == [
        "- fp8: 3 rows, 1 within ±10 %",
        "- moe: 2 rows, 0 within ±10 %",
        "- dense: 1 row, 1 within ±10 %",
    ]
    table = runs_markdown(rows).splitlines()
    assert table[0].startswith("| run | features | compared |")
    assert table[2].startswith("| a | moe, fp8 | tflops |")


def test_a_row_without_features_leaves_the_column_blank():
    assert runs_markdown([row("x", 0.0)]).splitlines()[2].startswith("| x |  | tflops |")


def test_every_run_lists_features_that_its_settings_show():
    """Each structural feature agrees with the row's settings both ways (tagged exactly where the setting shows)."""
    shown = {
        "pp-interleaved": lambda r: r["vp"] > 1,
        "tp-inside-nvlink": lambda r: r["tp"] > 1,
        "cp": lambda r: r["cp"] > 1,
        "moe": lambda r: r["ep"] > 1,
        "dense": lambda r: r["ep"] == 1,
        "full-recompute": lambda r: r["recompute"] == "full",
        "uneven-pipeline": lambda r: r.get("first_stage_layers", 0) > 0,
        "zero2": lambda r: r.get("zero2", False),
        "at-scale": lambda r: r["accelerators"] >= 1536,
        "tp-overlap": lambda r: r.get("overlap_tp", False),
        "long-context": lambda r: r["seq_len"] >= 65536,
        "pure-dp": lambda r: r["tp"] == r["pp"] == r["cp"] == r["ep"] == 1,
        "single-node": lambda r: r["accelerators"] <= 8,
    }
    for run in RUNS:
        assert run.get("features"), f"{run['id']}: no features"
        assert run["precision"] in run["features"], run["id"]
        for feature, test in shown.items():
            assert (feature in run["features"]) == bool(test(run)), f"{run['id']}: {feature}"

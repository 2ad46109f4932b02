"""``perf search``'s table names every setting a row needs to be re-run (issue 18): the best row's printed cells,
turned into ``perf train`` options by the note under the table, give the search's own step time.

The table showed neither ETP, the MoE dispatcher, FP8 parameters nor uneven stages, which the search crosses, so a
row could not be re-run from it; those columns now appear where a listed row leaves ``perf train``'s default, as do
the pipeline schedule (DualPipe) and the optimizer moments (BF16).
"""

from __future__ import annotations

import json
import re

import pytest

from test_cli import run

INPUTS = {  # case: (inputs perf train takes too, options of the search only)
    # ETP 1 under TP 8 (ETP column), the MoE dispatcher, --moe-a2a-overlap and --tp-overlap; DualPipe is fastest
    "mixtral-etp": (["--model", "mixtral-8x7b", "--system", "dgx-h100-ndr", "--accelerators", "64", "--global-batch",
                     "256"], ["--restrict", "tp=8", "--tp-overlap"]),
    # FP8 parameters, 7/7 layers on the edge stages, CP with its exchange, interleaving (--pp-overlap)
    "llama3-405b-fp8": (["--model", "llama3-405b", "--system", "dgx-h100-ndr", "--accelerators", "16384",
                         "--global-batch", "2048", "--precision", "fp8"], []),
    # HSDP with 8 replicas and FP8 parameters on an MoE model
    "mixtral-hsdp": (["--model", "mixtral-8x7b", "--system", "dgx-h100-ndr", "--accelerators", "64", "--global-batch",
                      "256", "--precision", "fp8"], ["--restrict", "tp=2"]),
    # DualPipe alone, BF16 moments searched too (they win: 4 bytes fewer a parameter to read and write)
    "llama3-8b-dualpipe": (["--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "64",
                            "--global-batch", "128"],
                           ["--restrict", "pp_schedule=dualpipe", "--restrict", "optimizer_moments=fp32,bf16"]),
}


def table_rows(text: str) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the printed table; a cell that wraps is joined with a space."""
    lines = text.splitlines()
    head = [line for line in lines if line.startswith("┃")]
    parts = [[c.strip() for c in line.strip("┃").split("┃")] for line in head]
    headers = [" ".join(p for p in column if p) for column in zip(*parts, strict=True)]
    rows: list[list[str]] = []
    for line in lines[next(i for i, line in enumerate(lines) if line.startswith("┡")) + 1:]:
        if not line.startswith("│"):
            break
        cells = [c.strip() for c in line.strip("│").split("│")]
        if cells[0]:
            rows.append(cells)
        else:  # a wrapped cell's next line
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
    return headers, rows


def train_options(cells: dict[str, str], note: str) -> list[str]:
    """The ``perf train`` options of a row: its columns, then what the note says every such row runs."""
    options = {"TP": "--tp", "PP": "--pp", "VP": "--vp", "CP": "--cp", "EP": "--ep", "ETP": "--etp",
               "CP comm": "--cp-comm-type", "dispatcher": "--moe-dispatcher", "micro- batch": "--micro-batch",
               "precision": "--precision", "schedule": "--pp-schedule", "moments": "--optimizer-moments"}
    argv = [a for header, option in options.items() if header in cells for a in (option, cells[header])]
    recompute = re.fullmatch(r"(\w+)(?: \((.*)\))?", cells["recompute"])
    assert recompute
    argv += ["--recompute", recompute[1]]
    if recompute[2]:
        argv += ["--recompute-modules", recompute[2].replace(", ", ",")]
    if cells.get("FP8 params") == "yes":
        argv.append("--fp8-param-gather")
    if cells.get("first/last layers", "even") != "even":
        first, last = cells["first/last layers"].split("/")
        argv += ["--first-stage-layers", first, "--last-stage-layers", last]
    sharding = re.fullmatch(r"(\w+?)(?:×(\d+))?", cells["sharding"])
    assert sharding
    flags = re.search(rf"\b{sharding[1]}(?:×R)? is ((?:--[a-z0-9-]+(?: R)? ?)+)", note)
    assert flags, (cells["sharding"], note)
    argv += flags[1].replace(" R", f" {sharding[2]}").split()
    for flag, degree in re.findall(r"(--[a-z0-9-]+) where (TP|VP|EP)>1", note):
        if int(cells[degree]) > 1:
            argv.append(flag)
    if "--overlap-param-gather where sharding is zero1 or zero2" in note and sharding[1] in ("zero1", "zero2"):
        argv.append("--overlap-param-gather")
    return argv


def search(case: str, *options: str) -> str:
    shared, search_only = INPUTS[case]
    result = run("perf", "search", *shared, *search_only, *options)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("case", INPUTS)
def test_the_best_row_reruns_with_perf_train(case):
    printed = search(case, "--top", "3", "--wide")
    headers, rows = table_rows(printed)
    best = dict(zip(headers, rows[0], strict=True))
    note = " ".join(printed[printed.index("Re-run a row"):].split())
    argv = ["perf", "train", *INPUTS[case][0], *train_options(best, note), "--json"]
    train = run(*argv)
    assert train.exit_code == 0, (argv, train.output)
    searched = json.loads(search(case, "--top", "1", "--json"))["best"]
    assert json.loads(train.output)["step_time_s"] == pytest.approx(searched["step_time_s"], rel=1e-12), argv
    assert best["step s"] == f"{searched['step_time_s']:.3g}"


def test_settings_columns_show_only_where_a_row_leaves_the_default():
    """ETP, dispatcher, FP8 params, first/last layers, schedule and moments, each in the case that needs it and not
    elsewhere."""
    shown = {case: table_rows(search(case, "--top", "3", "--wide")) for case in INPUTS}
    headers = {case: set(h) for case, (h, _) in shown.items()}
    assert {"ETP", "dispatcher", "schedule"} <= headers["mixtral-etp"]
    assert not {"FP8 params", "first/last layers", "moments"} & headers["mixtral-etp"]
    assert {"FP8 params", "first/last layers"} <= headers["llama3-405b-fp8"]
    assert not {"ETP", "dispatcher"} & headers["llama3-405b-fp8"]  # a dense model: ETP = TP, no dispatcher
    assert not {"schedule", "moments"} & headers["llama3-405b-fp8"]  # 1F1B, FP32 moments (BF16 not searched)
    assert {"schedule", "moments"} <= headers["llama3-8b-dualpipe"]
    schedule, moments = (shown["llama3-8b-dualpipe"][0].index(h) for h in ("schedule", "moments"))
    assert {row[schedule] for row in shown["llama3-8b-dualpipe"][1]} == {"dualpipe"}
    assert shown["llama3-8b-dualpipe"][1][0][moments] == "bf16"
    assert shown["mixtral-hsdp"][1][0][shown["mixtral-hsdp"][0].index("sharding")] == "hsdp×8"


def test_the_note_states_what_the_search_sets():
    """Every listed row obeys the note's rules: SP where TP > 1, parameter-gather overlap with zero1/zero2, p2p
    overlap where VP > 1, all-to-all overlap where EP > 1 (and with DualPipe on an MoE model, as perf train sets it),
    TP overlap where TP > 1 with --tp-overlap (the JSON's own flags)."""
    for case in INPUTS:
        for row in json.loads(search(case, "--top", "10", "--json"))["top"]:
            assert row["sp"] == (row["tp"] > 1)
            assert row["overlap_param_gather"] == (row["sharding"] in ("zero1", "zero2"))
            assert row["overlap_p2p"] == (row["vp"] > 1)
            assert row["moe_a2a_overlap"] == (row["ep"] > 1 or row["pp_schedule"] == "dualpipe" and "mixtral" in case)
            assert row["overlap_tp"] == (row["tp"] > 1 and "--tp-overlap" in INPUTS[case][1])

"""``-o DIR`` of perf train|search|infer, factory capacity, reliability spares and qualify (report/ops_pages.py).

Each folder holds ``NAME.json``, exactly what ``--json`` prints, and ``report.html``, which loads plotly.js from
beside it and nothing from outside, opens with the headline numbers as the terminal prints them, and titles
every axis. The charts' numbers are checked against hand calculations from the commands' documents:

* the memory stack of ``perf train`` adds up to the memory per accelerator (79.4 + 60.1 = 139.4 GB for Llama 3
  70B at TP 8, PP 2 on two GB200 NVL72 racks), under the usable HBM line;
* ``perf infer``'s whole-request rate is batch × output tokens / (TTFT + output tokens × TPOT) (what the model's
  tokens/s counts) and its decode-phase rate batch / TPOT;
* a station's weekly capacity is the achieved rate over its utilisation (the utilisation law ρ = λS/c);
* a part's stock-out chance is the Poisson tail 1 − e^−m (1 + m + ...) at its spares, e.g. 1 − e^−m (1 + m) for a
  part with one spare;
* qualify's bars are the CSV's measured values (R03's coolant flow of 118 L/min fails, red).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"

#: name → (command words, arguments, the file name of its JSON, the exit code)
COMMANDS = {
    "train": (
        ["perf", "train"],
        ["--model", "llama3-70b", "--system", str(EX / "gb200-nvl72.yaml"), "--racks", "2", "--global-batch", "576",
         "--tp", "8", "--pp", "2", "--train-tokens", "1.5e13"],
        0,
    ),
    "search": (
        ["perf", "search"],
        ["--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "64", "--global-batch", "128",
         "--seq-len", "32768", "--top", "3"],
        0,
    ),
    "infer": (
        ["perf", "infer"],
        ["--model", "llama3-70b", "--system", "dgx-h100-ndr", "--batch", "32", "--input-tokens", "2048",
         "--output-tokens", "512"],
        0,
    ),
    "capacity": (
        ["factory", "capacity"],
        [str(EX / "line-us.yaml"), "--design", str(EX / "gb200-nvl72.yaml"), "--target", "100/week"],
        0,
    ),
    "spares": (
        ["reliability", "spares"],
        ["--design", str(EX / "gb200-nvl72.yaml"), "--racks", "228", "--repair-days", "14"],
        0,
    ),
    "qualify": (
        ["reliability", "qualify"],
        [str(EX / "gb200-nvl72.yaml"), str(EX / "qualification-gb200.csv")],
        1,
    ),
}  # fmt: skip


def run(argv: list[str], **env: str):
    return CliRunner().invoke(app, argv, env={"COLUMNS": "250", **env})


@pytest.fixture(scope="module", params=list(COMMANDS))
def ran(request, tmp_path_factory):
    """One command run twice: with --json and -o DIR (the document printed and the folder written), and as the
    terminal shows it."""
    name = request.param
    words, args, code = COMMANDS[name]
    folder = tmp_path_factory.mktemp(name) / "out"
    as_json = run([*words, *args, "--json", "-o", str(folder)])
    assert as_json.exit_code == code, as_json.stdout + as_json.stderr
    shown = run([*words, *args])
    assert shown.exit_code == code, shown.stdout + shown.stderr
    return name, json.loads(as_json.stdout), folder, shown.stdout


def _html(folder: Path) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


def _figure(folder: Path) -> dict:
    """The plotly figure a page draws (its data and layout, as the page's script holds them)."""
    html = _html(folder)
    start = html.index("Plotly.newPlot(") + len("Plotly.newPlot(")
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(html, html.index("[", start))  # after the element's id
    layout, _ = decoder.raw_decode(html, html.index("{", end))
    return {"data": data, "layout": layout}


def test_the_folder_holds_what_json_prints_and_an_offline_page(ran):
    name, printed, folder, _ = ran
    assert json.loads((folder / f"{name}.json").read_text(encoding="utf-8")) == printed
    html = _html(folder)
    assert re.findall(r'<script[^>]*src="([^"]+)"', html) == ["plotly.min.js"]  # from beside it, once
    assert (folder / "plotly.min.js").stat().st_size > 3_000_000
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)  # no request leaves the folder


def test_every_axis_has_a_title(ran):
    _, _, folder, _ = ran
    layout = _figure(folder)["layout"]
    axes = {k: v for k, v in layout.items() if re.fullmatch(r"[xy]axis\d*", k)}
    assert axes
    shown = {k: v for k, v in axes.items() if v.get("visible", True) and v.get("showticklabels", True)}
    untitled = [k for k, v in shown.items() if not v.get("title", {}).get("text")]
    assert untitled == []


def _cells(text: str, label: str) -> list[str]:
    """The cells of the terminal table row that starts with ``label``."""
    line = next(line for line in text.splitlines() if re.match(rf"[│┃]\s*{re.escape(label)}\s*[│┃]", line))
    return [c.strip() for c in re.split(r"[│┃]", line)[1:-1]]


#: The table rows of perf train and infer whose value the page's headline repeats.
HEADLINE_ROWS = {
    "train": ["Step time", "Training throughput", "Achieved model TFLOP/s per accelerator",
              "Model FLOPs utilisation (MFU)", "Memory per accelerator", "Training time (--train-tokens)",
              "Training energy (--train-tokens)", "Training cost (--train-tokens)"],
    "infer": ["Time to first token", "Time per output token", "Output tokens/s per accelerator",
              "Output tokens/s per MW of IT power"],
}  # fmt: skip


def test_the_page_opens_with_the_headline_numbers_the_terminal_prints(ran):
    name, doc, folder, shown = ran
    title = _figure(folder)["layout"]["title"]["text"]
    headline = title.split("<sup>", 1)[1].split("</sup>", 1)[0]
    if name in HEADLINE_ROWS:
        values = [_cells(shown, label)[1] for label in HEADLINE_ROWS[name]]
        assert all(value in headline for value in values), (values, headline)
    elif name == "search":
        header = next(line for line in shown.splitlines() if "tokens/s" in line and "┃" in line)
        first = next(line for line in shown.splitlines() if re.match(r"│\s*\d", line))
        column = [c.strip() for c in header.split("┃")].index("tokens/s")
        tokens = [c.strip() for c in first.split("│")][column]  # 431,354
        assert re.fullmatch(r"\d{3},\d{3}", tokens) and f"{tokens} tokens/s" in headline
    elif name == "capacity":
        assert re.search(r"meets 100 racks/week \([\d.]+ achieved, \d+ simulations\)", headline)
        assert headline in " ".join(shown.split())  # the table's title is the headline
    elif name == "spares":
        assert headline.startswith("spares cost: ") and headline in " ".join(shown.split())
    else:
        assert headline.startswith("9 pass, 1 warn, 1 fail") and "9 pass, 1 warn, 1 fail" in shown
        assert "first fail: Coolant flow on R03, -24.4%" in headline


def test_train_memory_stacks_to_the_memory_per_accelerator_under_the_usable_hbm(tmp_path):
    from rackwright.perf.api import train_report
    from rackwright.report.ops_pages import train_figure

    doc = train_report("llama3-70b", str(EX / "gb200-nvl72.yaml"), global_batch=576, tp=8, pp=2, racks=2)
    figure = train_figure(doc)
    stack = [t for t in figure.data if t.type == "bar" and t.orientation == "h" and list(t.y) == ["memory"]]
    total = sum(t.x[0] for t in stack)
    assert total == pytest.approx(doc["memory_gb_per_accelerator"], rel=1e-12)
    assert 139.3 < total < 139.5  # 79.4 GB of weights and optimizer state + 60.1 GB of activations
    hbm = [s for s in figure.layout.shapes if s.x0 == s.x1]
    assert [s.x0 for s in hbm] == [doc["memory_breakdown_gb"]["available"]]
    terms = next(t for t in figure.data if t.type == "bar" and "Matrix multiplications (GEMM)" in t.y)
    bars = dict(zip(terms.y, terms.x, strict=True))
    assert bars["Matrix multiplications (GEMM)"] == doc["breakdown"]["gemm_s"]
    assert bars["Pipeline sends (p2p)"] == doc["breakdown"]["pp_p2p_s"]
    assert bars["Exposed data-parallel collectives"] == doc["breakdown"]["dp_exposed_s"]
    assert len(bars) == len(doc["breakdown"]) and sum(bars.values()) == pytest.approx(doc["step_time_s"], rel=1e-9)


def test_infer_rates_are_the_request_arithmetic():
    """Llama 3 70B, batch 32, 2,048 in / 512 out on a DGX H100: 32 × 512 / (TTFT + 512 × TPOT)."""
    from rackwright.perf.api import inference_report
    from rackwright.report.ops_pages import infer_figure

    doc = inference_report("llama3-70b", "dgx-h100-ndr", batch=32, input_tokens=2048, output_tokens=512)
    figure = infer_figure(doc)
    prefill, decode = (t for t in figure.data if t.orientation == "h")
    assert prefill.x[0] == doc["ttft_s"] and decode.x[0] == pytest.approx(512 * doc["tpot_s"], rel=1e-12)
    rates = next(t for t in figure.data if t.orientation != "h")
    whole = 32 * 512 / (doc["ttft_s"] + 512 * doc["tpot_s"])
    assert list(rates.y) == pytest.approx([32 / doc["tpot_s"], whole], rel=1e-12)
    assert whole == pytest.approx(doc["tokens_per_s"], rel=1e-9)  # the rate the headline's figures count


def test_station_capacity_is_the_achieved_rate_over_utilisation():
    from rackwright.report.ops_pages import capacity_headline, station_capacity

    doc = {
        "achieved_racks_per_week": 99.0,
        "target_racks_per_week": 100.0,
        "met": False,
        "iterations": 3,
        "bottleneck": "burn-in",
        "stations": {
            "burn-in": {"utilisation": 0.9, "resources": 32},
            "pack": {"utilisation": 0.45, "resources": 2},
        },
    }
    assert station_capacity(doc) == pytest.approx({"burn-in": 110.0, "pack": 220.0})
    assert capacity_headline(doc) == (
        "MISSES 100 racks/week (99 achieved, 3 simulations); bottleneck burn-in at 90.0%; 34 bays"
    )


def test_spares_stock_out_chance_is_the_poisson_tail(ran):
    name, doc, folder, _ = ran
    if name != "spares":
        pytest.skip("the spares page only")
    bars = next(t for t in _figure(folder)["data"] if t.get("name") == "stock-out chance")
    chance = dict(zip(bars["x"], bars["y"], strict=True))
    cdu = next(p for p in doc["parts"] if p["part"] == "vertiv-coolchip-cdu-1350")
    m = cdu["mean_demand_in_window"]
    assert cdu["spares"] == 1
    assert chance["vertiv-coolchip-cdu-1350"] == pytest.approx(1 - math.exp(-m) * (1 + m), rel=1e-9)
    assert all(c <= 1 - doc["availability"] for c in chance.values())  # every pool meets the target
    assert any(s.get("y0") == pytest.approx(1 - doc["availability"]) for s in _figure(folder)["layout"]["shapes"])


def test_qualify_bars_are_the_measured_values_coloured_by_verdict(ran):
    name, doc, folder, _ = ran
    if name != "qualify":
        pytest.skip("the qualify page only")
    bars = [t for t in _figure(folder)["data"] if t.get("type") == "bar" and t.get("name") == "measured"]
    flow = next(b for b in bars if any("R03" in x for x in b["x"]))
    measured = dict(zip((x.split(" ")[0] for x in flow["x"]), flow["y"], strict=True))
    colours = dict(zip((x.split(" ")[0] for x in flow["x"]), flow["marker"]["color"], strict=True))
    assert measured == pytest.approx({"R01": 151, "R03": 118}, rel=1e-12)  # the CSV's L/min
    assert colours["R03"] == "#e45756" and colours["R01"] == "#54a24b"  # fail red, pass green
    assert sum(len(b["x"]) for b in bars) == len(doc["measurements"]) == 11


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_file_as_the_output_folder_exits_2(name, tmp_path):
    words, args, _ = COMMANDS[name]
    afile = tmp_path / "taken.txt"
    afile.write_text("x")
    result = run([*words, *args, "-o", str(afile)])
    assert result.exit_code == 2 and "is a file" in result.stderr and afile.read_text() == "x"


def test_perf_train_wraps_its_labels_to_the_terminal_and_wide_keeps_them_whole():
    words, args, _ = COMMANDS["train"]
    narrow = run([*words, *args], COLUMNS="60").stdout
    wide = run([*words, *args, "--wide"], COLUMNS="60").stdout
    assert max(len(line) for line in narrow.splitlines()) <= 60
    assert "Achieved model TFLOP/s per accelerator" not in narrow and "per accelerator " in narrow  # wrapped
    assert "│ Achieved model TFLOP/s per accelerator │" in wide and max(map(len, wide.splitlines())) > 60
    assert [c for line in narrow.splitlines() for c in re.findall(r"\d[\d,.]*%?", line)] == [
        c for line in wide.splitlines() for c in re.findall(r"\d[\d,.]*%?", line)
    ]  # the same numbers, none cut


def test_qualify_fits_80_columns_and_wide_shows_the_row_number():
    words, args, _ = COMMANDS["qualify"]
    narrow = run([*words, *args], COLUMNS="80").stdout
    wide = run([*words, *args, "--wide"], COLUMNS="80").stdout
    table = [line for line in narrow.splitlines() if line[:1] in "┏┃┡│└"]
    assert max(map(len, table)) <= 80 and "Left out to fit 80 characters: row; --wide shows them." in narrow
    assert "┃ row ┃" in wide and "Left out" not in wide
    assert re.search(r"│ R03\s+│ Coolant flow\s+│\s+118 │\s+156 │ L/min\s+│\s+-24.4% fail", narrow)


#: A search row as perf search --json lists it (the keys the label reads), at every perf train default.
DEFAULT_ROW = {
    "tp": 2, "pp": 4, "vp": 1, "dp": 8, "cp": 1, "ep": 1, "etp": 2, "cp_comm_type": "p2p", "micro_batch": 1,
    "recompute": "selective", "recompute_modules": ["core_attn"], "sharding": "zero1", "precision": "bf16",
    "moe_dispatcher": "alltoall", "fp8_param_gather": False, "first_stage_layers": 0, "last_stage_layers": 0,
    "pp_schedule": "1f1b", "optimizer_moments": "fp32",
}  # fmt: skip


def test_the_search_label_names_the_settings_that_leave_perf_trains_default():
    """A default row's label names no setting; a DualPipe row with BF16 moments names both after the precision,
    as the terminal's table shows its schedule and moments columns only then; ETP ≠ TP, DeepEP, FP8 parameters
    and uneven stages likewise."""
    from rackwright.report.ops_pages import config_label

    assert config_label(1, DEFAULT_ROW) == "#1 TP2·PP4·VP1·DP8·CP1·EP1 mb1 selective (core_attn) zero1 bf16"
    dual = DEFAULT_ROW | {"pp_schedule": "dualpipe", "optimizer_moments": "bf16"}
    assert config_label(2, dual) == (
        "#2 TP2·PP4·VP1·DP8·CP1·EP1 mb1 selective (core_attn) zero1 bf16 dualpipe bf16-moments"
    )
    moe = DEFAULT_ROW | {"ep": 8, "etp": 1, "cp": 2, "moe_dispatcher": "deepep", "fp8_param_gather": True}
    moe |= {"first_stage_layers": 7, "last_stage_layers": 7}
    assert config_label(3, moe) == (
        "#3 TP2·PP4·VP1·DP8·CP2·EP8·ETP1 p2p mb1 selective (core_attn) zero1 bf16 deepep fp8-params "
        "first/last layers 7/7"
    )


def test_a_dualpipe_bf16_search_names_them_on_the_page_and_in_the_terminal(tmp_path):
    """Llama 3 8B on 64 H100 restricted to DualPipe and BF16 moments: the page's headline names both, as the
    terminal's table shows its schedule and moments columns."""
    words, args, _ = COMMANDS["search"]
    restrict = ["--restrict", "pp_schedule=dualpipe", "--restrict", "optimizer_moments=bf16"]
    shown = run([*words, *args, *restrict, "-o", str(tmp_path)])
    assert shown.exit_code == 0, shown.stdout + shown.stderr
    header = next(line for line in shown.stdout.splitlines() if "tokens/s" in line and "┃" in line)
    assert "schedule" in header and "moments" in header
    title = _figure(tmp_path)["layout"]["title"]["text"]
    assert re.search(r"fastest TP\d+·PP\d+·[^:]* mb\d+ [^:]* bf16 dualpipe bf16-moments: ", title)

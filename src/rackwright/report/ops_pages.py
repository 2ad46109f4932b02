"""The report pages of ``-o DIR`` of ``perf train|search|infer``, ``factory capacity`` and ``reliability
spares|qualify`` (plotly; presentation only).

Each page opens with its headline numbers, formatted by :mod:`rackwright.report.present` as the terminal prints
them (the commands print the headline strings built here, or tables of the same formats), then the inputs and
assumptions behind them, then its charts, every axis titled with its unit. The figures take the commands'
documents as the Python API returns them (memory in GB, not the JSON's bytes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from .html import headline_layout
from .present import COUNT, MONEY, PERF, QUALIFY, SHARE, format_value, step_term_label

#: Colours of the verdicts, as the terminal shows them (green, yellow, red).
VERDICT_COLOURS = {"pass": "#54a24b", "warn": "#eeca3b", "fail": "#e45756"}
#: The memory breakdown's entries that are no part of the stack: its sum and the usable HBM.
MEMORY_TOTALS = ("total", "available")


def perf_value(doc: dict, key: str) -> str:
    """A figure of a perf document as ``perf train|infer`` prints it (report.present.PERF)."""
    value = doc.get(key)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return format_value(value, PERF[key][2])


def _layout(title: str, headline: str, inputs: Sequence[str]) -> dict:
    """headline_layout with the inputs' text escaped (file names and model names are the user's)."""
    return headline_layout(escape(title), escape(headline), [escape(line) for line in inputs])


def parallelism_line(p: dict) -> str:
    """``TP 8 · PP 2 · VP 1 · DP 9 · CP 1 · EP 1, micro-batch 1, recompute none, ...``: a configuration in one line."""
    degrees = " · ".join(f"{k.upper()} {p[k]}" for k in ("tp", "pp", "vp", "dp", "cp", "ep") if k in p)
    sharding = p.get("sharding") or (
        "fsdp" if p.get("fsdp") else "zero2" if p.get("zero2") else "zero1" if p.get("distributed_optimizer") else "ddp"
    )
    modules = p.get("recompute_modules") or []
    recompute = f"{p['recompute']} ({', '.join(modules)})" if modules else p["recompute"]
    extra = ", sequence parallel" if p.get("sp") else ""
    return f"{degrees}, micro-batch {p['micro_batch']}, recompute {recompute}, sharding {sharding}{extra}"


def train_headline(doc: dict) -> str:
    """Step time, throughput, TFLOP/s, MFU and memory against usable HBM; with --train-tokens, days, MWh, cost."""
    memory = doc["memory_breakdown_gb"]
    text = (
        f"{perf_value(doc, 'step_time_s')} s per step, {perf_value(doc, 'tokens_per_s')} tokens/s, "
        f"{perf_value(doc, 'tflops_per_accelerator')} TFLOP/s per accelerator, MFU {perf_value(doc, 'mfu')}; "
        f"{perf_value(doc, 'memory_gb_per_accelerator')} GB per accelerator of {format_value(memory['available'])} "
        f"GB usable ({'fits' if doc['fits'] else 'does not fit'})"
    )
    if doc.get("train_days") is not None:
        text += (
            f"; {perf_value(doc, 'train_days')} days, {perf_value(doc, 'energy_mwh')} MWh, "
            f"{perf_value(doc, 'cost_usd')} USD for {doc['train_tokens']:g} tokens"
        )
    return text


def train_figure(doc: dict, inputs: Sequence[str] = ()):
    """``perf train``'s page: the step time's terms (bars, s) and the memory per accelerator by part (a stacked bar,
    GB) against the usable HBM (a line)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(
        rows=2,
        cols=1,
        vertical_spacing=0.22,
        row_heights=[0.65, 0.35],
        subplot_titles=(
            "Step-time breakdown: time of each term per step (docs/perf-model.md)",
            "Memory per accelerator by part, against the usable HBM",
        ),
    )
    terms = [(step_term_label(k), v) for k, v in doc["breakdown"].items()]
    figure.add_trace(
        go.Bar(
            x=[v for _, v in terms],
            y=[k for k, _ in terms],
            orientation="h",
            marker_color="#4c78a8",
            text=[format_value(v) for _, v in terms],
            textposition="outside",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    memory = doc["memory_breakdown_gb"]
    for part, gb in ((k, v) for k, v in memory.items() if k not in MEMORY_TOTALS):
        figure.add_trace(
            go.Bar(
                x=[gb],
                y=["memory"],
                orientation="h",
                name=part.replace("_", " "),
                text=[format_value(gb)],
                textposition="inside",
            ),
            row=2,
            col=1,
        )
    figure.add_vline(
        x=memory["available"],
        line_dash="dash",
        line_color="black",
        annotation_text=f"usable HBM {format_value(memory['available'])} GB",
        annotation_position="top left",
        row=2,
        col=1,
    )
    title = f"{doc['model']} on {doc['accelerators']:,} × {doc['system']}: training step"
    precision = doc["precision"]
    lines = [
        f"Model {doc['model']}; system {doc['system']}, {doc['accelerators']:,} accelerators.",
        f"Parallelism: {parallelism_line(doc['parallelism'])}.",
        f"Precision recipe {precision['recipe']}, attention {precision['attention']}, gradients "
        f"{doc['parallelism'].get('grad_precision', 'fp32')}.",
        *inputs,
    ]
    figure.update_layout(**_layout(title, train_headline(doc), lines), height=900, barmode="stack")
    figure.update_xaxes(title_text="time per step (s)", row=1, col=1)
    figure.update_yaxes(title_text="term", autorange="reversed", row=1, col=1)
    figure.update_xaxes(title_text="memory per accelerator (GB)", row=2, col=1)
    figure.update_yaxes(showticklabels=False, row=2, col=1)
    return figure


def off_default(row: dict) -> dict[str, bool]:
    """Which settings of a search row leave ``perf train``'s default, by the row's key: ETP = TP, the alltoall
    dispatcher, no FP8 parameters, even stages, the 1F1B schedule, FP32 optimizer moments (the settings a row needs
    named to be re-run; the terminal's table shows a column of one where a listed row leaves it)."""
    return {
        "etp": row["etp"] != row["tp"],
        "moe_dispatcher": row["moe_dispatcher"] != "alltoall",
        "fp8_param_gather": bool(row["fp8_param_gather"]),
        "stage_layers": bool(row["first_stage_layers"] or row["last_stage_layers"]),
        "pp_schedule": row["pp_schedule"] != "1f1b",
        "optimizer_moments": row["optimizer_moments"] != "fp32",
    }


def config_label(rank: int, row: dict) -> str:
    """``#1 TP1·PP4·...·EP1 mb1 full fsdp bf16 dualpipe bf16-moments``: a configuration of the search by its rank,
    unique in the chart; the settings that leave perf train's default (:func:`off_default`) named after it, as the
    terminal's table shows them only where they do (``ETP1`` among the degrees, ``deepep``, ``fp8-params``,
    ``first/last layers 7/7``, ``dualpipe``, ``bf16-moments``)."""
    off = off_default(row)
    cp = f" {row['cp_comm_type']}" if row["cp"] > 1 else ""
    degrees = "·".join(f"{k.upper()}{row[k]}" for k in ("tp", "pp", "vp", "dp", "cp", "ep"))
    degrees += f"·ETP{row['etp']}" if off["etp"] else ""
    modules = row["recompute_modules"]
    recompute = row["recompute"] + (f" ({', '.join(modules)})" if modules else "")
    named = {
        "moe_dispatcher": row["moe_dispatcher"],
        "fp8_param_gather": "fp8-params",
        "stage_layers": f"first/last layers {row['first_stage_layers']}/{row['last_stage_layers']}",
        "pp_schedule": row["pp_schedule"],
        "optimizer_moments": f"{row['optimizer_moments']}-moments",
    }
    settings = "".join(f" {text}" for key, text in named.items() if off[key])
    return f"#{rank} {degrees}{cp} mb{row['micro_batch']} {recompute} {row['sharding']} {row['precision']}{settings}"


def search_headline(doc: dict) -> str:
    """The fastest configuration that fits (or why none does) and how many the search weighed."""
    counts = (
        f"{doc['configurations_valid']:,} valid of {doc['configurations_evaluated']:,} configurations, "
        f"{doc['configurations_fitting']:,} fit in {format_value(doc['hbm_gb_per_accelerator'])} GB of HBM"
    )
    if not doc["top"]:
        return (
            f"none fits: the leanest needs {format_value(doc['least_memory_gb_per_accelerator'])} GB per "
            f"accelerator; {counts}"
        )
    best = doc["top"][0]
    return (
        f"fastest {config_label(1, best)[3:]}: {perf_value(best, 'tokens_per_s')} tokens/s, step "
        f"{perf_value(best, 'step_time_s')} s, MFU {perf_value(best, 'mfu')}, "
        f"{perf_value(best, 'memory_gb_per_accelerator')} GB per accelerator; {counts}"
    )


def search_figure(doc: dict, inputs: Sequence[str] = ()):
    """``perf search``'s page: the fastest configurations' tokens/s and memory per accelerator (bars, configurations
    as labels, the HBM as a line), and tokens/s against memory of the Pareto front (the configurations no other
    beats on both)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    top = doc["top"]
    labels = [config_label(i, row) for i, row in enumerate(top, start=1)]
    bars_px = 40 + 28 * max(len(top), 1)
    height = 2 * bars_px + 420 + 300
    figure = make_subplots(
        rows=3,
        cols=1,
        vertical_spacing=0.1,
        row_heights=[bars_px, bars_px, 420],
        subplot_titles=(
            f"Training throughput of the {len(top)} fastest configurations that fit",
            "Memory per accelerator of the same configurations, against the HBM",
            "Pareto front: throughput against memory per accelerator (no configuration beats one on both)",
        ),
    )
    for n, (key, colour) in enumerate((("tokens_per_s", "#4c78a8"), ("memory_gb_per_accelerator", "#72b7b2")), 1):
        figure.add_trace(
            go.Bar(
                x=[row[key] for row in top],
                y=labels,
                orientation="h",
                marker_color=colour,
                text=[perf_value(row, key) for row in top],
                textposition="auto",
            ),
            row=n,
            col=1,
        )
    hbm = doc["hbm_gb_per_accelerator"]
    figure.add_vline(x=hbm, line_dash="dash", line_color="black", row=2, col=1)
    pareto = doc.get("pareto") or []
    figure.add_trace(
        go.Scatter(
            x=[row["memory_gb_per_accelerator"] for row in pareto],
            y=[row["tokens_per_s"] for row in pareto],
            mode="lines+markers",
            line={"shape": "hv", "color": "#e45756"},
            text=[config_label(i, row)[len(str(i)) + 2 :] for i, row in enumerate(pareto, start=1)],
            hovertemplate="%{text}<br>%{x:.1f} GB, %{y:,.0f} tokens/s<extra></extra>",
            name="Pareto front",
        ),
        row=3,
        col=1,
    )
    figure.add_vline(x=hbm, line_dash="dash", line_color="black", row=3, col=1)
    precision = doc["precision"]
    lines = [
        f"Model {doc['model']}; system {doc['system']}, {doc['accelerators']:,} accelerators, scale-up domain "
        f"{doc['scale_up_domain']}, {format_value(hbm)} GB of HBM per accelerator (dashed line).",
        f"Precision recipes searched: {', '.join(precision['searched'])}; attention {precision['attention']}.",
        *inputs,
    ]
    title = f"{doc['model']} on {doc['accelerators']:,} × {doc['system']}: parallelism search"
    figure.update_layout(**_layout(title, search_headline(doc), lines), height=height, showlegend=False)
    figure.update_xaxes(title_text="training throughput (tokens/s)", row=1, col=1)
    figure.update_xaxes(title_text="memory per accelerator (GB)", row=2, col=1)
    figure.update_xaxes(title_text="memory per accelerator (GB)", row=3, col=1)
    figure.update_yaxes(title_text="configuration", autorange="reversed", automargin=True, row=1, col=1)
    figure.update_yaxes(title_text="configuration", autorange="reversed", automargin=True, row=2, col=1)
    figure.update_yaxes(title_text="training throughput (tokens/s)", row=3, col=1)
    return figure


def infer_headline(doc: dict) -> str:
    """TTFT, TPOT and the output rates, as ``perf infer`` prints them."""
    rack = doc.get("tokens_per_s_per_rack")
    per_rack = f", {perf_value(doc, 'tokens_per_s_per_rack')} per rack" if rack is not None else ""
    return (
        f"time to first token {perf_value(doc, 'ttft_s')} s, time per output token {perf_value(doc, 'tpot_s')} s; "
        f"{perf_value(doc, 'tokens_per_s_per_accelerator')} output tokens/s per accelerator{per_rack}, "
        f"{perf_value(doc, 'tokens_per_s_per_mw')} per MW of IT power (TP {doc['tp']}, "
        f"{'fits' if doc['fits'] else 'does not fit'})"
    )


def infer_figure(doc: dict, inputs: Sequence[str] = ()):
    """``perf infer``'s page: a request's latency, prefill (the time to first token) then decode (output tokens ×
    the time per output token), and the output rate of the decode phase alone (batch / TPOT) against the
    whole request's (batch × output tokens / latency), which is what the headline's rates count."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    decode_s = doc["output_tokens"] * doc["tpot_s"]
    latency = doc["ttft_s"] + decode_s
    figure = make_subplots(
        rows=2,
        cols=1,
        vertical_spacing=0.25,
        subplot_titles=(
            f"Latency of a request: prefill (TTFT) + decode ({doc['output_tokens']:,} output tokens × TPOT)",
            f"Output tokens/s of the batch of {doc['batch']:,}: decode phase (batch / TPOT) and whole request",
        ),
    )
    for name, seconds, colour in (("prefill (TTFT)", doc["ttft_s"], "#f58518"), ("decode", decode_s, "#4c78a8")):
        figure.add_trace(
            go.Bar(
                x=[seconds],
                y=["request"],
                orientation="h",
                name=name,
                marker_color=colour,
                text=[f"{name}: {format_value(seconds)} s"],
                textposition="inside",
            ),
            row=1,
            col=1,
        )
    rates = {
        "decode phase": doc["batch"] / doc["tpot_s"],
        "whole request": doc["batch"] * doc["output_tokens"] / latency,
    }
    figure.add_trace(
        go.Bar(
            x=list(rates),
            y=list(rates.values()),
            marker_color=["#4c78a8", "#54a24b"],
            text=[format_value(v) for v in rates.values()],
            textposition="auto",
            showlegend=False,
        ),
        row=2,
        col=1,
    )
    lines = [
        f"Model {doc['model']}; system {doc['system']}; TP {doc['tp']}.",
        f"Batch of {doc['batch']:,} sequences, {doc['input_tokens']:,} input and {doc['output_tokens']:,} output "
        f"tokens each; request latency {format_value(latency)} s.",
        *inputs,
    ]
    title = f"{doc['model']} on {doc['system']}: inference"
    figure.update_layout(**_layout(title, infer_headline(doc), lines), height=760, barmode="stack")
    figure.update_xaxes(title_text="time (s)", row=1, col=1)
    figure.update_yaxes(showticklabels=False, row=1, col=1)
    figure.update_xaxes(title_text="phase", row=2, col=1)
    figure.update_yaxes(title_text="output tokens/s (whole system)", row=2, col=1)
    return figure


def capacity_headline(doc: dict) -> str:
    """Whether the line meets the target, what it ships, its bottleneck (``factory capacity``'s title)."""
    stations = doc["stations"]
    bottleneck = stations[doc["bottleneck"]]["utilisation"] if doc["bottleneck"] in stations else math.nan
    bays = sum(s["resources"] for s in stations.values())
    return (
        f"{'meets' if doc['met'] else 'MISSES'} {format_value(doc['target_racks_per_week'])} racks/week "
        f"({format_value(doc['achieved_racks_per_week'])} achieved, {doc['iterations']} simulations); "
        f"bottleneck {doc['bottleneck']} at {format_value(bottleneck, SHARE)}; {format_value(bays, COUNT)} bays"
    )


def station_capacity(doc: dict) -> dict[str, float]:
    """Racks per week each station could take at full utilisation: the achieved rate over its utilisation (the
    utilisation law, ρ = λ × S / c, so λ at ρ = 1 is λ / ρ, with the same rework visits)."""
    achieved = doc["achieved_racks_per_week"]
    return {
        sid: achieved / s["utilisation"] if s["utilisation"] > 0 else math.inf for sid, s in doc["stations"].items()
    }


def capacity_figure(doc: dict, inputs: Sequence[str] = ()):
    """``factory capacity``'s page: each station's weekly capacity at the bay counts found (bars) against the target
    (a line), the stations' utilisation (the bottleneck in red), and the bays found against the first guess and
    the line file's."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    stations = list(doc["stations"])
    capacity = station_capacity(doc)
    colours = ["#e45756" if sid == doc["bottleneck"] else "#4c78a8" for sid in stations]
    figure = make_subplots(
        rows=3,
        cols=1,
        vertical_spacing=0.12,
        subplot_titles=(
            "Weekly capacity per station at the bays found (achieved rate / utilisation)",
            "Station utilisation (the bottleneck in red)",
            "Bays per station: found, queueing first guess, line file",
        ),
    )
    figure.add_trace(
        go.Bar(x=stations, y=[capacity[s] for s in stations], marker_color=colours, showlegend=False), row=1, col=1
    )
    figure.add_hline(
        y=doc["target_racks_per_week"],
        line_dash="dash",
        line_color="black",
        annotation_text=f"target {format_value(doc['target_racks_per_week'])} racks/week",
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Bar(
            x=stations,
            y=[doc["stations"][s]["utilisation"] for s in stations],
            marker_color=colours,
            text=[format_value(doc["stations"][s]["utilisation"], SHARE) for s in stations],
            textposition="auto",
            showlegend=False,
        ),
        row=2,
        col=1,
    )
    for key, name, colour in (
        ("resources", "found", "#4c78a8"),
        ("first_guess", "first guess", "#9d9d9d"),
        ("line_file", "line file", "#f58518"),
    ):
        figure.add_trace(
            go.Bar(x=stations, y=[doc["stations"][s][key] for s in stations], name=name, marker_color=colour),
            row=3,
            col=1,
        )
    lines = [
        f"Line {doc['line']}; target {format_value(doc['target_racks_per_week'])} racks/week (dashed line).",
        f"{doc['replications']} replication(s) of {format_value(doc['weeks'])} weeks after "
        f"{format_value(doc['warmup_weeks'])} weeks of warm-up, seed {doc['seed']}; achieved 5-95 %: "
        f"{format_value(doc['racks_per_week_p05'])} to {format_value(doc['racks_per_week_p95'])} racks/week.",
        *inputs,
    ]
    title = "Factory capacity"
    figure.update_layout(**_layout(title, capacity_headline(doc), lines), height=1100, barmode="group")
    figure.update_xaxes(title_text="station", row=1, col=1)
    figure.update_yaxes(title_text="capacity (racks/week)", row=1, col=1)
    figure.update_xaxes(title_text="station", row=2, col=1)
    figure.update_yaxes(title_text="utilisation (%)", tickformat=".0%", range=[0, 1.05], row=2, col=1)
    figure.update_xaxes(title_text="station", row=3, col=1)
    figure.update_yaxes(title_text="bays", type="log", row=3, col=1)
    return figure


def spares_headline(doc: dict) -> str:
    """Spares cost, domain outages and spare domains, hot spares (``reliability spares``' closing line)."""
    return (
        f"spares cost: {format_value(doc['total_spares_cost_usd'], MONEY)} USD; scale-up domain of "
        f"{format_value(doc['scale_up_domain'], COUNT)} accelerators: {format_value(doc['domain_outages_per_day'])} "
        f"domain outages/day, {format_value(doc['spare_domains'], COUNT)} spare domain(s); hot-spare accelerators "
        f"for one fleet-wide job: {format_value(doc['hot_spare_accelerators'], COUNT)} "
        f"({format_value(doc['hot_spare_fraction'], SHARE)})"
    )


def spares_figure(doc: dict, inputs: Sequence[str] = ()):
    """``reliability spares``' page: spares per part against the mean demand of one repair window, and the chance
    that the pool runs out in a window (1 − the availability achieved, log) against the target's."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    parts = doc["parts"]
    names = [p["part"] for p in parts]
    figure = make_subplots(
        rows=2,
        cols=1,
        vertical_spacing=0.3,
        subplot_titles=(
            f"Spares per part and the mean demand in one {format_value(doc['repair_days'])}-day repair window",
            "Chance that the pool runs out in a repair window (Poisson), against the target",
        ),
    )
    figure.add_trace(go.Bar(x=names, y=[p["spares"] for p in parts], name="spares", marker_color="#4c78a8"), 1, 1)
    figure.add_trace(
        go.Scatter(
            x=names,
            y=[p["mean_demand_in_window"] for p in parts],
            mode="markers",
            marker={"symbol": "line-ew-open", "size": 24, "color": "black"},
            name="mean demand in the window",
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Bar(
            x=names,
            y=[max(1 - p["availability_achieved"], 1e-12) for p in parts],
            name="stock-out chance",
            marker_color="#72b7b2",
            showlegend=False,
        ),
        row=2,
        col=1,
    )
    figure.add_hline(y=1 - doc["availability"], line_dash="dash", line_color="black", row=2, col=1)
    lines = [
        f"Design {doc['design']} ({doc['generation']}): {doc['racks']:,} racks, "
        f"{format_value(doc['accelerators'], COUNT)} accelerators; repair / RMA turnaround "
        f"{format_value(doc['repair_days'])} days; availability target {format_value(doc['availability'], SHARE)} "
        f"per repair window (dashed line: 1 − target).",
        *inputs,
    ]
    title = f"{doc['design']}: spare parts"
    figure.update_layout(**_layout(title, spares_headline(doc), lines), height=900)
    figure.update_xaxes(title_text="part", tickangle=-30, row=1, col=1)
    figure.update_yaxes(title_text="parts (count)", row=1, col=1)
    figure.update_xaxes(title_text="part", tickangle=-30, row=2, col=1)
    figure.update_yaxes(title_text="stock-out chance per window (%)", type="log", tickformat=".2~%", row=2, col=1)
    return figure


def qualify_summary(doc: dict) -> str:
    """``9 pass, 1 warn, 1 fail``: the verdicts' count, as ``qualify`` prints it."""
    s = doc["summary"]
    return f"{s['pass']} pass, {s['warn']} warn, {s['fail']} fail"


def deviation_text(row: dict) -> str:
    """A measurement's deviation from the model: relative (``-2.2%``), absolute (``+0.40``), or a count's p."""
    if row["deviation_kind"] == "relative":
        return f"{row['deviation']:+.1%}"
    if row["deviation_kind"] == "count":
        return f"p = {row['p_value']:.3f}"
    return f"{row['deviation']:+.2f}"


def qualify_figure(doc: dict, inputs: Sequence[str] = ()):
    """``qualify``'s page: per metric (each in its unit), each rack's measured value (bars coloured by verdict,
    labelled with the deviation) against the model's expected value (a black dash)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from ..units import pretty_unit

    rows = doc["measurements"]
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    grid = math.ceil(len(metrics) / 2) or 1
    units = {r["metric"]: pretty_unit(r["unit"]) for r in rows}
    figure = make_subplots(
        rows=grid,
        cols=2,
        vertical_spacing=min(0.5 / grid, 0.12),
        horizontal_spacing=0.12,
        subplot_titles=[f"{QUALIFY.get(m, m)} ({units[m]})" for m in metrics],
    )
    for n, metric in enumerate(metrics):
        at = {"row": n // 2 + 1, "col": n % 2 + 1}
        mine = [r for r in rows if r["metric"] == metric]
        x = [f"{r['rack_id']} (row {r['row']})<br>{deviation_text(r)} {r['verdict']}" for r in mine]
        figure.add_trace(
            go.Bar(
                x=x,
                y=[r["measured"] for r in mine],
                marker_color=[VERDICT_COLOURS[r["verdict"]] for r in mine],
                name="measured",
                showlegend=False,
            ),
            **at,
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[r["expected"] for r in mine],
                mode="markers",
                marker={"symbol": "line-ew-open", "size": 30, "color": "black", "line": {"width": 3}},
                name="expected (model)",
                showlegend=n == 0,
            ),
            **at,
        )
        figure.update_xaxes(title_text="rack (CSV row), deviation and verdict", **at)
        figure.update_yaxes(title_text=f"{QUALIFY.get(metric, metric)} ({units[metric]})", **at)
    if len(metrics) % 2:  # the grid's last cell is empty
        figure.update_xaxes(visible=False, row=grid, col=2)
        figure.update_yaxes(visible=False, row=grid, col=2)
    for verdict, colour in VERDICT_COLOURS.items():  # the colours' legend
        figure.add_trace(go.Bar(x=[None], y=[None], marker_color=colour, name=f"measured: {verdict}"), row=1, col=1)
    lines = [
        f"Design {doc['design']} ({doc['generation']}); results {doc['results']}; {len(rows)} measurement(s).",
        *(f"Calibration: {hint}" for hint in doc["calibration"]),
        *inputs,
    ]
    title = f"{doc['design']}: qualification of early racks"
    headline = f"{qualify_summary(doc)}"
    worst = next((r for r in rows if r["verdict"] == "fail"), None)
    if worst is not None:
        metric = QUALIFY.get(worst["metric"], worst["metric"])
        headline += f"; first fail: {metric} on {worst['rack_id']}, {deviation_text(worst)}"
    figure.update_layout(**_layout(title, headline, lines), height=max(500, 330 * grid + 200))
    return figure

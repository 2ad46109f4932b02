"""``rackwright perf ...``: training step time, parallelism search and inference for a model on a system."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import (
    EXIT_RULES,
    MAX_COUNT,
    MAX_WORKERS,
    WIDE,
    detail,
    emit,
    err,
    guarded,
    output_option,
    show,
    working,
    write_folder,
)

app = typer.Typer(
    help="LLM training and inference performance of a system (built-in, system file or rack design).",
    no_args_is_help=True,
)

MODEL = typer.Option(..., "--model", help="Built-in model name (e.g. llama3-405b) or a model YAML file.")
SYSTEM = typer.Option(
    ..., "--system", help="Built-in system (e.g. dgx-h100-ndr), a system YAML, or a rack design YAML."
)
RACKS = typer.Option(None, "--racks", min=1, max=MAX_COUNT, help="Racks of the design given as --system.")
JSON = typer.Option(False, "--json", help="Print the result as JSON (docs/json.md: memory in bytes).")
TP_OVERLAP = typer.Option(
    False, "--tp-overlap", help="Overlap TP collectives with the GEMMs (search: every configuration with TP > 1)."
)
IN_NETWORK = typer.Option(
    True,
    "--in-network-reduction/--no-in-network-reduction",
    help="Let the switches reduce where the system has it: NVLink SHARP (NVLS) inside the scale-up domain, "
    "InfiniBand SHARP across (default on; off as with NCCL_NVLS_ENABLE=0 and no CollNet).",
)
MOE_CAPACITY_FACTOR = typer.Option(
    None,
    "--moe-capacity-factor",
    help="Expert capacity in mean loads: tokens above it are dropped (default: dropless, busiest rank 1.125×; "
    "search: every configuration).",
)
MOE_PAD_TO_CAPACITY = typer.Option(
    False, "--moe-pad-to-capacity", help="With --moe-capacity-factor: pad every expert's input to its capacity."
)
GLOBAL_BATCH = typer.Option(..., "--global-batch", min=1, max=MAX_COUNT, help="Global batch in sequences.")
#: Most tokens of a sequence, a prompt or an answer (the longest contexts today are 10M tokens).
MAX_TOKENS = 100_000_000
SEQ_LEN = typer.Option(None, "--seq-len", min=1, max=MAX_TOKENS, help="Sequence length (default: the model's).")
PRECISION = typer.Option(
    "bf16",
    "--precision",
    help="Precision recipe of the linear layers' GEMMs: bf16, fp16, tf32, fp8-delayed, "
    "fp8-current, mxfp8 (Blackwell), fp8-blockwise, nvfp4 (Blackwell); fp8 = fp8-delayed, "
    "fp4 = nvfp4.",
)
ATTENTION_PRECISION = typer.Option(
    "bf16", "--attention-precision", help="Precision of the attention core: bf16 or fp8 (FP8 flash attention)."
)


def _perf_output(name: str, charts: str):
    """``-o DIR`` of a perf command: ``NAME.json`` (what --json prints) and report.html with ``charts``."""
    return output_option(f"Folder for {name}.json and report.html ({charts}).")


def _table(title: str, doc: dict, keys, wide: bool = False):
    """The result's figures with their labels, units and formats (report.present.PERF)."""
    from ..report.ops_pages import perf_value
    from ..report.present import PERF
    from ..report.tables import figures_table

    return figures_table(title, ((PERF[key][0], perf_value(doc, key), PERF[key][1]) for key in keys), wide)


def _breakdown_table(breakdown: dict, wide: bool = False):
    """The step time's terms in seconds, labelled by report.present.STEP_TERMS (docs/perf-model.md names each)."""
    from ..report.present import format_value, step_term_label
    from ..report.tables import figures_table

    rows = ((step_term_label(key), format_value(seconds), "s") for key, seconds in breakdown.items())
    return figures_table("step time breakdown", rows, wide, headers=("term", "time"))


TRAIN_OUTPUT = _perf_output("train", "step-time and memory breakdowns")
SEARCH_OUTPUT = _perf_output("search", "the fastest configurations' tokens/s and memory, Pareto front")
INFER_OUTPUT = _perf_output("infer", "latency and throughput breakdowns")


@app.command("train")
@guarded
def train_command(
    model: str = MODEL,
    system: str = SYSTEM,
    racks: int | None = RACKS,
    accelerators: int | None = typer.Option(
        None, "--accelerators", min=1, max=MAX_COUNT, help="Accelerators (default: the system's)."
    ),
    global_batch: int = GLOBAL_BATCH,
    micro_batch: int = typer.Option(1, "--micro-batch", min=1, max=MAX_COUNT),
    tp: int = typer.Option(1, "--tp", min=1, max=MAX_COUNT),
    pp: int = typer.Option(1, "--pp", min=1, max=MAX_COUNT),
    vp: int = typer.Option(
        1, "--vp", min=1, max=MAX_COUNT, help="Virtual pipeline stages per rank (interleaved schedule)."
    ),
    cp: int = typer.Option(1, "--cp", min=1, max=MAX_COUNT),
    ep: int = typer.Option(1, "--ep", min=1, max=MAX_COUNT),
    sp: bool = typer.Option(False, "--sp", help="Sequence parallelism."),
    recompute: str = typer.Option("none", "--recompute", help="none, selective or full."),
    distributed_optimizer: bool = typer.Option(False, "--distributed-optimizer"),
    no_dp_overlap: bool = typer.Option(False, "--no-dp-overlap", help="Reduce gradients after the backward pass."),
    tp_overlap: bool = TP_OVERLAP,
    in_network_reduction: bool = IN_NETWORK,
    pp_overlap: bool = typer.Option(
        False, "--pp-overlap", help="Overlap the interleaved pipeline's sends with compute (needs --pp and --vp > 1)."
    ),
    pp_schedule: str = typer.Option(
        "1f1b",
        "--pp-schedule",
        help="Pipeline schedule: 1f1b (Megatron's; interleaved with --vp > 1) or dualpipe (DeepSeek-V3's: two "
        "stages per rank, fed from both ends; hides the MoE all-to-all; even --pp, --vp 1).",
    ),
    attention: str = typer.Option("flash", "--attention", help="flash, or materialized (pre-FlashAttention stacks)."),
    seq_len: int | None = SEQ_LEN,
    precision: str = PRECISION,
    attention_precision: str = ATTENTION_PRECISION,
    fp8_param_gather: bool = typer.Option(
        False,
        "--fp8-param-gather",
        help="Keep parameters in the recipe's low precision: smaller weights in "
        "memory and in the DP all-gather (with --distributed-optimizer).",
    ),
    overlap_param_gather: bool = typer.Option(
        False,
        "--overlap-param-gather",
        help="Overlap the distributed optimizer's parameter all-gather with the next step's forward pass.",
    ),
    grad_precision: str = typer.Option(
        "fp32", "--grad-precision", help="Gradients accumulated and reduced in fp32 (default) or bf16."
    ),
    optimizer_moments: str = typer.Option(
        "fp32",
        "--optimizer-moments",
        help="Adam's momentum and variance in fp32 (default) or bf16 (DeepSeek-V3; Megatron's precision-aware "
        "optimizer): 8 bytes of optimizer state a parameter, not 12; master weights stay fp32.",
    ),
    activation_func_fp8_input_store: bool = typer.Option(
        False,
        "--activation-func-fp8-input-store",
        help="Save the SwiGLU's input (the gate and up outputs) in FP8 for the backward pass, not BF16 "
        "(Megatron's option; DeepSeek-V3 in its MoE layers, with fp8-blockwise's 1x128 scales).",
    ),
    attention_output_cache: str = typer.Option(
        "bf16",
        "--attention-output-cache",
        help="The attention output saved for the backward: bf16 (default; plus the output projection's FP8 copy "
        "under an FP8 recipe) or e5m6 (DeepSeek-V3: one 12-bit copy serves both; needs an FP8 --precision).",
    ),
    first_stage_layers: int = typer.Option(
        0, "--first-stage-layers", min=0, max=MAX_COUNT, help="Layers of the first pipeline stage (0: an even split)."
    ),
    last_stage_layers: int = typer.Option(
        0, "--last-stage-layers", min=0, max=MAX_COUNT, help="Layers of the last pipeline stage (0: an even split)."
    ),
    recompute_modules: str | None = typer.Option(
        None,
        "--recompute-modules",
        metavar="MODULE,...",
        help="With --recompute selective: what it re-runs, comma-separated: core_attn "
        "(default), layernorm, mlp, moe, moe_act, mla_up_proj.",
    ),
    etp: int | None = typer.Option(
        None,
        "--etp",
        min=1,
        max=MAX_COUNT,
        help="Expert tensor parallelism (default: TP); EP × ETP folds over TP × CP × DP.",
    ),
    cp_comm_type: str = typer.Option(
        "p2p",
        "--cp-comm-type",
        help="Context parallelism's K,V exchange: p2p (a ring behind attention, Megatron's default) or all_gather "
        "(Llama 3: K,V all-gathered, exposed). A model's local-attention layers run all_gather either way (TE's "
        "ring takes no window).",
    ),
    moe_dispatcher: str = typer.Option(
        "alltoall",
        "--moe-dispatcher",
        help="alltoall (Megatron) or deepep (one copy per destination domain, FP8 dispatch under FP8 recipes).",
    ),
    fsdp: bool = typer.Option(
        False,
        "--fsdp",
        help="FSDP (ZeRO-3): weights, gradients and optimizer sharded over DP × CP, gathered for every micro-batch.",
    ),
    zero2: bool = typer.Option(
        False,
        "--zero2",
        help="With --distributed-optimizer: shard the gradients too (ZeRO-2), reduce-scattered every micro-batch.",
    ),
    hsdp_replicas: int = typer.Option(
        1,
        "--hsdp-replicas",
        min=1,
        max=MAX_COUNT,
        help="With --fsdp: replicas of the sharded model (HSDP), each sharded over DP × CP / replicas.",
    ),
    moe_a2a_overlap: bool = typer.Option(
        False, "--moe-a2a-overlap", help="Hide dispatch/combine behind another micro-batch's compute."
    ),
    moe_capacity_factor: float | None = MOE_CAPACITY_FACTOR,
    moe_pad_to_capacity: bool = MOE_PAD_TO_CAPACITY,
    train_tokens: float | None = typer.Option(
        None, "--train-tokens", min=1, max=1e16, help="Tokens of a run (1 to 1e16): adds days, energy, cost."
    ),
    output: Path | None = TRAIN_OUTPUT,
    as_json: bool = JSON,
    wide: bool = WIDE,
):
    """Step time, tokens/s, TFLOP/s, MFU/HFU and memory of one parallelism configuration."""
    from ..errors import InputError
    from ..perf.api import train_report

    if recompute not in ("none", "selective", "full"):
        raise InputError.single(None, f"unknown recompute {recompute!r}", "--recompute", "none, selective or full")
    if attention not in ("flash", "materialized"):
        raise InputError.single(None, f"unknown attention {attention!r}", "--attention", "flash or materialized")
    doc = train_report(
        model,
        system,
        global_batch=global_batch,
        micro_batch=micro_batch,
        tp=tp,
        pp=pp,
        vp=vp,
        cp=cp,
        ep=ep,
        sp=sp,
        recompute=recompute,
        distributed_optimizer=distributed_optimizer,
        overlap_dp=not no_dp_overlap,
        overlap_tp=tp_overlap,
        overlap_p2p=pp_overlap,
        pp_schedule=pp_schedule,
        cp_comm_type=cp_comm_type,
        attention=attention,
        racks=racks,
        accelerators=accelerators,
        seq_len=seq_len,
        precision=precision,
        attention_precision=attention_precision,
        fp8_param_gather=fp8_param_gather,
        overlap_param_gather=overlap_param_gather,
        grad_precision=grad_precision,
        optimizer_moments=optimizer_moments,
        activation_func_fp8_input_store=activation_func_fp8_input_store,
        attention_output_cache=attention_output_cache,
        first_stage_layers=first_stage_layers,
        last_stage_layers=last_stage_layers,
        recompute_modules=recompute_modules,
        etp=etp,
        moe_dispatcher=moe_dispatcher,
        moe_a2a_overlap=moe_a2a_overlap,
        moe_capacity_factor=moe_capacity_factor,
        moe_pad_to_capacity=moe_pad_to_capacity,
        fsdp=fsdp,
        hsdp_replicas=hsdp_replicas,
        zero2=zero2,
        in_network_reduction=in_network_reduction,
        train_tokens=train_tokens,
    )
    if output is not None:
        from ..report.ops_pages import train_figure

        write_folder(output, "train", doc, train_figure(doc, [_batch_line(global_batch, seq_len, system)]))
    if as_json:
        emit(doc)
        return
    show(
        _table(
            f"{doc['model']} on {doc['accelerators']} × {doc['system']}",
            doc,
            [
                "step_time_s",
                "tokens_per_s",
                "tflops_per_accelerator",
                "mfu",
                "hfu",
                "memory_gb_per_accelerator",
                "fits",
                "train_days",
                "energy_mwh",
                "cost_usd",
            ],
            wide,
        )
    )
    show(_breakdown_table(doc["breakdown"], wide))
    show(_placement_table(doc["placement"], wide))


def _batch_line(global_batch: int, seq_len: int | None, system: str) -> str:
    """The inputs line of a training page: the global batch, the sequence length, the --system given."""
    length = f"{seq_len:,} tokens" if seq_len else "the model's length"
    return f"Global batch {global_batch:,} sequences of {length}; --system {system}."


_PLACEMENT_COLUMNS = ("group", "ranks", "stride", "domains", "racks", "network")


def _placement_table(place: dict, wide: bool = False):
    """Each parallel group: its ranks and stride, the scale-up domains and racks it spans, its network."""
    from ..report.tables import ID, NUMBER, Column, FitTable

    rack = place["accelerators_per_rack"]
    table = FitTable(
        f"placement (scale-up domain {place['scale_up_domain']}, rack {rack or 'n/a'})",
        [Column(c, ID if c in ("group", "network") else NUMBER) for c in _PLACEMENT_COLUMNS],
        wide=wide,
    )
    for name, g in place["groups"].items():
        racks = "n/a" if g["racks"] is None else str(g["racks"])
        table.add_row(name, str(g["size"]), str(g["stride"]), str(g["scale_up_domains"]), racks, g["network"])
    return table


@app.command("search")
@guarded
def search_command(
    model: str = MODEL,
    system: str = SYSTEM,
    racks: int | None = RACKS,
    accelerators: int | None = typer.Option(None, "--accelerators", min=1, max=MAX_COUNT, help="Accelerators to use."),
    global_batch: int = GLOBAL_BATCH,
    top: int = typer.Option(10, "--top", min=1, max=MAX_COUNT, help="How many of the fastest configurations to list."),
    seq_len: int | None = SEQ_LEN,
    precision: str = PRECISION,
    precisions: str | None = typer.Option(
        None,
        "--precisions",
        metavar="RECIPE,...",
        help="Search several precision recipes: a comma-separated list, or all (every recipe the accelerator "
        "supports); replaces --precision.",
    ),
    restrict: list[str] | None = typer.Option(
        None,
        "--restrict",
        metavar="AXIS=V,V",
        help="Keep only these values of a grid axis, AXIS=V,V (repeatable): tp, pp, vp, cp, ep, micro_batch, "
        "recompute, sharding (ddp, zero1, zero2, fsdp, hsdp), moe_dispatcher (alltoall, deepep), pp_schedule "
        "(1f1b, dualpipe: both by default, DualPipe where valid), optimizer_moments (fp32, bf16: fp32 alone by "
        "default, as BF16 moments change the numerics).",
    ),
    attention_precision: str = ATTENTION_PRECISION,
    tp_overlap: bool = TP_OVERLAP,
    in_network_reduction: bool = IN_NETWORK,
    moe_capacity_factor: float | None = MOE_CAPACITY_FACTOR,
    moe_pad_to_capacity: bool = MOE_PAD_TO_CAPACITY,
    recompute_modules: str | None = typer.Option(
        None,
        "--recompute-modules",
        metavar="MODULE,...",
        help="Modules selective recompute may use, comma-separated (default: core_attn, layernorm, mlp, moe_act, "
        "mla_up_proj, those the model has; moe can be added); the search crosses their sets.",
    ),
    within_scale_up: str | None = typer.Option(
        None,
        "--within-scale-up",
        metavar="GROUP,...",
        help="Groups that must stay inside one scale-up domain, comma-separated: tp, cp, dp, pp, ep.",
    ),
    cp_comm_type: str = typer.Option(
        "p2p,all_gather",
        "--cp-comm-type",
        help="Context parallelism's K,V exchanges to cross where CP > 1, comma-separated: p2p (a ring behind "
        "attention), all_gather (Llama 3: exposed); CP = 1 rows keep p2p; local-attention layers all_gather.",
    ),
    backend: str = typer.Option("local", "--backend", help="local (processes) or ray (optional extra)."),
    partitions: int = typer.Option(
        1, "--partitions", min=1, max=MAX_WORKERS, help="Split the grid into this many chunks (one process each)."
    ),
    output: Path | None = SEARCH_OUTPUT,
    as_json: bool = JSON,
    wide: bool = WIDE,
):
    """Evaluate every valid TP/PP/VP/DP/CP/EP/micro-batch/recompute/optimizer combination; show the fastest that fit.

    Each row names its recompute modules, its CP K,V exchange (where CP > 1), its pipeline schedule and optimizer
    moments (columns where a row leaves 1f1b or fp32) and the groups that leave the scale-up domain and the rack.

    Exit 1 when none fits in memory (the least memory a configuration needs is printed); exit 2, naming the
    constraint, when no configuration of the accelerators and global batch is valid.
    """
    from ..errors import InputError
    from ..perf.api import search_report

    if backend not in ("local", "ray"):
        raise InputError.single(None, f"unknown backend {backend!r}", "--backend", "local or ray")
    with working("searching parallelism configurations", not as_json):
        doc = search_report(
            model,
            system,
            accelerators=accelerators,
            global_batch=global_batch,
            top=top,
            racks=racks,
            seq_len=seq_len,
            precision=precision,
            attention_precision=attention_precision,
            backend=backend,
            partitions=partitions,
            precisions=precisions,
            restrict=restrict,
            tp_overlap=tp_overlap,
            recompute_modules=recompute_modules,
            within_scale_up=within_scale_up,
            cp_comm_type=cp_comm_type,
            in_network_reduction=in_network_reduction,
            moe_capacity_factor=moe_capacity_factor,
            moe_pad_to_capacity=moe_pad_to_capacity,
        )
    detail(f"searched in {doc['search_time_s']:.2f} s")
    body = {k: v for k, v in doc.items() if k != "search_time_s"}  # a run-time measurement, not a result
    if output is not None:
        from ..report.ops_pages import search_figure

        inputs = [f"{_batch_line(global_batch, seq_len, system)} Top {top} listed."]
        write_folder(output, "search", body, search_figure(doc, inputs))
    if as_json:
        emit(body)
    else:
        show(_search_table(doc, wide))
        if doc["top"]:
            from rich.text import Text

            show(Text(_rerun_note(doc["top"])))
    if not doc["top"]:
        err.print(
            f"none of the {doc['configurations_valid']:,} valid configurations fits in memory: the leanest needs "
            f"{doc['least_memory_gb_per_accelerator']:,.1f} GB per accelerator, which has "
            f"{doc['hbm_gb_per_accelerator']:,.1f} GB (fix: more accelerators, or a smaller model or sequence)",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_RULES)


def _search_table(doc: dict, wide: bool = False):
    """The fastest configurations, fitted to the width without cutting a number (report.tables.FitTable); the
    figures formatted as ``perf train`` and the search's page show them (report.present.PERF: MFU in %)."""
    from ..report.ops_pages import perf_value
    from ..report.present import PERF
    from ..report.tables import ID, LABEL, NUMBER, Column, FitTable

    columns = [  # (row key, header, kind, drop order when the width is too small; 0 = always shown)
        ("tp", "TP", NUMBER, 0),
        ("pp", "PP", NUMBER, 0),
        ("vp", "VP", NUMBER, 0),
        ("dp", "DP", NUMBER, 0),
        ("cp", "CP", NUMBER, 0),
        ("ep", "EP", NUMBER, 0),
        ("micro_batch", "micro- batch", NUMBER, 3),
        ("recompute", "recompute", LABEL, 4),
        ("sharding", "sharding", ID, 2),
        ("precision", "precision", ID, 1),
        ("step_time_s", "step", NUMBER, 0),
        ("tokens_per_s", "tokens/s", NUMBER, 0),
        ("mfu", "MFU", NUMBER, 0),
        ("memory_gb_per_accelerator", "GB per accel.", NUMBER, 0),
        ("crosses_scale_up", "crosses scale-up", LABEL, 5),
    ]
    if doc["accelerators_per_rack"]:  # racks vary otherwise
        columns.append(("crosses_rack", "crosses rack", LABEL, 5))
    columns[6:6] = [column for column, shown in _setting_columns(doc["top"]) if shown]  # after EP
    if any(row["cp"] > 1 for row in doc["top"]):  # the K,V exchange means nothing without CP
        columns.insert(5, ("cp_comm_type", "CP comm", ID, 1))
    table = FitTable(
        f"{doc['model']} on {doc['accelerators']} × {doc['system']}: {doc['configurations_valid']:,} "
        f"valid of {doc['configurations_evaluated']:,} in {doc['search_time_s']:.2f} s",
        [Column(_search_header(key, header), kind, drop) for key, header, kind, drop in columns],
        wide=wide,
        hint="--wide shows them; --json lists every field",
    )
    for row in doc["top"]:
        shown = {**row, "recompute": _recompute(row), **_setting_cells(row)}
        table.add_row(*(perf_value(row, key) if key in PERF else _cell(shown[key]) for key, *_ in columns))
    return table


def _setting_columns(rows: list[dict]) -> list[tuple[tuple[str, str, str, int], bool]]:
    """The settings a row needs to be re-run with ``perf train``, each with whether to show it: only where a listed
    row leaves ``perf train``'s default (report.ops_pages.off_default, the rule the search page's labels follow)."""
    from ..report.ops_pages import off_default
    from ..report.tables import ID, LABEL, NUMBER

    columns = [
        ("etp", "ETP", NUMBER, 3),
        ("moe_dispatcher", "dispatcher", ID, 3),
        ("fp8_param_gather", "FP8 params", LABEL, 2),
        ("stage_layers", "first/last layers", LABEL, 3),
        ("pp_schedule", "schedule", ID, 2),
        ("optimizer_moments", "moments", ID, 2),
    ]
    offs = [off_default(row) for row in rows]
    return [(column, any(off[column[0]] for off in offs)) for column in columns]


def _setting_cells(row: dict) -> dict[str, str]:
    """A row's settings as the table shows them: ``hsdp×4`` (``--fsdp --hsdp-replicas 4``), ``yes``/``no`` for FP8
    parameters, ``7/7`` layers on the first and last stage (``even``: an even split)."""
    first, last = row["first_stage_layers"], row["last_stage_layers"]
    return {
        "sharding": f"hsdp×{row['hsdp_replicas']}" if row["sharding"] == "hsdp" else row["sharding"],
        "fp8_param_gather": "yes" if row["fp8_param_gather"] else "no",
        "stage_layers": f"{first}/{last}" if first or last else "even",
    }


#: What every row of the search runs besides its columns, as ``perf train`` flags (search.candidate_grid sets them
#: from the degrees and the sharding): (flag, the row's JSON key, when it is on).
DERIVED_FLAGS = (
    ("--sp", "sp", "TP>1"),
    ("--overlap-param-gather", "overlap_param_gather", "sharding is zero1 or zero2"),
    ("--pp-overlap", "overlap_p2p", "VP>1"),
    ("--moe-a2a-overlap", "moe_a2a_overlap", "EP>1"),
    ("--tp-overlap", "overlap_tp", "TP>1 (as searched)"),
)
#: The sharding column's values as ``perf train`` flags (``hsdp×R``: R replicas).
SHARDING_FLAGS = {
    "ddp": "no flag",
    "zero1": "--distributed-optimizer",
    "zero2": "--distributed-optimizer --zero2",
    "fsdp": "--fsdp",
    "hsdp": "--fsdp --hsdp-replicas R",
}


def _rerun_note(rows: list[dict]) -> str:
    """How to re-run a row with ``perf train``: the flags it runs besides its columns (those on in a listed row) and
    the flags of the listed shardings."""
    derived = [f"{flag} where {when}" for flag, key, when in DERIVED_FLAGS if any(row[key] for row in rows)]
    shardings = dict.fromkeys(row["sharding"] for row in rows)
    flags = [f"{name + '×R' if name == 'hsdp' else name} is {SHARDING_FLAGS[name]}" for name in shardings]
    return (
        "Re-run a row: perf train with this search's inputs, the row's columns as options (DP follows; the "
        "schedule and moments columns as --pp-schedule and --optimizer-moments, absent where every row runs 1f1b "
        "and fp32), " + "".join(f"{d}, " for d in derived) + f"sharding {', '.join(flags)}."
    )


def _search_header(key: str, header: str) -> str:
    """A column's header with the figure's unit from report.present.PERF (``step s``) where the header does not
    name it already (``tokens/s``, ``GB per accel.``); a share's values carry their %."""
    from ..report.present import PERF

    unit = PERF[key][1] if key in PERF else ""
    return header if not unit or unit in header.split() else f"{header} {unit}"


def _recompute(row: dict) -> str:
    """``selective (layernorm, mlp)``: the recompute with its modules."""
    modules = row["recompute_modules"]
    return f"{row['recompute']} ({', '.join(modules)})" if modules else row["recompute"]


def _cell(value) -> str:
    """A configuration's setting (a degree, a name, a list of groups) as text."""
    if isinstance(value, list):
        return ", ".join(value) or "-"
    return str(value)


@app.command("infer")
@guarded
def infer_command(
    model: str = MODEL,
    system: str = SYSTEM,
    racks: int | None = RACKS,
    batch: int = typer.Option(..., "--batch", min=1, max=MAX_COUNT, help="Concurrent sequences."),
    input_tokens: int = typer.Option(..., "--input-tokens", min=1, max=MAX_TOKENS),
    output_tokens: int = typer.Option(..., "--output-tokens", min=1, max=MAX_TOKENS),
    tp: int | None = typer.Option(
        None, "--tp", min=1, max=MAX_COUNT, help="Tensor parallel degree (default: the smallest that fits)."
    ),
    precision: str = PRECISION,
    output: Path | None = INFER_OUTPUT,
    as_json: bool = JSON,
):
    """Time to first token, time per output token, tokens/s per accelerator and per MW."""
    from ..perf.api import inference_report

    doc = inference_report(
        model,
        system,
        batch=batch,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        tp=tp,
        racks=racks,
        precision=precision,
    )
    if output is not None:
        from ..report.ops_pages import infer_figure

        write_folder(output, "infer", doc, infer_figure(doc, [f"Precision recipe {precision}; --system {system}."]))
    if as_json:
        emit(doc)
        return
    show(
        _table(
            f"{doc['model']} on {doc['system']}",
            doc,
            [
                "tp",
                "ttft_s",
                "tpot_s",
                "tokens_per_s_per_accelerator",
                "tokens_per_s_per_rack",
                "tokens_per_s_per_mw",
                "fits",
            ],
        )
    )

"""The perf Python API behind ``rackwright perf``: checked inputs in, the stable JSON documents out.

``train_report`` evaluates one parallelism configuration, ``search_report`` the best
of all valid ones, ``inference_report`` a serving batch. Inputs that cannot describe
a run (TP not dividing the heads, degrees whose product is not the accelerator
count, a batch that does not split into micro-batches) raise
:class:`~rackwright.errors.InputError`; a run that is valid but does not fit in
memory is a result with ``"fits": false`` and the reason.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union, cast

import numpy as np

from ..errors import InputError
from ..yamlio import read_yaml
from .inference import infer
from .memory import RECOMPUTE_MODULES
from .placement import GROUPS, placement
from .precision import RECIPES
from .precision import check as precision_check
from .reference import REFERENCE_TRAINING, REFERENCE_TRAINING_MOE, ReferenceTraining
from .search import OPTIMIZER_MOMENTS, SHARDING, search
from .stages import PP_SCHEDULES
from .system import load_system, system_from_rack
from .training import CP_COMM_TYPES, RECOMPUTE, Parallelism, in_network_levels, train_step
from .workload import load_model

if TYPE_CHECKING:
    from ..rack.evaluation import Rack

#: What ``--system`` names: a built-in system, a system file or a rack design file, or an evaluated rack.
SystemArg = Union[str, Path, "Rack"]

SECONDS_PER_DAY = 86400.0
#: Bounds of the API's arguments (the CLI's typer bounds are the same): counts up to the count domain's 10^6,
#: tokens of a sequence, prompt or answer up to 10^8, tokens of a training run 1 to 10^16.
MAX_COUNT = 1_000_000
MAX_TOKENS = 100_000_000
MAX_TRAIN_TOKENS = 1e16
MAX_CAPACITY_FACTOR = 1000.0  # an expert's capacity in mean loads: any sensible run is far below


def _whole(value, option: str, low: int = 1, high: int = MAX_COUNT, optional: bool = False):
    """A whole number in ``[low, high]`` (an integral float is accepted), else InputError naming the option."""
    if value is None and optional:
        return None
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        ok = math.isfinite(float(value)) and float(value) == int(value) and low <= value <= high
    if not ok:
        raise InputError.single(
            None,
            f"{option} must be a whole number from {low:,} to {high:,}, not {value!r}",
            option.replace("_", "-") if option.startswith("--") else option,
        )
    return int(value)


def _choice(value, option: str, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InputError.single(None, f"{option} must be one of {', '.join(choices)}, not {value!r}", option)
    return value


def _name(value, option: str) -> str:
    if not isinstance(value, (str, Path)) or not str(value):
        raise InputError.single(None, f"{option} must be a built-in name or a file path, not {value!r}", option)
    return str(value)


def _rack(system: SystemArg) -> Rack | None:
    """The evaluated rack ``system`` is or names (a design file: ``slots:``, or ``extends:`` of one), else None."""
    from ..rack.evaluation import Rack, sound_design

    if isinstance(system, Rack):
        return system
    path = Path(_name(system, "--system"))
    if path.suffix in (".yaml", ".yml") and path.exists():
        root = read_yaml(path)
        if isinstance(root, dict) and ("slots" in root or "extends" in root):
            return sound_design(path)
    return None


def resolve_system(system: SystemArg, racks: int | None = None, accelerators: int | None = None):
    """A built-in system, a system file, or a rack (an evaluated :class:`~rackwright.rack.evaluation.Rack`, or a
    design file with ``slots:``, evaluated here once: ``--system`` is a file edge) times ``racks``."""
    rack = _rack(system)
    if rack is not None:
        built = system_from_rack(rack, racks or 1)
        available = built.accelerators or 0
        if accelerators and accelerators > available:
            per_rack = max(available / (racks or 1), 1)
            raise InputError.single(
                None,
                f"{accelerators:,} accelerators are more than the {available:,} "
                f"of {racks or 1} rack(s) of {rack.file or rack.name}",
                "--accelerators",
                f"give --racks {math.ceil(accelerators / per_rack)} or fewer accelerators",
            )
        return built.with_accelerators(accelerators) if accelerators else built
    spec = load_system(_name(system, "--system"))
    if racks:
        raise InputError.single(
            None,
            "--racks applies to a rack design, not a system file",
            "--racks",
            "give --accelerators, or a design YAML as --system",
        )
    return spec.with_accelerators(accelerators) if accelerators else spec


def _switches(system, in_network_reduction):
    """The system with its in-network reduction (NVLink SHARP, InfiniBand SHARP) left on where it has it, or off
    (``--no-in-network-reduction``, as ``NCCL_NVLS_ENABLE=0`` without CollNet)."""
    if not isinstance(in_network_reduction, (bool, np.bool_)):
        raise InputError.single(
            None, f"--in-network-reduction is true or false, not {in_network_reduction!r}", "--in-network-reduction"
        )
    return system if in_network_reduction else system.with_in_network_reduction(False, False)


def _check_precision(system, precision: str, attention_precision: str = "bf16", fp8_param_gather: bool = False):
    """The precision recipe, checked against the accelerator (InputError naming the option otherwise)."""
    rec = precision_check(system, precision, attention_precision)
    if fp8_param_gather and not rec.low:
        raise InputError.single(
            None,
            f"--fp8-param-gather keeps parameters in a low precision; {rec.name} has none",
            "--fp8-param-gather",
            "use it with an FP8 or FP4 --precision",
        )
    return rec


#: Axes of the search grid that ``--restrict`` narrows, and their named values (the others are whole numbers).
RESTRICTABLE = {
    "tp": None,
    "pp": None,
    "vp": None,
    "cp": None,
    "ep": None,
    "micro_batch": None,
    "recompute": RECOMPUTE,
    "sharding": {name: i for i, name in enumerate(SHARDING)},
    "moe_dispatcher": {"alltoall": 0, "deepep": 1},
    "pp_schedule": PP_SCHEDULES,
    "optimizer_moments": {name: i for i, name in enumerate(OPTIMIZER_MOMENTS)},
}


def _restriction(items: list[str]) -> dict[str, tuple]:
    """``--restrict AXIS=V,V`` options as {axis: allowed values}; :class:`InputError` for an unknown axis or value."""
    out: dict[str, tuple] = {}
    for item in items:
        axis, _, values = str(item).partition("=")
        axis = axis.strip()
        if axis not in RESTRICTABLE or not values.strip():
            raise InputError.single(
                None, f"cannot restrict {item!r}", "--restrict", f"AXIS=V,V with AXIS one of: {', '.join(RESTRICTABLE)}"
            )
        names = RESTRICTABLE[axis]
        try:
            out[axis] = tuple(names[v.strip()] if names else int(v) for v in values.split(","))
        except (KeyError, ValueError):
            hint = f"one of: {', '.join(names)}" if names else "whole numbers"
            raise InputError.single(None, f"bad value in --restrict {item!r}", "--restrict", hint) from None
    return out


def _groups(names: str | None) -> tuple[str, ...]:
    """``--within-scale-up tp,ep`` as group names of :data:`rackwright.perf.placement.GROUPS`."""
    if names is None:
        return ()
    listed = [n.strip() for n in str(names).split(",") if n.strip()]
    if not listed or set(listed) - set(GROUPS):
        raise InputError.single(
            None,
            f"cannot keep {names!r} inside the scale-up domain",
            "--within-scale-up",
            f"a comma-separated list of: {', '.join(GROUPS)}",
        )
    return tuple(dict.fromkeys(listed))


def _search_recipes(system, precisions: str, attention_precision: str) -> list:
    """The recipes of ``--precisions`` (a comma-separated list, or ``all``: those the accelerator supports)."""
    if precisions.strip() == "all":
        found = []
        for name in RECIPES:
            try:
                found.append(precision_check(system, name, attention_precision))
            except InputError:
                continue  # a recipe the accelerator lacks is not searched
        if not found:
            raise InputError.single(
                None,
                f"no precision recipe runs on {system.accelerator.name} with {attention_precision} attention",
                "--precisions",
                "name the recipes, or use --attention-precision bf16",
            )
        return found
    names = [n.strip() for n in precisions.split(",") if n.strip()]
    if not names:
        raise InputError.single(None, "--precisions names no recipe", "--precisions", "e.g. bf16,fp8-current or all")
    return [_check_precision(system, n, attention_precision) for n in dict.fromkeys(names)]


def _check_parallelism(model, accelerators, global_batch, micro_batch, tp, pp, vp, cp, ep, etp=None) -> int:
    """DP from the accelerator count; InputError for impossible combinations."""
    problems = []
    if model.heads % tp:
        problems.append(("--tp", f"TP {tp} does not divide the {model.heads} attention heads"))
    if accelerators % (tp * pp * cp):
        problems.append(
            ("--accelerators", f"{accelerators} accelerators are not a multiple of TP·PP·CP = {tp * pp * cp}")
        )
    dp = accelerators // (tp * pp * cp) if not problems else 1
    if vp > 1 and (pp == 1 or pp * vp > model.layers):
        problems.append(("--vp", f"{vp} virtual stages need PP > 1 and at most {model.layers} layers' worth of PP·VP"))
    if pp > model.layers:
        problems.append(("--pp", f"PP {pp} exceeds the {model.layers} layers"))
    etp = etp or tp
    if etp != tp and not model.experts:
        problems.append(("--etp", f"expert tensor parallelism needs an MoE model; {model.name} has no experts"))
    if ep > 1 and (not model.experts or model.experts % ep):
        problems.append(("--ep", f"EP {ep} must divide the experts ({model.experts})"))
    elif model.experts and (tp * cp * dp) % (ep * etp):
        problems.append(
            (
                "--ep",
                f"EP × ETP = {ep} × {etp} must divide TP × CP × DP = {tp} × {cp} × {dp} "
                "(experts are folded over the same accelerators)",
            )
        )
    if global_batch % (dp * micro_batch):
        problems.append(
            ("--global-batch", f"global batch {global_batch} does not split into DP {dp} × micro-batch {micro_batch}")
        )
    elif vp > 1 and global_batch // (dp * micro_batch) < pp:
        problems.append(
            (
                "--vp",
                f"the interleaved schedule needs at least PP = {pp} micro-batches per pipeline, "
                f"not {global_batch // (dp * micro_batch)}",
            )
        )
    if problems:
        from ..errors import Problem

        raise InputError(None, [Problem(message, path) for path, message in problems])
    return dp


def _check_stages(model, pp: int, first: int, last: int) -> None:
    """Uneven first/last pipeline stages: only with PP > 1, and every stage keeps at least one layer."""
    if not (first or last):
        return
    flag = "--first-stage-layers" if first else "--last-stage-layers"
    if pp == 1:
        raise InputError.single(None, "first/last stage layers need pipeline parallelism", flag, "give --pp 2 or more")
    rest_stages = pp - bool(first) - bool(last)
    rest = model.layers - first - last
    if rest_stages == 0 and rest != 0:
        raise InputError.single(
            None,
            f"with PP {pp} the first and last stages hold all {model.layers} layers, not {first + last}",
            flag,
            f"make them add up to {model.layers}",
        )
    if rest_stages and rest < rest_stages:
        raise InputError.single(
            None,
            f"{first + last} layers on the first/last stages leave {rest} for the other "
            f"{rest_stages} stages of the {model.layers}",
            flag,
            "give each stage at least one layer",
        )


def _capacity_factor(model, factor, pad: bool) -> float:
    """``--moe-capacity-factor F`` (``--moe-pad-to-capacity``) checked: 0 for dropless routing, else ``F`` > 0."""
    if not isinstance(pad, (bool, np.bool_)):
        raise InputError.single(None, f"--moe-pad-to-capacity is true or false, not {pad!r}", "--moe-pad-to-capacity")
    if factor is None:
        if pad:
            raise InputError.single(
                None,
                "--moe-pad-to-capacity pads to the expert capacity",
                "--moe-pad-to-capacity",
                "add --moe-capacity-factor",
            )
        return 0.0
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor <= MAX_CAPACITY_FACTOR:
        raise InputError.single(
            None,
            f"--moe-capacity-factor must be above 0 and at most {MAX_CAPACITY_FACTOR:g}, not {factor!r}",
            "--moe-capacity-factor",
            "e.g. 1.0 (Megatron-Core's --moe-expert-capacity-factor); leave it out for dropless routing",
        )
    if not model.experts:
        raise InputError.single(
            None, f"{model.name} has no experts to drop tokens at", "--moe-capacity-factor", "leave it out"
        )
    return float(factor)


def _recompute_modules(model, recompute: str, modules: str | None) -> int:
    """``--recompute-modules a,b`` as the bit mask of :data:`RECOMPUTE_MODULES` (default core_attn)."""
    if modules is None:
        return RECOMPUTE_MODULES["core_attn"]
    if not isinstance(modules, str):
        raise InputError.single(
            None, f"--recompute-modules is a comma-separated list, not {modules!r}", "--recompute-modules"
        )
    if recompute != "selective":
        raise InputError.single(
            None,
            "--recompute-modules chooses what selective recompute re-runs",
            "--recompute-modules",
            "add --recompute selective",
        )
    names = [m.strip() for m in modules.split(",") if m.strip()]
    unknown = [m for m in names if m not in RECOMPUTE_MODULES]
    if unknown or not names:
        raise InputError.single(
            None,
            f"unknown recompute module(s) {', '.join(unknown) or '(none given)'}",
            "--recompute-modules",
            f"a comma-separated list of: {', '.join(RECOMPUTE_MODULES)}",
        )
    if not model.is_moe and {"moe", "moe_act"} & set(names):
        raise InputError.single(
            None, f"{model.name} has no MoE layers for moe/moe_act", "--recompute-modules", "use mlp for a dense model"
        )
    if model.attention != "mla" and "mla_up_proj" in names:
        raise InputError.single(
            None,
            f"{model.name} has no multi-head latent attention for mla_up_proj",
            "--recompute-modules",
            "leave mla_up_proj out",
        )
    return sum(RECOMPUTE_MODULES[m] for m in dict.fromkeys(names))


def train_report(
    model_name: str,
    system_name: SystemArg,
    *,
    global_batch: int,
    micro_batch: int = 1,
    tp: int = 1,
    pp: int = 1,
    vp: int = 1,
    cp: int = 1,
    ep: int = 1,
    sp: bool = False,
    recompute: str = "none",
    distributed_optimizer: bool = False,
    overlap_dp: bool = True,
    overlap_tp: bool = False,
    overlap_p2p: bool = False,
    pp_schedule: str = "1f1b",
    cp_comm_type: str = "p2p",
    attention: str = "flash",
    racks: int | None = None,
    accelerators: int | None = None,
    seq_len: int | None = None,
    precision: str = "bf16",
    attention_precision: str = "bf16",
    fp8_param_gather: bool = False,
    overlap_param_gather: bool = False,
    grad_precision: str = "fp32",
    optimizer_moments: str = "fp32",
    activation_func_fp8_input_store: bool = False,
    attention_output_cache: str = "bf16",
    first_stage_layers: int = 0,
    last_stage_layers: int = 0,
    recompute_modules: str | None = None,
    etp: int | None = None,
    moe_dispatcher: str = "alltoall",
    moe_a2a_overlap: bool = False,
    moe_capacity_factor: float | None = None,
    moe_pad_to_capacity: bool = False,
    fsdp: bool = False,
    hsdp_replicas: int = 1,
    zero2: bool = False,
    in_network_reduction: bool = True,
    train_tokens: float | None = None,
) -> dict:
    """The ``perf train`` document for one configuration (``in_network_reduction`` False: the switches reduce
    nothing, :func:`_switches`)."""
    global_batch, micro_batch = _whole(global_batch, "--global-batch"), _whole(micro_batch, "--micro-batch")
    tp, pp, vp = _whole(tp, "--tp"), _whole(pp, "--pp"), _whole(vp, "--vp")
    cp, ep = _whole(cp, "--cp"), _whole(ep, "--ep")
    etp = _whole(etp, "--etp", optional=True)
    hsdp_replicas = _whole(hsdp_replicas, "--hsdp-replicas")
    racks = _whole(racks, "--racks", optional=True)
    accelerators = _whole(accelerators, "--accelerators", optional=True)
    seq_len = _whole(seq_len, "--seq-len", high=MAX_TOKENS, optional=True)
    first_stage_layers = _whole(first_stage_layers, "--first-stage-layers", low=0)
    last_stage_layers = _whole(last_stage_layers, "--last-stage-layers", low=0)
    _choice(recompute, "--recompute", tuple(RECOMPUTE))
    _choice(attention, "--attention", ("flash", "materialized"))
    _choice(cp_comm_type, "--cp-comm-type", tuple(CP_COMM_TYPES))
    _choice(pp_schedule, "--pp-schedule", tuple(PP_SCHEDULES))
    _choice(optimizer_moments, "--optimizer-moments", OPTIMIZER_MOMENTS)
    _choice(attention_output_cache, "--attention-output-cache", ("bf16", "e5m6"))
    for flag, value in (
        ("--sp", sp),
        ("--distributed-optimizer", distributed_optimizer),
        ("--dp-overlap", overlap_dp),
        ("--tp-overlap", overlap_tp),
        ("--pp-overlap", overlap_p2p),
        ("--fp8-param-gather", fp8_param_gather),
        ("--overlap-param-gather", overlap_param_gather),
        ("--moe-a2a-overlap", moe_a2a_overlap),
        ("--fsdp", fsdp),
        ("--zero2", zero2),
        ("--activation-func-fp8-input-store", activation_func_fp8_input_store),
    ):
        if not isinstance(value, (bool, np.bool_)):
            raise InputError.single(None, f"{flag} is true or false, not {value!r}", flag)
    if train_tokens is not None and not (
        isinstance(train_tokens, (int, float))
        and not isinstance(train_tokens, bool)
        and math.isfinite(train_tokens)
        and 1 <= train_tokens <= MAX_TRAIN_TOKENS
    ):
        raise InputError.single(None, f"--train-tokens must be from 1 to 1e16, not {train_tokens!r}", "--train-tokens")
    model = load_model(_name(model_name, "--model"))
    system = _switches(resolve_system(system_name, racks, accelerators), in_network_reduction)
    n = system.accelerators
    rec = _check_precision(system, precision, attention_precision, fp8_param_gather)
    _check_saved_stores(model, rec, activation_func_fp8_input_store, attention_output_cache)
    if fsdp and (distributed_optimizer or overlap_param_gather):
        raise InputError.single(
            None,
            "--fsdp shards the optimizer itself and gathers the parameters every micro-batch",
            "--fsdp",
            "leave out --distributed-optimizer and --overlap-param-gather",
        )
    if fp8_param_gather and not (distributed_optimizer or fsdp):
        raise InputError.single(
            None,
            "--fp8-param-gather all-gathers the parameters of the distributed optimizer",
            "--fp8-param-gather",
            "add --distributed-optimizer (or --fsdp)",
        )
    if overlap_param_gather and not (distributed_optimizer and overlap_dp):
        raise InputError.single(
            None,
            "--overlap-param-gather overlaps the distributed optimizer's all-gather",
            "--overlap-param-gather",
            "add --distributed-optimizer (and keep DP overlap on)",
        )
    if overlap_p2p and not (pp > 1 and vp > 1):
        raise InputError.single(
            None,
            "--pp-overlap overlaps the interleaved schedule's stage-to-stage sends (Megatron's overlap_p2p_comm)",
            "--pp-overlap",
            "add --pp and --vp above 1, or leave --pp-overlap out",
        )
    if cp_comm_type != "p2p" and cp == 1:
        raise InputError.single(
            None,
            f"--cp-comm-type {cp_comm_type} exchanges keys and values across the context-parallel group",
            "--cp-comm-type",
            "add --cp above 1, or leave --cp-comm-type out",
        )
    if grad_precision not in ("fp32", "bf16"):
        raise InputError.single(
            None, f"unknown gradient precision {grad_precision!r}", "--grad-precision", "fp32 or bf16"
        )
    modules = _recompute_modules(model, recompute, recompute_modules)
    if moe_dispatcher not in ("alltoall", "deepep"):
        raise InputError.single(
            None, f"unknown MoE dispatcher {moe_dispatcher!r}", "--moe-dispatcher", "alltoall or deepep"
        )
    if (moe_dispatcher != "alltoall" or moe_a2a_overlap) and not model.experts:
        raise InputError.single(
            None,
            f"{model.name} has no experts to dispatch",
            "--moe-dispatcher" if moe_dispatcher != "alltoall" else "--moe-a2a-overlap",
            "leave the MoE options out for a dense model",
        )
    capacity = _capacity_factor(model, moe_capacity_factor, moe_pad_to_capacity)
    dp = _check_parallelism(model, n, global_batch, micro_batch, tp, pp, vp, cp, ep, etp)
    if zero2 and not distributed_optimizer:
        raise InputError.single(
            None,
            "--zero2 shards the gradients of the distributed optimizer (ZeRO-1) as well",
            "--zero2",
            "add --distributed-optimizer (and leave out --fsdp, which shards them already)",
        )
    if hsdp_replicas > 1 and not fsdp:
        raise InputError.single(
            None, "--hsdp-replicas replicates an FSDP-sharded model", "--hsdp-replicas", "add --fsdp"
        )
    if (dp * cp) % hsdp_replicas:
        raise InputError.single(
            None,
            f"--hsdp-replicas {hsdp_replicas} does not divide DP × CP = {dp * cp}",
            "--hsdp-replicas",
            "a divisor of DP × CP",
        )
    _check_stages(model, pp, first_stage_layers, last_stage_layers)
    if pp_schedule == "dualpipe":
        _check_dualpipe(pp, vp, global_batch // (dp * micro_batch))
        moe_a2a_overlap = bool(model.experts)  # DualPipe pairs each forward chunk with a backward one to hide it
    parallelism = Parallelism(
        tp=tp,
        pp=pp,
        dp=dp,
        micro_batch=micro_batch,
        vp=vp,
        cp=cp,
        ep=ep,
        sp=sp,
        recompute=RECOMPUTE[recompute],
        distributed_optimizer=distributed_optimizer,
        overlap_dp=overlap_dp,
        overlap_tp=overlap_tp,
        overlap_p2p=overlap_p2p,
        flash_attention=attention == "flash",
        fp8_param_gather=fp8_param_gather,
        overlap_param_gather=overlap_param_gather,
        fp32_grads=grad_precision == "fp32",
        bf16_moments=optimizer_moments == "bf16",
        activation_fp8_input_store=activation_func_fp8_input_store,
        attention_output_e5m6=attention_output_cache == "e5m6",
        recompute_modules=modules,
        first_stage_layers=first_stage_layers,
        last_stage_layers=last_stage_layers,
        etp=etp or tp,
        moe_dispatcher=moe_dispatcher == "deepep",
        moe_a2a_overlap=moe_a2a_overlap,
        moe_capacity_factor=capacity,
        moe_pad_to_capacity=moe_pad_to_capacity,
        fsdp=fsdp,
        hsdp_replicas=hsdp_replicas,
        zero2=zero2,
        cp_comm_type=CP_COMM_TYPES[cp_comm_type],
        pp_schedule=PP_SCHEDULES[pp_schedule],
    )
    result = train_step(model, system, parallelism, global_batch, seq_len, rec.name, attention_precision)
    doc = {
        "model": model.name,
        "system": system.name,
        "in_network_reduction": in_network_levels(system),
        "accelerators": n,
        "parallelism": {
            "tp": tp,
            "pp": pp,
            "vp": vp,
            "dp": dp,
            "cp": cp,
            "cp_comm_type": cp_comm_type,
            "ep": ep,
            "etp": etp or tp,
            "micro_batch": micro_batch,
            "moe_dispatcher": moe_dispatcher,
            "moe_a2a_overlap": moe_a2a_overlap,
            "moe_capacity_factor": capacity or None,
            "moe_pad_to_capacity": moe_pad_to_capacity,
            "sp": sp,
            "recompute": recompute,
            "distributed_optimizer": distributed_optimizer,
            "fsdp": fsdp,
            "hsdp_replicas": hsdp_replicas,
            "zero2": zero2,
            "overlap_param_gather": overlap_param_gather,
            "overlap_p2p": overlap_p2p,
            "pp_schedule": pp_schedule,
            "grad_precision": grad_precision,
            "optimizer_moments": optimizer_moments,
            "first_stage_layers": first_stage_layers,
            "last_stage_layers": last_stage_layers,
            "recompute_modules": [m for m, bit in RECOMPUTE_MODULES.items() if modules & bit]
            if recompute == "selective"
            else [],
        },
        "precision": {
            "recipe": rec.name,
            "attention": attention_precision,
            "fp8_param_gather": fp8_param_gather,
            "activation_func_fp8_input_store": activation_func_fp8_input_store,
            "attention_output_cache": attention_output_cache,
        },
        "placement": placement(system, tp, pp, dp, cp, ep, etp or tp),
        **_figures(result, 0),
    }
    if train_tokens:
        doc.update(_campaign(doc, system, train_tokens))
    return doc


def _check_saved_stores(model, rec, fp8_input_store: bool, attention_output_cache: str) -> None:
    """The saved-activation stores (memory.saved_bytes) need what they shrink: a SwiGLU MLP for Megatron's
    ``--activation-func-fp8-input-store`` (its fused SwiGLU is where the cast happens), an FP8 recipe for
    DeepSeek-V3's E5M6 attention output (it replaces the BF16 output and the projection's FP8 copy)."""
    if fp8_input_store and model.ffn_type != "swiglu":
        raise InputError.single(
            None,
            f"{model.name}'s MLP is {model.ffn_type}: --activation-func-fp8-input-store stores a SwiGLU's input",
            "--activation-func-fp8-input-store",
            "leave it out for a non-SwiGLU model",
        )
    if attention_output_cache == "e5m6" and not (rec.low and rec.value_bytes == 1.0):
        raise InputError.single(
            None,
            f"--attention-output-cache e5m6 replaces an FP8 recipe's copy of the attention output, not {rec.name}'s",
            "--attention-output-cache",
            "an FP8 --precision (fp8-blockwise, as DeepSeek-V3), or bf16",
        )


def _check_dualpipe(pp: int, vp: int, microbatches: int) -> None:
    """DualPipe's own requirements (deepseek-ai/DualPipe ``dualpipe.py``: an even number of ranks, an even number of
    micro-batches, at least two per rank); its two stages per rank replace the interleaved schedule's chunks."""
    if pp < 2 or pp % 2:
        raise InputError.single(
            None, f"DualPipe needs an even number of pipeline stages, not --pp {pp}", "--pp-schedule", "an even --pp"
        )
    if vp > 1:
        raise InputError.single(
            None,
            "DualPipe holds two stages per rank in place of the interleaved schedule's virtual stages",
            "--vp",
            "leave --vp at 1 with --pp-schedule dualpipe",
        )
    if microbatches % 2 or microbatches < 2 * pp:
        raise InputError.single(
            None,
            f"DualPipe needs an even number of micro-batches per step, at least 2 × PP = {2 * pp}, not {microbatches}",
            "--global-batch",
            "a global batch of at least 2 × PP micro-batches per DP rank, in pairs",
        )


def _figures(result: dict, i) -> dict:
    """The stable per-configuration fields of ``perf train`` / ``perf search``."""
    pick = lambda v: float(np.asarray(v).ravel()[i])  # noqa: E731
    fits = bool(np.asarray(result["fits"]).ravel()[i])
    doc: dict[str, Any] = {
        "step_time_s": pick(result["step_time_s"]),
        "tokens_per_s": pick(result["tokens_per_s"]),
        "tflops_per_accelerator": pick(result["model_flops_per_s_per_accelerator"]) / 1e12,
        "mfu": pick(result["mfu"]),
        "hfu": pick(result["hfu"]),
        "memory_gb_per_accelerator": pick(result["memory_bytes"]) / 1e9,
        "fits": fits,
    }
    if "breakdown" in result:
        doc["breakdown"] = {f"{k}_s": pick(v) for k, v in result["breakdown"].items()}
        doc["memory_breakdown_gb"] = {k: pick(v) / 1e9 for k, v in result["memory"].items()}
    if not fits:
        doc["reason"] = (
            f"needs {doc['memory_gb_per_accelerator']:.1f} GB per accelerator, "
            f"{pick(result['memory']['available']) / 1e9:.1f} GB usable"
            if "memory" in result
            else "does not fit in accelerator memory"
        )
    return doc


def _campaign(doc: dict, system, tokens: float) -> dict:
    """Time, energy and cost to train ``tokens`` tokens at this throughput."""
    seconds = tokens / doc["tokens_per_s"]
    out = {"train_tokens": tokens, "train_days": seconds / SECONDS_PER_DAY}
    if system.power_per_accelerator:
        out["energy_mwh"] = system.power_per_accelerator * system.accelerators * seconds / 3.6e9
    if system.cost_per_accelerator_hour:
        out["cost_usd"] = system.cost_per_accelerator_hour * system.accelerators * seconds / 3600.0
    return out


@contextlib.contextmanager
def search_pool(backend: str, partitions: int) -> Iterator[Any]:
    """A pool for partitioned searches, closed on leaving: local processes (none for one partition), or a Ray
    pool in :func:`rackwright.parallel.ray_session` (the optional ``ray`` extra), which stops the Ray runtime it
    started."""
    if backend == "local":
        if partitions <= 1:
            yield None
            return
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=partitions) as local:
            yield local
        return
    from ..parallel import ray_session

    with ray_session(partitions if partitions > 1 else None):
        from ray.util.multiprocessing import Pool

        pool = Pool()
        try:
            yield pool
        finally:
            pool.close()


def search_report(
    model_name: str,
    system_name: SystemArg,
    *,
    accelerators: int | None = None,
    global_batch: int,
    top: int = 10,
    racks: int | None = None,
    seq_len: int | None = None,
    precision: str = "bf16",
    attention_precision: str = "bf16",
    backend: str = "local",
    partitions: int = 1,
    precisions: str | None = None,
    restrict: list[str] | None = None,
    tp_overlap: bool = False,
    recompute_modules: str | None = None,
    within_scale_up: str | None = None,
    cp_comm_type: str = "p2p,all_gather",
    in_network_reduction: bool = True,
    moe_capacity_factor: float | None = None,
    moe_pad_to_capacity: bool = False,
) -> dict:
    """The ``perf search`` document: the fastest configuration that fits, the top N and the Pareto front.

    ``moe_capacity_factor`` and ``moe_pad_to_capacity`` (``--moe-capacity-factor F``, ``--moe-pad-to-capacity``,
    checked as ``perf train`` checks them) apply to every configuration, as run settings rather than grid axes.

    ``in_network_reduction`` False (``--no-in-network-reduction``) keeps the switches from reducing
    (:func:`_switches`); on, every configuration uses them where the system has them.

    ``tp_overlap`` (``--tp-overlap``) overlaps the TP collectives with the GEMMs in every configuration with TP > 1.
    ``recompute_modules`` (``--recompute-modules a,b``) limits the modules selective recompute may use
    (:func:`rackwright.perf.search.recompute_variants`); ``within_scale_up`` (``--within-scale-up tp,ep``) keeps
    only the configurations whose named groups stay inside one scale-up domain. Each row names the groups that
    span scale-up domains (``crosses_scale_up``) and racks (``crosses_rack``, None where racks vary).
    ``cp_comm_type`` (``--cp-comm-type p2p,all_gather``) lists the K,V exchanges crossed where CP > 1 (CP = 1 rows
    keep p2p); each row names its ``cp_comm_type``.

    ``precisions`` (``--precisions``) searches several recipes: a comma-separated list, or ``all`` for every
    recipe the accelerator supports; it replaces ``precision``. ``restrict`` (``--restrict AXIS=V,V``, repeatable)
    keeps only those values of a grid axis (:data:`RESTRICTABLE`).
    """
    global_batch, top = _whole(global_batch, "--global-batch"), _whole(top, "--top")
    racks = _whole(racks, "--racks", optional=True)
    accelerators = _whole(accelerators, "--accelerators", optional=True)
    seq_len = _whole(seq_len, "--seq-len", high=MAX_TOKENS, optional=True)
    partitions = _whole(partitions, "--partitions", high=256)
    _choice(backend, "--backend", ("local", "ray"))
    model = load_model(_name(model_name, "--model"))
    system = _switches(resolve_system(system_name, racks, accelerators), in_network_reduction)
    axes = _restriction(restrict or [])
    modules = None if recompute_modules is None else _recompute_modules(model, "selective", recompute_modules)
    within = _groups(within_scale_up)
    cp_types = [_choice(t.strip(), "--cp-comm-type", tuple(CP_COMM_TYPES)) for t in str(cp_comm_type).split(",")]
    capacity = _capacity_factor(model, moe_capacity_factor, moe_pad_to_capacity)
    moe = {"moe_capacity_factor": capacity, "moe_pad_to_capacity": bool(moe_pad_to_capacity)}
    recipes = _search_recipes(system, precisions, attention_precision) if precisions is not None else None
    rec = _check_precision(system, precision, attention_precision) if recipes is None else recipes[0]
    with search_pool(backend, partitions) as pool:
        result = search(
            model,
            system,
            system.accelerators,
            global_batch,
            seq_len,
            [r.name for r in recipes] if recipes else rec.name,
            partitions,
            pool,
            attention_precision=attention_precision,
            restrict=axes,
            overlap_tp=bool(tp_overlap),
            recompute_modules=modules,
            within_scale_up=within,
            cp_comm_types=tuple(CP_COMM_TYPES[t] for t in dict.fromkeys(cp_types)),
            fixed=moe,
        )
    order = result.order()
    settings = {**moe, "moe_capacity_factor": capacity or None}  # as perf train reports it: None for dropless
    row = lambda i: {**result.parallelism(i), **settings, **_figures(result.metrics, i)}  # noqa: E731
    rows = [row(i) for i in order[:top]]
    return {
        "model": model.name,
        "system": system.name,
        "in_network_reduction": in_network_levels(system),
        "accelerators": system.accelerators,
        "precision": {
            "recipe": rows[0]["precision"] if rows else rec.name,
            "searched": list(result.precisions),
            "attention": attention_precision,
        },
        "best": rows[0] if rows else None,
        "top": rows,
        "pareto": [row(i) for i in result.pareto()],
        "configurations_evaluated": result.evaluated,
        "configurations_valid": result.valid,
        "configurations_fitting": int(order.size),
        "configurations_dominated": result.dominated,
        "scale_up_domain": system.scale_up.size,
        "accelerators_per_rack": system.accelerators_per_rack,
        "least_memory_gb_per_accelerator": float(result.metrics["memory_bytes"].min()) / 1e9,
        "hbm_gb_per_accelerator": system.accelerator.hbm / 1e9,
        "search_time_s": result.seconds,
    }


def inference_report(
    model_name: str,
    system_name: SystemArg,
    *,
    batch: int,
    input_tokens: int,
    output_tokens: int,
    tp: int | None = None,
    racks: int | None = None,
    precision: str = "bf16",
) -> dict:
    """The ``perf infer`` document."""
    batch = _whole(batch, "--batch")
    input_tokens = _whole(input_tokens, "--input-tokens", high=MAX_TOKENS)
    output_tokens = _whole(output_tokens, "--output-tokens", high=MAX_TOKENS)
    tp = _whole(tp, "--tp", optional=True)
    racks = _whole(racks, "--racks", optional=True)
    model = load_model(_name(model_name, "--model"))
    system = resolve_system(system_name, racks)
    precision = _check_precision(system, precision).name
    if tp is not None and (tp > system.scale_up.size or model.heads % tp):
        raise InputError.single(
            None,
            f"TP {tp} must divide the {model.heads} heads and fit the scale-up domain of {system.scale_up.size}",
            "--tp",
        )
    result = infer(model, system, batch, input_tokens, output_tokens, tp, precision)
    return {
        "model": model.name,
        "system": system.name,
        "batch": batch,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        **{k: (float(v) if k not in ("fits", "tp") and v is not None else v) for k, v in result.items()},
        "fits": bool(result["fits"]),
    }


#: The inference reference that puts rack generations side by side (docs/perf-model.md, "Rack comparison"): Llama 3
#: 70B served in BF16, 64 requests of 2,048 + 512 tokens; the training references are in :mod:`.reference`.
REFERENCE_INFERENCE = {"model": "llama3-70b", "batch": 64, "input_tokens": 2048, "output_tokens": 512}


def reference_recipe(system, reference: ReferenceTraining) -> str:
    """The reference's recipe on ``system``: the first of its ``precisions`` the accelerator supports (bf16 when
    none is)."""
    for name in reference.precisions:
        try:
            return precision_check(system, name).name
        except InputError:
            continue  # not on this accelerator: the next
    return "bf16"


def reference_training_rate(system, reference: ReferenceTraining = REFERENCE_TRAINING) -> dict | None:
    """Per accelerator, the training ``tokens_per_s``, ``model_flops_per_s`` (delivered model FLOP/s) and ``mfu`` of
    the fastest configuration that fits for the ``reference`` workload's job (its accelerators, its batch rule's
    global batch, its sequence length) on ``system``, and its ``precision`` (None when nothing fits): one
    parallelism search."""
    job = reference.accelerators
    result = search(
        load_model(reference.model),
        system.with_accelerators(job),
        job,
        reference.global_batch(job),
        reference.seq_len,
        precision=reference_recipe(system, reference),
        restrict=reference.restrict or None,
    )
    order = result.order()
    if not order.size:
        return None
    metrics, best = result.metrics, order[0]
    return {
        "tokens_per_s": float(metrics["tokens_per_s"][best]) / job,
        "model_flops_per_s": float(metrics["model_flops_per_s_per_accelerator"][best]),
        "mfu": float(metrics["mfu"][best]),
        "precision": result.parallelism(best)["precision"],
    }


def rack_delivery(design) -> dict:
    """What one rack generation delivers on the reference workloads (None where nothing fits); ``design`` is a
    path or an evaluated rack (:func:`rackwright.evaluate`'s, not evaluated again). Racks per 100 MW count rack
    input power (the facility's IT load, what the roadmap's and the programme's IT power goals count)."""
    rack = _rack(design)
    system = resolve_system(rack if rack is not None else design, racks=1)
    per_rack = system.accelerators
    racks = int(REFERENCE_TRAINING.budget_w // (system.power_per_accelerator * per_rack))
    doc = {
        "racks_per_100_mw": racks,
        "accelerators_per_100_mw": racks * per_rack,
        "training_days_llama3_405b_15t_100_mw": None,
        "training_mfu_llama3_405b": None,
    }
    dense = reference_training_rate(system, REFERENCE_TRAINING)
    if dense is not None:
        doc["training_mfu_llama3_405b"] = dense["mfu"]
        doc["training_days_llama3_405b_15t_100_mw"] = (
            REFERENCE_TRAINING.tokens / (dense["tokens_per_s"] * racks * per_rack) / SECONDS_PER_DAY if racks else None
        )
    bom_usd = rack.figures.get("cost.bom") if rack is not None else None
    doc.update(_moe_delivery(system, per_rack, racks, bom_usd))
    serving = infer(
        load_model(cast(str, REFERENCE_INFERENCE["model"])),
        system,
        REFERENCE_INFERENCE["batch"],
        REFERENCE_INFERENCE["input_tokens"],
        REFERENCE_INFERENCE["output_tokens"],
    )
    doc["inference_tokens_per_s_per_mw_llama3_70b"] = float(serving["tokens_per_s_per_mw"]) if serving["fits"] else None
    return doc


def with_delivery(report: Rack) -> Rack:
    """``report`` with what it delivers on the reference workloads (:func:`rack_delivery`) among its flat figures, as
    ``delivery.*`` (``rackwright evaluate``'s ``delivery`` section), added once; a rack with errors, without
    accelerators or without one the perf model can run gets none."""
    done = any(key.startswith("delivery.") for key in report.extra)
    if done or report.errors or not report.figures.get("compute.accelerators"):
        return report
    try:
        report.extra.update({f"delivery.{k}": v for k, v in rack_delivery(report).items()})
    except InputError:
        pass  # a rack without a modelable accelerator delivers no reference figures
    return report


def _moe_delivery(system, per_rack: int, racks: int, bom_usd: float | None) -> dict:
    """The MoE reference's delivered training: tokens/s per rack, per MW of rack input power and per USD of the
    rack's bill of materials (``bom_usd``, its ``cost.bom``), delivered model PFLOP/s per rack (MFU x the recipe's
    peak, not the peak), days for its tokens on the racks of 100 MW, and MFU (None where nothing fits)."""
    reference = REFERENCE_TRAINING_MOE
    doc: dict[str, float | None] = dict.fromkeys(
        (
            "training_tokens_per_s_per_rack_deepseek_v3",
            "training_tokens_per_s_per_mw_deepseek_v3",
            "training_tokens_per_s_per_usd_deepseek_v3",
            "training_delivered_pflops_per_rack_deepseek_v3",
            "training_days_deepseek_v3_15t_100_mw",
            "training_mfu_deepseek_v3",
        )
    )
    moe = reference_training_rate(system, reference)
    if moe is None:
        return doc
    rate = moe["tokens_per_s"]
    doc["training_mfu_deepseek_v3"] = moe["mfu"]
    doc["training_tokens_per_s_per_rack_deepseek_v3"] = rate * per_rack
    doc["training_tokens_per_s_per_mw_deepseek_v3"] = rate / system.power_per_accelerator * 1e6
    if bom_usd:
        doc["training_tokens_per_s_per_usd_deepseek_v3"] = rate * per_rack / bom_usd
    doc["training_delivered_pflops_per_rack_deepseek_v3"] = moe["model_flops_per_s"] * per_rack / 1e15
    if racks:
        doc["training_days_deepseek_v3_15t_100_mw"] = reference.tokens / (rate * racks * per_rack) / SECONDS_PER_DAY
    return doc

"""Systems: the accelerators and networks a workload runs on.

A :class:`SystemSpec` is read from YAML with units as strings (``"989 TFLOP/s"``,
``"80 GB"``, ``"450 GB/s"``, ``"2 us"``) and holds SI floats after validation (FLOP/s,
bytes, bytes per second, seconds, watts). Built-ins live under ``perf/data/systems/``
(see :func:`load_system`); :func:`system_from_rack` builds one from an evaluated rack.

Bandwidths are *per accelerator and per direction*: NVIDIA quotes NVLink bidirectionally
(900 GB/s for H100 = 450 GB/s each way), NICs by line rate per direction (400 Gb/s =
50 GB/s each way).

In YAML a quantity without a unit is an error. Python callers that already hold SI
numbers validate with ``SystemSpec.model_validate(data, context={"si": True})``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..catalog.schema import Part, Source
from ..errors import InputError
from ..models.reliability import HOURS_PER_YEAR
from ..units import UnitError, parse_quantity
from ..yamlio import problems_from_validation
from .precision import Precision
from .workload import DATA_DIR, builtin_names, load_spec

if TYPE_CHECKING:
    from ..rack.evaluation import Rack

SYSTEMS_DIR = DATA_DIR / "systems"

#: Collective latency per step inside a scale-up domain [s] (assumption). An NVLink/NVSwitch
#: hop is well under 1 µs in hardware; NCCL's per-step synchronisation and kernel overheads
#: bring small-message steps to the order of 1–3 µs on DGX/HGX systems.
DEFAULT_SCALE_UP_LATENCY = 2e-6
#: Collective latency per step across the scale-out network [s] (assumption). NIC, PCIe and
#: two to three switch hops of an InfiniBand/RoCE fat tree (each ~0.1–1 µs) plus the NCCL
#: proxy/network-plugin overhead give small-message steps of roughly 5–20 µs.
DEFAULT_SCALE_OUT_LATENCY = 10e-6

#: Catalog ``peak_flops`` keys (dense rates) → system precision keys.
CATALOG_PRECISIONS = {
    "bf16_dense": "bf16",
    "fp16_dense": "fp16",
    "fp8_dense": "fp8",
    "fp4_dense": "fp4",
    "tf32_dense": "tf32",
}


def _si(dimension: str):
    """Before-validator: a quantity string → SI float (bare numbers only with ``context={"si": True}``)."""

    def parse(value, info: ValidationInfo):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and info.context and info.context.get("si"):
            return float(value)
        try:
            return parse_quantity(value, dimension)
        except UnitError as exc:
            raise ValueError(str(exc)) from None

    return BeforeValidator(parse)


ComputeRate = Annotated[float, _si("compute_rate"), Field(gt=0)]
Data = Annotated[float, _si("data"), Field(gt=0)]
DataRate = Annotated[float, _si("data_rate"), Field(gt=0)]
Power = Annotated[float, _si("power"), Field(gt=0)]
Time = Annotated[float, _si("time"), Field(ge=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AcceleratorSpec(Strict):
    """One accelerator: dense peak rates by precision, HBM capacity and bandwidth, power.

    ``profile`` names the efficiency profile the step-time model uses for it
    (``a100``, ``h100``, ``b200``, ``b300``, or ``xpu`` for anything else).
    """

    name: str = Field(min_length=1)
    profile: str
    peak_flops: dict[Precision, ComputeRate]
    hbm: Data
    hbm_bandwidth: DataRate
    power: Power | None = None

    @field_validator("profile")
    @classmethod
    def _profile(cls, value):
        if not re.match(r"^[a-z0-9][a-z0-9_-]*$", value):
            raise ValueError("a profile name is lower-case letters, digits, '-' and '_' (e.g. h100, b200, xpu)")
        return value

    @field_validator("peak_flops")
    @classmethod
    def _bf16(cls, value):
        if "bf16" not in value:
            raise ValueError("peak_flops needs a bf16 entry (the dense BF16 rate that training runs at)")
        return value


class ScaleUpSpec(Strict):
    """The scale-up domain (NVLink or similar): ``size`` accelerators, ``bandwidth`` per accelerator per direction."""

    size: int = Field(ge=1)
    bandwidth: DataRate


class ScaleOutSpec(Strict):
    """The scale-out network (InfiniBand / Ethernet): ``bandwidth`` per accelerator per direction."""

    bandwidth: DataRate


class InNetworkReductionSpec(Strict):
    """Which networks reduce in the switch (:func:`rackwright.perf.training._collective` times it).

    ``scale_up``: NVLink SHARP (NVLS), the multimem reductions of third-generation NVSwitch and later (H100 NVSwitch
    systems, B200, GB200/GB300 NVL72); NCCL uses it from 2.17.1 (release notes: "new NVLS algorithm for allreduce
    using NVLink SHARP"; its reduce-scatter and all-gather kernels ship in the same release) and runs it by default
    where the fabric supports it (``NCCL_NVLS_ENABLE``, default 2 in ``src/transport/nvls.cc``). ``scale_out``:
    InfiniBand SHARP streaming aggregation in the switches (Quantum HDR and later; Quantum-2 runs several
    aggregation trees per switch, SHARP 3.13 release notes), reached through the NCCL-SHARP (CollNet) plugin for
    all-reduce, and for reduce-scatter and all-gather from NCCL 2.20 (SHARP 3.5.2 release notes); NCCL uses it only
    with ``NCCL_COLLNET_ENABLE=1`` (HPC-X 2.25 docs, "NCCL-RDMA-SHARP Plugins"). Ethernet fabrics have none. Both
    default to false: a system states what its hardware has, and a run can turn them off
    (:meth:`SystemSpec.with_in_network_reduction`).
    """

    scale_up: bool = False
    scale_out: bool = False


class LatencySpec(Strict):
    """Per-step collective latency [s] in each network (defaults: see the module constants)."""

    scale_up: Time = DEFAULT_SCALE_UP_LATENCY
    scale_out: Time = DEFAULT_SCALE_OUT_LATENCY


class SystemSpec(Strict):
    """A cluster of ``accelerators`` identical accelerators (default: one scale-up domain).

    ``power_per_accelerator`` is the all-in power per accelerator at the facility's IT
    load (server or rack share incl. CPUs, NICs and switches, without PUE) [W], for
    energy estimates; ``cost_per_accelerator_hour`` is in USD.
    """

    name: str = Field(min_length=1)
    description: str = ""
    accelerator: AcceleratorSpec
    scale_up: ScaleUpSpec
    scale_out: ScaleOutSpec
    latency: LatencySpec = Field(default_factory=LatencySpec)
    in_network_reduction: InNetworkReductionSpec = Field(default_factory=InNetworkReductionSpec)
    accelerators: int | None = Field(default=None, ge=1)
    power_per_accelerator: Power | None = None
    cost_per_accelerator_hour: float | None = Field(default=None, ge=0)
    accelerators_per_rack: int | None = Field(default=None, ge=1)  # for per-rack figures; None where racks vary
    sources: list[Source] = Field(default_factory=list)

    @model_validator(mode="after")
    def _default_accelerators(self):
        if self.accelerators is None:
            self.accelerators = self.scale_up.size
        return self

    @property
    def scale_up_domain(self) -> int:
        """Accelerators in one scale-up domain of this cluster: ``min(scale_up.size, accelerators)``."""
        return min(self.scale_up.size, self.accelerators or self.scale_up.size)  # None only before validation

    def peak(self, precision: str = "bf16") -> float:
        """Dense peak FLOP/s of one accelerator at ``precision``; ``ValueError`` if it has none."""
        try:
            return self.accelerator.peak_flops[cast(Precision, precision)]  # any other name: the KeyError below
        except KeyError:
            raise ValueError(
                f"{self.accelerator.name} has no {precision} rate; it has: {', '.join(self.accelerator.peak_flops)}"
            ) from None

    def with_accelerators(self, n: int) -> SystemSpec:
        """A copy of this system with ``n`` accelerators in total."""
        if isinstance(n, bool) or int(n) != n or n < 1:
            raise ValueError(f"the number of accelerators must be a whole number ≥ 1, got {n!r}")
        return self.model_copy(update={"accelerators": int(n)}, deep=True)

    def with_in_network_reduction(self, scale_up: bool = True, scale_out: bool = True) -> SystemSpec:
        """A copy of this system whose collectives reduce in the switch only where it has the hardware and the
        run enables it (``False`` turns a level off, as ``NCCL_NVLS_ENABLE=0`` or leaving CollNet off does)."""
        levels = InNetworkReductionSpec(
            scale_up=self.in_network_reduction.scale_up and bool(scale_up),
            scale_out=self.in_network_reduction.scale_out and bool(scale_out),
        )
        return self.model_copy(update={"in_network_reduction": levels}, deep=True)


# --- loading -----------------------------------------------------------------------------


def builtin_systems() -> list[str]:
    """Names of the built-in systems (``dgx-a100-80gb-hdr``, ``dgx-h100-ndr``, ``gb200-nvl72``, ...)."""
    return builtin_names(SYSTEMS_DIR)


def load_system(name_or_path: str | Path) -> SystemSpec:
    """A built-in system by name (see :func:`builtin_systems`) or a system YAML file; raises :class:`InputError`."""
    return load_spec(name_or_path, SYSTEMS_DIR, SystemSpec, "system")


def profile_of(accelerator: Part) -> str:
    """The efficiency profile an accelerator part names (its ``perf_profile`` spec); ``xpu`` where it names none."""
    return accelerator.text("perf_profile", "xpu")


#: Years over which a rack's bill of materials is spread into an hourly cost (assumption: the 5-6 year
#: server depreciation lives hyperscalers report, compiled in the brief's operations notes; energy excluded).
AMORTISATION_YEARS = 5.0


def per_accelerator(rack: dict) -> dict:
    """What one accelerator of a rack gets, from the rack's SI figures (floats or arrays of designs).

    HBM and HBM bandwidth are the rack's divided by its ``compute.accelerators``; the scale-up and
    scale-out bandwidths (both directions, per rack) become one direction per accelerator; the scale-up
    size is ``network.scale_up_domain`` rounded to whole accelerators.
    """
    count = rack["compute.accelerators"]
    return {
        "hbm": rack["compute.hbm"] / count,
        "hbm_bandwidth": rack["compute.hbm_bandwidth"] / count,
        "scale_up_bandwidth": rack["network.scale_up_bandwidth"] / count / 2.0,
        "scale_up_size": np.round(rack["network.scale_up_domain"]),
        "scale_out_bandwidth": rack["network.scale_out_bandwidth"] / 2.0 / count,
    }


def system_from_rack(rack: Rack, racks: int = 1) -> SystemSpec:
    """The system of ``racks`` racks of an evaluated ``rack`` (:class:`~rackwright.rack.evaluation.Rack`, refused
    when it breaks an error rule): the one bridge from a rack to the performance model (``rackwright perf --system
    DESIGN``, the delivery figures, the explorer's training objective on the variants of a batch).

    The rack's one accelerator part (:func:`rack_accelerator`) gives the name, the efficiency profile
    (:func:`profile_of`) and the power of one accelerator; everything else comes from the rack's SI figures, so a
    design's ``overrides`` apply: dense peak rates are ``compute.peak_flops:<precision>`` / accelerators; HBM, HBM
    bandwidth, the scale-up and scale-out bandwidths (one direction) and the scale-up size as
    :func:`per_accelerator` gives them; ``power_per_accelerator`` is ``power.input`` / accelerators and
    ``cost_per_accelerator_hour`` the rack's ``cost.per_accelerator`` over :data:`AMORTISATION_YEARS` (each where
    the rack has the figure). Its in-network reduction comes from its switches (:func:`rack_in_network_reduction`).
    """
    from ..rack.evaluation import sound_model

    model = sound_model(rack, "system_from_rack")
    if isinstance(racks, bool) or int(racks) != racks or racks < 1:
        raise ValueError(f"racks must be a whole number ≥ 1, got {racks!r}")
    where = rack.file or rack.name
    accelerator = rack_accelerator(model, where)
    name, sources = rack.name, model.design.sources
    figures = rack.figures
    per_rack = figures["compute.accelerators"]
    peak = {
        CATALOG_PRECISIONS[key]: figures[f"compute.peak_flops:{key}"] / per_rack
        for key in CATALOG_PRECISIONS
        if f"compute.peak_flops:{key}" in figures
    }
    if "bf16" not in peak:
        raise InputError.single(
            where,
            f"accelerator {accelerator.id} has no bf16_dense peak rate",
            hint="add peak_flops.bf16_dense to the part",
        )
    share = per_accelerator(figures)
    data = {
        "name": name if racks == 1 else f"{name} x {int(racks)} racks",
        "description": f"Built from {where or 'rack figures'} ({int(racks)} rack(s) of {int(per_rack)} accelerators).",
        "accelerator": {
            "name": accelerator.model,
            "profile": profile_of(accelerator),
            "peak_flops": peak,
            "hbm": float(share["hbm"]),
            "hbm_bandwidth": float(share["hbm_bandwidth"]),
            "power": accelerator.value("power"),
        },
        "scale_up": {"size": max(1, int(share["scale_up_size"])), "bandwidth": float(share["scale_up_bandwidth"])},
        "scale_out": {"bandwidth": float(share["scale_out_bandwidth"])},
        "in_network_reduction": rack_in_network_reduction(model),
        "accelerators": int(round(racks * per_rack)),
        "accelerators_per_rack": int(round(per_rack)),
        "sources": [source.model_dump() for source in sources],
    }
    if "power.input" in figures:
        data["power_per_accelerator"] = figures["power.input"] / per_rack
    if "cost.per_accelerator" in figures:
        data["cost_per_accelerator_hour"] = figures["cost.per_accelerator"] / (AMORTISATION_YEARS * HOURS_PER_YEAR)
    try:
        return SystemSpec.model_validate(data, context={"si": True})
    except ValidationError as exc:
        problems = problems_from_validation(exc)
        for problem in problems:
            problem.message = f"(system derived from the design) {problem.message}"
            problem.hint = problem.hint or "check the design's accelerator and scale-out NIC parts"
        raise InputError(where, problems) from None


#: The catalog's ``in_network_reduction`` a level's switches must declare for :class:`InNetworkReductionSpec`: the
#: performance model times NVLink SHARP (with NCCL's NVLS rates) and InfiniBand SHARP; ``ethernet-inc`` (Broadcom
#: Tomahawk Ultra's in-network collectives) has no published rate nor collective library using it, so it is not timed.
REDUCTION = {"scale_up": "nvlink-sharp", "scale_out": "infiniband-sharp"}


def rack_in_network_reduction(model) -> dict[str, bool]:
    """Which levels of a resolved rack reduce in the switch, from its parts' ``in_network_reduction`` spec.

    Scale-up: every scale-up switch of the rack (``scale_up_switch``, or a ``scale_up_switch_tray`` that holds no
    switch part of its own) declares ``nvlink-sharp``; a rack without one has its scale-up network inside its
    servers (an HGX board's NVSwitches), whose ``server`` parts declare it. Scale-out: every ``scale_out_switch``
    in the rack declares ``infiniband-sharp``; a rack without scale-out switches (its fabric is elsewhere and not
    stated) has none, as the built-in NVL72 systems.
    """
    return {
        "scale_up": _declared(model, ("scale_up_switch", "scale_up_switch_tray"), "server", REDUCTION["scale_up"]),
        "scale_out": _declared(model, ("scale_out_switch",), None, REDUCTION["scale_out"]),
    }


def _declared(model, kinds: tuple[str, ...], host: str | None, mechanism: str) -> bool:
    """Whether the rack's switching parts of ``kinds`` (those holding no other part: the silicon), or without any its
    ``host`` parts, are there and all declare ``mechanism``."""
    present = [item.part for item in model.items if item.in_rack and item.count > 0]
    parts = [p for p in present if p.kind in kinds and not p.contains] or [p for p in present if p.kind == host]
    return bool(parts) and all(p.text("in_network_reduction") == mechanism for p in parts)


def rack_accelerator(model, where: str | None = None) -> Part:
    """The one accelerator part of a resolved rack (a system has one kind); :class:`InputError` otherwise."""
    parts = {
        item.part.id: item.part
        for item in model.items
        if item.part.kind == "accelerator" and item.in_rack and item.count > 0
    }
    if len(parts) != 1:
        found = ", ".join(sorted(parts)) or "none"
        raise InputError.single(
            where,
            f"a system needs exactly one accelerator part; the design has {found}",
            "slots",
            "put one kind of accelerator in the rack",
        )
    return next(iter(parts.values()))

"""Failure model of a training fleet built from a rack design: job-interrupting events by cause.

Every component kind (``data/failure_modes.yaml``) has an event rate per unit-hour ``λ``,
interrupting events per failure ``e`` (above 1 where transient errors that need no
replacement also stop the job), the share of events that interrupt a synchronous
training job ``s``, an out-of-service time, a restart time and a blast radius. Rates
come from the design's catalog parts (AFR or MTBF) where the design has them, else
from the documented figure in the data file.

Formulas (formulas.md, "Reliability and goodput"):

* series system: ``λ_sys = Σ nᵢ·λᵢ`` (M. Rausand and A. Høyland, *System Reliability
  Theory*, 2nd ed., Wiley 2004, ch. 4); a constant-rate part with annual failure
  probability AFR has ``λ = −ln(1 − AFR) / 8766 h``;
* job interruptions on N accelerators: ``Λ = Σ_k n_k(N)·λ_k·e_k·s_k`` with ``n_k(N)``
  the units of kind k that a job of N accelerators depends on;
* mean time between interruptions ``MTBI = 1 / Λ``.

The scale-out fabric outside the rack is counted as a folded Clos of switches of
radix ``r``: a single switch up to ``r`` endpoints, two tiers up to ``r²/2``, three up
to ``r³/4`` (C. Leiserson, "Fat-trees", IEEE Trans. Computers 1985; Al-Fares et al.,
SIGCOMM 2008), with an optional oversubscription of the top tier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..catalog.schema import Source
from ..errors import InputError
from ..models.reliability import HOURS_PER_YEAR, failure_rate, rate_from_afr
from ..yamlio import problems_from_validation, read_yaml, to_plain

if TYPE_CHECKING:
    from ..rack.evaluation import Rack

DATA_FILE = Path(__file__).resolve().parent / "data" / "failure_modes.yaml"
HOURS_PER_DAY = 24.0
HOURS_PER_MONTH = HOURS_PER_YEAR / 12.0

Basis = Literal["catalog", "independent", "llama3", "assumption"]
BlastRadius = Literal["tray", "rack", "scale_up_domain", "job"]
Units = Literal["design", "accelerator", "host", "fabric_link", "fabric_switch"]
CATEGORIES = ("gpu", "network", "host", "software", "unknown")
#: Scale-out switch radix when the design names no scale-out switch (64 ports: a 25.6 Tb/s
#: switch at 400G such as NVIDIA Quantum-2, or a 51.2 Tb/s switch at 800G).
DEFAULT_RADIX = 64
#: Accelerators per host when the design names no server or compute tray (an 8-GPU HGX server).
DEFAULT_ACCELERATORS_PER_HOST = 8.0
#: Words in a part's reliability provenance that mark its AFR as derived from the Llama 3 paper.
LLAMA3_MARKERS = ("llama 3", "llama-3", "llama3", "dubey")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Figure(_Strict):
    """One documented number: its value, basis, and source key or reasoning."""

    value: float = Field(ge=0)
    basis: Basis
    source: str | None = None
    note: str = Field(min_length=3)


class Rate(_Strict):
    """An event rate per unit-hour: ``from: catalog`` or one of per_hour, mtbf_h, afr, per_month."""

    from_: Literal["catalog"] | None = Field(default=None, alias="from")
    per_hour: float | None = Field(default=None, ge=0)
    mtbf_h: float | None = Field(default=None, gt=0)
    afr: float | None = Field(default=None, ge=0, lt=1)
    per_month: float | None = Field(default=None, ge=0)
    basis: Basis | None = None
    source: str | None = None
    note: str = ""

    @model_validator(mode="after")
    def _one(self):
        given = [k for k in ("per_hour", "mtbf_h", "afr", "per_month") if getattr(self, k) is not None]
        if self.from_ is None and len(given) != 1:
            raise ValueError("give `from: catalog` or exactly one of per_hour, mtbf_h, afr, per_month")
        if self.from_ is not None and given:
            raise ValueError("a catalog rate takes no figure of its own")
        if given and (self.basis is None or len(self.note) < 3):
            raise ValueError("a rate figure needs a basis and a note saying where it comes from")
        return self

    @property
    def hourly(self) -> float | None:
        """The figure as a rate per unit-hour (None for ``from: catalog``)."""
        if self.per_hour is not None:
            return self.per_hour
        if self.mtbf_h is not None:
            return 1.0 / self.mtbf_h
        if self.afr is not None:
            return float(rate_from_afr(self.afr))
        if self.per_month is not None:
            return self.per_month / HOURS_PER_MONTH
        return None


class Mode(_Strict):
    """A component kind's failure behaviour (see the data file's header)."""

    category: Literal["gpu", "network", "host", "software", "unknown"]
    label: str
    units: Units
    rate: Rate
    events_per_failure: Figure | None = None
    interrupt_share: Figure
    redundant_share: Figure | None = None
    repair_h: Figure
    restart_min: Figure | None = None
    blast_radius: BlastRadius
    scale_with_hbm_gb: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _catalog_rate(self):
        if self.rate.from_ is not None and self.units != "design":
            raise ValueError("`rate: {from: catalog}` needs `units: design` (the catalog counts parts per rack)")
        return self


class Defaults(_Strict):
    restart_min: Figure


class FailureModes(_Strict):
    """The whole data file."""

    references: dict[str, Source]
    defaults: Defaults
    catalog_kinds: dict[str, str]
    modes: dict[str, Mode]

    @model_validator(mode="after")
    def _links(self):
        for kind, mode in self.catalog_kinds.items():
            if mode != "none" and mode not in self.modes:
                raise ValueError(f"catalog_kinds.{kind} names unknown mode {mode!r}")
        for name, entry in self.modes.items():
            figures = [
                entry.rate,
                entry.events_per_failure,
                entry.interrupt_share,
                entry.redundant_share,
                entry.repair_h,
                entry.restart_min,
            ]
            for figure in figures:
                if figure is not None and figure.source is not None and figure.source not in self.references:
                    raise ValueError(f"modes.{name}: source {figure.source!r} is not in references")
        return self

    def restart_h(self, kind: str) -> float:
        figure = self.modes[kind].restart_min or self.defaults.restart_min
        return figure.value / 60.0


def load_failure_modes(path: str | Path | None = None) -> FailureModes:
    """The failure modes of ``path`` (default: the built-in data file); bad files raise :class:`InputError`."""
    return _load(str(path or DATA_FILE))


@lru_cache(maxsize=8)
def _load(path: str) -> FailureModes:
    root = read_yaml(path)
    try:
        return FailureModes.model_validate(to_plain(root))
    except ValidationError as exc:
        raise InputError(path, problems_from_validation(exc, root)) from None


# --- pure, vectorised formulas ---------------------------------------------------------


def series_rate(counts, rates):
    """Failure rate of a series system ``λ = Σ nᵢ·λᵢ`` over the last axis (Rausand & Høyland ch. 4)."""
    return np.sum(np.asarray(counts, dtype=float) * np.asarray(rates, dtype=float), axis=-1)


def interruption_rate(counts, rates, events_per_failure=1.0, interrupt_share=1.0):
    """Job-interrupting events per hour of each cause: ``nᵢ·λᵢ·eᵢ·sᵢ`` (element-wise, broadcast)."""
    return (
        np.asarray(counts, dtype=float)
        * np.asarray(rates, dtype=float)
        * np.asarray(events_per_failure, dtype=float)
        * np.asarray(interrupt_share, dtype=float)
    )


def interruptions_per_day(counts, rates, events_per_failure=1.0, interrupt_share=1.0):
    """Job interruptions per day of each cause (24 h × :func:`interruption_rate`)."""
    return HOURS_PER_DAY * interruption_rate(counts, rates, events_per_failure, interrupt_share)


def mtbi_hours(total_rate_per_hour):
    """Mean time between interruptions ``1/Λ`` [h] (infinite where ``Λ = 0``)."""
    rate = np.asarray(total_rate_per_hour, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(rate > 0, 1.0 / np.where(rate > 0, rate, 1.0), np.inf)


def fabric_counts(endpoints, radix=DEFAULT_RADIX, top_oversubscription=1.0):
    """Tiers, links above the leaf per endpoint and switches per endpoint of a folded Clos.

    Non-blocking fat tree of radix ``r``: one switch serves up to ``r`` endpoints, two tiers
    ``r²/2``, three ``r³/4``, four ``r⁴/8``. Each tier boundary carries one link per endpoint;
    the top boundary carries ``1/o`` of one with oversubscription ``o``. Switches per endpoint:
    ``2/r`` for each tier below the top and ``1/(r·o)`` for the top tier (``1/E`` for one switch).
    Vectorised over ``endpoints``.
    """
    e = np.asarray(endpoints, dtype=float)
    r = np.asarray(radix, dtype=float)
    o = np.asarray(top_oversubscription, dtype=float)
    tiers = np.where(e <= r, 1, np.where(e <= r**2 / 2, 2, np.where(e <= r**3 / 4, 3, 4)))
    links = np.where(tiers == 1, 0.0, (tiers - 2) + 1.0 / o)
    with np.errstate(divide="ignore"):
        switches = np.where(tiers == 1, 1.0 / np.maximum(e, 1.0), 2.0 / r * (tiers - 1) + 1.0 / (r * o))
    return tiers, links, switches


# --- a design's inventory ----------------------------------------------------------------


@dataclass
class Unit:
    """Parts of one failure mode in one rack: count and mean catalog rate."""

    mode: str
    parts: list[str] = field(default_factory=list)
    count: float = 0.0
    weighted_rate: float = 0.0  # Σ count·λ [1/h]
    llama3_parts: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.weighted_rate / self.count if self.count else 0.0


@dataclass
class Inventory:
    """What a rack design contributes to a fleet, per rack."""

    name: str
    generation: str
    file: str | None
    accelerators_per_rack: float
    hosts_per_rack: float
    scale_up_domain: float
    scale_out_ports_per_accelerator: float
    redundancy: str
    radix: float
    units: dict[str, Unit]
    hbm_gb: float  # per accelerator (mean)
    accelerator_parts: list[str]


def _cites_llama3(part) -> bool:
    texts = [part.assumptions.get("reliability", "")]
    if "reliability" in part.field_sources:
        texts.append(part.field_sources["reliability"].title)
    return any(marker in text.lower() for text in texts for marker in LLAMA3_MARKERS)


def part_rate(part) -> float:
    """Constant failure rate of a catalog part [1/h] from its ``afr`` or ``mtbf_h``."""
    return failure_rate(part.afr, part.mtbf_h)


def mode_of_part(part, modes: FailureModes) -> str:
    """The failure mode of a catalog part (cables and transceivers split by ``media``)."""
    media = part.text("media")
    if part.kind in ("cable", "transceiver") and media == "utp":
        return "management"
    if part.kind == "cable" and media == "backplane":
        return "scale_up_cable"
    mode = modes.catalog_kinds.get(part.kind)
    if mode is None:
        raise InputError.single(
            str(DATA_FILE),
            f"catalog kind {part.kind!r} has no failure mode",
            "catalog_kinds",
            "map it to a mode or to none",
        )
    return mode


def inventory(rack: Rack, modes: FailureModes | None = None) -> Inventory:
    """The per-rack failure inventory of an evaluated rack (:func:`rackwright.evaluate`)."""
    from ..rack.evaluation import sound_model

    model = sound_model(rack, "the failure inventory")
    loaded = model.loaded
    modes = modes or load_failure_modes()
    figures = rack.figures
    accelerators = float(figures["compute.accelerators"])
    if accelerators <= 0:
        raise InputError.single(
            loaded.file,
            "the design has no accelerators, so no training job runs on it",
            "slots",
            "put compute trays or servers with accelerators in the rack",
        )
    units: dict[str, Unit] = {}
    hosts = 0.0
    hbm_weighted, accelerator_parts, radix = 0.0, [], None
    for item in model.items:
        part = item.part
        count = item.count * (1.0 if item.in_rack else item.share)
        if count <= 0:
            continue
        mode = mode_of_part(part, modes)
        if part.kind in ("server", "compute_tray"):
            hosts += count
        if part.kind == "accelerator":
            hbm_weighted += count * (part.value("hbm", 0.0) or 0.0) / 1e9
            accelerator_parts.append(part.id)
        if part.kind == "scale_out_switch" and part.value("ports"):
            radix = part.value("ports")
        if mode == "none":
            continue
        unit = units.setdefault(mode, Unit(mode))
        if part.id not in unit.parts:
            unit.parts.append(part.id)
        unit.count += count
        unit.weighted_rate += count * part_rate(part)
        if _cites_llama3(part) and part.id not in unit.llama3_parts:
            unit.llama3_parts.append(part.id)
    if hosts <= 0:
        hosts = max(float(figures.get("compute.cpus", 0.0)) / 2.0, accelerators / DEFAULT_ACCELERATORS_PER_HOST)
    ports = float(figures.get("network.scale_out_ports", 0.0)) / accelerators or 1.0
    return Inventory(
        name=loaded.design.name,
        generation=loaded.design.generation,
        file=loaded.file,
        accelerators_per_rack=accelerators,
        hosts_per_rack=hosts,
        scale_up_domain=float(figures.get("network.scale_up_domain", 1.0)) or 1.0,
        scale_out_ports_per_accelerator=ports,
        redundancy=loaded.design.power.redundancy,
        radix=float(radix or DEFAULT_RADIX),
        units=units,
        hbm_gb=hbm_weighted / accelerators,
        accelerator_parts=sorted(set(accelerator_parts)),
    )


# --- causes of interruption for a job ---------------------------------------------------


@dataclass
class Cause:
    """One failure mode's contribution to a job of N accelerators."""

    kind: str
    category: str
    label: str
    units: int  # units the job depends on (job_units)
    rate_per_unit_hour: float
    events_per_failure: float
    interrupt_share: float
    repair_h: float
    restart_h: float
    blast_accelerators: float  # accelerators idled while a failed unit is out
    basis: str  # of the rate
    llama3_derived: bool
    provenance: list[str]
    parts: list[str]

    @property
    def per_hour(self) -> float:
        """Job-interrupting events per hour."""
        return float(
            interruption_rate(self.units, self.rate_per_unit_hour, self.events_per_failure, self.interrupt_share)
        )

    def as_dict(self) -> dict:
        return {
            "category": self.category,
            "label": self.label,
            "units": self.units,
            "rate_per_unit_hour": self.rate_per_unit_hour,
            "events_per_failure": self.events_per_failure,
            "interrupt_share": self.interrupt_share,
            "interruptions_per_day": HOURS_PER_DAY * self.per_hour,
            "repair_h": self.repair_h,
            "restart_min": 60.0 * self.restart_h,
            "blast_accelerators": self.blast_accelerators,
            "basis": self.basis,
            "llama3_derived": self.llama3_derived,
            "provenance": self.provenance,
            "parts": self.parts,
        }


def _blast(radius: str, inv: Inventory) -> float:
    return {
        "tray": inv.accelerators_per_rack / inv.hosts_per_rack,
        "rack": inv.accelerators_per_rack,
        "scale_up_domain": inv.scale_up_domain,
        "job": 0.0,
    }[radius]


def job_racks(inv: Inventory, accelerators: float) -> int:
    """Racks a job of N accelerators occupies: ``⌈N / A⌉`` with A accelerators per rack (a job that holds part of
    a rack still occupies it: its power shelves, CDU and management serve every accelerator in it)."""
    return math.ceil(round(accelerators / inv.accelerators_per_rack, 9))


def job_units(per_rack: float, blast: float, inv: Inventory, accelerators: float) -> int:
    """Units of a kind (``per_rack`` of them in a rack, a share where one serves several racks) a job of N
    accelerators depends on: a whole number.

    A unit whose failure idles ``b`` accelerators (its blast radius: a tray, the scale-up domain, the rack) serves
    a group of ``b`` accelerators, and there are ``n·b/A`` of them per group. A job packed into whole groups holds
    ``⌈N/b⌉`` groups and depends on every unit in them, ``⌈n·b/A · ⌈N/b⌉⌉`` (rounded up: a unit shared by several
    racks, such as a CDU, serves the job if one of its racks is the job's). A unit whose failure stops only the job
    (``b = 0``: management) is counted over the racks the job occupies, ``b = A``. For N a multiple of ``b`` this is
    ``n·N/A``, the per-rack count times the job's share of racks.
    """
    group = blast if blast > 0 else inv.accelerators_per_rack
    groups = math.ceil(round(accelerators / group, 9))
    return math.ceil(round(per_rack * group / inv.accelerators_per_rack * groups, 9))


def job_causes(
    inv: Inventory,
    accelerators: float,
    modes: FailureModes | None = None,
    top_oversubscription: float = 1.0,
    radix: float | None = None,
) -> list[Cause]:
    """The causes of interruption of a job on ``accelerators`` accelerators of this design."""
    modes = modes or load_failure_modes()
    if not accelerators > 0:
        raise InputError.single(None, f"a job needs at least one accelerator, got {accelerators}", "--accelerators")
    if not top_oversubscription >= 1:
        raise InputError.single(None, "oversubscription is downlink / uplink bandwidth, ≥ 1", "--oversubscription")
    endpoints = accelerators * inv.scale_out_ports_per_accelerator
    _, links, switches = fabric_counts(endpoints, radix or inv.radix, top_oversubscription)
    causes = []
    for kind, mode in modes.modes.items():
        provenance = []
        llama = False
        unit = inv.units.get(kind)
        if mode.units == "design":
            if unit is None or unit.count <= 0:
                continue
            count = job_units(unit.count, _blast(mode.blast_radius, inv), inv, accelerators)
            rate, basis = unit.rate, "catalog"
            parts = list(unit.parts)
            if unit.llama3_parts:
                llama = True
                provenance.append("catalog reliability of " + ", ".join(unit.llama3_parts) + " cites Llama 3")
        else:
            # the job's own accelerators and the hosts that hold them (a host idles its tray: b = A / hosts); the
            # fabric's links and switches for its endpoints, rounded up to whole ones
            count = {
                "accelerator": math.ceil(accelerators),
                "host": job_units(inv.hosts_per_rack, _blast("tray", inv), inv, accelerators),
                "fabric_link": math.ceil(round(float(links) * endpoints, 9)),
                "fabric_switch": math.ceil(round(float(switches) * endpoints, 9)),
            }[mode.units]
            if count <= 0:
                continue
            parts = []
            if kind == "scale_out_switch" and unit is not None and unit.count > 0:
                rate, basis, parts = unit.rate, "catalog", list(unit.parts)
                if unit.llama3_parts:
                    llama = True
                    provenance.append("catalog reliability of " + ", ".join(unit.llama3_parts) + " cites Llama 3")
            else:
                hourly, figure_basis = mode.rate.hourly, mode.rate.basis
                # Mode's validators: a rate other than units: design is a figure, and a figure has a basis
                assert hourly is not None and figure_basis is not None
                rate, basis = hourly, figure_basis
                if mode.scale_with_hbm_gb and inv.hbm_gb > 0:
                    rate *= inv.hbm_gb / mode.scale_with_hbm_gb
                if basis == "llama3":
                    llama = True
                    provenance.append(f"{kind} rate set from Llama 3 Table 5")
        figures = {"events_per_failure": mode.events_per_failure, "interrupt_share": mode.interrupt_share}
        share = mode.interrupt_share
        if kind == "power" and inv.redundancy != "N" and mode.redundant_share is not None:
            share = mode.redundant_share
            figures["interrupt_share"] = share
        for name, figure in figures.items():
            if figure is not None and figure.basis == "llama3":
                llama = True
                provenance.append(f"{kind} {name} set from Llama 3 Table 5")
        causes.append(
            Cause(
                kind=kind,
                category=mode.category,
                label=mode.label,
                units=int(count),
                rate_per_unit_hour=float(rate),
                events_per_failure=mode.events_per_failure.value if mode.events_per_failure else 1.0,
                interrupt_share=share.value,
                repair_h=mode.repair_h.value,
                restart_h=modes.restart_h(kind),
                blast_accelerators=_blast(mode.blast_radius, inv),
                basis=basis,
                llama3_derived=llama,
                provenance=provenance,
                parts=parts,
            )
        )
    return causes


def by_category(causes: list[Cause]) -> dict[str, float]:
    """Interruptions per day by Llama 3 category (gpu, network, host, software, unknown)."""
    totals = dict.fromkeys(CATEGORIES, 0.0)
    for cause in causes:
        totals[cause.category] += HOURS_PER_DAY * cause.per_hour
    return totals


__all__ = [
    "FailureModes",
    "Mode",
    "Figure",
    "Rate",
    "Inventory",
    "Cause",
    "load_failure_modes",
    "inventory",
    "job_causes",
    "job_racks",
    "job_units",
    "by_category",
    "series_rate",
    "interruption_rate",
    "interruptions_per_day",
    "mtbi_hours",
    "fabric_counts",
    "part_rate",
    "mode_of_part",
    "CATEGORIES",
]

"""Schema of one catalog part, validated with pydantic.

Provenance rule (checked here, so no part without it can load): the part's
``source`` covers its ``specs``; the commercial and reliability figures that a
datasheet rarely gives (``price_usd``, ``lead_time_weeks``, ``afr``/``mtbf_h``,
``origin``) must each be named either in ``field_sources`` (with their own
source) or in ``assumptions`` (with the reason). A spec may also be listed in
``assumptions`` when it is an estimate rather than a datasheet figure.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Literal, get_args, overload

from pydantic import ConfigDict, Field, field_validator, model_validator

from ..units import UnitError, parse_quantity
from ..validity import DOMAINS, Name, require
from ..yamlio import Strict
from .specs import CATEGORIES, KINDS, PEAK_FLOPS_KEYS, SPEC_FIELDS

Category = Literal["compute", "networking", "cabling", "cooling", "power", "mechanical"]
assert set(CATEGORIES) == set(get_args(Category))

#: Figures that need their own provenance (a field source or an assumption).
PROVENANCE_FIELDS = ("price_usd", "lead_time_weeks", "reliability", "origin")

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_ID = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


class Frozen(Strict):
    """A catalog record: loaded once and shared by every evaluation, so it cannot change."""

    model_config = ConfigDict(frozen=True)


#: How far a source can be cited: ``primary`` (the vendor's datasheet, manual, product page or press release,
#: a standard, a paper, an operator's own report), ``secondary`` (trade press, blogs, analysts, summaries),
#: ``estimate`` (the lab's own design assumption; the source only shows what it was patterned on).
SOURCE_QUALITIES = ("primary", "secondary", "estimate")
SourceQuality = Literal["primary", "secondary", "estimate"]


class Source(Frozen):
    """Where figures come from, in every kind of file: a datasheet, specification, paper or page, with its
    title, address, date (YYYY[-MM[-DD]]) and how citable it is.

    A catalog part's sources must give the date and ``source_quality`` (checked by :class:`Part`); design,
    scenario, site, line and roadmap files may leave out the date of a page that gives none.
    """

    title: str = Field(min_length=3)
    url: str = Field(pattern=r"^https?://")
    date: str | None = None
    source_quality: SourceQuality | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value):
        if value is None:
            return None
        value = str(value)
        if not _DATE.match(value):
            raise ValueError("date must be YYYY, YYYY-MM or YYYY-MM-DD")
        return value


class Origin(Frozen):
    """ISO 3166 alpha-2 country of manufacture and, for assemblies, of final assembly."""

    manufacture: str
    final_assembly: str | None = None

    @field_validator("manufacture", "final_assembly")
    @classmethod
    def _country(cls, value):
        if value is not None and not _COUNTRY.match(value):
            raise ValueError("use a two-letter ISO 3166 country code such as US, TW, MX, CN")
        return value

    @property
    def assembled_in(self) -> str:
        return self.final_assembly or self.manufacture


class Contained(Frozen):
    part: str
    count: int = Field(ge=1)


class Part(Frozen):
    """One catalog part with sourced specifications (see module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    id: Name
    kind: str
    manufacturer: Name
    model: Name
    category: Category
    description: str = ""
    specs: dict[str, str | float | int | dict[str, str]] = Field(default_factory=dict)
    contains: list[Contained] = Field(default_factory=list)
    price_usd: float
    origin: Origin
    lead_time_weeks: float
    afr: float | None = Field(default=None, ge=0, le=1)
    mtbf_h: float | None = Field(default=None, gt=0)
    source: Source
    field_sources: dict[str, Source] = Field(default_factory=dict)
    assumptions: dict[str, str] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, value):
        if not _ID.match(value):
            raise ValueError("ids are lower-case letters, digits, '.' and '-'")
        return value

    @field_validator("kind")
    @classmethod
    def _kind(cls, value):
        if value not in KINDS:
            raise ValueError(f"unknown kind {value!r}; one of: {', '.join(KINDS)}")
        return value

    @field_validator("price_usd")
    @classmethod
    def _price(cls, value):
        return require("price", value)

    @field_validator("lead_time_weeks")
    @classmethod
    def _lead_time(cls, value):
        return require("lead_time", value)

    @model_validator(mode="after")
    def _check(self):
        if (self.afr is None) == (self.mtbf_h is None):
            raise ValueError("give exactly one of afr (fraction per year) or mtbf_h (hours)")
        for name, value in self.specs.items():
            _check_spec(name, value)
        documented = set(self.field_sources) | set(self.assumptions)
        missing = [f for f in PROVENANCE_FIELDS if f not in documented]
        if missing:
            raise ValueError(
                f"no provenance for {', '.join(missing)}: add each to field_sources (with a source) "
                "or to assumptions (with the reason)"
            )
        unknown = (documented - set(PROVENANCE_FIELDS)) - set(self.specs)
        if unknown:
            raise ValueError(f"field_sources/assumptions name fields the part does not have: {sorted(unknown)}")
        undated = [label for label, source in self.sources if source.date is None]
        if undated:
            raise ValueError(
                f"no date on {', '.join(undated)}: give each source the date it was published (YYYY, "
                "YYYY-MM or YYYY-MM-DD)"
            )
        unrated = [label for label, source in self.sources if source.source_quality is None]
        if unrated:
            raise ValueError(
                f"no source_quality on {', '.join(unrated)}: give each source source_quality: primary (vendor "
                "datasheet, standard, paper), secondary (press, blog, summary) or estimate (a design assumption)"
            )
        return self

    @property
    def sources(self) -> list[tuple[str, Source]]:
        """``("source", the part's source)`` then ``("field_sources.<field>", source)`` for each field source."""
        return [("source", self.source)] + [(f"field_sources.{f}", s) for f, s in self.field_sources.items()]

    def fields_with_quality(self, quality: str) -> list[str]:
        """What rests on sources of ``quality``: ``specs`` for the part's own source, else the field names."""
        return [
            ("specs" if label == "source" else label.split(".", 1)[1])
            for label, source in self.sources
            if source.source_quality == quality
        ]

    # -- SI access -------------------------------------------------------------
    @overload
    def value(self, name: str, default: float) -> float: ...
    @overload
    def value(self, name: str, default: None = None) -> float | None: ...
    def value(self, name: str, default: float | None = None) -> float | None:
        """The spec ``name`` as an SI float (``default`` when the part lacks it)."""
        raw = self.specs.get(name)
        if raw is None:
            return default
        if isinstance(raw, dict):
            raise TypeError(f"spec {name!r} is a mapping, not one value (read peak_flops with Part.peak_flops)")
        dimension = SPEC_FIELDS[name].dimension
        if dimension == "count":
            return float(raw)
        return parse_quantity(raw, dimension)

    @overload
    def text(self, name: str, default: str) -> str: ...
    @overload
    def text(self, name: str, default: None = None) -> str | None: ...
    def text(self, name: str, default: str | None = None) -> str | None:
        raw = self.specs.get(name)
        return default if raw is None else str(raw)

    @property
    def peak_flops(self) -> dict[str, float]:
        """Peak FLOP/s by precision key (``bf16_dense``, ``fp4_sparse``, ...)."""
        raw = self.specs.get("peak_flops")
        if not isinstance(raw, dict):  # absent (a validated part's peak_flops is always a mapping)
            return {}
        return {key: parse_quantity(v, "compute_rate") for key, v in raw.items()}

    def is_assumed(self, field: str) -> bool:
        return field in self.assumptions


def _check_spec(name: str, value) -> None:
    spec = SPEC_FIELDS.get(name)
    if spec is None:
        from difflib import get_close_matches

        close = get_close_matches(name, SPEC_FIELDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown spec {name!r}{hint}")
    if name == "peak_flops":
        if not isinstance(value, dict):
            raise ValueError('peak_flops is a mapping such as {bf16_dense: "2.5 PFLOP/s"}')
        for key, rate in value.items():
            if key not in PEAK_FLOPS_KEYS:
                raise ValueError(f"peak_flops key {key!r} is not one of {', '.join(PEAK_FLOPS_KEYS)}")
            _within(f"peak_flops.{key}", "compute_rate", _parse(f"peak_flops.{key}", rate, "compute_rate"))
        return
    if spec.dimension == "text":
        if spec.choices and value not in spec.choices:
            raise ValueError(f"spec {name}: {value!r} is not one of {', '.join(spec.choices)}")
        return
    if spec.dimension == "count":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"spec {name}: a count is a whole number ≥ 0, got {value!r}")
        _within(name, "count", value)
        return
    _within(name, spec.quantity, _parse(name, value, spec.dimension))


def _parse(name, value, dimension) -> float:
    try:
        return parse_quantity(value, dimension)
    except UnitError as exc:
        raise ValueError(f"spec {name}: {exc}") from None


def _within(name: str, quantity: str, si: float) -> None:
    """The spec's value lies in its quantity's domain of validity (rackwright.validity)."""
    problem = DOMAINS[quantity].problem(si)
    if problem:
        raise ValueError(f"spec {name}: {problem}")

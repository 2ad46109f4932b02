"""Units at the edges: parse quantity strings into SI floats and format SI floats.

Everything inside rackwright is SI (W, kg, m, s, K, A, V, J, m³/s) plus three
counting units that SI lacks: bytes (``B``) for memory, bytes per second for
data rates, and ``FLOP`` for arithmetic operations. Data rates quoted in bits
(``"800 Gb/s"``) are converted to bytes per second on the way in.

Rack heights follow EIA-310 (1 U = 44.45 mm) and OCP Open Rack v3
(1 OU = 48 mm); both are lengths here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from .cache import cache_dir

if TYPE_CHECKING:
    import pint

#: Dimensions accepted by :func:`parse_quantity`, each with the SI (internal) unit.
DIMENSIONS: dict[str, str] = {
    "power": "W",
    "energy": "J",
    "mass": "kg",
    "length": "m",
    "temperature": "K",
    "temperature_difference": "delta_degC",
    "current": "A",
    "voltage": "V",
    "volume": "m**3",
    "volume_flow": "m**3/s",
    "pressure": "Pa",
    "data": "B",
    "data_rate": "B/s",
    "compute_rate": "FLOP/s",
    "time": "s",
    "area_density": "kg/m**2",
    "thermal_resistance": "K/W",
    "dimensionless": "",
}

#: Examples shown in error messages, one per dimension.
EXAMPLES: dict[str, str] = {
    "power": '"1200 W" or "33 kW"',
    "energy": '"3.5 kWh"',
    "mass": '"120 kg"',
    "length": '"2 m", "1 U" or "1 OU"',
    "temperature": '"45 degC"',
    "temperature_difference": '"10 K"',
    "current": '"3000 A"',
    "voltage": '"54 V"',
    "volume": '"10 L"',
    "volume_flow": '"150 L/min"',
    "pressure": '"2 bar"',
    "data": '"192 GB"',
    "data_rate": '"8 TB/s" or "800 Gb/s"',
    "compute_rate": '"2.5 PFLOP/s"',
    "time": '"20 ms"',
    "area_density": '"1500 kg/m**2"',
    "thermal_resistance": '"0.02 K/W"',
    "dimensionless": '"0.85"',
}


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """pint's unit registry with the rack units, built on first use (importing pint costs half a second)."""
    import pint

    folder = cache_dir()
    ureg: pint.UnitRegistry
    try:  # pint's parsed definitions, cached: a few hundred ms less at every start
        ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True, cache_folder=folder and folder / "pint")
    except OSError:
        ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    ureg.define("rack_unit = 44.45 mm")  # EIA-310-E
    ureg.define("open_unit = 48 mm")  # OCP Open Rack v3 base specification
    ureg.define("FLOP = [computation] = flop")
    ureg.define("OPS = FLOP")
    return ureg


# Datasheet spellings that collide with pint's own symbols
# (U = enzyme unit, b = barn, Gb = gilbert, cfm = centifermi).
_ALIASES = [
    (re.compile(r"(?<![A-Za-z])([kMGTPE]?)b(?=/s\b|ps\b)"), r"\1bit"),
    (re.compile(r"(?<=bit)ps\b"), "/s"),
    (re.compile(r"(?<![A-Za-z])OU\b"), "open_unit"),
    (re.compile(r"(?<![A-Za-z])RU\b"), "rack_unit"),
    (re.compile(r"(?<![A-Za-z])U\b"), "rack_unit"),
    (re.compile(r"(?i)(?<![A-Za-z])cfm\b"), "ft**3/min"),
    (re.compile(r"(?i)(?<![A-Za-z])lpm\b"), "L/min"),
    (re.compile(r"°C"), "degC"),
    (re.compile(r"(?<![A-Za-z])FLOPS\b"), "FLOP/s"),
    (re.compile(r"(?<![A-Za-z])([kMGTPE])FLOPS\b"), r"\1FLOP/s"),
]


class UnitError(ValueError):
    """A quantity string that cannot be read as the wanted dimension."""


def _normalise(text: str) -> str:
    for pattern, replacement in _ALIASES:
        text = pattern.sub(replacement, text)
    return text


def parse_quantity(text: str | float | int, dimension: str) -> float:
    """Parse ``text`` (e.g. ``"1.2 kW"``) into a float in the SI unit of ``dimension``.

    Bare numbers are accepted only for ``dimensionless``. Raises :class:`UnitError`
    with a message that names the expected dimension and gives an example.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise UnitError(f"expected a quantity, e.g. {EXAMPLES[dimension]}, got {text!r}")
    return _parse_quantity(text, dimension)


@lru_cache(maxsize=4096)
def _parse_quantity(text: str | float | int, dimension: str) -> float:
    if isinstance(text, (int, float)):
        if dimension == "dimensionless":
            return float(text)
        raise UnitError(f"{text!r} has no unit; write it with one, e.g. {EXAMPLES[dimension]}")
    ureg = registry()
    from pint import DimensionalityError  # loaded by registry()

    try:
        quantity: pint.Quantity = ureg.Quantity(_normalise(text.strip()))
    except Exception:  # pint raises many exception types for unreadable text
        raise UnitError(f"cannot read {text!r} as a quantity; write e.g. {EXAMPLES[dimension]}") from None
    # pint treats bits and bytes as dimensionless: insist on a data unit here.
    names = str(quantity.units)
    is_data = "bit" in names or "byte" in names
    if (dimension in ("data", "data_rate")) != is_data:
        raise UnitError(f"{text!r} is not a {dimension.replace('_', ' ')}; write e.g. {EXAMPLES[dimension]}")
    try:
        return float(quantity.to(DIMENSIONS[dimension]).magnitude)
    except DimensionalityError:
        raise UnitError(f"{text!r} is not a {dimension.replace('_', ' ')}; write e.g. {EXAMPLES[dimension]}") from None


@lru_cache(maxsize=256)
def si_factor(unit: str, dimension: str) -> float:
    """How many SI units of ``dimension`` one ``unit`` is (e.g. ``si_factor("kW", "power") == 1000``)."""
    return float(registry().Quantity(1.0, _normalise(unit)).to(DIMENSIONS[dimension]).magnitude)


def from_si(value, unit: str, dimension: str):
    """Express an SI value (float or NumPy array) in the display ``unit`` (offset-aware for °C)."""
    if dimension == "temperature":
        zero, one = _temperature_points(unit)
        return (value - zero) / (one - zero)
    return value / si_factor(unit, dimension)


@lru_cache(maxsize=8)
def _temperature_points(unit: str) -> tuple[float, float]:
    """Kelvin values of 0 and 1 in ``unit`` (for affine conversions such as K → °C)."""
    zero, one = (float(registry().Quantity(x, _normalise(unit)).to("K").magnitude) for x in (0.0, 1.0))
    return zero, one


def pretty_unit(unit: str) -> str:
    """A display unit as pint writes it (``kg/m²``, ``°C``); others as written (``L/min``, not pint's ``l/min``)."""
    if "**" not in unit and not unit.startswith("deg"):
        return unit
    return format(registry().Unit(unit), "~P")

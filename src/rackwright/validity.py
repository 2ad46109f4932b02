"""The domain of validity of every quantity a design can hold: one table, used at every entry.

A value outside its quantity's domain is physically impossible (a negative power, an
efficiency above 1, water below absolute zero) or outside what the models can represent
(the coolant property tables end at 100 °C). Design fields, catalog specs, a design's
``overrides:`` and ``evaluate_batch`` arrays are all checked against :data:`DOMAINS`:
a file or a scalar is refused with an :class:`~rackwright.errors.InputError`; a batch
array marks its rows invalid instead (see :func:`rackwright.evaluate_batch`).

Upper bounds are far above any real part or rack, so that no sum or product of valid
values can overflow; lower bounds of quantities the models divide by are small positive
values, so that no quotient can (see the ``why`` of each entry, and docs/models.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from pydantic import StringConstraints

from .units import DIMENSIONS, from_si

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Domain:
    """``low ≤ value ≤ high`` (``low < value`` when ``low_open``), in the SI unit of ``dimension``."""

    dimension: str  # units.DIMENSIONS key the values are read in ("origin", "price_change": see chain.py)
    unit: str  # unit of the bounds in messages ("" for plain numbers)
    low: float
    high: float
    why: str
    low_open: bool = False
    integer: bool = False
    nan_ok: bool = False  # NaN is a valid value (an origin of NaN keeps the catalog's)

    def outside(self, values) -> np.ndarray:
        """True where a value (float or array) is not in the domain; NaN is outside unless ``nan_ok``."""
        import numpy as np  # here, not at import: ``rackwright --help`` reads the domains without NumPy

        values = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            low = values > self.low if self.low_open else values >= self.low
            inside = low & (values <= self.high)
            if self.integer:
                inside &= values == np.round(values)
        return ~(inside | (np.isnan(values) & self.nan_ok))

    def clamp(self, values) -> np.ndarray:
        """The nearest valid values (NaN → the lowest), to run the models on rows marked invalid."""
        import numpy as np

        values = np.nan_to_num(np.asarray(values, dtype=float), nan=self.low, posinf=self.high, neginf=self.low)
        low = np.nextafter(self.low, np.inf) if self.low_open else self.low
        values = np.clip(values, low, self.high)
        return np.ceil(values) if self.integer else values

    def describe(self) -> str:
        """``"≥ 0 W and ≤ 1e+10 W"``; ``"≥ 0 and ≤ 1e+06, in whole numbers"``."""
        text = f"{'>' if self.low_open else '≥'} {self._show(self.low)} and ≤ {self._show(self.high)}"
        text = f"{text}, in whole numbers" if self.integer else text
        return f"{text}, or NaN" if self.nan_ok else text

    def problem(self, si: float) -> str | None:
        """Why ``si`` is not valid, or None."""
        if not self.outside(si):
            return None
        return f"{self._show(si)} is outside the domain of {self.name}: it must be {self.describe()}"

    @property
    def name(self) -> str:
        return next(name for name, domain in DOMAINS.items() if domain is self).replace("_", " ")

    def _show(self, si: float) -> str:
        convert = self.unit and self.dimension in DIMENSIONS and self.dimension != "dimensionless"
        value = float(from_si(si, self.unit, self.dimension)) if convert else float(si)
        return f"{value:g} {self.unit}".rstrip().replace("degC", "°C")


#: Domain of validity by quantity. Catalog specs name theirs in ``SpecField.quantity``, design
#: parameters in ``chain.PARAMETERS``; design fields use the same names (``design.py``).
DOMAINS: dict[str, Domain] = {
    "power": Domain(
        "power",
        "W",
        0.0,
        1e12,
        "a part's draw, a site's or a programme's power: 0 W for a passive part (a passive rear door), at "
        "most 1 TW (a third of the world's mean electricity use; programmes run to tens of GW)",
    ),
    "power_rating": Domain(
        "power", "W", 1.0, 1e10, "a capacity (PSU, shelf, CDU, enclosure air): utilisation divides by it; at least 1 W"
    ),
    "energy": Domain("energy", "J", 0.0, 1e15, "stored energy: none or more, at most 1 PJ (278 GWh)"),
    "mass": Domain("mass", "kg", 0.0, 1e6, "no part is negative mass; 1,000 t is far above a 150 t transformer"),
    "length": Domain(
        "length",
        "m",
        1e-3,
        1e6,
        "lengths > 0 (floor load divides by width and depth, heights by the unit pitch): 1 mm to 1,000 km",
    ),
    "temperature": Domain(
        "temperature",
        "degC",
        263.15,
        373.15,
        "the coolant and air property tables (CoolProp, 1 atm) span −10 °C (PG25 freezes just below) "
        "to 100 °C (water boils); every data-centre loop temperature lies inside",
    ),
    "ambient_temperature": Domain(
        "temperature",
        "degC",
        213.15,
        333.15,
        "outdoor air at a site: −60 °C to 60 °C, beyond the coldest and hottest on record",
    ),
    "temperature_difference": Domain(
        "temperature_difference",
        "K",
        0.1,
        100.0,
        "a rise or approach > 0 (flow divides by it): 0.1 K to 100 K, within the span of the property tables",
    ),
    "current": Domain("current", "A", 0.0, 1e7, "a current rating > 0 A", low_open=True),
    "voltage": Domain(
        "voltage", "V", 0.1, 1e6, "current divides by voltage: 0.1 V (a core rail) to 1 MV (transmission)"
    ),
    "volume": Domain("volume", "L", 0.0, 1e6, "held coolant: none or more, at most 1,000,000 m³"),
    "volume_flow": Domain("volume_flow", "L/min", 0.0, 1e3, "a flow rating: none or more, at most 1,000 m³/s"),
    "pressure": Domain("pressure", "bar", 0.0, 1e8, "a pressure rise or drop: none or more, at most 1,000 bar"),
    "data": Domain("data", "B", 0.0, 1e18, "memory: none or more, at most 1 EB"),
    "data_rate": Domain("data_rate", "B/s", 0.0, 1e18, "a bandwidth: none or more, at most 1 EB/s"),
    "compute_rate": Domain("compute_rate", "FLOP/s", 0.0, 1e21, "peak FLOP/s: none or more, at most 1 ZFLOP/s"),
    "time": Domain("time", "s", 0.0, 1e9, "a latency: none or more"),
    "area_density": Domain("area_density", "kg/m**2", 0.0, 1e6, "a floor rating > 0", low_open=True),
    "count": Domain("dimensionless", "", 0.0, 1e6, "units, ports, links: whole numbers, none or more", integer=True),
    "positive_count": Domain(
        "dimensionless",
        "",
        1.0,
        1e6,
        "racks per domain, CDUs, racks served, a position: whole numbers from 1",
        integer=True,
    ),
    "share": Domain("dimensionless", "", 0.0, 1.0, "a share of a whole (liquid fraction, effectiveness): 0 to 1"),
    "efficiency": Domain(
        "dimensionless",
        "",
        0.01,
        1.0,
        "no conversion gains energy (≤ 1); input power divides by it, and nothing works below 1 %",
    ),
    "power_factor": Domain(
        "dimensionless", "", 0.01, 1.0, "real over apparent power (≤ 1); feed current divides by it"
    ),
    "ratio": Domain("dimensionless", "", 0.0, 100.0, "a chiller's coefficient of performance > 0", low_open=True),
    "price": Domain("dimensionless", "USD", 0.0, 1e9, "a unit price: none or more"),
    "price_change": Domain(
        "price_change",
        "",
        -1.0,
        10.0,
        "a relative change: a part cannot cost −100 % or less; at most +1,000 %",
        low_open=True,
    ),
    "lead_time": Domain("dimensionless", "weeks", 0.0, 520.0, "none or more, at most ten years"),
    "lead_time_change": Domain(
        "dimensionless", "weeks", -520.0, 520.0, "a change of lead time: shorter or longer by at most ten years"
    ),
    "tariff": Domain("dimensionless", "", 0.0, 10.0, "a duty on the value of the goods: none or more, at most 1,000 %"),
    "origin": Domain("origin", "", 0.0, 1.0, "1 US, 0 imported, NaN the catalog's origin", integer=True, nan_ok=True),
}


#: The longest name or id (design ``name`` and ``generation``, slot and link ids, the names and ids of site,
#: roadmap, space, line and scenario files), in characters: far above any real one (the longest in examples/
#: is under 60), and short enough that tables and messages stay fast (a 100 KB name took a minute to wrap).
MAX_NAME = 200

#: A name or id, of at most :data:`MAX_NAME` characters (yamlio explains the pydantic error).
Name = Annotated[str, StringConstraints(max_length=MAX_NAME)]


class OutOfDomain(ValueError):
    """A value outside its quantity's domain; ``why`` is the domain's reason, for a fix hint."""

    def __init__(self, message: str, why: str):
        super().__init__(message)
        self.why = why


def require(quantity: str, si: float) -> float:
    """``si`` if it lies in the domain of ``quantity``, else :class:`OutOfDomain` saying why."""
    message = DOMAINS[quantity].problem(si)
    if message:
        raise OutOfDomain(message, DOMAINS[quantity].why)
    return si


def number_in(quantity: str):
    """A pydantic validator body: a plain number (a count, a share, a rate) in the domain of ``quantity``;
    None passes."""

    def check(value):
        if value is not None:
            require(quantity, value)
        return value

    return check


def argument(quantity: str, value, name: str, si_per_unit: float = 1.0) -> float:
    """A Python API argument: ``value`` as a float if it is a real number (not a bool, a string or an array) whose
    ``value × si_per_unit`` lies in the domain of ``quantity``, else an :class:`~rackwright.errors.InputError`
    naming ``name`` (the CLI option it stands for) with the domain's reason as the fix."""
    import numpy as np

    from .errors import InputError

    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError.single(
            None, f"{value!r} is not a number", name, f"give a number: {DOMAINS[quantity].describe()}"
        )
    message = DOMAINS[quantity].problem(float(value) * si_per_unit)
    if message:
        raise InputError.single(None, message, name, DOMAINS[quantity].why)
    return float(value)


# Ranges of arguments of the fleet models (rackwright.fleet), here so that the CLI's option bounds need not import
# those models to print ``--help``.
#: Checkpoint bytes per parameter: 0.125 B (one bit) to 64 B (fp64 weights, master copy and moments, with room).
BYTES_PER_PARAM_RANGE = (0.125, 64.0)
#: A checkpoint's write time [s]: 1 ms to 1e6 s (eleven days).
CHECKPOINT_WRITE_RANGE = (1e-3, 1e6)
#: A target availability's range: a probability above 0 and below 1 (1 would need infinite spares; the spare
#: quantiles are computed to 1e-12 of 1).
AVAILABILITY_RANGE = (1e-9, 1 - 1e-12)

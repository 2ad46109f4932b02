"""Site cooling plant: facility water, heat rejection against the hourly ambient, trim chillers, pumps, water.

Heat path: rack cold plates → CDUs (in the racks' designs) → facility water system (FWS) at supply
temperature ``T_s`` and rise ``ΔT`` → outdoor dry or adiabatic coolers (→ trim chillers on hot hours).
Air-side heat (the racks' heat to air, switches, electrical losses indoors) is picked up by fan coils on
the same water at ``air_cooling_fan_share`` of that heat in fan power (assumption).

Per hour ``h`` (brief formulas.md; ASHRAE Handbook HVAC Systems & Equipment ch. 40 for coolers):

* cooler leaving water ``T_lw = T_air,in + approach``, with ``T_air,in`` the dry-bulb, or for adiabatic
  coolers when the dry-bulb alone would be too warm ``T_db − ε·(T_db − T_wb)`` (wetted-media pre-cooling);
* trim share ``f = clip((T_lw − T_s) / ΔT, 0, 1)``: the chiller cools the water from ``T_lw`` to ``T_s``,
  heat ``f·Q`` at ``P_chiller = f·Q / COP``; without chillers ``f > 0`` is heat the plant cannot reject;
* coolers run at rated fan power (conservative: no fan-speed reduction at part load);
* pumps: ``V̇ = Q / (ρ·c_p·ΔT)`` (CoolProp water at the mean loop temperature), ``P = V̇·Δp / η``;
* adiabatic water: the pads evaporate ``ṁ_w = ṁ_air·c_p,air·(T_db − T_air,in) / h_fg``, the air flow
  from the rated air temperature rise ``ṁ_air = Q / (c_p,air · ΔT_air)`` (``ΔT_air`` = 10 K, assumption).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..models import Array
from ..units import UnitError, parse_quantity

CP_AIR = 1006.0  # J/(kg·K), dry air near 25 °C
H_FG = 2.44e6  # J/kg, latent heat of water at ~25 °C
AIR_RISE = 10.0  # K, air temperature rise across a cooler coil at rating (assumption)
STANDARD_PRESSURE = 101325.0  # Pa, standard atmosphere at sea level (ISO 2533): a profile's pressure when not given
DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Ambient:
    """Hourly outdoor conditions [K] (wet-bulb only where it is known)."""

    name: str
    dry_bulb: np.ndarray
    rel_humidity: np.ndarray | None = None
    pressure: np.ndarray | None = None

    @property
    def hours(self) -> int:
        return len(self.dry_bulb)

    def wet_bulb(self, hours: np.ndarray | None = None) -> np.ndarray:
        """Wet-bulb temperature [K] from dry-bulb, humidity and pressure (CoolProp HAPropsSI).

        Only at the ``hours`` (a boolean mask) where it is needed; the dry-bulb stands elsewhere (and
        everywhere when the profile has no humidity: no evaporative gain, conservative).
        """
        hours = np.ones(self.hours, dtype=bool) if hours is None else hours
        if self.rel_humidity is None or not hours.any():
            return self.dry_bulb
        pressure = np.full(self.hours, STANDARD_PRESSURE) if self.pressure is None else self.pressure
        wet = self.dry_bulb.copy()
        wet[hours] = _wet_bulb(
            self.dry_bulb[hours].tobytes(), self.rel_humidity[hours].tobytes(), pressure[hours].tobytes()
        )
        return wet


@lru_cache(maxsize=8)
def _wet_bulb(dry: bytes, rh: bytes, pressure: bytes) -> np.ndarray:
    from CoolProp.HumidAirProp import HAPropsSI

    t, r, p = (np.frombuffer(b) for b in (dry, rh, pressure))
    return np.asarray(HAPropsSI("Twb", "T", t, "R", np.clip(r, 0.01, 1.0), "P", p), dtype=float).reshape(-1)


def load_ambient(text: str, folder: Path, file: str | None) -> Ambient:
    """``"constant 25 degC"``, a CSV path (relative to the site file) or a built-in profile name.

    Built-in profiles (``greensboro-nc-tmy3``, ``miami-fl-tmy2``) are NREL typical-year files, see the
    CSV headers. A CSV has comment lines (``#``) and the columns ``dry_bulb_c`` and optionally
    ``rel_humidity_pct`` and ``pressure_pa``, 8,760 rows (one year of hours).
    """
    if text.strip().startswith("constant"):
        try:
            value = parse_quantity(text.strip()[len("constant") :].strip(), "temperature")
        except UnitError as exc:
            raise InputError.single(file, str(exc), "cooling.ambient", 'write e.g. "constant 25 degC"') from None
        return Ambient(text, np.full(8760, value))
    path = DATA_DIR / f"{text}.csv" if (DATA_DIR / f"{text}.csv").exists() else folder / text
    if not path.exists():
        builtin = ", ".join(sorted(p.stem for p in DATA_DIR.glob("*.csv")))
        raise InputError.single(
            file,
            f"ambient profile {text!r} not found (looked at {path})",
            "cooling.ambient",
            f'give a CSV path, a built-in profile ({builtin}) or "constant 25 degC"',
        )
    return _read_profile(path, file)


def _read_profile(path: Path, file: str | None) -> Ambient:
    import polars as pl

    try:
        frame = pl.read_csv(path, comment_prefix="#")
        dry = frame["dry_bulb_c"].cast(pl.Float64).to_numpy() + 273.15
    except Exception as exc:  # polars raises many kinds for malformed CSV
        raise InputError.single(
            str(path),
            f"cannot read the ambient profile: {exc}",
            "cooling.ambient",
            "a CSV with a dry_bulb_c column (degC), one row per hour",
        ) from None
    if len(dry) != 8760 or not np.all(np.isfinite(dry)) or dry.min() < 173 or dry.max() > 343:
        raise InputError.single(
            str(path),
            f"{len(dry)} hourly rows between {dry.min() - 273.15:.1f} and {dry.max() - 273.15:.1f} degC",
            "cooling.ambient",
            "give 8,760 hourly dry-bulb values between -100 and 70 degC",
        )
    rh = frame["rel_humidity_pct"].cast(pl.Float64).to_numpy() / 100 if "rel_humidity_pct" in frame.columns else None
    p = frame["pressure_pa"].cast(pl.Float64).to_numpy() if "pressure_pa" in frame.columns else None
    return Ambient(path.stem, dry, rh, p)


def water_flow(heat, supply: float, delta_t: float):
    """Facility water volume flow [m³/s] for ``heat`` [W] at supply ``supply`` [K] and rise ``delta_t`` [K]."""
    from CoolProp.CoolProp import PropsSI

    mean = supply + delta_t / 2
    rho = PropsSI("D", "T", mean, "P", 3e5, "Water")
    cp = PropsSI("C", "T", mean, "P", 3e5, "Water")
    return np.asarray(heat) / (rho * cp * delta_t)


def pump_power(flow, pressure_rise: float, efficiency: float):
    """Pump electric power [W]: ``V̇·Δp/η``."""
    return np.asarray(flow) * pressure_rise / efficiency


def cooler_air_inlet(
    dry_bulb: np.ndarray, wet_bulb: np.ndarray | None, effectiveness: float, supply: float, approach: float
) -> np.ndarray:
    """Air temperature entering the coolers [K]: dry-bulb, or pad-cooled where the dry-bulb is too warm."""
    if wet_bulb is None or effectiveness <= 0:
        return dry_bulb
    wet = dry_bulb - effectiveness * (dry_bulb - wet_bulb)
    return np.where(dry_bulb + approach > supply, wet, dry_bulb)


def trim_share(leaving: np.ndarray, supply: float, delta_t: float) -> np.ndarray:
    """Share of the heat a trim chiller must take when the coolers leave water at ``leaving`` [K]."""
    return np.clip((leaving - supply) / delta_t, 0.0, 1.0)


def adiabatic_water(heat: Array, dry_bulb: np.ndarray, air_inlet: np.ndarray) -> np.ndarray:
    """Water evaporated by the pads [kg/s] per hour for ``heat`` [W] rejected."""
    air_mass = heat / (CP_AIR * AIR_RISE)
    return air_mass * CP_AIR * (dry_bulb - air_inlet) / H_FG

"""Rack space, weight and floor load.

References
----------
[1] EIA-310-E: 1 U = 44.45 mm. [2] OCP Open Rack V3 Base Specification: 1 OU = 48 mm.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import Array

#: The two mounting pitches [m]: the EIA-310 rack unit (1.75 in) [1] and the Open Rack OpenU [2].
PITCHES = {"U": 0.04445, "OU": 0.048}


def pitch_name(unit_pitch: float) -> str | None:
    """``"U"`` or ``"OU"`` for an enclosure's mounting pitch [m]; None for any other pitch."""
    return next((name for name, pitch in PITCHES.items() if abs(pitch - unit_pitch) < 1e-6), None)


def mounting_units(height, unit_pitch):
    """Heights [m] expressed in the enclosure's mounting units (U or OU)."""
    return height / unit_pitch


def floor_load(weight, width, depth):
    """Static floor load of the rack on its footprint: ``m / (w · d)`` [kg/m²]."""
    return weight / (width * depth)


@dataclass(frozen=True)
class MechanicalInputs:
    height: Array  # Σ height of the mounted parts [m]
    weight: Array  # Σ mass, coolant included [kg]
    unit_pitch: Array  # the enclosure's mounting unit [m]
    usable_height: Array  # [m]
    width: Array  # footprint [m]
    depth: Array  # [m]


@dataclass(frozen=True)
class MechanicalResult:
    height_used: Array  # mounting units
    height_available: Array  # mounting units
    weight: Array  # [kg]
    floor_load: Array  # [kg/m²]


def mechanical_step(x: MechanicalInputs) -> MechanicalResult:
    """Space in mounting units and the static floor load ``m / (w · d)``."""
    return MechanicalResult(
        height_used=mounting_units(x.height, x.unit_pitch),
        height_available=mounting_units(x.usable_height, x.unit_pitch),
        weight=x.weight,
        floor_load=floor_load(x.weight, x.width, x.depth),
    )

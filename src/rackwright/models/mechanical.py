"""Rack space, weight and floor load.

References
----------
[1] EIA-310-E: 1 U = 44.45 mm. [2] OCP Open Rack V3 Base Specification: 1 OU = 48 mm.
"""

from __future__ import annotations


def mounting_units(height, unit_pitch):
    """Heights [m] expressed in the enclosure's mounting units (U or OU)."""
    return height / unit_pitch


def floor_load(weight, width, depth):
    """Static floor load of the rack on its footprint: ``m / (w · d)`` [kg/m²]."""
    return weight / (width * depth)

"""Rack power delivery: conversion losses, redundancy, conductor current, battery ride-through.

References
----------
[1] OCP Open Rack V3 Base Specification, rev. 1.0 (2022): 48 V busbar, power shelves.
[2] OCP "Requirements/Considerations of Next Generation ORv3 PSU and Power Shelves"
    (Delta / Advanced Energy, 2023): 33 kW HPR shelves of 6 × 5.5 kW PSUs.
[3] IEEE Std 141 (Red Book), three-phase line current I = P / (√3 · V_LL · PF).
"""

from __future__ import annotations

import numpy as np

SECONDS_PER_HOUR = 3600.0

#: Units held in reserve per redundancy scheme; ``"N+N"`` holds half of the units.
REDUNDANCY_SCHEMES = ("N", "N+1", "N+2", "N+N")


def conversion_input_power(output_power, efficiency):
    """Power drawn by a conversion stage: ``P_in = P_out / η`` [W].

    output_power : numeric [W]; efficiency : numeric [0-1].
    """
    return output_power / efficiency


def redundant_units(installed, scheme: str):
    """Units of ``installed`` held in reserve under ``scheme`` (N, N+1, N+2, N+N).

    N+N (2N) keeps half of the units (rounded down) as the redundant side.
    """
    installed = np.asarray(installed, dtype=float)
    reserve = {"N": 0.0, "N+1": 1.0, "N+2": 2.0}
    if scheme == "N+N":
        return np.floor(installed / 2.0)
    return np.minimum(installed, reserve[scheme])


def usable_capacity(installed, unit_capacity, scheme: str):
    """Capacity left with the redundant units out: ``(n − r) · P_unit`` [W] (formulas.md, Power)."""
    return (installed - redundant_units(installed, scheme)) * unit_capacity


def dc_current(power, voltage):
    """Current on a DC conductor: ``I = P / V`` [A]; e.g. 132 kW at 48 V → 2,750 A."""
    return power / voltage


def three_phase_line_current(power, line_voltage, power_factor):
    """Line current of a balanced three-phase feed: ``I = P / (√3 · V_LL · PF)`` [A] [3]."""
    return power / (np.sqrt(3.0) * line_voltage * power_factor)


def ride_through_time(energy, efficiency, load):
    """Battery ride-through: ``t = E · η / P`` [s]; zero where there is no battery.

    energy : numeric [J]; efficiency : numeric [0-1]; load : numeric [W].
    """
    return np.where(load > 0, energy * efficiency / np.maximum(load, 1e-12), 0.0)

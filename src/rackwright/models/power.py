"""Rack power delivery: conversion losses, redundancy, conductor current, battery ride-through.

References
----------
[1] OCP Open Rack V3 Base Specification, rev. 1.0 (2022): 48 V busbar, power shelves.
[2] OCP "Requirements/Considerations of Next Generation ORv3 PSU and Power Shelves"
    (Delta / Advanced Energy, 2023): 33 kW HPR shelves of 6 × 5.5 kW PSUs.
[3] IEEE Std 141 (Red Book), three-phase line current I = P / (√3 · V_LL · PF).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import Array

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


# --- the power step of the rack chain -------------------------------------------------------------


@dataclass(frozen=True)
class PowerInputs:
    """What the rack's power delivery is made of (SI; floats or arrays of one shape)."""

    it_load: Array  # Σ rated power of the parts in the rack [W]
    converters: Array  # rack-level converters: power shelves, DC-DC units, PDUs
    capacity: Array  # their summed output capacity [W]
    capacity_efficiency: Array  # Σ capacity · efficiency [W]: the capacity-weighted efficiency's numerator
    bbu_energy: Array  # Σ stored battery energy [J]
    bbu_energy_efficiency: Array  # Σ energy · discharge efficiency [J]
    redundancy: str  # N, N+1, N+2 or N+N
    bus_voltage: Array  # the rack bus: busbar voltage, or the AC feed's line voltage [V]
    bus_carries_input: bool | Array  # True where the bus feeds the converters (800 VDC, AC), False where they feed it
    three_phase: bool  # an AC feed: line current of a balanced three-phase supply
    power_factor: Array  # of the AC feed


@dataclass(frozen=True)
class PowerResult:
    it_load: Array  # [W]
    input: Array  # drawn from the facility [W]
    conversion_loss: Array  # [W]
    shelf_capacity: Array  # installed conversion capacity [W]
    usable_capacity: Array  # with the redundant units out [W]
    efficiency: Array  # capacity-weighted conversion efficiency
    busbar_current: Array  # current on the rack bus, or the AC line current [A]
    bbu_ride_through: Array  # [s]


def power_step(x: PowerInputs) -> PowerResult:
    """Conversion (``P_in = P_out / η``), redundancy (``(n − r) · P_unit``), bus current (``I = P / V``, or
    ``P / (√3 · V_LL · PF)`` for an AC feed [3]) and battery ride-through (``E · η / P``)."""
    efficiency = np.where(np.asarray(x.capacity) > 0, x.capacity_efficiency / np.maximum(x.capacity, 1e-12), 1.0)
    input_power = conversion_input_power(x.it_load, efficiency)
    unit_capacity = np.where(np.asarray(x.converters) > 0, x.capacity / np.maximum(x.converters, 1e-12), 0.0)
    if x.three_phase:
        current = three_phase_line_current(input_power, x.bus_voltage, x.power_factor)
    else:
        current = dc_current(np.where(x.bus_carries_input, input_power, x.it_load), x.bus_voltage)
    bbu_efficiency = np.where(
        np.asarray(x.bbu_energy) > 0, x.bbu_energy_efficiency / np.maximum(x.bbu_energy, 1e-12), 1.0
    )
    return PowerResult(
        it_load=x.it_load,
        input=input_power,
        conversion_loss=input_power - x.it_load,
        shelf_capacity=x.capacity,
        usable_capacity=usable_capacity(x.converters, unit_capacity, x.redundancy),
        efficiency=efficiency,
        busbar_current=current,
        bbu_ride_through=ride_through_time(x.bbu_energy, bbu_efficiency, x.it_load),
    )

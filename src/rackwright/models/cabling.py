"""In-rack cable routing and reach.

A link between two slots runs vertically between the slots' centres, plus a
drop and service loop at each end and a slack allowance (Manhattan routing along
the rack's cable management, formulas.md "Network"). The allowances are
assumptions of typical practice, not published figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import Array

#: Horizontal run from a port to the vertical cable manager, at each end [m] (assumption).
END_DROP_M = 0.3
#: Slack and service loop per cable [m] (assumption: ~10 % of a 2–5 m in-rack run).
SLACK_M = 0.3


def routed_length(z_from, z_to):
    """Cable length between ports at heights ``z_from`` and ``z_to`` [m]: ``|Δz| + 2·drop + slack``."""
    return np.abs(z_from - z_to) + 2.0 * END_DROP_M + SLACK_M


@dataclass(frozen=True)
class CablingInputs:
    length: Array  # Σ cable length in the rack's links [m]
    cables: dict[str, Array]  # cables and transceivers by medium


@dataclass(frozen=True)
class CablingResult:
    length: Array  # Σ cable length in the rack's links [m]
    cables: dict[str, Array]  # cables and transceivers by medium (optical, dac, aec, utp, ...)


def cabling_step(x: CablingInputs) -> CablingResult:
    """The rack's cabling as counted by the chain (lengths are routed when the links are resolved)."""
    return CablingResult(length=x.length, cables=dict(x.cables))

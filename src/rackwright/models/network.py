"""Rack network figures: scale-up and scale-out bandwidth and port counts.

Conventions: accelerator scale-up bandwidth is quoted, as NVIDIA quotes NVLink
(1.8 TB/s per GPU), as both directions together; Ethernet port speeds are one
direction. Rack aggregates here are over both directions, so a 72 × 800G
scale-out rack has 72 · 100 GB/s · 2 = 14.4 TB/s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import Array


def both_directions(rate):
    """Aggregate over both directions of full-duplex links whose one-direction rate sums to ``rate`` [B/s]."""
    return 2.0 * rate


def scale_up_domain(accelerators_in_rack, racks_per_domain):
    """Accelerators in one scale-up domain (e.g. NVL36x2: 36 per rack × 2 racks = 72)."""
    return accelerators_in_rack * racks_per_domain


@dataclass(frozen=True)
class NetworkInputs:
    accelerators: Array
    scale_up_racks: Array  # racks one scale-up domain spans
    scale_up_domain: Array  # the design's own domain size, NaN to derive it from the racks
    scale_up_bandwidth: Array  # Σ per-accelerator scale-up bandwidth, both directions [B/s]
    scale_out_ports: Array
    scale_out_rate: Array  # Σ ports · port speed, one direction [B/s]
    front_end_ports: Array


@dataclass(frozen=True)
class NetworkResult:
    scale_up_domain: Array
    scale_up_bandwidth: Array  # [B/s]
    scale_out_ports: Array
    scale_out_bandwidth: Array  # both directions [B/s]
    front_end_ports: Array


def network_step(x: NetworkInputs) -> NetworkResult:
    """Scale-up domain size and rack bandwidths (both directions, see the module's conventions)."""
    domain = np.where(np.isnan(x.scale_up_domain), scale_up_domain(x.accelerators, x.scale_up_racks), x.scale_up_domain)
    return NetworkResult(
        scale_up_domain=domain,
        scale_up_bandwidth=x.scale_up_bandwidth,
        scale_out_ports=x.scale_out_ports,
        scale_out_bandwidth=both_directions(x.scale_out_rate),
        front_end_ports=x.front_end_ports,
    )

"""Rack network figures: scale-up and scale-out bandwidth and port counts.

Conventions: accelerator scale-up bandwidth is quoted, as NVIDIA quotes NVLink
(1.8 TB/s per GPU), as both directions together; Ethernet port speeds are one
direction. Rack aggregates here are over both directions, so a 72 × 800G
scale-out rack has 72 · 100 GB/s · 2 = 14.4 TB/s.
"""

from __future__ import annotations


def port_bandwidth_both_directions(ports, port_speed):
    """Aggregate over both directions of ``ports`` full-duplex ports of ``port_speed`` [B/s] each."""
    return 2.0 * ports * port_speed


def scale_up_domain(accelerators_in_rack, racks_per_domain):
    """Accelerators in one scale-up domain (e.g. NVL36x2: 36 per rack × 2 racks = 72)."""
    return accelerators_in_rack * racks_per_domain

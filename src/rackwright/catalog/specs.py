"""The vocabulary of part specifications: one table drives validation and docs.

Each entry names a specification field, its physical dimension (see
:data:`rackwright.units.DIMENSIONS`, or ``"count"`` for integers and ``"text"``
for words) and what it means. Catalog YAML writes values with units
(``power: "1200 W"``); the loader converts them to SI floats with
:func:`rackwright.units.parse_quantity`.

Conventions that keep the rack sums right:

* An assembly's ``power``, ``weight`` and ``price_usd`` are its *own* figures,
  excluding the parts listed in its ``contains`` (which carry their own).
* ``power`` is the rated (maximum) power used for sizing; ``typical_power`` is
  optional and used for energy.
* Network bandwidths of accelerators (``scale_up_bandwidth``) are aggregates
  over both directions, as vendors quote NVLink; ``port_speed`` is per port per
  direction, as Ethernet is quoted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpecField:
    dimension: str
    description: str
    choices: tuple[str, ...] = ()
    domain: str = ""  # key of rackwright.validity.DOMAINS where it is not the dimension's own

    @property
    def quantity(self) -> str:
        """The key of the spec's domain of validity in :data:`rackwright.validity.DOMAINS`."""
        return self.domain or self.dimension


PRECISIONS = ("fp64", "tf32", "bf16", "fp8", "fp6", "fp4", "int8")
#: Keys of the ``peak_flops`` mapping: precision and whether structured sparsity is counted.
PEAK_FLOPS_KEYS = tuple(f"{p}_{mode}" for p in PRECISIONS for mode in ("dense", "sparse"))

SPEC_FIELDS: dict[str, SpecField] = {
    # electrical
    "power": SpecField("power", "rated (maximum) power drawn by the part itself, excluding contained parts"),
    "typical_power": SpecField("power", "typical power under training load, for energy"),
    "capacity": SpecField(
        "power",
        "rated output (PSU, power shelf, DC-DC, BBU) or heat removal (CDU, RDHx) capacity",
        domain="power_rating",
    ),
    "efficiency": SpecField("dimensionless", "conversion efficiency at typical load (0-1)", domain="efficiency"),
    "input_voltage": SpecField("voltage", "nominal input voltage"),
    "output_voltage": SpecField("voltage", "nominal output voltage"),
    "current_rating": SpecField("current", "continuous current rating (busbar, PDU)"),
    "energy": SpecField("energy", "usable stored energy (BBU)"),
    "psu_slots": SpecField("count", "PSU bays (a power shelf's, a switch's power supplies)"),
    "psu_redundancy": SpecField(
        "text",
        "how the PSUs share the load: k+k (either half carries it, so the halves can hang on A and B feeds) or N+1",
        ("1+1", "2+2", "3+3", "N+1"),
    ),
    "phases": SpecField("count", "AC phases"),
    # mechanical
    "height": SpecField("length", 'mounted height, e.g. "1 U" or "1 OU"; 0U parts omit it'),
    "width": SpecField("length", "external width"),
    "depth": SpecField("length", "external depth"),
    "weight": SpecField("mass", "weight of the part itself, excluding contained parts"),
    "usable_height": SpecField("length", 'enclosure: height available for equipment, e.g. "48 U"'),
    "unit_pitch": SpecField("length", "enclosure: one mounting unit (44.45 mm EIA-310, 48 mm ORv3)"),
    "max_payload": SpecField("mass", "enclosure: rated static payload"),
    "air_capacity": SpecField(
        "power", "enclosure: heat it can reject to room air (airflow-limited)", domain="power_rating"
    ),
    "airflow": SpecField("text", "air path", ("front-to-rear", "rear-to-front", "passive", "none")),
    "rack_standard": SpecField("text", "mounting standard", ("eia-19", "orv3-21")),
    # compute
    "hbm": SpecField("data", "HBM capacity per accelerator"),
    "hbm_bandwidth": SpecField("data_rate", "HBM bandwidth per accelerator"),
    "memory": SpecField("data", "CPU-attached memory"),
    "memory_bandwidth": SpecField("data_rate", "CPU-attached memory bandwidth"),
    "cores": SpecField("count", "CPU cores"),
    "peak_flops": SpecField("compute_rate", "peak arithmetic rate by precision; keys " + ", ".join(PEAK_FLOPS_KEYS)),
    "scale_up_bandwidth": SpecField("data_rate", "scale-up bandwidth per accelerator, both directions together"),
    "scale_up_links": SpecField("count", "scale-up links (ports) per accelerator"),
    "perf_profile": SpecField(
        "text",
        "the performance model's efficiency set for this accelerator (rackwright.perf.efficiency.PROFILES)",
        ("a100", "h100", "b200", "b300", "xpu"),
    ),
    # networking
    "ports": SpecField("count", "network ports at port_speed"),
    "port_speed": SpecField("data_rate", "speed of one port, one direction"),
    "switching_capacity": SpecField("data_rate", "switch ASIC capacity, one direction"),
    "fabric": SpecField(
        "text",
        "network a NIC's ports serve (default: scale-out for a nic, front-end for a dpu)",
        ("scale-out", "front-end", "management"),
    ),
    "connector": SpecField(
        "text", "port cage or connector", ("osfp", "qsfp112", "qsfp-dd", "osfp-xd", "rj45", "sfp28", "backplane", "cpo")
    ),
    "latency": SpecField("time", "port-to-port latency"),
    "in_network_reduction": SpecField(
        "text",
        "reduction the switch silicon does for collectives: nvlink-sharp (NVLink SHARP, third-generation NVSwitch "
        "on), infiniband-sharp (SHARP, Quantum HDR on), ethernet-inc (a vendor's Ethernet in-network collectives), "
        "none; a part without it has none",
        ("nvlink-sharp", "infiniband-sharp", "ethernet-inc", "none"),
    ),
    # cabling
    "media": SpecField(
        "text", "cable or transceiver medium", ("dac", "acc", "aec", "aoc", "optical", "backplane", "utp")
    ),
    "reach": SpecField("length", "maximum supported link length"),
    "length": SpecField("length", "cable length as sold"),
    "speed": SpecField("data_rate", "link speed, one direction"),
    "lanes": SpecField("count", "electrical or optical lanes"),
    # cooling
    "liquid_fraction": SpecField(
        "dimensionless", "share of the part's heat captured by cold plates (0-1)", domain="share"
    ),
    "approach": SpecField(
        "temperature_difference", "CDU approach: TCS supply minus facility water supply at rated capacity"
    ),
    "max_flow": SpecField("volume_flow", "maximum coolant flow (CDU, manifold)"),
    "max_facility_supply": SpecField("temperature", "warmest facility water supply at rated capacity"),
    "coolant_volume": SpecField("volume", "coolant held in the part"),
    "max_pressure_drop": SpecField("pressure", "pressure drop at maximum flow"),
    # site plant (transformers, switchgear, UPS, generators, heat rejection, pumps)
    "cop": SpecField(
        "dimensionless", "chiller coefficient of performance: heat removed / electric power at rating", domain="ratio"
    ),
    "fan_power": SpecField("power", "fan power of a heat-rejection unit at its rated capacity"),
    "design_ambient": SpecField(
        "temperature", "ambient dry-bulb at which the rated capacity applies", domain="ambient_temperature"
    ),
    "effectiveness": SpecField("dimensionless", "adiabatic pre-cooler saturation effectiveness (0-1)", domain="share"),
    "pressure_rise": SpecField("pressure", "pump head at its rated flow"),
    "hydraulic_efficiency": SpecField(
        "dimensionless", "pump wire-to-water efficiency: hydraulic / electric power (0-1)", domain="efficiency"
    ),
}

#: The kinds of parts, each in its default cost category.
KINDS: dict[str, str] = {
    "accelerator": "compute",
    "cpu": "compute",
    "compute_tray": "compute",
    "server": "compute",
    "storage": "compute",
    "scale_up_switch_tray": "networking",
    "scale_up_switch": "networking",
    "scale_out_switch": "networking",
    "management_switch": "networking",
    "nic": "networking",
    "dpu": "networking",
    "cable": "cabling",
    "transceiver": "cabling",
    "power_shelf": "power",
    "psu": "power",
    "dc_dc": "power",
    "power_sidecar": "power",
    "bbu": "power",
    "busbar": "power",
    "pdu": "power",
    "cdu": "cooling",
    "manifold": "cooling",
    "cold_plate_loop": "cooling",
    "rear_door_hx": "cooling",
    "enclosure": "mechanical",
    "power_transformer": "power",
    "switchgear": "power",
    "ups": "power",
    "generator": "power",
    "busway": "power",
    "rectifier": "power",
    "dry_cooler": "cooling",
    "adiabatic_cooler": "cooling",
    "chiller": "cooling",
    "pump": "cooling",
    "fibre": "cabling",
}

CATEGORIES = ("compute", "networking", "cabling", "cooling", "power", "mechanical")

"""Design for manufacturing: the integration work content of a rack design.

The line's stations scale their times with what a design asks of the factory
(``per:`` in a line file). From the design's resolved line items
(:func:`rackwright.rack.chain.resolve`):

* **trays** — mounted units to install: every top-level part that takes rack
  height (compute trays, servers, switch trays, power shelves, BBUs, PDUs, rear
  doors ...), except cable cartridges;
* **compute_trays** — mounted ``compute_tray``, ``server`` and ``storage`` units (L10 build and test);
* **switch_trays** — mounted switch units to test: ``scale_up_switch_tray`` and ``scale_out_switch``;
* **cables** — connections to make: Σ counts of the network links whose part is a
  ``cable`` or ``transceiver`` (one transceiver = one optical cable end-to-end at the
  rack), plus each mounted cable part (the NVL72 NVLink spine, E1 cable cartridges)
  as one cartridge to seat;
* **liquid_connections** — quick-disconnect pairs to leak-test: 2 (supply and return)
  per liquid-cooled mounted unit (a unit whose part, or any part inside it, has a
  liquid fraction > 0, the design's ``cooling.liquid_fraction`` applied), plus 2 per
  rack manifold, rear-door heat exchanger and in-rack CDU (their facility/TCS hoses).

A design that cuts cables (a cable-less midplane) or liquid connections therefore
gets shorter station times wherever ``per`` is set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..rack.chain import RackModel

#: Mounted kinds counted as compute trays (L10 build and test).
COMPUTE_KINDS = {"compute_tray", "server", "storage"}
#: Mounted kinds counted as switch trays to test.
SWITCH_KINDS = {"scale_up_switch_tray", "scale_out_switch"}
#: Cabling kinds: link parts, and mounted cable cartridges.
CABLE_KINDS = {"cable", "transceiver"}
#: Plumbed parts with a supply and a return connection of their own.
PLUMBED_KINDS = {"manifold", "rear_door_hx", "cdu"}


@dataclass(frozen=True)
class WorkContent:
    """What one rack asks of the line, in the units a station's ``per`` names."""

    trays: float = 0.0
    compute_trays: float = 0.0
    switch_trays: float = 0.0
    cables: float = 0.0
    cartridges: float = 0.0
    liquid_connections: float = 0.0
    longest_lead_time_weeks: float = 0.0
    longest_lead_part: str = ""

    def units(self, per: str) -> float:
        """Units of ``per`` in one rack (``rack`` → 1)."""
        return {
            "rack": 1.0,
            "tray": self.trays,
            "compute_tray": self.compute_trays,
            "switch_tray": self.switch_trays,
            "cable": self.cables,
            "liquid_connection": self.liquid_connections,
        }[per]

    def as_dict(self) -> dict:
        return asdict(self)


def _liquid(item) -> float:
    return item.part.value("liquid_fraction", 0.0) if item.liquid_fraction is None else item.liquid_fraction


def work_content(model: RackModel) -> WorkContent:
    """The work content of a resolved design (see the module docstring)."""
    trays = compute = switches = cables = cartridges = connections = 0.0
    # parts inside each mounted unit: the items of the same slot whose assembly path starts at it
    liquid_inside: dict[tuple[str | None, str], bool] = {}
    for item in model.items:
        if item.path and item.in_rack:
            key = (item.slot, item.path[0])
            liquid_inside[key] = liquid_inside.get(key, False) or _liquid(item) > 0
    lead, lead_part = 0.0, ""
    for item in model.items:
        kind = item.part.kind
        if item.in_rack and item.part.lead_time_weeks is not None and item.part.lead_time_weeks > lead:
            lead, lead_part = float(item.part.lead_time_weeks), item.part.id
        if item.link is not None:
            if kind in CABLE_KINDS:
                cables += item.count
            continue
        if kind in PLUMBED_KINDS and item.in_rack and not item.path:
            connections += 2.0 * item.count
        if not item.mounted:
            continue
        if kind in CABLE_KINDS:
            cartridges += item.count
            continue
        trays += item.count
        if kind in COMPUTE_KINDS:
            compute += item.count
        if kind in SWITCH_KINDS:
            switches += item.count
        if kind not in PLUMBED_KINDS and (_liquid(item) > 0 or liquid_inside.get((item.slot, item.part.id), False)):
            connections += 2.0 * item.count
    return WorkContent(
        trays=trays,
        compute_trays=compute,
        switch_trays=switches,
        cables=cables + cartridges,
        cartridges=cartridges,
        liquid_connections=connections,
        longest_lead_time_weeks=lead,
        longest_lead_part=lead_part,
    )

"""Site capex by category, yearly TCO and US content (brief formulas.md, "Cost").

* capex by category: IT racks (the racks' BOM, which includes their NIC-end optics and their share of
  in-row CDUs), network (scale-out switches of all planes plus the front-end network as a share of it),
  cabling (cables, switch-end optics and fibre of the cable plan), power chain, cooling plant, building
  (``building_usd_per_mw`` × IT MW: shell, site works and the installation of the itemised equipment);
* TCO per year, by category: capex / depreciation years (IT years for IT racks, network and cabling,
  facility years for the rest) + ``maintenance_share`` × capex; plus energy ``E_facility · price``;
* US content = Σ US-made cost / Σ cost: racks at their own BOM US share (``sourcing.domestic_share``),
  catalog parts when finally assembled in the US, the building at ``building_domestic_share``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CATEGORIES = ("it_racks", "network", "cabling", "power", "cooling", "building")
IT_CATEGORIES = ("it_racks", "network", "cabling")


@dataclass
class CostLine:
    """One BOM line of the site: category, item, quantity, unit price and US-made share of its cost."""

    category: str
    item: str
    quantity: float
    unit_usd: float
    us_share: float
    lead_time_weeks: float = 0.0

    @property
    def extended_usd(self) -> float:
        return self.quantity * self.unit_usd


@dataclass
class Economics:
    lines: list[CostLine] = field(default_factory=list)

    def capex(self) -> dict[str, float]:
        totals = {c: 0.0 for c in CATEGORIES}
        for line in self.lines:
            totals[line.category] += line.extended_usd
        return totals

    def domestic_share(self) -> float:
        cost = sum(line.extended_usd for line in self.lines)
        return sum(line.extended_usd * line.us_share for line in self.lines) / cost if cost else 0.0


def yearly_tco(
    capex: dict[str, float],
    energy_kwh: float,
    price_usd_per_kwh: float,
    years_it: float,
    years_facility: float,
    maintenance_share: float,
) -> dict[str, float]:
    """Yearly cost of ownership [USD/yr] by category (depreciation + maintenance), energy, and the total."""
    tco = {
        c: value / (years_it if c in IT_CATEGORIES else years_facility) + maintenance_share * value
        for c, value in capex.items()
    }
    tco["energy"] = energy_kwh * price_usd_per_kwh
    tco["total"] = sum(tco.values())
    return tco

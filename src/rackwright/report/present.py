"""How a figure is shown: its label, unit and format, from the figure table, for the CLI tables and the HTML pages.

Shares print as percentages and their changes in percentage points; counts as integers; money with thousands
separators and its currency as the unit; other quantities to 3-4 significant figures in the figure's display
unit, written as pint writes it (``kg/m²``, ``°C``). Figures of other models that an evaluation carries
(``delivery.*``, what a rack generation delivers on the reference workloads) are described here too, and so are
the figures of the commands with documents of their own (``whatif.*``: ``sourcing whatif``; ``site.*``: ``site
plan``'s summary; ``roadmap.*``: ``roadmap plan|risk``; ``programme.*``: ``programme plan``'s quarterly
series; the programme's headline), for the CLI tables and the
server's pages alike.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..catalog.specs import PEAK_FLOPS_KEYS
from ..rack.figures import FIGURES, Figure
from ..units import pretty_unit, registry

#: The formats: a share (a fraction shown in %), a count, money, a physical quantity; a measured quantity is one
#: whose whole values keep their decimal (a cable length of 4,559.0 km whether the sum is 4,559.001 or 4,559.000).
SHARE, COUNT, MONEY, QUANTITY, MEASURED = "share", "count", "money", "quantity", "measured"
#: A count averaged over a simulation's replications (101.5 failed tests): one decimal, the label says "mean".
MEAN_COUNT = "mean count"
#: A relative change (a price change of 0.1): a signed percentage, ``+10.0%``.
RELATIVE = "relative change"
#: Currencies a count's unit may name.
CURRENCIES = ("USD",)
#: The delivery figures (rackwright.perf.api.rack_delivery) by their key in the evaluation's ``delivery`` section.
DELIVERY = {
    "racks_per_100_mw": ("Racks per 100 MW of rack input power", "", COUNT),
    "accelerators_per_100_mw": ("Accelerators per 100 MW of rack input power", "", COUNT),
    "training_days_llama3_405b_15t_100_mw": ("Llama 3 405B on 15T tokens, 100 MW", "days", QUANTITY),
    "training_mfu_llama3_405b": ("Llama 3 405B training MFU", "", SHARE),
    "inference_tokens_per_s_per_mw_llama3_70b": ("Llama 3 70B inference", "tokens/s per MW", QUANTITY),
    "training_tokens_per_s_per_rack_deepseek_v3": ("DeepSeek-V3 training per rack", "tokens/s", QUANTITY),
    "training_tokens_per_s_per_mw_deepseek_v3": ("DeepSeek-V3 training", "tokens/s per MW", QUANTITY),
    "training_tokens_per_s_per_usd_deepseek_v3": ("DeepSeek-V3 training per USD of BOM", "tokens/s per USD", QUANTITY),
    "training_delivered_pflops_per_rack_deepseek_v3": ("DeepSeek-V3 training, delivered per rack", "PFLOP/s", QUANTITY),
    "training_days_deepseek_v3_15t_100_mw": ("DeepSeek-V3 on 15T tokens, 100 MW", "days", QUANTITY),
    "training_mfu_deepseek_v3": ("DeepSeek-V3 training MFU", "", SHARE),
}
#: The performance model's results (``rackwright perf train|infer``, :mod:`rackwright.perf.api`) by their key.
PERF = {
    "step_time_s": ("Step time", "s", QUANTITY),
    "tokens_per_s": ("Training throughput", "tokens/s", QUANTITY),
    "tflops_per_accelerator": ("Achieved model TFLOP/s per accelerator", "TFLOP/s", QUANTITY),
    "mfu": ("Model FLOPs utilisation (MFU)", "", SHARE),
    "hfu": ("Hardware FLOPs utilisation (HFU)", "", SHARE),
    "memory_gb_per_accelerator": ("Memory per accelerator", "GB", QUANTITY),
    "fits": ("Fits in usable HBM", "", COUNT),
    "train_days": ("Training time (--train-tokens)", "days", QUANTITY),
    "energy_mwh": ("Training energy (--train-tokens)", "MWh", QUANTITY),
    "cost_usd": ("Training cost (--train-tokens)", "USD", MONEY),
    "tp": ("Tensor parallel size", "", COUNT),
    "ttft_s": ("Time to first token", "s", QUANTITY),
    "tpot_s": ("Time per output token", "s", QUANTITY),
    "tokens_per_s_per_accelerator": ("Output tokens/s per accelerator", "tokens/s", QUANTITY),
    "tokens_per_s_per_rack": ("Output tokens/s per rack", "tokens/s", QUANTITY),
    "tokens_per_s_per_mw": ("Output tokens/s per MW of IT power", "tokens/s per MW", QUANTITY),
}
#: The step time's terms (``perf train``'s ``breakdown``, seconds per step; docs/perf-model.md) by their key less
#: its ``_s``; the JSON keeps the keys.
STEP_TERMS = {
    "gemm": "Matrix multiplications (GEMM)",
    "attention": "Attention core",
    "elementwise": "Element-wise kernels",
    "quantize": "Low-precision casts (quantize)",
    "tp": "Exposed tensor-parallel collectives",
    "cp": "Exposed context-parallel collectives",
    "ep": "Exposed expert-parallel dispatch and combine",
    "route": "MoE routing",
    "logits": "Output logits and loss",
    "pp_p2p": "Pipeline sends (p2p)",
    "bubble": "Pipeline bubble",
    "dp_exposed": "Exposed data-parallel collectives",
    "optimizer": "Optimizer step",
}
#: ``factory simulate``'s figures (rackwright.factory.simulate.SimulationResult.summary) by their key; the cycle
#: time's statistics (``cycle_time_h.mean``) and the stations' figures (``stations.<id>.utilisation``) by their
#: last part.
FACTORY = {
    "racks_per_week_mean": ("Racks shipped per week, mean", "racks/week", QUANTITY),
    "racks_per_week_p05": ("Racks shipped per week, 5th percentile", "racks/week", QUANTITY),
    "racks_per_week_p95": ("Racks shipped per week, 95th percentile", "racks/week", QUANTITY),
    "mean": ("Cycle time, mean", "h", QUANTITY),
    "p50": ("Cycle time, median", "h", QUANTITY),
    "p90": ("Cycle time, 90th percentile", "h", QUANTITY),
    "wip_mean": ("Racks in the line (WIP), time average", "racks", QUANTITY),
    "bottleneck": ("Bottleneck (highest utilisation)", "", QUANTITY),
    "replications": ("Replications", "", COUNT),
    "weeks": ("Weeks per replication", "weeks", QUANTITY),
    "warmup_weeks": ("Warm-up discarded", "weeks", QUANTITY),
    "supply_delay_weeks": ("Supply delay before the first kit", "weeks", QUANTITY),
    "seed": ("Seed", "", COUNT),
    "servers": ("Bays", "", COUNT),
    "utilisation": ("Utilisation, simulated", "", SHARE),
    "utilisation_queueing": ("Utilisation, queueing theory", "", SHARE),
    "mean_queue": ("Queue, mean", "racks", QUANTITY),
    "mean_wait_h": ("Wait, mean", "h", QUANTITY),
    "visits_per_rack": ("Visits per rack", "", QUANTITY),
    "rework_count": ("Failed tests (rework) per replication, mean", "", MEAN_COUNT),
}
#: ``reliability job``'s figures (rackwright.fleet.goodput.job_report) by their key; a cause's by their last part.
RELIABILITY = {
    "interruptions_per_day": ("Interruptions per day", "", QUANTITY),
    "mtbi_h": ("Mean time between interruptions", "h", QUANTITY),
    "write_s": ("Checkpoint write time", "s", QUANTITY),
    "checkpoint_interval_min": ("Checkpoint interval (Daly)", "min", QUANTITY),
    "restart_min": ("Mean restart (incl. waits for repair)", "min", QUANTITY),
    "spares": ("Hot spares", "", COUNT),
    "goodput": ("Goodput (ETTR)", "", SHARE),
    "lost_hours_per_day": ("Lost job hours per day", "h", QUANTITY),
    "idle_capacity_fraction": ("Capacity idled by blast radius", "", SHARE),
    "units": ("Units", "", COUNT),
    "share": ("Share of the interruptions", "", SHARE),
}
#: ``qualify``'s metrics (rackwright.fleet.qualify.METRICS, the results CSV's ``metric``) by their key; the unit is
#: the measurement's.
QUALIFY = {
    "power_at_load": "Power at load",
    "coolant_flow": "Coolant flow",
    "coolant_delta_t": "Coolant ΔT",
    "inlet_temperature": "Inlet temperature",
    "bus_bandwidth": "Bus bandwidth",
    "step_time": "Step time",
    "burn_in_failures": "Burn-in failures",
}
#: ``sourcing whatif``'s figures (rackwright.rack.sourcing.summary: baseline, what-if) by their key; the mapped
#: ``us_share_by_category.<category>`` as ``US content: <category>``.
WHATIF = {
    "usd_per_rack": ("Cost per rack, tariffs included", "USD", MONEY),
    "tariff_usd_per_rack": ("Tariffs per rack", "USD", MONEY),
    "us_share": ("US content (share of cost)", "", SHARE),
    "longest_lead_time_weeks": ("Longest lead time", "weeks", COUNT),
    "us_share_by_category": ("US content", "", SHARE),
}
#: ``site plan``'s summary (summary.json, ``site plan --json``) by its JSON key, in the order the report page's
#: summary table lists them; a figure by tier or category (a mapping) one row per entry (:data:`SITE_ENTRIES`).
SITE = {
    "racks": ("Racks", "", COUNT),
    "accelerators": ("Accelerators", "", COUNT),
    "it_power_mw": ("IT power (rated)", "MW", QUANTITY),
    "rack_power_mw": ("Compute racks' input power (rated)", "MW", QUANTITY),
    "facility_power_mw": ("Facility power, peak", "MW", QUANTITY),
    "average_facility_power_mw": ("Facility power, annual mean", "MW", QUANTITY),
    "pue": ("PUE, annual", "", QUANTITY),
    "pue_peak_hour": ("PUE, peak hour", "", QUANTITY),
    "annual_energy_gwh": ("Energy per year", "GWh", QUANTITY),
    "water_use_m3_per_year": ("Water use per year", "m³", QUANTITY),
    "wue_l_per_kwh": ("WUE (water per kWh of IT energy)", "L/kWh", QUANTITY),
    "halls": ("Halls", "", COUNT),
    "floor_area_m2": ("Floor area of the halls", "m²", QUANTITY),
    "switches": ("Switches", "", COUNT),
    "links": ("Links", "", COUNT),
    "cable_length_km": ("Cable length", "km", MEASURED),
    "transformers": ("Transformers", "", COUNT),
    "switchgear": ("MV switchgear", "", COUNT),
    "ups": ("UPS units", "", COUNT),
    "distribution": ("Distribution units (busways)", "", COUNT),
    "generators": ("Generators", "", COUNT),
    "cdus": ("CDUs", "", COUNT),
    "heat_rejection_units": ("Heat-rejection units", "", COUNT),
    "chillers": ("Chillers", "", COUNT),
    "pumps": ("Pumps", "", COUNT),
    "free_cooling_hours": ("Free-cooling hours per year", "h", COUNT),
    "capex_usd": ("Capex", "USD", MONEY),
    "tco_usd_per_year": ("Cost of ownership per year", "USD/year", MONEY),
    "us_content_share": ("US content (share of cost)", "", SHARE),
}
#: The figures only the report page's summary table lists; ``site plan``'s terminal table shows the rest of
#: :data:`SITE` (:data:`SITE_TABLE`).
SITE_PAGE_ONLY = frozenset(
    {
        "rack_power_mw",
        "average_facility_power_mw",
        "pue_peak_hour",
        "wue_l_per_kwh",
        "floor_area_m2",
        "switchgear",
        "ups",
        "distribution",
        "pumps",
        "free_cooling_hours",
        "tco_usd_per_year",
    }
)
SITE_TABLE = tuple(key for key in SITE if key not in SITE_PAGE_ONLY)
#: The site page's headline (the figures it opens with): IT power, racks, PUE, capex, US content, cables.
SITE_HEADLINE = (
    "it_power_mw",
    "racks",
    "accelerators",
    "pue",
    "capex_usd",
    "us_content_share",
    "links",
    "cable_length_km",
)
#: The entries of the site summary's mappings by their JSON key: fabric tiers, transformer stages, cost categories.
SITE_ENTRIES = {
    "leaf": "Leaf",
    "spine": "Spine",
    "super_spine": "Super-spine",
    "substation": "Substation (HV/MV)",
    "mv_lv": "MV/LV",
    "it_racks": "IT racks",
    "network": "Network",
    "cabling": "Cabling",
    "power": "Power",
    "cooling": "Cooling",
    "building": "Building",
    "energy": "Energy",
    "total": "Total",
}
#: Figures by category whose total the summary does not carry: shown with a ``Total`` row after the categories.
SITE_TOTALS = ("capex_usd",)
#: The stages of the site's power chain (summary.json's ``power_chain``) by their key, and each stage's figures.
POWER_STAGES = {
    "substation": "Substation (HV/MV)",
    "switchgear": "MV switchgear",
    "transformers": "Transformers (MV/LV)",
    "ups": "UPS",
    "distribution": "Distribution (busways)",
    "generators": "Generators",
}
POWER_CHAIN = {
    "part": ("Part", "", QUANTITY),
    "units": ("Units installed", "", COUNT),
    "needed": ("Units needed", "", COUNT),
    "peak_load_mw": ("Peak load", "MW", QUANTITY),
    "peak_loss_mw": ("Peak loss", "MW", QUANTITY),
}
#: ``roadmap plan|risk``'s figures by their key in the quarter records (``roadmap plan --json``) and the risk.
ROADMAP = {
    "it_power_gw": ("IT power", "GW", QUANTITY),
    "accelerators": ("Accelerators", "", COUNT),
    "peak_eflops": ("Peak compute", "EFLOP/s", QUANTITY),
    "delivered_eflops": ("Delivered on DeepSeek-V3 training", "EFLOP/s", QUANTITY),
    "capex_usd": ("Capex", "USD", MONEY),
    "us_integrated_share": ("Integrated in US factories", "", SHARE),
    "us_content_share": ("US content (share of cost)", "", SHARE),
    "p_goal": ("Probability of meeting the goal", "", SHARE),
    "gw_by_date": ("IT power by the goal date", "GW", QUANTITY),
}
#: The programme document's quarterly series that no table above describes (``programme plan``'s quarter table).
PROGRAMME = {
    "delivered_training_compute": ("Delivered training compute", "EFLOP/s", QUANTITY),
    "failures": ("Part failures per year", "", COUNT),
    "energy_opex": ("Energy cost per year", "USD", MONEY),
}
#: The programme document's headline figures (rackwright.programme.plan.programme_document) by name: label and
#: format; the unit is the document's.
HEADLINE = {
    "it_power_by_goal_date": ("IT power by the goal date", QUANTITY),
    "goal_met": ("Goal met in", QUANTITY),
    "delivered_training_compute_by_goal_date": ("Delivered training compute by the goal date", QUANTITY),
    "delivered_training_tokens_by_goal_date": ("Delivered training tokens by the goal date", QUANTITY),
    "accelerators_by_goal_date": ("Accelerators by the goal date", COUNT),
    "failures_by_goal_date": ("Part failures by the goal date", COUNT),
    "capex": ("Capex, cumulative", MONEY),
    "energy_opex_by_goal_date": ("Energy cost by the goal date", MONEY),
    "spares_cost_by_goal_date": ("Spares cost by the goal date", MONEY),
    "site_plan_links": ("Links of the site plans", COUNT),
    "tariffs_by_goal_date": ("Tariffs by the goal date", MONEY),
    "p_goal": ("Probability of meeting the goal", SHARE),
    "us_content_share_by_goal_date": ("US content of the racks built by the goal date", SHARE),
    "site_transceivers_by_goal_date": ("Optics of the site plans by the goal date", COUNT),
}
#: The fields of a sourcing scenario that ``sourcing whatif --sweep`` may vary (rackwright.rack.sourcing.Scenario's
#: substitutions, second sources, tariffs and supply caps) by their name: ``sweep.price_change``.
SWEEP = {
    "price_change": ("Price change", "", RELATIVE),
    "price_usd": ("Price", "USD", MONEY),
    "lead_time_change_weeks": ("Lead-time change", "weeks", QUANTITY),
    "lead_time_weeks": ("Lead time", "weeks", QUANTITY),
    "capacity_per_week": ("Capacity", "units/week", QUANTITY),
    "per_week": ("Capacity", "units/week", QUANTITY),
    "share": ("Second source's share", "", SHARE),
    "rate": ("Tariff rate", "", SHARE),
}
#: A catalog part's own figures (rackwright.catalog.schema.Part, ``catalog show``) by their field.
PART = {
    "price_usd": ("Price", "USD", MONEY),
    "lead_time_weeks": ("Lead time", "weeks", QUANTITY),
    "afr": ("Annual failure rate (AFR)", "", SHARE),
    "mtbf_h": ("Mean time between failures (MTBF)", "h", QUANTITY),
}
#: ``reliability job``'s causes of interruption (rackwright/fleet/data/failure_modes.yaml's modes, whose ``label``
#: says what each covers) by their key; the JSON keeps the keys.
CAUSES = {
    "accelerator": "Accelerator (GPU)",
    "hbm": "HBM memory errors",
    "scale_up_switch": "Scale-up switch",
    "scale_up_cable": "Scale-up copper",
    "cpu": "Host CPU",
    "nic": "NIC / DPU",
    "host_other": "Host chassis",
    "host_maintenance": "Unplanned host maintenance",
    "management": "Management network",
    "power": "Rack power",
    "cdu_leak": "Liquid cooling (CDU, leaks)",
    "rear_door": "Rear-door heat exchanger",
    "optics": "Optics (transceivers)",
    "cable": "Cables",
    "fabric_link": "Fabric links",
    "scale_out_switch": "Scale-out switch",
    "host_software": "Host software",
    "unattributed": "Unattributed",
}
#: The categories of the causes (Llama 3's Table 5, rackwright.fleet.failures.FailureMode.category) by their key.
CATEGORIES = {"gpu": "GPU", "host": "Host", "network": "Network", "software": "Software", "unknown": "Unknown"}
#: The bases of a cause's rate (rackwright.fleet.failures.Basis) by their key.
BASES = {
    "catalog": "catalog",
    "independent": "independent",
    "llama3": "Llama 3",
    "assumption": "assumption",
}
#: A site's fabric tiers (the cable plan's ``tier``: 1 = NIC–leaf, 2 = leaf–spine, 3 = spine–super-spine) by the
#: key the site summary gives their links (``links.leaf``), whose label is :data:`SITE_ENTRIES`'.
TIERS = {1: "leaf", 2: "spine", 3: "super_spine"}
#: Cable media (the cable plan's and the design's ``media``) by their key.
MEDIA = {
    "dac": "DAC",
    "acc": "ACC",
    "aec": "AEC",
    "aoc": "AOC",
    "optical": "Optical",
    "utp": "UTP",
    "backplane": "Backplane",
    "none": "none",
}
#: Peak compute's precisions (the catalog's ``peak_flops`` keys, rackwright.catalog.specs.PEAK_FLOPS_KEYS) by their
#: key: ``fp8_dense`` is ``FP8 dense``; the JSON keeps the keys.
PRECISIONS = {key: f"{key.partition('_')[0].upper()} {key.partition('_')[2]}" for key in PEAK_FLOPS_KEYS}
#: The readable names of a mapped figure's entries by the figure (the others show an entry by its key).
FIGURE_ENTRIES = {"cabling.cables": MEDIA, "compute.peak_pflops": PRECISIONS}
#: The tables above by the section that names them in a dotted key (``site.it_power_mw``, ``whatif.us_share``).
TABLES = {
    "delivery": DELIVERY,
    "sweep": SWEEP,
    "part": PART,
    "whatif": WHATIF,
    "site": SITE,
    "power_chain": POWER_CHAIN,
    "roadmap": ROADMAP,
    "programme": PROGRAMME,
}
#: The readable names of a mapped figure's entries, by section (the others show an entry by its key).
ENTRIES = {"site": SITE_ENTRIES}

#: A share is shown to 1 decimal of a per cent, or more (up to this) where 1 would round it onto 0 % or 100 %
#: that it is not: a reliability of 0.999594 is 99.96 %, not 100.0 %.
MOST_PLACES = 4
#: The explorer's derived figures (rackwright.explore.evaluate; the same keys as rackwright.explore.space): BOM cost
#: per peak PFLOP/s by precision (``cost.usd_per_pflop.bf16_dense``), and training tokens/s per MW of rack input power
#: and per USD of BOM on a reference workload (a key of rackwright.perf.reference.REFERENCE_TRAININGS: ``dense`` or
#: ``moe``).
PER_PFLOP = "cost.usd_per_pflop."
TRAINING = "perf.training_tokens_per_s_per_mw"
TRAINING_USD = "perf.training_tokens_per_s_per_usd"
_UNIT_IN_LABEL = re.compile(r"^(?P<label>.*?) \((?P<unit>[^()]+)\)$")


@dataclass(frozen=True)
class Format:
    """How one figure is shown."""

    label: str
    unit: str  # pretty unit ("" for shares and plain counts)
    kind: str  # SHARE, COUNT, MEAN_COUNT, MONEY, QUANTITY or MEASURED

    def value(self, value) -> str:
        return format_value(value, self.kind)

    def row(self, values: Sequence, change: bool = False, distinct: bool = True) -> list[str]:
        """The cells of one table row of the figure (its value for each design, before and after) or of one column,
        all with the same decimals (:func:`row_places`; ``distinct``: values that differ show different); with
        ``change``, the last minus the first as shown (percentage points for a share) after them."""
        places = row_places(values, self.kind, distinct)
        if places is None:
            cells = [self.value(v) for v in values]
            shown = self.change(values[-1] - values[0]) if _all_finite(values) else "–"
            return [*cells, shown] if change else cells
        scale = 100.0 if self.kind in (SHARE, RELATIVE) else 1.0
        sign, suffix = ("+" if self.kind == RELATIVE else "", "%" if self.kind in (SHARE, RELATIVE) else "")
        cells = [f"{scale * v:{sign},.{places}f}{suffix}" if _finite(v) else format_value(v) for v in values]
        if not change:
            return cells
        if not _all_finite(values):
            return [*cells, "–"]
        difference = round(scale * values[-1], places) - round(scale * values[0], places)
        text = f"{difference:+,.{places}f}"
        text = text if difference or self.kind == SHARE else text[1:]
        return [*cells, f"{text} pp" if self.kind == SHARE else text]

    def change(self, value) -> str:
        """A difference between two values of the figure: percentage points for a share."""
        if self.kind == SHARE and _finite(value):
            return f"{_percent(100 * value, (0.0,), '+')} pp"
        text = format_value(value, self.kind)
        return text if text.startswith(("-", "–")) or not _finite(value) or value == 0 else "+" + text

    @property
    def shown_unit(self) -> str:
        """The unit of a table's unit column: ``%`` for a share (its values carry it too)."""
        return "%" if self.kind == SHARE else self.unit

    @property
    def heading(self) -> str:
        """Label and unit in one string, for a chart's axis or a table without a unit column."""
        return f"{self.label} ({self.shown_unit})" if self.shown_unit else self.label


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _all_finite(values: Sequence) -> bool:
    return bool(values) and all(_finite(v) for v in values)


#: The most decimals a row's shared count may add to what its values need alone to keep two that differ apart.
MORE_PLACES = 3


def row_places(values: Sequence, kind: str = QUANTITY, distinct: bool = True) -> int | None:
    """The decimals every value of one table row (a figure for several designs, before and after) or column is
    shown with: as many as the value that needs most in its own format (a share's per cent off 0 and 100 where it
    is not on them), and with ``distinct`` more, while two values that differ would show the same (up to
    :data:`MOST_PLACES` of a per cent for a share, :data:`MORE_PLACES` more for a quantity); None where a value is
    shown in exponent form (each then keeps its own format). Money and counts are whole, a mean count has 1 decimal,
    a relative change 1 of a per cent."""
    numbers = [float(v) for v in values if _finite(v)]
    if kind == MONEY or (kind == COUNT and all(n.is_integer() for n in numbers)):
        return 0
    if kind in (MEAN_COUNT, RELATIVE):
        return 1
    if kind == SHARE:
        numbers, most = [100 * n for n in numbers], MOST_PLACES
        places = max((_percent_places(n, (0.0, 100.0)) for n in numbers), default=1)
    else:
        whole = kind != MEASURED and all(n.is_integer() for n in numbers)
        own = [_decimals(_significant(n, whole)) for n in numbers]
        if None in own:
            return None
        places = max((p for p in own if p is not None), default=0)
        most = places + MORE_PLACES
    while distinct and places < most and len({round(n, places) for n in numbers}) < len(set(numbers)):
        places += 1
    return places


def _decimals(text: str) -> int | None:
    """The decimals of a number as written (None: in exponent form)."""
    if "e" in text:
        return None
    return len(text.partition(".")[2])


def format_value(value, kind: str = QUANTITY) -> str:
    """One value: ``–`` where there is none (None, NaN), text as it is."""
    if isinstance(value, str):
        return value
    if not _finite(value):
        return "–"
    if kind == SHARE:
        return _percent(100 * value, (0.0, 100.0)) + "%"
    if kind == MEAN_COUNT:
        return f"{value:,.1f}"
    if kind == RELATIVE:
        return f"{value:+.1%}"
    if kind == MONEY or (kind == COUNT and abs(value - round(value)) <= 1e-9 * max(1.0, abs(value))):
        return f"{value:,.0f}"
    return _significant(float(value), whole=kind != MEASURED)


def relative_change(value) -> str:
    """A relative change (0.058: ``+5.8%``); ``–`` where there is none."""
    return format_value(value, RELATIVE)


def _percent(percent: float, bounds: tuple[float, ...], sign: str = "") -> str:
    """A percentage to 1 decimal, or to as many (up to :data:`MOST_PLACES`) as keep it off a bound it is not on."""
    return f"{percent:{sign},.{_percent_places(percent, bounds)}f}"


def _percent_places(percent: float, bounds: tuple[float, ...]) -> int:
    places = 1
    while places < MOST_PLACES and any(
        round(percent, places) == bound and not math.isclose(percent, bound, abs_tol=1e-7) for bound in bounds
    ):
        places += 1
    return places


def _significant(value: float, whole: bool = True) -> str:
    """3-4 significant figures with thousands separators, integers as integers (with ``whole``)."""
    if whole and value.is_integer() and abs(value) < 1e15:
        return f"{value:,.0f}"
    if abs(value) >= 1e5:
        return f"{value:,.0f}"
    if abs(value) < 1e-2:
        return f"{value:.3g}"
    return f"{value:#,.3g}" if abs(value) < 10 else f"{value:,.1f}"  # 1.10, not 1.1


def _from_figure(figure: Figure) -> Format:
    if figure.dimension == "share":
        return Format(figure.label, "", SHARE)
    if figure.dimension == "count" and "usd" in figure.json.split("_"):
        return Format(_UNIT_IN_LABEL.sub(r"\g<label>", figure.label), "USD", MONEY)
    if figure.dimension == "count":
        match = _UNIT_IN_LABEL.match(figure.label)
        if match and " " not in match["unit"]:
            unit = match["unit"]
            return Format(match["label"], unit, MONEY if unit in CURRENCIES else COUNT)
        return Format(figure.label, "", COUNT)
    return Format(figure.label, pretty_unit(figure.unit), QUANTITY)


@functools.cache
def figure_format(key: str, reference: str = "dense") -> Format:
    """The format of a figure by its dotted display key (``power.it_load_kw``, ``compute.peak_pflops.bf16_dense``,
    ``delivery.racks_per_100_mw``, the explorer's ``cost.usd_per_pflop.bf16_dense``); a key no table describes is
    shown by name as a quantity. ``reference`` names the workload of the explorer's training figure."""
    section, _, rest = key.partition(".")
    name, _, entry = rest.partition(".")
    if name in TABLES.get(section, {}):
        label, unit, kind = TABLES[section][name]
        entry = ENTRIES.get(section, {}).get(entry, entry)
        return Format(f"{label}: {entry}" if entry else label, unit, kind)
    if key.startswith(PER_PFLOP):
        precision = precision_label(key[len(PER_PFLOP) :])
        return Format(f"BOM cost per peak PFLOP/s, {precision}", "USD per PFLOP/s", MONEY)
    if key in (TRAINING, TRAINING_USD):
        per = "MW" if key == TRAINING else "USD of BOM"
        label = f"Training throughput per {per}, {training_workload(reference)} reference job"
        return Format(label, f"tokens/s per {per.split()[0]}", QUANTITY)
    for figure in FIGURES:
        name = f"{figure.section}.{figure.json}"
        if key == name:
            return _from_figure(figure)
        if key.startswith(name + "."):
            shown, entry = _from_figure(figure), key[len(name) + 1 :]
            return Format(f"{shown.label}: {FIGURE_ENTRIES.get(name, {}).get(entry, entry)}", shown.unit, shown.kind)
    return Format(rest or key, "", QUANTITY)


def change_cells(change) -> list[str]:
    """A figure that differs between two designs (rackwright.rack.compare.FigureChange) as ``rackwright compare``
    prints it and its page shows it: label, unit, before and after (:meth:`Format.row`), the change of the values
    shown, the relative change."""
    shown = figure_format(change.key)
    return [
        shown.label,
        shown.shown_unit,
        *shown.row([change.before, change.after], change=True),
        relative_change(change.relative),
    ]


def site_rows(summary: dict, keys: tuple[str, ...] = tuple(SITE)) -> list[tuple[str, str, str]]:
    """The site summary's figures (summary.json's keys, :data:`SITE`) as label, unit and value, for ``site plan``'s
    table and its report page alike: a mapping one row per entry (a ``Total`` after those of :data:`SITE_TOTALS`);
    a figure the summary lacks is left out."""
    rows = []
    for key in (k for k in keys if k in summary):
        value = summary[key]
        entries = list(value.items()) if isinstance(value, dict) else [("", value)]
        if key in SITE_TOTALS and isinstance(value, dict):
            entries.append(("total", math.fsum(value.values())))
        for entry, number in entries:
            shown = figure_format(f"site.{key}" + (f".{entry}" if entry else ""))
            rows.append((shown.label, shown.shown_unit, shown.value(number)))
    return rows


def site_headline(summary: dict) -> list[tuple[str, str]]:
    """The figures the site page opens with (:data:`SITE_HEADLINE`) as label and value with its unit; a figure by
    category (capex) as its total."""
    shown = []
    for key in (k for k in SITE_HEADLINE if k in summary):
        value, figure = summary[key], figure_format(f"site.{key}")
        total = isinstance(value, dict)
        text = figure.value(math.fsum(value.values()) if total else value)
        shown.append((figure.label + (", total" if total else ""), f"{text} {figure.unit}".strip()))
    return shown


def headline_format(name: str, unit: str) -> Format:
    """The format of a programme document's headline figure (its name and unit as the document gives them); a name
    :data:`HEADLINE` does not describe is shown by name as a quantity."""
    label, kind = HEADLINE.get(name, (name.replace("_", " "), QUANTITY))
    return Format(label, "" if kind == SHARE else unit, kind)


def training_workload(reference: str) -> str:
    """The model of a reference training workload by its name (``dense``: Llama 3 405B, ``moe``: DeepSeek-V3), as
    :data:`rackwright.perf.reference.REFERENCE_TRAININGS` defines it."""
    from ..perf.reference import REFERENCE_TRAININGS
    from ..perf.workload import load_model

    return load_model(REFERENCE_TRAININGS[reference].model).name


def cause_label(key: str) -> str:
    """A cause of interruption by its key (``host_maintenance``: ``Unplanned host maintenance``); a key
    :data:`CAUSES` does not describe shows with spaces for its underscores."""
    return CAUSES.get(key, key.replace("_", " "))


def category_label(key: str) -> str:
    """A category of causes by its key (``gpu``: ``GPU``; :data:`CATEGORIES`)."""
    return CATEGORIES.get(key, key)


def basis_label(key: str, cites_llama3: bool = False) -> str:
    """The basis of a cause's rate (``llama3``: ``Llama 3``), and that a catalog rate cites Llama 3."""
    label = BASES.get(key, key)
    return f"{label} (cites Llama 3)" if cites_llama3 and key != "llama3" else label


def tier_label(tier: int) -> str:
    """A fabric tier of the cable plan by its number (1: ``Leaf``, the NIC–leaf links; :data:`TIERS`)."""
    return SITE_ENTRIES.get(TIERS.get(tier, ""), f"tier {tier}")


def precision_label(key: str) -> str:
    """A precision of peak compute by its key (``bf16_dense``: ``BF16 dense``; :data:`PRECISIONS`); a key it does not
    describe shows with spaces for its underscores."""
    return PRECISIONS.get(key, key.replace("_", " "))


def media_label(media: str) -> str:
    """A cable medium by its key (``aoc``: ``AOC``; :data:`MEDIA`)."""
    return MEDIA.get(str(media), str(media))


#: A spec as the catalog writes it: a number and its unit (``1350 kW``, ``32 degC``).
_SPEC = re.compile(r"^(?P<number>[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?) (?P<unit>\S.*)$")


def spec_text(name: str, value) -> str:
    """A catalog spec's value as ``catalog show`` prints it and its page shows it: the number as the catalog states
    it, every digit kept, with thousands separators and the unit as pint writes it (``1,350 kW``, ``44.45 mm``,
    ``32 °C``); a share or an efficiency in per cent (0.9995: ``99.95%``); a mapping (peak FLOP/s by precision)
    entry by entry, ``BF16 dense: 2.5 PFLOP/s; ...`` (:func:`precision_label`); other text as it is."""
    if isinstance(value, dict):
        return "; ".join(f"{precision_label(k)}: {spec_text(name, v)}" for k, v in value.items())
    if not isinstance(value, str):
        return format_value(value, SHARE) if _share_spec(name) else _stated(value)
    match = _SPEC.match(value)
    return f"{_stated(float(match['number']))} {pretty_unit(match['unit'])}" if match else value


def _share_spec(name: str) -> bool:
    """Whether a spec is a share or an efficiency (a fraction, shown in per cent)."""
    from ..catalog.specs import SPEC_FIELDS

    return name in SPEC_FIELDS and SPEC_FIELDS[name].quantity in ("share", "efficiency")


def _stated(value: float) -> str:
    """A number with thousands separators and every digit it has (``44.45``, not 3 significant figures)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def part_shown(part: dict) -> dict:
    """A catalog part's record (``Part.model_dump``) as ``catalog show`` prints it: its price, lead time, AFR and
    MTBF with their units in the formats of :data:`PART` (``30,000 USD``, ``52 weeks``, ``5.0%``), each spec as
    :func:`spec_text` writes it (a mapping's entries one by one; a plain number other than a share stays a number);
    its fields and their order kept."""

    def spec(name: str, value):
        if isinstance(value, dict):
            return {k: spec(name, v) for k, v in value.items()}
        return value if isinstance(value, (int, float)) and not _share_spec(name) else spec_text(name, value)

    shown = dict(part)
    for key in (k for k in PART if isinstance(part.get(k), (int, float))):
        figure = figure_format(f"part.{key}")
        shown[key] = f"{figure.value(part[key])} {figure.unit}".rstrip()
    if isinstance(part.get("specs"), dict):
        shown["specs"] = {name: spec(name, value) for name, value in part["specs"].items()}
    return shown


def section_of(key: str) -> str:
    return key.partition(".")[0]


def prices_as_of_text(prices: dict) -> str:
    """One line for a footer or a page: ``prices as of 2025 (1 of 12 parts cite a dated price; 11 parts, 97.2% of
    the cost, are undated catalog assumptions)``."""
    dated, undated = len(prices["dated_parts"]), len(prices["undated_parts"])
    span = prices["oldest"] if prices["oldest"] == prices["newest"] else f"{prices['oldest']} to {prices['newest']}"
    share = format_value(prices["undated_cost_share"], SHARE)
    if not dated:
        return f"prices as of: no dated price; all {undated} parts are priced by undated catalog assumptions"
    head = f"prices as of {span} ({dated} of {dated + undated} parts cite a dated price"
    return head + (f"; {undated} parts, {share} of the cost, are undated catalog assumptions)" if undated else ")")


def rule_counts_text(counts: dict[str, int]) -> str:
    """A design's rule results in words (rackwright.rack.rule_status.status_counts): ``26 passed, 0 broken, 2 not
    applicable``."""
    return f"{counts['pass']:,} passed, {counts['broken']:,} broken, {counts['not_applicable']:,} not applicable"


def step_term_label(key: str) -> str:
    """A step-time term's label by its breakdown key (``pp_p2p_s``: ``Pipeline sends (p2p)``); a key
    :data:`STEP_TERMS` does not describe shows by name."""
    name = key.removesuffix("_s")
    return STEP_TERMS.get(name, name)


#: Units pint reads as something else that a count may be given in (``units``: pint's micro-nits).
COUNT_WORDS = frozenset({"unit", "units", "count", "pieces", "pcs"})


@functools.cache
def counts_things(unit: str) -> bool:
    """Whether an amount in ``unit`` counts things (racks, accelerators, transceivers, CDUs: no part of it is a unit
    pint knows, or it is one of :data:`COUNT_WORDS`) rather than measures a quantity (MW, TB; line-weeks: a part of
    the ``-``-joined unit, weeks, is one pint knows)."""
    return unit.strip().lower() in COUNT_WORDS or not any(_is_unit(part) for part in unit.split("-"))


def _is_unit(text: str) -> bool:
    import pint

    try:
        registry().parse_units(text.strip())
    except (pint.errors.PintError, AttributeError, TypeError, ValueError):
        return False
    return True


def shortfall_text(shortfall: float | None, unit: str) -> str:
    """A shortfall as printed: a count (:func:`counts_things`) whole with thousands separators, rounded up (0.1 of a
    rack or a transceiver cannot be built or bought: a line short by 29.1 racks must build 30 more; 1e-9 of it
    absorbs the solver's rounding of a whole number); a measured amount in the figure format."""
    if isinstance(shortfall, float | int) and _finite(shortfall) and counts_things(unit):
        return f"{math.ceil(shortfall - 1e-9 * max(1.0, abs(shortfall))):,}"
    return format_value(shortfall)

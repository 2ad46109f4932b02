"""How a figure is shown: its label, unit and format, from the figure table, for the CLI tables and the HTML pages.

Shares print as percentages and their changes in percentage points; counts as integers; money with thousands
separators and its currency as the unit; other quantities to 3-4 significant figures in the figure's display
unit, written as pint writes it (``kg/m²``, ``°C``). Figures of other models that an evaluation carries
(``delivery.*``, what a rack generation delivers on the reference workloads) are described here too.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from ..rack.figures import FIGURES, Figure
from ..units import pretty_unit

#: The formats: a share (a fraction shown in %), a count, money, a physical quantity.
SHARE, COUNT, MONEY, QUANTITY = "share", "count", "money", "quantity"
#: Currencies a count's unit may name.
CURRENCIES = ("USD",)
#: The delivery figures (rackwright.perf.api.rack_delivery) by their key in the evaluation's ``delivery`` section.
DELIVERY = {
    "racks_per_100_mw": ("Racks per 100 MW of IT power", "", COUNT),
    "accelerators_per_100_mw": ("Accelerators per 100 MW of IT power", "", COUNT),
    "training_days_llama3_405b_15t_100_mw": ("Llama 3 405B on 15T tokens, 100 MW", "days", QUANTITY),
    "training_mfu_llama3_405b": ("Llama 3 405B training MFU", "", SHARE),
    "inference_tokens_per_s_per_mw_llama3_70b": ("Llama 3 70B inference", "tokens/s per MW", QUANTITY),
    "training_tokens_per_s_per_rack_deepseek_v3": ("DeepSeek-V3 training per rack", "tokens/s", QUANTITY),
    "training_tokens_per_s_per_mw_deepseek_v3": ("DeepSeek-V3 training", "tokens/s per MW", QUANTITY),
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
#: The explorer's derived figures (rackwright.explore.evaluate; the same keys as rackwright.explore.space): BOM cost
#: per peak PFLOP/s by precision (``cost.usd_per_pflop.bf16_dense``), and training tokens/s per MW on a reference
#: workload (a key of rackwright.perf.api.REFERENCE_TRAININGS: ``dense`` or ``moe``).
PER_PFLOP = "cost.usd_per_pflop."
TRAINING = "perf.training_tokens_per_s_per_mw"
_UNIT_IN_LABEL = re.compile(r"^(?P<label>.*?) \((?P<unit>[^()]+)\)$")


@dataclass(frozen=True)
class Format:
    """How one figure is shown."""

    label: str
    unit: str  # pretty unit ("" for shares and plain counts)
    kind: str  # SHARE, COUNT, MONEY or QUANTITY

    def value(self, value) -> str:
        return format_value(value, self.kind)

    def change(self, value) -> str:
        """A difference between two values of the figure: percentage points for a share."""
        if self.kind == SHARE and _finite(value):
            return f"{100 * value:+,.1f} pp"
        text = format_value(value, self.kind)
        return text if text.startswith(("-", "–")) or not _finite(value) or value == 0 else "+" + text

    @property
    def heading(self) -> str:
        """Label and unit in one string, for a chart's axis or a table without a unit column."""
        unit = "%" if self.kind == SHARE else self.unit
        return f"{self.label} ({unit})" if unit else self.label


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def format_value(value, kind: str = QUANTITY) -> str:
    """One value: ``–`` where there is none (None, NaN), text as it is."""
    if isinstance(value, str):
        return value
    if not _finite(value):
        return "–"
    if kind == SHARE:
        return f"{100 * value:,.1f}%"
    if kind == MONEY or (kind == COUNT and abs(value - round(value)) <= 1e-9 * max(1.0, abs(value))):
        return f"{value:,.0f}"
    return _significant(float(value))


def _significant(value: float) -> str:
    """3-4 significant figures with thousands separators, integers as integers."""
    if value.is_integer() and abs(value) < 1e15:
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
    if section == "delivery" and rest in DELIVERY:
        return Format(*DELIVERY[rest])
    if key.startswith(PER_PFLOP):
        precision = key[len(PER_PFLOP) :].replace("_", " ")
        return Format(f"BOM cost per peak PFLOP/s, {precision}", "USD per PFLOP/s", MONEY)
    if key == TRAINING:
        label = f"Training throughput per MW, {training_workload(reference)} reference job"
        return Format(label, "tokens/s per MW", QUANTITY)
    for figure in FIGURES:
        name = f"{figure.section}.{figure.json}"
        if key == name:
            return _from_figure(figure)
        if key.startswith(name + "."):
            shown = _from_figure(figure)
            return Format(f"{shown.label}: {key[len(name) + 1 :]}", shown.unit, shown.kind)
    return Format(rest or key, "", QUANTITY)


def training_workload(reference: str) -> str:
    """The model of a reference training workload by its name (``dense``: Llama 3 405B, ``moe``: DeepSeek-V3), as
    :data:`rackwright.perf.api.REFERENCE_TRAININGS` defines it."""
    from ..perf.api import REFERENCE_TRAININGS
    from ..perf.workload import load_model

    return load_model(str(REFERENCE_TRAININGS[reference]["model"])).name


def section_of(key: str) -> str:
    return key.partition(".")[0]

"""Qualification of early-access racks: measured results against what the models expect.

A results file (CSV with a header, or JSON: a list of objects or ``{"results": [...]}``)
has one measurement per row: ``rack_id, generation, test, metric, value, unit, timestamp``.
Each known metric (:data:`METRICS`) has an expected value from the models and a
tolerance; each row gets ``pass``, ``warn`` or ``fail`` with its deviation, and the rows
of a metric together give calibration suggestions (e.g. the link efficiency that the
measured bus bandwidth implies). Unknown metrics, units of the wrong dimension, values
that are not numbers, bad timestamps and racks of another generation raise
:class:`~rackwright.errors.InputError` naming the row (and, for CSV, the file line).

Metrics and expectations:

* ``power_at_load`` [kW] vs ``power.input_kw`` of the evaluation (IT load + conversion loss);
* ``coolant_flow`` [L/min] vs ``thermal.coolant_flow_lpm``; ``coolant_delta_t`` [K] vs the
  design's ``cooling.coolant_delta_t``; ``inlet_temperature`` [°C] vs the TCS supply
  (liquid-cooled) or the air inlet (air-cooled), only a warmer inlet counts against;
* ``bus_bandwidth`` [GB/s], NCCL-style all-reduce bus bandwidth inside the scale-up domain,
  vs the scale-up bandwidth per accelerator per direction × ``scale_up_link`` efficiency
  (:mod:`rackwright.perf.efficiency`); only a lower value counts against;
* ``step_time`` [s] of a reference run named in ``test`` (:data:`REFERENCE_RUNS`) vs
  :func:`rackwright.perf.api.train_report` on the rack; only a slower step counts against;
* ``burn_in_failures`` [count], with the burn-in duration in the unit (``failures/48 h``),
  vs the rack's catalog failure rate ``λ = Σ nᵢλᵢ``: one-sided Poisson test
  ``p = P(X ≥ observed | μ = λ·H)``; pass p ≥ 0.05, warn p ≥ 0.01, fail below.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, Problem
from ..models.reliability import HOURS_PER_YEAR
from ..units import UnitError, from_si, parse_quantity
from ..validity import DOMAINS
from ..yamlio import read_input_text
from .spares import poisson_cdf

if TYPE_CHECKING:
    from ..rack.evaluation import Rack

COLUMNS = ("rack_id", "generation", "test", "metric", "value", "unit", "timestamp")
VERDICTS = ("pass", "warn", "fail")
_BURN_IN_UNIT = re.compile(
    r"^\s*(?:failures?|count|events?)\s*(?:/|per)\s*([0-9]*\.?[0-9]+)\s*"
    r"(h|hr|hrs|hours?|d|days?)\s*$",
    re.IGNORECASE,
)

#: Reference training runs a ``step_time`` row may name in its ``test`` column (Llama 3 8B, TP 8, BF16,
#: distributed optimizer, 8 micro-batches of 1 per data-parallel rank, on every accelerator of the rack).
REFERENCE_RUNS: dict[str, dict] = {
    "llama3-8b-tp8": {
        "model": "llama3-8b",
        "tp": 8,
        "micro_batch": 1,
        "microbatches_per_rank": 8,
        "distributed_optimizer": True,
        "precision": "bf16",
    },
}


@dataclass(frozen=True)
class Metric:
    name: str
    dimension: str  # units.DIMENSIONS key, or "burn_in" for the count-over-hours unit
    display: str  # display unit
    mode: str  # "relative", "absolute" or "poisson"
    direction: str  # "both", "low" (only below expected fails) or "high" (only above)
    pass_tol: float
    warn_tol: float
    description: str


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "power_at_load",
            "power",
            "kW",
            "relative",
            "both",
            0.05,
            0.10,
            "rack input power at full load vs power.input_kw",
        ),
        Metric(
            "coolant_flow",
            "volume_flow",
            "L/min",
            "relative",
            "both",
            0.10,
            0.20,
            "TCS coolant flow at full load vs thermal.coolant_flow_lpm",
        ),
        Metric(
            "coolant_delta_t",
            "temperature_difference",
            "K",
            "absolute",
            "both",
            1.0,
            2.0,
            "coolant return - supply at full load vs cooling.coolant_delta_t",
        ),
        Metric(
            "inlet_temperature",
            "temperature",
            "degC",
            "absolute",
            "high",
            2.0,
            4.0,
            "coolant supply (liquid) or air inlet (air) temperature vs the design's",
        ),
        Metric(
            "bus_bandwidth",
            "data_rate",
            "GB/s",
            "relative",
            "low",
            0.10,
            0.20,
            "NCCL all-reduce bus bandwidth in the scale-up domain vs bandwidth per direction x link efficiency",
        ),
        Metric(
            "step_time",
            "time",
            "s",
            "relative",
            "high",
            0.10,
            0.20,
            "step time of a reference run (named in `test`) vs rackwright.perf.api.train_report",
        ),
        Metric(
            "burn_in_failures",
            "burn_in",
            "failures",
            "poisson",
            "high",
            0.05,
            0.01,
            "failures during burn-in (unit: failures/<hours> h) vs the rack's catalog failure rate, Poisson test",
        ),
    )
}


#: The domain of validity (validity.DOMAINS) of each measured metric but burn-in failures (a count over hours).
QUANTITIES = {
    "power_at_load": "power",
    "coolant_flow": "volume_flow",
    "coolant_delta_t": "temperature_difference",
    "inlet_temperature": "temperature",
    "bus_bandwidth": "data_rate",
    "step_time": "time",
}


@dataclass(frozen=True)
class Measurement:
    row: int  # 1-based data row
    line: int | None  # file line (CSV)
    rack_id: str
    generation: str
    test: str
    metric: str
    value: float  # SI (or count for burn-in)
    unit: str
    timestamp: str
    hours: float | None = None  # burn-in duration


def _problem(m_row: int, line: int | None, column: str, message: str, hint: str = "") -> Problem:
    return Problem(f"row {m_row}: {message}", column, hint, line)


# --- reading ------------------------------------------------------------------------------


def _records(path: Path, text: str) -> list[tuple[int, int | None, dict]]:
    """``(row, line, record)`` of a CSV or JSON results file."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError.single(
                str(path), f"JSON syntax error: {exc.msg}", line=exc.lineno, column=exc.colno
            ) from None
        if isinstance(doc, dict) and isinstance(doc.get("results"), list):
            doc = doc["results"]
        if not isinstance(doc, list):
            raise InputError.single(str(path), 'a JSON results file is a list of measurements or {"results": [...]}')
        records: list[tuple[int, int | None, dict]] = []
        for i, item in enumerate(doc, start=1):
            if not isinstance(item, dict):
                raise InputError.single(
                    str(path), f"row {i}: a measurement is an object with {', '.join(COLUMNS)}", f"[{i - 1}]"
                )
            records.append((i, None, item))
        return records
    if suffix != ".csv":
        raise InputError.single(
            str(path),
            f"results must be a .csv or .json file, not {suffix or 'no extension'!r}",
            hint=f"a CSV with the header {','.join(COLUMNS)}",
        )
    try:
        reader = csv.reader(io.StringIO(text))
        rows = []
        header = None
        for fields in reader:
            if header is None:
                if not any(f.strip() for f in fields):
                    continue
                header = [f.strip().lower() for f in fields]
                header_line = reader.line_num
                continue
            if not any(f.strip() for f in fields):
                continue
            rows.append((reader.line_num, fields))
    except csv.Error as exc:
        raise InputError.single(str(path), f"CSV error: {exc}") from None
    if header is None:
        raise InputError.single(
            str(path), "the results file is empty", hint=f"start with the header {','.join(COLUMNS)}"
        )
    missing = [c for c in COLUMNS if c not in header]
    duplicated = sorted({c for c in header if header.count(c) > 1 and c})
    if missing or duplicated:
        what = (
            (f"missing column(s) {', '.join(missing)}" if missing else "")
            + ("; " if missing and duplicated else "")
            + (f"duplicated column(s) {', '.join(duplicated)}" if duplicated else "")
        )
        raise InputError.single(str(path), f"header: {what}", line=header_line, hint=f"use {','.join(COLUMNS)}")
    records = []
    for i, (line, fields) in enumerate(rows, start=1):
        if len(fields) != len(header):
            raise InputError.single(
                str(path),
                f"row {i}: {len(fields)} fields, the header has {len(header)}",
                line=line,
                hint="quote values that contain commas",
            )
        records.append((i, line, dict(zip(header, fields, strict=False))))
    return records


def _text(record: dict, key: str) -> str:
    value = record.get(key)
    return "" if value is None else str(value).strip()


def _measurement(row: int, line: int | None, record: dict, problems: list[Problem]) -> Measurement | None:
    start = len(problems)
    for key in COLUMNS:
        if key not in record:
            problems.append(_problem(row, line, key, "required field is missing", f"give all of {', '.join(COLUMNS)}"))
    if len(problems) > start:
        return None
    metric = _text(record, "metric")
    if metric not in METRICS:
        from difflib import get_close_matches

        close = get_close_matches(metric, METRICS, n=1)
        problems.append(
            _problem(
                row,
                line,
                "metric",
                f"unknown metric {metric!r}",
                f"did you mean {close[0]!r}?" if close else f"one of: {', '.join(METRICS)}",
            )
        )
        return None
    spec = METRICS[metric]
    for key in ("rack_id", "generation"):
        if not _text(record, key):
            problems.append(_problem(row, line, key, f"{key} is empty", "name the rack and its generation"))
    raw, unit = record.get("value"), _text(record, "unit")
    try:
        if raw is None or isinstance(raw, bool):
            raise ValueError
        number = float(raw) if not isinstance(raw, str) else float(raw.strip())
        if not math.isfinite(number):
            raise ValueError
    except (TypeError, ValueError):
        problems.append(_problem(row, line, "value", f"value {raw!r} is not a finite number", "write e.g. 121.5"))
        return None
    hours = None
    if spec.dimension == "burn_in":
        match = _BURN_IN_UNIT.match(unit)
        if not match:
            problems.append(
                _problem(
                    row,
                    line,
                    "unit",
                    f"{unit!r} is not a burn-in unit",
                    'write the failures with the burn-in duration, e.g. "failures/48 h"',
                )
            )
            return None
        hours = float(match.group(1)) * (24.0 if match.group(2).lower().startswith("d") else 1.0)
        if hours <= 0 or DOMAINS["count"].outside(number):
            problems.append(
                _problem(
                    row,
                    line,
                    "value",
                    "burn-in failures are a whole number ≥ 0 (at most 1e+06) over a positive duration",
                )
            )
            return None
        si = number
    else:
        try:
            si = parse_quantity(f"{number!r} {unit}", spec.dimension)
        except (UnitError, Exception):  # any unreadable unit text is the user's input error
            problems.append(
                _problem(
                    row,
                    line,
                    "unit",
                    f"{unit!r} is not a unit of {spec.dimension.replace('_', ' ')}",
                    f"{metric} is measured in e.g. {spec.display}",
                )
            )
            return None
        domain = DOMAINS[QUANTITIES[metric]]
        if domain.outside(si):  # (temperatures are in kelvin here)
            problems.append(_problem(row, line, "value", f"{metric}: {domain.problem(si)}", domain.why))
            return None
        if metric == "step_time" and si <= 0:
            problems.append(
                _problem(
                    row,
                    line,
                    "value",
                    f"a step time of {number!r} {unit}: no step takes no time",
                    "write the measured step time, e.g. 0.66 s",
                )
            )
            return None
    stamp = _text(record, "timestamp")
    try:
        datetime.fromisoformat(stamp.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        problems.append(
            _problem(row, line, "timestamp", f"timestamp {stamp!r} is not ISO 8601", "write e.g. 2026-03-02T14:05:00Z")
        )
        return None
    if len(problems) > start:
        return None
    return Measurement(
        row,
        line,
        _text(record, "rack_id"),
        _text(record, "generation"),
        _text(record, "test"),
        metric,
        si,
        unit,
        stamp,
        hours,
    )


def read_results(path: str | Path) -> list[Measurement]:
    """Parse a results file; every bad row is reported (InputError with row numbers and lines)."""
    path = Path(path)
    text = read_input_text(path, "a results file")
    problems: list[Problem] = []
    measurements = []
    for row, line, record in _records(path, text):
        m = _measurement(row, line, record, problems)
        if m is not None:
            measurements.append(m)
    if problems:
        raise InputError(str(path), problems)
    if not measurements:
        raise InputError.single(
            str(path), "the results file has no measurements", hint=f"add rows of {','.join(COLUMNS)}"
        )
    return measurements


# --- expectations -------------------------------------------------------------------------


@dataclass
class DesignContext:
    """What the models expect of one rack of a design (SI)."""

    name: str
    generation: str
    figures: dict[str, float]
    params: dict[str, float]
    scale_up_per_direction: float  # B/s per accelerator
    link_efficiency: float
    failure_rate_per_hour: float
    rack: Rack  # for the reference runs' step times (perf's train_report on the rack)
    step_times: dict[str, float]

    def step_time(self, test: str) -> float:
        if test not in self.step_times:
            from ..perf.api import train_report

            run = REFERENCE_RUNS[test]
            n = int(round(self.figures["compute.accelerators"]))
            dp = n // (run["tp"])
            doc = train_report(
                run["model"],
                self.rack,
                global_batch=dp * run["micro_batch"] * run["microbatches_per_rank"],
                micro_batch=run["micro_batch"],
                tp=run["tp"],
                distributed_optimizer=run["distributed_optimizer"],
                precision=run["precision"],
            )
            self.step_times[test] = float(doc["step_time_s"])
        return self.step_times[test]


def design_context(design: Rack) -> DesignContext:
    """Expected figures of one rack of an evaluated design (:func:`rackwright.evaluate`)."""
    from ..perf.efficiency import profile
    from ..perf.system import profile_of
    from ..rack.evaluation import sound_model

    model = sound_model(design, "qualify")
    figures = design.figures
    accelerators = figures["compute.accelerators"]
    parts = [i.part for i in model.items if i.part.kind == "accelerator"]
    efficiency = profile(profile_of(parts[0]) if parts else "xpu").scale_up_link
    per_direction = figures["network.scale_up_bandwidth"] / accelerators / 2.0 if accelerators else 0.0
    return DesignContext(
        design.name,
        design.generation,
        figures,
        model.params,
        per_direction,
        efficiency,
        figures["reliability.failures_per_year"] / HOURS_PER_YEAR,
        design,
        {},
    )


def _expected(ctx: DesignContext, m: Measurement, problems: list[Problem]) -> tuple[float | None, str]:
    """Expected SI value of a measurement and a note; a metric that does not apply adds a problem."""
    f = ctx.figures
    liquid = f.get("thermal.coolant_flow", 0.0) > 0
    if m.metric == "power_at_load":
        return f["power.input"], "power.input of the evaluation"
    if m.metric == "coolant_flow":
        if not liquid:
            problems.append(
                _problem(
                    m.row,
                    m.line,
                    "metric",
                    f"design {ctx.name!r} has no liquid cooling",
                    "coolant_flow applies to liquid-cooled racks",
                )
            )
            return None, ""
        return f["thermal.coolant_flow"], "thermal.coolant_flow of the evaluation"
    if m.metric == "coolant_delta_t":
        if not liquid:
            problems.append(
                _problem(
                    m.row,
                    m.line,
                    "metric",
                    f"design {ctx.name!r} has no liquid cooling",
                    "coolant_delta_t applies to liquid-cooled racks",
                )
            )
            return None, ""
        return ctx.params["cooling.coolant_delta_t"], "the design's cooling.coolant_delta_t"
    if m.metric == "inlet_temperature":
        if liquid:
            return f["thermal.tcs_supply"], "TCS supply temperature of the evaluation"
        return ctx.params["cooling.air_inlet"], "the design's cooling.air_inlet"
    if m.metric == "bus_bandwidth":
        if ctx.scale_up_per_direction <= 0:
            problems.append(_problem(m.row, m.line, "metric", f"design {ctx.name!r} has no scale-up bandwidth"))
            return None, ""
        return (
            ctx.scale_up_per_direction * ctx.link_efficiency,
            f"{ctx.scale_up_per_direction / 1e9:.0f} GB/s per direction x link efficiency {ctx.link_efficiency:.2f}",
        )
    if m.metric == "step_time":
        if m.test not in REFERENCE_RUNS:
            problems.append(
                _problem(
                    m.row,
                    m.line,
                    "test",
                    f"unknown reference run {m.test!r} for step_time",
                    f"name one of: {', '.join(REFERENCE_RUNS)}",
                )
            )
            return None, ""
        try:
            return ctx.step_time(m.test), f"perf train_report of {m.test} on one rack"
        except InputError as exc:
            problems.append(
                _problem(
                    m.row,
                    m.line,
                    "test",
                    f"reference run {m.test} cannot run on this design: {'; '.join(p.message for p in exc.problems)}",
                )
            )
            return None, ""
    if m.metric == "burn_in_failures":
        assert m.hours is not None  # a burn-in count is read with its hours (the unit failures/<hours> h)
        return ctx.failure_rate_per_hour * m.hours, f"catalog rack failure rate x {m.hours:g} h"
    raise AssertionError(m.metric)  # pragma: no cover - METRICS and this function list the same names


def _display(metric: Metric, si: float) -> float:
    if metric.dimension == "burn_in":
        return si
    return float(from_si(si, metric.display, metric.dimension))


def _verdict(metric: Metric, measured: float, expected: float, m: Measurement) -> dict:
    if metric.mode == "poisson":
        observed = int(round(measured))
        p = 1.0 - float(poisson_cdf(observed - 1, expected)) if observed > 0 else 1.0
        verdict = "pass" if p >= metric.pass_tol else "warn" if p >= metric.warn_tol else "fail"
        return {
            "deviation": observed - expected,
            "deviation_kind": "count",
            "p_value": p,
            "tolerance": {"pass": f"p >= {metric.pass_tol}", "warn": f"p >= {metric.warn_tol}"},
            "verdict": verdict,
        }
    if metric.mode == "relative":
        deviation = (measured - expected) / expected
    else:
        deviation = measured - expected
    against = {"both": abs(deviation), "low": max(-deviation, 0.0), "high": max(deviation, 0.0)}[metric.direction]
    verdict = "pass" if against <= metric.pass_tol + 1e-12 else "warn" if against <= metric.warn_tol + 1e-12 else "fail"
    return {
        "deviation": deviation,
        "deviation_kind": metric.mode,
        "tolerance": {"pass": metric.pass_tol, "warn": metric.warn_tol, "direction": metric.direction},
        "verdict": verdict,
    }


def _calibration(ctx: DesignContext, rows: list[dict]) -> list[str]:
    """Suggestions from all rows of each metric."""
    out = []
    by: dict[str, list[dict]] = {}
    for row in rows:
        by.setdefault(row["metric"], []).append(row)
    mean = lambda rs, key: sum(r[key] for r in rs) / len(rs)  # noqa: E731
    if "bus_bandwidth" in by:
        rs = by["bus_bandwidth"]
        implied = mean(rs, "measured") * 1e9 / ctx.scale_up_per_direction
        if abs(implied - ctx.link_efficiency) > 0.02:
            out.append(
                f"measured scale-up bus bandwidth ({mean(rs, 'measured'):.0f} GB/s, {len(rs)} rack(s)) implies "
                f"link efficiency {implied:.2f} vs the {ctx.link_efficiency:.2f} assumed "
                "(rackwright.perf.efficiency scale_up_link)"
            )
    if "power_at_load" in by:
        rs = by["power_at_load"]
        ratio = mean(rs, "measured") / mean(rs, "expected")
        if abs(ratio - 1) > 0.02:
            out.append(
                f"measured rack power is {ratio - 1:+.1%} vs the model ({mean(rs, 'measured'):.1f} vs "
                f"{mean(rs, 'expected'):.1f} kW): check parts.accelerator.power and the power-shelf efficiency"
            )
    if "coolant_flow" in by:
        rs = by["coolant_flow"]
        ratio = mean(rs, "measured") / mean(rs, "expected")
        if ratio == 0:
            out.append("no coolant flow was measured: check the CDU, its pumps and valves before calibrating the model")
        elif abs(ratio - 1) > 0.05:
            implied = ctx.params["cooling.coolant_delta_t"] / ratio
            out.append(
                f"measured coolant flow is {ratio - 1:+.1%} vs the model: at the modelled heat to liquid it "
                f"implies a coolant delta-T of {implied:.1f} K vs {ctx.params['cooling.coolant_delta_t']:.1f} K "
                "(or a different liquid fraction / heat load)"
            )
    if "coolant_delta_t" in by:
        rs = by["coolant_delta_t"]
        offset = mean(rs, "measured") - mean(rs, "expected")
        if abs(offset) > 0.5:
            out.append(
                f"measured coolant delta-T is {offset:+.1f} K vs the design's: set cooling.coolant_delta_t "
                f"to {mean(rs, 'measured'):.1f} K"
            )
    if "step_time" in by:
        rs = by["step_time"]
        ratio = mean(rs, "measured") / mean(rs, "expected")
        if abs(ratio - 1) > 0.03:
            out.append(
                f"measured reference step time is {ratio - 1:+.1%} vs the model: if compute-bound, a GEMM "
                f"efficiency about {1 / ratio:.2f} x the profile's would match"
            )
    if "burn_in_failures" in by:
        rs = by["burn_in_failures"]
        failures = sum(r["measured"] for r in rs)
        expected = sum(r["expected"] for r in rs)
        if failures > 0 and expected > 0 and failures / expected > 2:
            out.append(
                f"burn-in saw {failures:.0f} failure(s) where the catalog rates expect {expected:.2f}: an "
                f"early-life failure rate about {failures / expected:.0f} x the constant rate"
            )
    return out


def qualify(design: Rack, results: str | Path, racks: list[str] | None = None) -> dict:
    """Verdicts for every measurement of the file ``results`` against the expectations of an evaluated rack
    ``design`` (:func:`rackwright.evaluate`).

    ``racks``, when given, lists the racks under qualification; others are unknown racks.
    Raises :class:`InputError` (with row numbers) for bad rows.
    """
    if not isinstance(results, (str, Path)):
        raise InputError.single(None, f"results is a file path, not {type(results).__name__}", "results")
    if racks is not None and (isinstance(racks, str) or not all(isinstance(r, str) for r in racks)):
        raise InputError.single(None, f"racks is a list of rack ids, not {racks!r}", "--racks", 'e.g. ["R01", "R02"]')
    ctx = design_context(design)
    measurements = read_results(results)
    problems: list[Problem] = []
    generations: dict[str, str] = {}
    known = set(racks) if racks else None
    reported: set[tuple[str, str]] = set()
    for m in measurements:
        if known is not None and m.rack_id not in known:
            problems.append(
                _problem(
                    m.row,
                    m.line,
                    "rack_id",
                    f"unknown rack {m.rack_id!r}",
                    f"racks under qualification: {', '.join(sorted(known))}",
                )
            )
        if m.generation != ctx.generation and (m.rack_id, m.generation) not in reported:
            reported.add((m.rack_id, m.generation))
            problems.append(
                _problem(
                    m.row,
                    m.line,
                    "generation",
                    f"rack {m.rack_id!r} is of generation {m.generation!r}, the design "
                    f"{ctx.name!r} is {ctx.generation!r}",
                    "qualify it against its own design",
                )
            )
        first = generations.setdefault(m.rack_id, m.generation)
        if first != m.generation:
            problems.append(
                _problem(
                    m.row,
                    m.line,
                    "generation",
                    f"rack {m.rack_id!r} appears with generations {first!r} and {m.generation!r}",
                )
            )
    if problems:
        raise InputError(str(results), problems)
    rows = []
    for m in measurements:
        expected, note = _expected(ctx, m, problems)
        if expected is None:
            continue
        metric = METRICS[m.metric]
        measured_d, expected_d = _display(metric, m.value), _display(metric, expected)
        verdict = _verdict(
            metric,
            m.value if metric.mode == "poisson" else measured_d,
            expected if metric.mode == "poisson" else expected_d,
            m,
        )
        rows.append(
            {
                "row": m.row,
                "rack_id": m.rack_id,
                "generation": m.generation,
                "test": m.test,
                "metric": m.metric,
                "measured": measured_d,
                "expected": expected_d,
                "unit": metric.display,
                "timestamp": m.timestamp,
                **verdict,
                "basis": note,
                **({"hours": m.hours} if m.hours is not None else {}),
            }
        )
    if problems:
        raise InputError(str(results), problems)
    summary = {v: sum(1 for r in rows if r["verdict"] == v) for v in VERDICTS}
    return {
        "design": ctx.name,
        "generation": ctx.generation,
        "results": str(results),
        "summary": summary,
        "measurements": rows,
        "calibration": _calibration(ctx, rows),
    }


__all__ = ["qualify", "read_results", "design_context", "METRICS", "REFERENCE_RUNS", "COLUMNS", "Measurement", "Metric"]

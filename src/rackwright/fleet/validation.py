"""Hold the fleet failure model against a published training run (``validation/reliability/*.yaml``).

The case file holds only published figures and the test's tolerances. :func:`compare_case`
runs :func:`rackwright.fleet.goodput.job_report` on the case's design and job, and returns
one row per validated quantity with how much of the prediction is independent of the case:
a cause whose rate, events per failure or interrupt share was set from the Llama 3 paper
(or whose catalog AFR cites it) is *Llama-3-derived*. Two independent cross-checks come with
it: other clusters' all-cause failure rates per node-day (``cross_check``) and another cluster's
node faults per cause group per server-day (``cause_check``), both scaled to the case's hosts and
days. :func:`case_markdown` renders the tables of ``docs/reliability.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..yamlio import read_yaml, to_plain
from .failures import CATEGORIES, HOURS_PER_DAY
from .goodput import job_report

CASES_DIR = Path("validation") / "reliability"
LLAMA3_CASE = CASES_DIR / "llama3-405b.yaml"


@dataclass(frozen=True)
class Row:
    """One validated quantity: published vs predicted, the error, the tolerance (None: shown, not tested)."""

    quantity: str
    published: float
    predicted: float
    kind: str  # "count" (relative error) or "share" (error in share points) or "bound" (predicted ≥ published)
    tolerance: float | None
    independent: float  # fraction of the prediction that does not rest on the case's own data
    note: str = ""

    @property
    def error(self) -> float:
        if self.kind == "share":
            return self.predicted - self.published
        if self.kind == "bound":
            return self.predicted - self.published
        return (self.predicted - self.published) / self.published

    @property
    def within(self) -> bool | None:
        if self.tolerance is None:
            return None
        if self.kind == "bound":
            return self.predicted >= self.published - self.tolerance
        return abs(self.error) <= self.tolerance + 1e-12


@dataclass
class CaseResult:
    case: str
    design: str
    accelerators: int
    days: float
    rows: list[Row]
    groups: list[Row]
    report: dict = field(repr=False)
    cross_check: dict[str, float] = field(default_factory=dict)  # interruptions implied by other clusters' rates
    cause_check: dict[str, float] = field(default_factory=dict)  # per cause group, implied by another cluster's faults
    cause_check_source: str = ""

    @property
    def predicted(self) -> float:
        return self.row("unexpected interruptions").predicted

    def row(self, quantity: str) -> Row:
        return next(r for r in self.rows if r.quantity == quantity)


def _independent(report: dict, kinds) -> float:
    causes = [report["by_cause"][k] for k in kinds if k in report["by_cause"]]
    total = sum(c["interruptions_per_day"] for c in causes)
    free = sum(c["interruptions_per_day"] for c in causes if not c["llama3_derived"])
    return free / total if total else 1.0


def compare_case(path: str | Path = LLAMA3_CASE, root: str | Path = ".") -> CaseResult:
    """Predict the case's interruptions and goodput and compare them with the published figures (the case file is
    a file edge: the design it names is evaluated here)."""
    from ..rack.evaluation import sound_design

    root = Path(root)
    case = to_plain(read_yaml(root / path))
    days = float(case["days"])
    report = job_report(
        sound_design(root / case["design"]),
        int(case["accelerators"]),
        model=case.get("model", "llama3-405b"),
        oversubscription=float(case.get("fabric", {}).get("top_oversubscription", 1.0)),
    )
    counts = {row["cause"]: row["count"] for row in case["root_causes"]}
    unexpected = float(case["published"]["unexpected"])
    assert abs(sum(counts.values()) - unexpected) < 0.5, "root-cause counts must sum to the unexpected interruptions"
    by_kind = {kind: cause["interruptions_per_day"] * days for kind, cause in report["by_cause"].items()}
    predicted = sum(by_kind.values())
    kinds_of = {cat: [k for k, c in report["by_cause"].items() if c["category"] == cat] for cat in CATEGORIES}
    published_cat = {cat: sum(r["count"] for r in case["root_causes"] if r["category"] == cat) for cat in CATEGORIES}
    tol = case["tolerances"]
    rows = [
        Row(
            "unexpected interruptions",
            unexpected,
            predicted,
            "count",
            tol["unexpected"],
            _independent(report, report["by_cause"]),
            f"{days:g} days, {case['accelerators']:,} accelerators",
        ),
        Row(
            "mean time between interruptions (h)",
            days * HOURS_PER_DAY / unexpected,
            report["mtbi_h"],
            "count",
            None,
            _independent(report, report["by_cause"]),
            "follows from the count",
        ),
    ]
    for cat in CATEGORIES:
        share = published_cat[cat] / unexpected
        tolerance = share_tolerance(share, unexpected) if cat in tol["shares"] else None
        rows.append(
            Row(
                f"{cat} share",
                share,
                report["by_category"][cat] * days / predicted,
                "share",
                tolerance,
                _independent(report, kinds_of[cat]),
                "",
            )
        )
    rows.append(
        Row(
            "effective training time (lower bound)",
            float(case["published"]["effective_training_time_min"]),
            report["goodput"],
            "bound",
            0.0,
            0.0,
            "model goodput (unexpected interruptions only) vs the paper's '>90 %'",
        )
    )
    cross = {}
    check = case.get("cross_check")
    if check:
        cross = {
            name.upper(): rate / 1000.0 * check["nodes"] * days for name, rate in check["per_1000_node_days"].items()
        }
    cause_check, cause_source = _cause_check(case, days)
    groups = []
    for group in case["groups"]:
        published = float(sum(counts[name] for name in group["published"]))
        value = sum(by_kind.get(kind, 0.0) for kind in group["model"])
        groups.append(Row(group["name"], published, value, "count", None, _independent(report, group["model"])))
    return CaseResult(
        case["case"],
        case["design"],
        int(case["accelerators"]),
        days,
        rows,
        groups,
        report,
        cross,
        cause_check,
        cause_source,
    )


def _cause_check(case: dict, days: float) -> tuple[dict[str, float], str]:
    """Another cluster's fault counts per cause group, scaled per server-day to the case's hosts and days."""
    check = case.get("cause_check")
    if not check:
        return {}, ""
    scale = float(case["cross_check"]["nodes"]) * days / (float(check["servers"]) * float(check["days"]))
    return {name: count * scale for name, count in check["counts"].items()}, check["source"]["title"]


def share_tolerance(share: float, events: float) -> float:
    """Two binomial standard errors of a published share, ``2·√(p(1−p)/N)``: the counting noise of the
    published mix itself, fixed before looking at any prediction (e.g. 8.4 % of 419 → ±2.7 points)."""
    return 2.0 * (share * (1.0 - share) / events) ** 0.5


def _independence(fraction: float) -> str:
    if fraction >= 0.999:
        return "yes"
    if fraction <= 0.001:
        return "no"
    return f"partly ({fraction:.0%})" if fraction >= 0.01 else "partly (<1%)"


def _fmt(row: Row, value: float) -> str:
    if row.kind in ("share", "bound"):
        return f"{value:.1%}"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def case_markdown(result: CaseResult) -> str:
    """The validation table and the per-cause table (Markdown) of ``docs/reliability.md``."""
    lines = [
        f"Case: {result.case}; design `{result.design}` scaled to {result.accelerators:,} accelerators.",
        "",
        "| quantity | published | predicted | error | tolerance | within | independent of Llama 3 |",
        "|---|---:|---:|---:|---:|:---:|---|",
    ]
    for row in result.rows:
        if row.kind == "share":
            error, tol = (
                f"{100 * row.error:+.1f} pts",
                ("" if row.tolerance is None else f"±{100 * row.tolerance:.0f} pts"),
            )
        elif row.kind == "bound":
            error, tol = f"{100 * row.error:+.1f} pts", "≥ published"
        else:
            error, tol = f"{row.error:+.1%}", ("" if row.tolerance is None else f"±{row.tolerance:.0%}")
        within = {None: "", True: "yes", False: "**no**"}[row.within]
        lines.append(
            f"| {row.quantity} | {_fmt(row, row.published)} | {_fmt(row, row.predicted)} | {error} | {tol} "
            f"| {within} | {_independence(row.independent)} |"
        )
    lines += [
        "",
        "| cause group | Table 5 count | predicted | predicted / published | independent of Llama 3 "
        "| StepFun trace, same job |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for row in result.groups:
        ratio = f"{row.predicted / row.published:.2f}" if row.published else "–"
        check = result.cause_check.get(row.quantity)
        lines.append(
            f"| {row.quantity} | {row.published:.0f} | {row.predicted:.1f} | {ratio} | "
            f"{_independence(row.independent)} | {'–' if check is None else f'{check:.1f}'} |"
        )
    if result.cause_check:
        lines += ["", f"StepFun trace: node faults by class ({result.cause_check_source}), scaled per server-day."]
    if result.cross_check:
        lines += ["", "| unexpected interruptions in the same job | count |", "|---|---:|"]
        lines += [
            f"| implied by Meta {name} (Kokolis et al. 2025, A100) | {value:,.0f} |"
            for name, value in result.cross_check.items()
        ]
        lines += [
            f"| published (Llama 3 Table 5) | {result.row('unexpected interruptions').published:,.0f} |",
            f"| predicted by rackwright | {result.predicted:,.0f} |",
        ]
    return "\n".join(lines) + "\n"


__all__ = ["Row", "CaseResult", "compare_case", "case_markdown", "LLAMA3_CASE"]

"""The site planner against published site and fabric facts, at the tolerances stated a priori."""

from pathlib import Path

import pytest

from rackwright.site.validation import compare_sites

ROOT = Path(__file__).resolve().parents[1]
ROWS = compare_sites(ROOT)


def test_cases_cover_the_issue():
    cases = " ".join(r.case for r in ROWS)
    for needle in ("SuperPOD", "Colossus", "Abilene", "PUE"):
        assert needle in cases


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.case}:{r.figure}" for r in ROWS])
def test_within_tolerance_or_known_deviation(row):
    assert row.within or row.known_deviation, (
        f"{row.case} {row.figure}: computed {row.computed:.4g} vs published {row.published:.4g} "
        f"({row.error:+.1%}, tolerance ±{row.tolerance:.0%})")

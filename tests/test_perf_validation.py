"""Published training runs predicted with one efficiency set per accelerator type (issue 4: ±10 %).

Runs outside the tolerance are strict xfails with the reason, so an improvement of the model shows up as an
unexpected pass (then move the run out of KNOWN_OUTSIDE and update docs/perf-model.md). The same holds for the
memory verdict: every published configuration ran, so each must be predicted to fit, except the strict xfails of
KNOWN_NOT_FITTING.
"""

from pathlib import Path

import pytest

from rackwright.perf.validation import TOLERANCE, compare_runs

ROOT = Path(__file__).resolve().parents[1]
ROWS = compare_runs(ROOT)
B200 = ("over-predicted: the b200 profile reuses the H100 efficiencies (an assumption, docs/perf-model.md); on "
        "NeMo 25.02's DGX-B200 rows it is {} too fast")
SMALL = ("over-predicted by {}: small models on H100 (h ≤ 6144) run below the model's flat GEMM and attention "
         "efficiencies")
KNOWN_OUTSIDE = {
    "llama3-405b-8192": "over-predicted by ~24 %: stragglers and collective costs at 8K-16K GPUs on RoCE not modelled "
                        "(docs/perf-model.md)",
    "llama3-405b-16384": "over-predicted by ~23 %: as above",
    "llama3-405b-16384-cp16-128k": "over-predicted by ~54 %: MFU counting of causal attention unknown (docs/perf-model.md)",
    "nemo2502-b200-gpt3-175b-512": B200.format("~18 %"),
    "nemo2502-b200-llama3-8b-8": B200.format("~28 %"),
    "nemo2502-b200-llama3-70b-64": B200.format("~25 %"),
    "nemo2502-b200-llama3-405b-128": B200.format("~22 %"),
    "nemo2502-b200-nemotron4-15b-64": B200.format("~45 %"),
    "nemo2502-b200-nemotron4-340b-128": B200.format("~31 %"),
    "nemo2502-b200-mixtral-8x7b-64": B200.format("~49 %") + "; router, permutation and load imbalance not modelled",
    "nemo2502-b200-mixtral-8x22b-256": B200.format("~45 %") + "; router, permutation and load imbalance not modelled",
    "nemo2407-h100-gpt3-5b-64": SMALL.format("~13 %"),
    "nemo2407-h100-gpt3-20b-64": SMALL.format("~11 %") + " (FP8 parameters and BF16 gradients assumed)",
    "nemo2407-h100-nemotron3-8b-64": SMALL.format("~18 %"),
    "nemo2407-h100-llama3-8b-8": SMALL.format("~17 %"),
    "nemo2407-h100-llama2-70b-64": "under-predicted by ~10 % (just outside): large FP8 GEMMs reach more than the flat "
                                   "0.58 of the FP8 peak (DeepGEMM: 0.65-0.69 at K ≥ 7K)",
    "mlperf41-oracle-h100-gpt3-3072": "over-predicted by ~16 %: at 3,072 GPUs on OCI's RoCE fabric (400 Gb/s per GPU "
                                      "assumed) the pipeline bubble and DP traffic cost more than the model's ideal rings",
}
KNOWN_NOT_FITTING = {
    "llama3-405b-8192": "88-95 GB predicted: Meta's pipeline schedule and memory balancing not modelled",
    "llama3-405b-16384": "as above",
    "llama3-405b-16384-cp16-128k": "as above",
    "nemo2407-h100-nemotron4-340b-128": "80.4 GB predicted against 79.6 GB usable (1 % over)",
}


def test_all_published_runs_are_predicted():
    assert len(ROWS) >= 37
    assert sum(r.run.startswith("megatron") for r in ROWS) == 10
    assert sum(r.run.startswith(("nemo", "mlperf")) for r in ROWS) == 24


@pytest.mark.parametrize("row", ROWS, ids=[r.run for r in ROWS])
def test_run_within_ten_percent(row):
    if row.run in KNOWN_OUTSIDE:
        pytest.xfail(KNOWN_OUTSIDE[row.run]) if not row.within else pytest.fail(
            f"{row.run} is now within tolerance: update KNOWN_OUTSIDE and docs/perf-model.md")
    assert abs(row.error) <= TOLERANCE, f"{row.run}: predicted {row.predicted:.4g} vs {row.published:.4g}"


@pytest.mark.parametrize("row", ROWS, ids=[r.run for r in ROWS])
def test_published_configuration_fits_in_memory(row):
    if row.run in KNOWN_NOT_FITTING:
        pytest.xfail(KNOWN_NOT_FITTING[row.run]) if not row.fits else pytest.fail(
            f"{row.run} now fits: update KNOWN_NOT_FITTING and docs/perf-model.md")
    assert row.fits, f"{row.run} ran, but the model says it does not fit"


def test_megatron_runs_fit_in_memory():
    assert all(r.fits for r in ROWS if r.run.startswith("megatron"))

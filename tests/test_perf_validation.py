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
FEW_MICROBATCHES = ("over-predicted by {}: {} micro-batches per step and DP over InfiniBand; without DP overlap the "
                    "model gives {} (docs/perf-model.md: an overlapped collective costs only its SMs). Not a B200 "
                    "rate: the NeMo 25.02 B200 rows miss a near-constant 0.14-0.50 s per step while MLPerf's B200 "
                    "run is under-predicted (validation/kernel_figures.md, 'Blackwell (B200) GEMM')")
MOE = ("over-predicted by {}: MoE on B200; routing, small-expert GEMMs and NeMo's token drop at capacity factor 1.0 "
       "with padding (every expert computes the mean load; ~{} with the dropless 1.125) are modelled, {} "
       "(docs/perf-model.md); no primary B200 GEMM rate supports a B200 derate (validation/kernel_figures.md)")
KNOWN_OUTSIDE = {
    # The Llama 3 rows shard their gradients (FSDP, zero2): the model reduce-scatters the FP32 gradients of a stage
    # every micro-batch, as ZeRO-2 does; Meta's schedule runs N contiguous micro-batches per chunk and may reduce
    # once per group (not printed). Before zero2 they were over-predicted by ~19 %, ~17 % and ~45 %.
    "llama3-405b-8192": "under-predicted by ~13 %: the FP32 gradient reduce-scatter every micro-batch (zero2) is "
                        "exposed over RoCE behind each backward (+9.7 % were it hidden behind the whole "
                        "micro-batch; §3.3.2 does not say where Meta's FSDP waits); stragglers at 8K-16K GPUs not "
                        "modelled (docs/perf-model.md)",
    "llama3-405b-16384": "under-predicted by ~14 %: as above (+8.4 % behind the whole micro-batch); it now fits in "
                         "memory (76.6 GB)",
    "llama3-405b-16384-cp16-128k": "over-predicted by ~34 % (~37 % with the p2p ring; §3.3.2's all-gather CP now "
                                   "costs its exposed K,V all-gathers): the paper's MFU cites PaLM's full-attention "
                                   "count, the model's own, so no counting artefact; the document mask and its "
                                   "imbalance are not modelled; it fits in memory (76.8 GB) (docs/perf-model.md)",
    # nemo2502-b200-llama3-70b-64 (+12.1 %) passes since CP's ring attention costs its merges and last dK,dV (+9.9 %).
    # nemo2502-b200-llama3-405b-128 (+12.4 %) passes since CP's ring and TP overlap cost what they expose (+8.8 %).
    # Nemotron rows: +17.6 % and +19.0 % before NeMo's eager squared ReLU (two kernels) was charged.
    # B200 rows rose 1.8-5.4 points when the wave term was dropped and k0 refitted with the tile factor alone (B200
    # BF16 k0 740 -> 620): +10.9, +11.8, +15.8 and +16.4 % with the wave term.
    "nemo2502-b200-nemotron4-15b-64": FEW_MICROBATCHES.format("~15 %", 2, "-0.2 %"),
    "nemo2502-b200-nemotron4-340b-128": FEW_MICROBATCHES.format("~17 %", 8, "-11 %"),
    "nemo2502-b200-mixtral-8x7b-64": MOE.format("~18.6 %", "10.1 %", "expert gradients over the 8-GPU expert-DP "
                                                "group across nodes; DP overlap with 2 micro-batches per step as above"),
    "nemo2502-b200-mixtral-8x22b-256": MOE.format("~18.2 %", "14.6 %", "ring attention at CP 8 (60 % of the step) at "
                                                  "the B200 attention efficiency"),
    # nemo2502-h100-gpt3-175b-512 (-8.6 %, added 2026-12-08, the 25.02 page's first DGX-H100 row) passes; same
    # shares as mlperf41-nvidia-h100-gpt3-512 (-8.3 %): GEMM 79 % of the step.
    # nemo2407-h100-nemotron3-22b-64 (+10.3 %) passes since the loss over its 256K vocabulary costs its HBM passes
    # (+3.8 %).
    "mlperf41-nvidia-h100-gpt3-256": "under-predicted by ~10.2 % (~10.0 % before the M × N tile factor, ~10.9 % with "
                                     "a wave term too): overlapped TP is charged its last chunks and SMs as NeMo's "
                                     "configurations run it, and the loss its HBM passes; MLPerf's tuned submission "
                                     "hides more (docs/perf-model.md)",
    # mlperf41-oracle-h100-gpt3-3072 (+10.2 %) passes since overlapped TP costs its last chunks and SMs (+7.2 %).
    # nemo2407-h100-llama2-70b-64 (-7.2 %), nemo2407-h100-llama3-70b-64 (-8.1 %) and mlperf41-nvidia-b200-gpt3-64
    # (-7.2 %) pass again since the GEMM shape charges tile quantization only, not waves (Stream-K): -10.5, -11.0 and
    # -12.6 % with the wave term.
    "nemo2407-h100-nemotron4-340b-128": "under-predicted by ~10.2 % (-9.9 % before the M × N tile factor, with k0 "
                                        "300; -11.5 % with a wave term too): the H100 BF16 k0 refitted to 310 with "
                                        "the tile factor; stream-K's fix-up and 24.07's kernels are not modelled; "
                                        "it does not fit in memory by 1 % (docs/perf-model.md)",
}
KNOWN_NOT_FITTING = {
    # llama3-405b-16384 and -cp16-128k fit since their gradients are sharded (zero2, as §3.3.2 states): 76.6 GB.
    "llama3-405b-8192": "83.9 GB predicted against 79.6 GB usable: with M = 32 micro-batches (2 x PP, micro-batch 1 "
                        "assumed) Megatron's interleaved schedule holds 141 layer x micro-batch activations "
                        "(0.53 GB each) on the second stage; Meta's own schedule (N contiguous micro-batches) and "
                        "micro-batch are not printed (docs/perf-model.md)",
    # Checked tensor by tensor against TE 1.x / Megatron-Core (nothing counted twice): 57.7 GB states on the first
    # stage (5.77B parameters x 10 bytes: FP8 weights row- and column-wise 2, BF16 gradients 2, FP32 master and Adam
    # 12 / DP 2), 22.7 GB activations (103 one-layer chunks in flight x 0.22 GB).
    "nemo2407-h100-nemotron4-340b-128": "80.4 GB predicted against 79.6 GB usable (1 % over): the 0.8 GB lies "
                                        "inside the unsourced reserve of usable HBM (5 % + 2 GB), not changed to "
                                        "pass; 24.07's optimizer and parameter precision are not printed",
}


def test_all_published_runs_are_predicted():
    assert len(ROWS) >= 38
    assert sum(r.run.startswith("megatron") for r in ROWS) == 10
    assert sum(r.run.startswith(("nemo", "mlperf")) for r in ROWS) == 25


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

"""The benchmark script runs end to end on tiny inputs (timings are reported, never asserted)."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_rack_eval.py"


def test_benchmark_runs_on_tiny_inputs(capsys):
    spec = importlib.util.spec_from_file_location("bench_rack_eval", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--batch", "1000", "--loop", "3"])
    assert result["batch_per_s"] > 0 and result["loop_per_s"] > 0
    assert "ratio" in capsys.readouterr().out


def test_perf_search_benchmark_runs(capsys):
    spec = importlib.util.spec_from_file_location("bench_perf_search", BENCH.parent / "bench_perf_search.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.main(["--loop-sample", "5"])
    assert len(rows) == 2 and all(row["valid"] > 0 for row in rows)
    assert "configurations/s" in capsys.readouterr().out

"""The server benchmark runs end to end on a tiny load (timings are reported, never asserted)."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_server.py"


def test_server_benchmark_runs_briefly(capsys):
    spec = importlib.util.spec_from_file_location("bench_server", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.main(["--clients", "4", "--seconds", "1", "--db", "sqlite", "--write-share", "0.3"])
    runs = [results["sqlite"]["saturation"], *results["sqlite"]["offered"]]
    assert len(runs) == 4  # saturation and the three default offered loads
    assert all(run["requests"] > 0 and run["errors"] == 0 and run["lost"] == 0 for run in runs)
    printed = capsys.readouterr().out
    assert "ratio 4 clients / 1 client" in printed and "target read p99 < 50 ms with 4 clients" in printed

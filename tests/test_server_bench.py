"""The server benchmark runs end to end on a tiny load (timings are reported, never asserted)."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_server.py"


def test_server_benchmark_runs_briefly(capsys):
    spec = importlib.util.spec_from_file_location("bench_server", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.main(["--clients", "4", "--seconds", "1", "--db", "sqlite", "--write-share", "0.3"])
    loaded = results["sqlite"]["loaded"]
    assert loaded["requests"] > 0 and loaded["errors"] == 0 and loaded["lost"] == 0
    assert "ratio 4 clients / 1 client" in capsys.readouterr().out

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
    # GPT-3 175B on 1,024 A100, Llama 3 405B on 16,384 H100 and the MoE case (Mixtral 8x7B on 1,024 H100)
    assert [row["model"] for row in rows] == ["gpt3-175b", "llama3-405b", "mixtral-8x7b"]
    assert all(row["valid"] > 0 for row in rows)
    assert "configurations/s" in capsys.readouterr().out


def test_startup_benchmark_runs(capsys):
    spec = importlib.util.spec_from_file_location("bench_startup", BENCH.parent / "bench_startup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ratios = module.main(["--repeats", "1"])
    assert set(ratios) == {"rackwright --help", "rackwright check examples/gb300-nvl72.yaml"}
    assert all(ratio > 0 for ratio in ratios.values()) and "target" in capsys.readouterr().out


def test_the_cached_catalog_is_the_validated_one(tmp_path, monkeypatch):
    from rackwright.catalog import loader

    monkeypatch.setenv("RACKWRIGHT_CACHE_DIR", str(tmp_path))
    fresh = loader.builtin_families()  # validated, then written to the cache
    (cached_file,) = tmp_path.glob("catalog-*.pickle")
    cached = loader.builtin_families()
    assert {f: [p.model_dump() for p in parts] for f, parts in cached.items()} == \
        {f: [p.model_dump() for p in parts] for f, parts in fresh.items()}
    cached_file.write_bytes(b"not a pickle")  # a damaged entry is validated afresh and rewritten
    assert len(loader.builtin_families()) == len(fresh) and cached_file.read_bytes() != b"not a pickle"
    monkeypatch.setenv("RACKWRIGHT_CACHE_DIR", "off")
    assert loader._cache_file() is None


def test_an_edited_catalog_file_is_not_read_from_the_cache(tmp_path, monkeypatch):
    import shutil

    from rackwright.catalog import loader

    monkeypatch.setenv("RACKWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    data = shutil.copytree(loader.DATA_DIR, tmp_path / "data")
    monkeypatch.setattr(loader, "DATA_DIR", data)
    before = loader._cache_file()
    power = data / "power.yaml"
    power.write_text(power.read_text() + "\n")
    assert loader._cache_file() != before

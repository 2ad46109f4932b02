"""Local attention (sliding window, chunked): key positions, FLOPs, training attention time, KV cache and bad input,
against hand counts."""

import numpy as np
import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.perf.inference import infer
from rackwright.perf.system import load_system
from rackwright.perf.training import Parallelism, train_step
from rackwright.perf.workload import ModelSpec, causal_key_positions, load_model

TOY = {"name": "toy", "layers": 4, "hidden": 4096, "heads": 32, "ffn_hidden": 1024, "ffn_type": "gelu",
       "vocab": 1024, "seq_len": 32768}


def sliding_share(s, w):
    """Key positions of a sliding-window layer over a causal one's, by the hand formula (s ≥ w)."""
    return (w * (w + 1) / 2 + (s - w) * w) / (s * (s + 1) / 2)


def brute_force(s, w, kind):
    """Pairs (i, j) with j ≤ i that the mask keeps: sliding ``i − w < j``, chunked ``j // w == i // w``."""
    keep = (lambda i, j: j > i - w) if kind == "sliding" else (lambda i, j: j // w == i // w)
    return sum(1 for i in range(s) for j in range(i + 1) if keep(i, j))


@pytest.mark.parametrize("s, w, kind, hand", [
    (5, 3, "sliding", 1 + 2 + 3 + 3 + 3),        # w(w+1)/2 + (s − w)·w = 6 + 6
    (2, 3, "sliding", 1 + 2),                    # s < w: s(s+1)/2
    (3, 3, "sliding", 6),                        # s = w
    (10, 1, "sliding", 10),                      # each token sees itself only
    (7, 3, "chunked", 6 + 6 + 1),                # s = 2·3 + 1: 2 chunks of 3·4/2, one of 1
    (6, 3, "chunked", 12),                       # s = 2·3 + 0
    (2, 3, "chunked", 3),                        # s < c
])
def test_key_positions_by_hand(s, w, kind, hand):
    assert causal_key_positions(s, w, kind) == hand == brute_force(s, w, kind)


def test_key_positions_full_and_arrays():
    assert causal_key_positions(10) == 55
    np.testing.assert_array_equal(causal_key_positions(np.array([1, 4, 8]), 4), [1, 10, 10 + 4 * 4])
    np.testing.assert_array_equal(causal_key_positions(np.array([1, 4, 9]), 4, "chunked"), [1, 10, 10 + 10 + 1])


def test_no_window_model_unchanged():
    m = load_model("llama3-8b")  # 32 layers, 32 heads of 128
    assert m.attention_window is None and m.local_layers == 0 and m.attention_share(8192) == 1.0
    assert m.attention_flops_per_token(8192) == 32 * 2 * 8192 * 32 * (128 + 128)  # 4·L·s·h
    assert m.kv_cache_bytes(1000, 2) == 1000 * m.kv_cache_bytes_per_token(2)


def test_gpt_oss_layers_and_attention_flops():
    m = load_model("gpt-oss-120b")
    assert (m.local_layers, m.attention_window, m.local_attention) == (18, 128, "sliding")
    # s = 4,096, w = 128: local 128·129/2 + 3,968·128 = 516,160 key positions, causal 4,096·4,097/2 = 8,390,656
    share = (18 + 18 * 516_160 / 8_390_656) / 36
    full = 36 * 2 * 4096 * 64 * (64 + 64)
    assert m.attention_flops_per_token(4096) == pytest.approx(full * share, rel=1e-12)
    assert m.attention_flops_per_token(4096, windowed=False) == full
    assert m.forward_flops_per_token(4096) == pytest.approx(2 * m.matmul_params_per_token + full * share, rel=1e-12)


@pytest.mark.parametrize("name, total, active", [("gpt-oss-120b", 116.8e9, 5.1e9), ("gpt-oss-20b", 20.9e9, 3.6e9)])
def test_gpt_oss_params_match_published(name, total, active):
    m = load_model(name)
    assert (m.published_params, m.published_active_params) == (total, active)
    assert m.total_params == pytest.approx(total, rel=0.03)
    # The model card's active count leaves out the input embedding (a look-up): matmul_params_per_token.
    assert m.matmul_params_per_token == pytest.approx(active, rel=0.05)


def test_chunked_pattern():
    m = ModelSpec(**TOY, attention_window=8192, local_attention="chunked", global_every=4)
    assert m.local_layers == 3  # layers 1–3 chunked, layer 4 global (Llama 4's 3 of every 4)
    s = 20_000  # 2 chunks of 8,192 and 3,616
    local = 2 * 8192 * 8193 / 2 + 3616 * 3617 / 2
    assert m.attention_share(s) == pytest.approx((1 + 3 * local / (s * (s + 1) / 2)) / 4, rel=1e-12)
    # KV cache: the global layer holds all 20,000 tokens, each chunked layer one chunk; 32 KV heads of 128, BF16
    assert m.kv_cache_bytes(s, 2) == (20_000 + 3 * 8192) * 2 * 32 * 128 * 2


def _attention_time(**window):
    system = load_system("dgx-h100-ndr")
    par = Parallelism(tp=1, pp=1, dp=8, micro_batch=1)
    return float(train_step(ModelSpec(**TOY, **window), system, par, 8)["breakdown"]["attention"])


def test_training_attention_time_scales_with_key_positions():
    s, w = 32768, 1024
    ratio, ratio_2w = sliding_share(s, w), sliding_share(s, 2 * w)
    full, local, wide = _attention_time(), _attention_time(attention_window=w), _attention_time(attention_window=2 * w)
    # The time is a·share + b (b the kernel launches, the same in all three): the differences are exact.
    assert (local - full) / (wide - full) == pytest.approx((ratio - 1) / (ratio_2w - 1), rel=1e-9)
    assert local / full == pytest.approx(ratio, rel=5e-3)  # attention dominates the launches (0.3 % here)


def test_kv_cache_of_local_layers_capped_at_window():
    m = load_model("gpt-oss-20b")  # 24 layers, 12 local (w = 128), 8 KV heads of 64
    per_layer_token = 2 * 8 * 64 * 2  # K and V, BF16
    assert m.kv_cache_bytes(4096, 2) == (12 * 4096 + 12 * 128) * per_layer_token
    assert m.kv_cache_bytes(100, 2) == 24 * 100 * per_layer_token  # under the window: all layers hold it all
    result = infer(m, load_system("dgx-h100-ndr"), batch=2, input_tokens=3000, output_tokens=1096, tp=1)
    kv = result["memory_bytes_per_accelerator"] - m.total_params * 2
    assert kv == pytest.approx(2 * (12 * 4096 + 12 * 128) * per_layer_token, rel=1e-9)


@pytest.mark.parametrize("extra, fragment", [
    ("attention_window: 0\n", "attention_window"),
    ("attention_window: -5\n", "attention_window"),
    ("local_attention: chunked\n", "local_attention needs attention_window"),
    ("global_every: 2\n", "global_every needs attention_window"),
    ("attention_window: 128\nglobal_every: 1\n", "global_every = 1 must lie between 2 and layers = 4"),
    ("attention_window: 128\nglobal_every: 5\n", "global_every = 5 must lie between 2 and layers = 4"),
    ("attention_window: 128\nlocal_attention: banded\n", "local_attention"),
])
def test_bad_window_input_exits_2(tmp_path, extra, fragment):
    path = tmp_path / "toy.yaml"
    path.write_text("".join(f"{k}: {v}\n" for k, v in TOY.items()) + extra)
    result = CliRunner().invoke(app, ["perf", "train", "--model", str(path), "--system", "dgx-h100-ndr",
                                      "--accelerators", "8", "--global-batch", "8"])
    assert result.exit_code == 2 and fragment in result.output and "Traceback" not in result.output


def test_prefill_attention_scales_with_key_positions():
    s, w = 32768, 1024
    system = load_system("dgx-h100-ndr")
    ttft = lambda **window: float(infer(ModelSpec(**TOY, **window), system, 1, s, 1, tp=1)["ttft_s"])  # noqa: E731
    full, local, wide = ttft(), ttft(attention_window=w), ttft(attention_window=2 * w)
    ratio, ratio_2w = sliding_share(s, w), sliding_share(s, 2 * w)
    # TTFT = GEMMs + all-reduces + attention·share: only the attention term differs.
    assert (local - full) / (wide - full) == pytest.approx((ratio - 1) / (ratio_2w - 1), rel=1e-9)

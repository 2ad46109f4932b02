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


# --- context parallelism and decode (issue: local layers under CP, decode mean of min(context, w)) ---------------

from rackwright.perf.efficiency import profile  # noqa: E402
from rackwright.perf.inference import _decode_layer_tokens  # noqa: E402
from rackwright.perf.training import (  # noqa: E402
    CP_COMM_TYPES,
    _context_parallel,
    _gathered_attention,
    _local_kv_ranges,
    _ring_attention,
)

CP_H100 = load_system("dgx-h100-ndr").with_in_network_reduction(scale_up=True, scale_out=False)
CP_EFF = profile("h100")  # NVLink at 0.8 of 450 GB/s, HBM at 0.85 of 3.35 TB/s, 4 µs launches
LLAMA8B = load_model("llama3-8b")  # 32 layers, 32 heads and 8 KV heads of 128


def _cp(cp, kind):
    return Parallelism(tp=1, pp=1, dp=1, micro_batch=1, cp=cp, cp_comm_type=CP_COMM_TYPES[kind]).arrays()


def _windowed(window, kind="sliding", every=None):
    return LLAMA8B.model_copy(update={"attention_window": window, "local_attention": kind, "global_every": every})


def _kv_ranges_brute_force(s, cp, w, kind):
    """Σ over the 2·cp chunks of (last key − first key any query of the chunk attends + 1), over cp · s."""
    chunk, total = s // (2 * cp), 0
    for j in range(2 * cp):
        queries = np.arange(j * chunk, (j + 1) * chunk)
        first = np.maximum(queries - w + 1, 0) if kind == "sliding" else queries // w * w
        total += (j + 1) * chunk - first.min()
    return total / (cp * s)


@pytest.mark.parametrize("s, cp, w, kind, hand", [
    # 8 chunks of 1,024: chunk 0 its own 1,024 keys, chunks 1-7 also the previous chunk's last 127 (w − 1):
    # 1,024 + 7 · 1,151 = 9,081 of cp · s = 32,768. A ring would need ⌈127 / 1,024⌉ + 1 = 2 of the 4 ranks' blocks.
    (8192, 4, 128, "sliding", 9081 / 32768),
    # chunks of 1,536: queries of chunk j start their keys at ⌊1,024·j / 1,536⌋ · 1,536 = 0, 0, 1,536, 3,072,
    # 3,072, 4,608, 6,144, 6,144: ranges 1,024, 2,048, 1,536, 1,024, 2,048, 1,536, 1,024, 2,048 = 12,288.
    (8192, 4, 1536, "chunked", 12288 / 32768),
    # a window wider than the sequence: the full causal 1 + 1/(2·cp) = (1 + 2 + ... + 8) · 1,024 / 32,768
    (8192, 4, 10**6, "sliding", 1 + 1 / 8),
    (8192, 2, 3000, "sliding", (2048 + 4096 + 2 * 5047) / 16384),  # chunks of 2,048: 2,048, 4,096, 5,047, 5,047
])
def test_local_kv_ranges_by_hand(s, cp, w, kind, hand):
    assert _local_kv_ranges(_windowed(w, kind), s, cp) == pytest.approx(hand, rel=1e-12)
    assert hand == pytest.approx(_kv_ranges_brute_force(s, cp, w, kind), rel=1e-12)


def test_local_kv_ranges_over_an_array_of_cp():
    got = _local_kv_ranges(_windowed(128), 8192, np.array([2, 4, 8]))
    hand = [(2048 + 3 * 2175) / 16384, 9081 / 32768, (512 + 15 * 639) / 65536]  # chunks of 2,048, 1,024, 512
    np.testing.assert_allclose(got, hand, rtol=1e-12)


def test_local_layers_run_the_all_gather_on_their_window_by_hand():
    # Llama 3 8B with every layer sliding (w = 128), 8,192 tokens over CP 4 inside one NVLink domain: 2,048 per
    # rank. TE refuses a window on the p2p ring, so both cp_comm_types run the all-gather: K (and V) of a rank
    # 2,048 · 8 · 128 · 2 = 4,194,304 bytes, each all-gather 3 ring steps at 0.8 · 450 GB/s plus 2 µs.
    k = 2048 * 8 * 128 * 2
    gather = 3 * (k / (0.8 * 450e9) + 2e-6)
    gathered = 4 * 2 * k
    outputs = queries = 2048 * 32 * 128 * 2
    hbm = 3.35e12 * 0.85
    forward = 2 * gather + (2 * gathered + 2 * outputs) / hbm + 5 * 4e-6
    backward = 4 * gather + ((5 + 3 * 9081 / 32768) * gathered + 2 * queries) / hbm + 13 * 4e-6
    for kind in ("p2p", "all_gather"):
        got = _context_parallel(_windowed(128), CP_H100, _cp(4, kind), 2048.0, 8192, 1e-3, CP_EFF)
        assert [float(x) for x in got] == pytest.approx([forward, backward], rel=1e-9)
    local = _context_parallel(_windowed(128), CP_H100, _cp(1, "p2p"), 8192.0, 8192, 1e-3, CP_EFF)
    assert [float(x) for x in local] == [0.0, 0.0]


@pytest.mark.parametrize("kind", ["p2p", "all_gather"])
def test_mixed_layers_weigh_local_and_global_by_count(kind):
    # global_every 4: 24 of 32 layers local. A global layer costs what the model without a window costs, a local
    # one what the all-local model costs: 1/4 · global + 3/4 · local.
    c = _cp(np.array([2, 4, 8]), kind)
    cost = lambda m: _context_parallel(m, CP_H100, c, 1024.0, 8192, 2e-4, CP_EFF)  # noqa: E731
    (gf, gb), (lf, lb), (mf, mb) = cost(LLAMA8B), cost(_windowed(128)), cost(_windowed(128, every=4))
    assert _windowed(128, every=4).local_layers == 24
    np.testing.assert_allclose(mf, gf / 4 + 3 * lf / 4, rtol=1e-12)
    np.testing.assert_allclose(mb, gb / 4 + 3 * lb / 4, rtol=1e-12)


def test_global_only_context_parallel_unchanged_bit_for_bit():
    # Without a window the cost is the ring or the all-gather itself, bit for bit (the same expression, no mix).
    c = _cp(np.array([1, 2, 4, 8]), "p2p")
    got = _context_parallel(LLAMA8B, CP_H100, c, 2048.0, 8192, 1e-3, CP_EFF)
    ring = _ring_attention(LLAMA8B, CP_H100, c, 2048.0, 1e-3, CP_EFF)
    assert all(np.array_equal(a, b) for a, b in zip(got, ring))
    c = _cp(np.array([2, 4]), "all_gather")
    got = _context_parallel(LLAMA8B, CP_H100, c, 2048.0, 8192, 1e-3, CP_EFF)
    assert all(np.array_equal(a, b) for a, b in zip(got, _gathered_attention(LLAMA8B, CP_H100, c, 2048.0, CP_EFF)))
    # and the all-gather's dK,dV ranges are the full causal 1 + 1/(2·cp) = 1.125 at cp 4 (hand, as above)
    k = 2048 * 8 * 128 * 2
    gather = 3 * (k / (0.8 * 450e9) + 2e-6)
    backward = 4 * gather + ((5 + 3 * 1.125) * 4 * 2 * k + 2 * 2048 * 32 * 128 * 2) / (3.35e12 * 0.85) + 13 * 4e-6
    assert float(got[1][1]) == pytest.approx(backward, rel=1e-9)


def test_decode_reads_the_mean_of_min_context_window_by_hand():
    m = load_model("gpt-oss-20b")  # 24 layers, 12 local (w = 128), 8 KV heads of 64
    # Decode from 64 to 192 tokens of context: a local layer reads x up to 128, then 128:
    # (∫₆₄¹²⁸ x dx + 64 · 128) / 128 = (6,144 + 8,192) / 128 = 112, not min(128, 128) = 128.
    assert _decode_layer_tokens(m, 64, 128) == pytest.approx(12 * 128 + 12 * 112, rel=1e-12)
    assert _decode_layer_tokens(m, 200, 100) == pytest.approx(12 * 250 + 12 * 128, rel=1e-12)  # past w: w
    assert _decode_layer_tokens(m, 10, 100) == pytest.approx(12 * 60 + 12 * 60, rel=1e-12)  # under w: the mean
    assert _decode_layer_tokens(LLAMA8B, 64, 128) == 32 * (64 + 64)  # no window: L · (i + o/2)
    # TPOT: bandwidth-bound, the KV bytes read differ from the model without a window by 12 · (128 − 112) tokens
    # per layer less than 12 · 128 (the global reads): batch 8 · 2,048 bytes per layer-token · 192 at 0.85 · 3.35 TB/s.
    system = load_system("dgx-h100-ndr")
    tpot = lambda model: float(infer(model, system, 8, 64, 128, tp=1)["tpot_s"])  # noqa: E731
    full = m.model_copy(update={"attention_window": None, "local_attention": None, "global_every": None})
    assert tpot(full) - tpot(m) == pytest.approx(8 * 2048 * (24 * 128 - (12 * 128 + 12 * 112)) / (3.35e12 * 0.85),
                                                 rel=1e-6)


def test_local_layers_hold_the_all_gather_buffers_under_the_p2p_ring():
    # Llama 3 8B, 8,192 tokens, CP 4, TP 1: G = 8,192 tokens × 8 KV heads × (128 + 128) values × 2 bytes. The p2p
    # ring of a global-only model holds max(1, 4/cp)·G; a model with local layers runs TE's all-gather for them and
    # holds its (4 + 1/(2·cp))·G, whichever cp_comm_type is set (memory.training_memory).
    from rackwright.perf.memory import training_memory

    gathered = 8192 * 8 * 256 * 2
    assert gathered == 33_554_432
    held = {
        (window, kind): float(training_memory(_windowed(window), CP_H100, _cp(4, kind), 8192, 1)["cp_buffers"])
        for window in (None, 128)
        for kind in ("p2p", "all_gather")
    }
    assert held[None, "p2p"] == pytest.approx(gathered)
    assert held[None, "all_gather"] == held[128, "p2p"] == held[128, "all_gather"] == pytest.approx(4.125 * gathered)


@pytest.mark.parametrize("name", ["llama3-70b", "gpt-oss-20b"])
def test_infer_takes_arrays_of_lengths(name):
    # One code path, any batch size: arrays of prompt and output lengths give what each length gives alone.
    model, system = load_model(name), load_system("dgx-h100-ndr")
    inputs, outputs = np.array([100, 1000, 100000]), np.array([1, 100, 1000])
    by_input = infer(model, system, 8, inputs, 1000, tp=8)
    by_output = infer(model, system, 8, 1000, outputs, tp=8)
    for i, (x, o) in enumerate(zip(inputs, outputs, strict=True)):
        alone_input = infer(model, system, 8, int(x), 1000, tp=8)
        alone_output = infer(model, system, 8, 1000, int(o), tp=8)
        assert by_input["ttft_s"][i] == pytest.approx(alone_input["ttft_s"], rel=1e-12)
        assert by_input["tpot_s"][i] == pytest.approx(alone_input["tpot_s"], rel=1e-12)
        assert by_output["tpot_s"][i] == pytest.approx(alone_output["tpot_s"], rel=1e-12)

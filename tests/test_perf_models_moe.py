"""Built-in MoE models labs train now (issue 18): parameter counts against the published figures, a hand count of a
layer from config.json, and the search and inference commands running on them."""

import json

import pytest

from rackwright.perf.workload import builtin_models, load_model
from test_cli import run

#: name -> (published total, published active): Qwen3 model cards, the Kimi K2 report (Table 2), the Llama 4 model card.
PUBLISHED = {
    "qwen3-235b-a22b": (235e9, 22e9),
    "qwen3-30b-a3b": (30.5e9, 3.3e9),
    "kimi-k2": (1.04e12, 32.6e9),
    "llama4-scout": (109e9, 17e9),
    "llama4-maverick": (400e9, 17e9),
}


def test_the_models_are_built_in():
    assert set(PUBLISHED) <= set(builtin_models())


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_total_and_active_params_match_published(name):
    model = load_model(name)
    total, active = PUBLISHED[name]
    assert (model.published_params, model.published_active_params) == (total, active)
    assert model.source is not None and model.source.url
    assert model.total_params == pytest.approx(total, rel=0.03)
    assert model.active_params_per_token == pytest.approx(active, rel=0.05)


def test_qwen3_235b_moe_layer_hand_count():
    # config.json: hidden 4096, 64 query / 4 KV heads of head_dim 128 (64·128 = 8192 ≠ hidden), 128 experts of
    # moe_intermediate_size 1536, top-8, no shared expert, untied vocabulary of 151,936, 94 layers, all MoE.
    m = load_model("qwen3-235b-a22b")
    h, q_width, kv_width = 4096, 64 * 128, 4 * 128
    attention = h * q_width + 2 * h * kv_width + q_width * h  # q, k, v, o
    experts = 128 * 3 * h * 1536  # gate, up, down per expert
    router = h * 128
    assert attention == 71_303_168 and experts == 2_415_919_104
    assert m.attention_params_per_layer == attention
    assert m.moe_layer_params == experts + router
    assert m.moe_layers == 94 and m.dense_mlp_layers == 0
    assert m.total_params == 94 * (attention + experts + router) + 2 * 151936 * h
    # Two RMSNorm gains of h and QK-norm gains of 128 per query and key head, left out: under 1e-5 of a layer.
    assert (2 * h + 2 * 128) / (attention + experts + router) < 1e-5
    # top-8 of 128: 8 experts' weights and the router per token
    assert m.moe_layer_active_params == 8 * 3 * h * 1536 + router


def test_maverick_dense_and_moe_layers_hand_count():
    # 24 dense layers (SwiGLU 16,384) and 24 MoE layers (128 routed + 1 shared expert of 8,192, top-1), GQA 40/8 of 128
    m = load_model("llama4-maverick")
    h = 5120
    attention = 2 * h * 40 * 128 + 2 * h * 8 * 128
    dense, expert = 3 * h * 16384, 3 * h * 8192
    assert m.dense_mlp_layers == 24 and m.moe_layers == 24
    layers = 48 * attention + 24 * dense + 24 * (129 * expert + h * 128)
    assert m.total_params == layers + 2 * 202048 * h
    active = 48 * attention + 24 * dense + 24 * (2 * expert + h * 128)
    assert m.active_params_per_token == active + 2 * 202048 * h


def test_search_runs_on_qwen3_235b_on_gb200_nvl72():
    result = run("perf", "search", "--model", "qwen3-235b-a22b", "--system", "gb200-nvl72", "--accelerators", "1152",
                 "--global-batch", "2304", "--top", "3", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["model"] == "Qwen3-235B-A22B" and doc["top"] and doc["best"]["fits"]
    best = doc["best"]
    assert best["tp"] * best["pp"] * best["dp"] * best["cp"] == 1152


def test_infer_runs_on_kimi_k2():
    result = run("perf", "infer", "--model", "kimi-k2", "--system", "gb200-nvl72", "--batch", "64",
                 "--input-tokens", "4096", "--output-tokens", "1024", "--precision", "fp8", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["model"] == "Kimi K2" and doc["fits"] and doc["tokens_per_s"] > 0


@pytest.mark.parametrize("name", ["llama4-scout", "llama4-maverick"])
def test_llama4_chunked_layers_by_hand(name):
    # Layers 4, 8, ..., 48 (every fourth) attend globally; the other 36 causally within chunks of 8,192 tokens.
    m = load_model(name)
    assert m.attention_share(8192) == pytest.approx(1.0)  # one chunk: the same as full attention
    s, c = 131072, 8192
    chunked = (s // c) * c * (c + 1) / 2 / (s * (s + 1) / 2)  # 16 chunks' causal key positions over the whole's
    assert m.attention_share(s) == pytest.approx((12 + 36 * chunked) / 48, rel=1e-12)

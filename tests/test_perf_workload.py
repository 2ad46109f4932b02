"""Workload specifications: parameter and FLOP counts against published figures, and bad input."""

import pytest

from rackwright.errors import InputError
from rackwright.perf.workload import ModelSpec, builtin_models, load_model

MEGATRON = ["megatron-1.7b", "megatron-3.6b", "megatron-7.5b", "megatron-18b", "megatron-39b", "megatron-76b",
            "megatron-146b", "megatron-310b", "megatron-530b", "megatron-1t"]
EXPECTED = {"gpt3-175b", "llama3-8b", "llama3-70b", "llama3-405b", "mixtral-8x7b", "deepseek-v3", *MEGATRON}


def test_builtin_list():
    assert EXPECTED <= set(builtin_models())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_total_params_match_published_within_3_percent(name):
    model = load_model(name)
    assert model.published_params is not None and model.source is not None
    assert model.total_params == pytest.approx(model.published_params, rel=0.03)


@pytest.mark.parametrize("name, active", [("mixtral-8x7b", 12.9e9), ("deepseek-v3", 37e9)])
def test_moe_active_params_within_5_percent(name, active):
    model = load_model(name)
    assert model.published_active_params == active
    assert model.active_params_per_token == pytest.approx(active, rel=0.05)
    assert model.active_params_per_token < model.total_params / 3


def test_dense_model_active_equals_total():
    model = load_model("llama3-70b")
    assert not model.is_moe and model.moe_layers == 0
    assert model.active_params_per_token == model.total_params


def test_megatron_1t_hand_count():
    # 12·L·h² + V·h (tied) + s·h (learned positions), Narayanan et al. 2021 without biases/norms
    m = load_model("megatron-1t")
    assert m.attention_params_per_layer == 4 * 25600**2
    assert m.dense_mlp_params_per_layer == 8 * 25600**2
    assert m.total_params == 12 * 128 * 25600**2 + 51200 * 25600 + 2048 * 25600


def test_llama3_405b_hand_count():
    m = load_model("llama3-405b")
    h, kv = 16384, 8 * 128
    assert m.head_dim == 128 and m.kv_heads == 8
    assert m.attention_params_per_layer == 2 * h * h + 2 * h * kv  # GQA: 2h² + 2·h·h_kv
    assert m.dense_mlp_params_per_layer == 3 * h * 53248  # SwiGLU
    assert m.embedding_params == 2 * 128256 * h  # untied
    assert m.total_params == 126 * (2 * h * h + 2 * h * kv + 3 * h * 53248) + 2 * 128256 * h


def test_deepseek_v3_structure():
    m = load_model("deepseek-v3")
    assert m.moe_layers == 58 and m.dense_mlp_layers == 3
    assert m.head_dim == 192 and m.v_dim == 128
    expert = 3 * 7168 * 2048
    assert m.moe_layer_params == 257 * expert + 7168 * 256
    assert m.moe_layer_active_params == 9 * expert + 7168 * 256


def test_gpt3_flop_identity():
    """3·forward = 6·N + 12·L·h·s, with N = non-embedding params + V·h (the tied logits matrix).

    The learned position embeddings (s·h) are a look-up, not a matmul, so N excludes them;
    with tied embeddings N is total_params − s·h.
    """
    m = load_model("gpt3-175b")
    L, h, s, V = 96, 12288, 2048, 51200
    n = m.non_embedding_params + V * h
    assert n == m.matmul_params_per_token == m.total_params - s * h
    assert 3 * m.forward_flops_per_token(s) == 6 * n + 12 * L * h * s
    assert m.model_flops_per_token() == 6 * n + 12 * L * h * s


@pytest.mark.parametrize("name", MEGATRON)
def test_narayanan_iteration_flops(name):
    """Narayanan et al. 2021 Eq. 3: 96·B·s·L·h²·(1 + s/6h + V/16Lh) per iteration with full recompute.

    Full recomputation is 4 forward passes of the layers (forward, recompute, backward = 2×)
    but the logits layer is not recomputed (3 passes): so Eq. 3 = 4·B·s·forward − 2·B·s·V·h
    exactly, and 4·B·s·forward alone is within 2 % (the logit term's share is largest, 1.6 %,
    for the 1.7B model).
    """
    m = load_model(name)
    B, s, L, h, V = 512, 2048, m.layers, m.hidden, m.vocab
    eq3 = 96 * B * s * L * h**2 * (1 + s / (6 * h) + V / (16 * L * h))
    four_forward = 4 * B * s * m.forward_flops_per_token(s)
    assert four_forward - 2 * B * s * V * h == pytest.approx(eq3, rel=1e-12)
    assert four_forward == pytest.approx(eq3, rel=0.02)


def test_llama3_70b_kv_cache():
    assert load_model("llama3-70b").kv_cache_bytes_per_token() == 2 * 80 * 8 * 128 * 2 == 327_680


def test_mla_kv_cache_is_the_latent():
    assert load_model("deepseek-v3").kv_cache_bytes_per_token(1) == (512 + 64) * 61


def test_gqa_attention_flops_use_query_heads():
    m = load_model("llama3-8b")
    assert m.attention_flops_per_token(4096) == 4 * 32 * 4096 * 4096  # 4·L·s·(a·d), a·d = h
    assert m.with_seq_len(4096).forward_flops_per_token() == m.forward_flops_per_token(4096)


# --- bad input ---------------------------------------------------------------------------------

GOOD = """\
name: tiny
layers: 2
hidden: 64
heads: 4
ffn_hidden: 256
ffn_type: gelu
vocab: 1000
seq_len: 128
"""


def write(tmp_path, text, name="model.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path) -> InputError:
    with pytest.raises(InputError) as info:
        load_model(str(path))
    return info.value


def test_good_file_loads_with_defaults(tmp_path):
    m = load_model(str(write(tmp_path, GOOD)))
    assert m.kv_heads == 4 and m.head_dim == 16 and m.total_params == 2 * 12 * 64**2 + 2 * 1000 * 64


def test_missing_field_names_it(tmp_path):
    error = error_of(write(tmp_path, GOOD.replace("ffn_type: gelu\n", "")))
    assert [p.path for p in error.problems] == ["ffn_type"]
    assert "required field is missing" in str(error)


def test_kv_heads_not_dividing_heads(tmp_path):
    error = error_of(write(tmp_path, GOOD + "kv_heads: 3\n"))
    problem = error.problems[0]
    assert problem.path == "kv_heads" and "must divide heads" in problem.message
    assert problem.line == 9 and str(error).startswith(f"{tmp_path / 'model.yaml'}:9:")


def test_unknown_field_and_bad_moe(tmp_path):
    error = error_of(write(tmp_path, GOOD + "experts: 4\nexperts_per_token: 5\nlayer: 3\n"))
    paths = {p.path for p in error.problems}
    assert paths == {"experts_per_token", "layer"}


def test_dense_layers_on_dense_model(tmp_path):
    error = error_of(write(tmp_path, GOOD + "dense_layers: 1\n"))
    assert error.problems[0].path == "dense_layers"


def test_mla_needs_its_sizes(tmp_path):
    error = error_of(write(tmp_path, GOOD + "attention: mla\nkv_lora_rank: 32\n"))
    assert {p.path for p in error.problems} == {"qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim"}


def test_unknown_builtin_suggests_a_name():
    with pytest.raises(InputError) as info:
        load_model("llama-3-8b")
    text = str(info.value)
    assert "unknown model 'llama-3-8b'" in text and "did you mean 'llama3-8b'?" in text and "gpt3-175b" in text


def test_missing_file_and_yaml_syntax(tmp_path):
    assert "file not found" in str(error_of(tmp_path / "nope.yaml"))
    assert "YAML syntax error" in str(error_of(write(tmp_path, "name: [unclosed\n")))
    assert "YAML mapping" in str(error_of(write(tmp_path, "- a\n- b\n", "list.yaml")))


def test_model_spec_in_python():
    m = ModelSpec(name="x", layers=1, hidden=8, heads=2, ffn_hidden=16, ffn_type="swiglu", vocab=10, seq_len=4,
                  tied_embeddings=True)
    assert m.total_params == 4 * 64 + 3 * 8 * 16 + 10 * 8

"""Workloads: the architecture of a transformer language model and what it costs per token.

A :class:`ModelSpec` describes a decoder-only transformer (dense or mixture-of-experts,
multi-head / grouped-query attention or DeepSeek's multi-head latent attention). It is
read from YAML: a built-in name (a file stem under ``perf/data/models/``) or a path, see
:func:`load_model`.

Counting conventions (``formulas.md``, "Training performance"; Narayanan et al. 2021):

* Only weight matrices are counted. Layer-norm gains, biases, rotary tables and the
  MoE router's bias are ignored (under 0.1 % of the parameters of every built-in model).
* A dense layer has ``attention + MLP`` parameters: attention ``2·h·(a·d) + 2·h·(a_kv·d)``
  (= ``2h² + 2·h·h_kv`` with ``d = h/a``; ``4h²`` for multi-head attention); MLP ``3·h·f``
  for SwiGLU (gate, up, down) and ``2·h·f`` for a GELU MLP (``8h²`` for ``f = 4h``).
* Embeddings ``V·h``, twice when input and output embeddings are not tied, plus ``s·h``
  for learned absolute position embeddings (GPT-3, Megatron GPT).
* FLOPs count one multiply-add as 2 FLOPs. Attention scores and context are counted
  for the full ``s × s`` matrix (no causal halving), as Megatron-LM and Narayanan et al.
  do, so ``3 · forward_flops_per_token(s) = 6·N + 12·L·h·s`` for a dense multi-head model,
  where ``N`` = non-embedding parameters + ``V·h`` (the logits matrix).
"""

from __future__ import annotations

from difflib import get_close_matches
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from ..catalog.schema import Source
from ..errors import InputError
from ..yamlio import problems_from_validation, read_yaml, to_plain

#: Built-in YAML data of the performance models.
DATA_DIR = Path(__file__).resolve().parent / "data"
MODELS_DIR = DATA_DIR / "models"

MLA_FIELDS = ("kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim")


class ModelSpec(BaseModel):
    """A transformer language model's architecture (see the module docstring for conventions).

    ``kv_heads`` defaults to ``heads`` (multi-head attention) and ``head_dim`` to
    ``hidden / heads``; after validation both are always set. For MoE models
    (``experts > 0``) the first ``dense_layers`` layers have a dense MLP of size
    ``ffn_hidden`` and the others ``experts`` routed experts (``experts_per_token``
    active) plus ``shared_experts`` always-active experts, each an MLP of size
    ``moe_ffn_hidden`` (default ``ffn_hidden``) of the same ``ffn_type``.
    With ``attention: mla`` (DeepSeek-V2/V3) the ``q_lora_rank`` (optional),
    ``kv_lora_rank``, ``qk_rope_head_dim``, ``qk_nope_head_dim`` and ``v_head_dim``
    give the latent attention's sizes; ``head_dim`` is then the query/key head size
    ``qk_nope_head_dim + qk_rope_head_dim``. ``mtp_layers`` multi-token-prediction depths (DeepSeek-V3 §2.2:
    each a projection of ``[h; embedding]`` to ``h`` and one Transformer layer like the last one, sharing the
    embedding and the output head, whose logits it computes again) train on the last pipeline stage; they are not in
    :attr:`total_params` (DeepSeek's 671B leaves them out) but in the FLOPs, time and memory of training.
    ``max_nodes_per_token`` (node-limited routing, DeepSeek-V3 §2.1.2) sends each token to experts on at most that
    many nodes, read as the EP group's scale-up domains (default: no limit).
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    layers: int = Field(gt=0)
    hidden: int = Field(gt=0)
    heads: int = Field(gt=0)
    attention: Literal["mha", "mla"] = "mha"
    kv_heads: int | None = Field(default=None, gt=0, validate_default=True)
    head_dim: int | None = Field(default=None, gt=0, validate_default=True)
    ffn_hidden: int = Field(gt=0)
    ffn_type: Literal["gelu", "swiglu", "squared_relu"]
    vocab: int = Field(gt=0)
    seq_len: int = Field(gt=0)
    tied_embeddings: bool = False
    position_embedding: Literal["rope", "learned"] = "rope"
    dropout: bool = False  # trained with hidden/attention dropout (adds its 1-byte masks to the activations)
    # local attention (sliding window or chunks) in some or all layers
    attention_window: int | None = Field(default=None, gt=0)
    local_attention: Literal["sliding", "chunked"] | None = Field(default=None, validate_default=True)
    global_every: int | None = Field(default=None, validate_default=True)
    # mixture of experts
    experts: int = Field(default=0, ge=0)
    experts_per_token: int = Field(default=0, ge=0, validate_default=True)
    shared_experts: int = Field(default=0, ge=0, validate_default=True)
    moe_ffn_hidden: int | None = Field(default=None, gt=0, validate_default=True)
    dense_layers: int = Field(default=0, ge=0, validate_default=True)
    mtp_layers: int = Field(default=0, ge=0)  # multi-token-prediction depths D (DeepSeek-V3 §2.2)
    max_nodes_per_token: int | None = Field(default=None, gt=0)  # node-limited routing M (DeepSeek-V3 §2.1.2)
    # multi-head latent attention (attention: mla)
    q_lora_rank: int | None = Field(default=None, gt=0, validate_default=True)
    kv_lora_rank: int | None = Field(default=None, gt=0, validate_default=True)
    qk_rope_head_dim: int | None = Field(default=None, gt=0, validate_default=True)
    qk_nope_head_dim: int | None = Field(default=None, gt=0, validate_default=True)
    v_head_dim: int | None = Field(default=None, gt=0, validate_default=True)
    # provenance
    published_params: float | None = Field(default=None, gt=0)
    published_active_params: float | None = Field(default=None, gt=0)
    source: Source | None = None

    # -- validation (field validators, so errors name the field) -------------------
    @field_validator("kv_heads")
    @classmethod
    def _kv_heads(cls, value, info: ValidationInfo):
        heads, attention = info.data.get("heads"), info.data.get("attention")
        if heads is None:
            return value
        if attention == "mla":
            if value is not None and value != heads:
                raise ValueError(
                    "multi-head latent attention has one key/value head per query head; "
                    "leave kv_heads out or set it to heads"
                )
            return heads
        if value is None:
            return heads
        if heads % value:
            raise ValueError(
                f"kv_heads = {value} must divide heads = {heads} (each key/value head serves "
                "a whole group of query heads)"
            )
        return value

    @field_validator("head_dim")
    @classmethod
    def _head_dim(cls, value, info: ValidationInfo):
        heads, hidden, attention = info.data.get("heads"), info.data.get("hidden"), info.data.get("attention")
        if attention == "mla":
            if value is not None:
                raise ValueError(
                    "with attention: mla give qk_nope_head_dim, qk_rope_head_dim and v_head_dim instead of head_dim"
                )
            return None  # set from the MLA sizes once they are validated
        if value is None and heads is not None and hidden is not None:
            if hidden % heads:
                raise ValueError(f"hidden = {hidden} is not a multiple of heads = {heads}; give head_dim")
            return hidden // heads
        return value

    @field_validator("local_attention")
    @classmethod
    def _local_kind(cls, value, info: ValidationInfo):
        if "attention_window" not in info.data:  # the window itself is invalid: its error says so
            return value
        if info.data["attention_window"] is None:
            if value is not None:
                raise ValueError("local_attention needs attention_window (the window or chunk size in tokens)")
            return None
        return value or "sliding"

    @field_validator("global_every")
    @classmethod
    def _global_every(cls, value, info: ValidationInfo):
        if value is None or "attention_window" not in info.data:
            return value
        if info.data["attention_window"] is None:
            raise ValueError("global_every needs attention_window (without a window every layer is global)")
        layers = info.data.get("layers")
        if value < 2 or (layers is not None and value > layers):
            raise ValueError(
                f"global_every = {value} must lie between 2 and layers = {layers} (one global layer in every "
                "global_every layers; leave it out to make every layer local)"
            )
        return value

    @field_validator("experts_per_token")
    @classmethod
    def _top_k(cls, value, info: ValidationInfo):
        experts = info.data.get("experts")
        if experts is None:
            return value
        if experts == 0 and value:
            raise ValueError("experts_per_token needs experts > 0 (a dense model has no routed experts)")
        if experts > 0 and not 1 <= value <= experts:
            raise ValueError(f"experts_per_token = {value} must lie between 1 and experts = {experts}")
        return value

    @field_validator("shared_experts")
    @classmethod
    def _shared(cls, value, info: ValidationInfo):
        if info.data.get("experts") == 0 and value:
            raise ValueError("shared_experts needs experts > 0 (for a dense model use ffn_hidden)")
        return value

    @field_validator("moe_ffn_hidden")
    @classmethod
    def _moe_ffn(cls, value, info: ValidationInfo):
        experts = info.data.get("experts")
        if experts == 0 and value is not None:
            raise ValueError("moe_ffn_hidden needs experts > 0")
        if experts and value is None:
            return info.data.get("ffn_hidden")
        return value

    @field_validator("dense_layers")
    @classmethod
    def _dense_layers(cls, value, info: ValidationInfo):
        layers, experts = info.data.get("layers"), info.data.get("experts")
        if experts == 0 and value:
            raise ValueError("dense_layers (leading layers with a dense MLP) needs experts > 0")
        if layers is not None and value > layers:
            raise ValueError(f"dense_layers = {value} exceeds layers = {layers}")
        return value

    @field_validator("max_nodes_per_token")
    @classmethod
    def _node_limit(cls, value, info: ValidationInfo):
        if value is not None and not info.data.get("experts"):
            raise ValueError("max_nodes_per_token (node-limited routing) needs experts > 0")
        return value

    @field_validator(*MLA_FIELDS, "q_lora_rank")
    @classmethod
    def _mla(cls, value, info: ValidationInfo):
        attention = info.data.get("attention")
        if attention == "mla" and value is None and info.field_name != "q_lora_rank":
            raise ValueError(f"{info.field_name} is required with attention: mla")
        if attention == "mha" and value is not None:
            raise ValueError(f"{info.field_name} applies only to attention: mla")
        return value

    @model_validator(mode="after")
    def _mla_head_dim(self):
        if self.attention == "mla" and self.head_dim is None and self.qk_nope_head_dim and self.qk_rope_head_dim:
            self.head_dim = self.qk_nope_head_dim + self.qk_rope_head_dim
        return self

    # -- structure -------------------------------------------------------------------
    @property
    def is_moe(self) -> bool:
        return self.experts > 0

    @property
    def moe_layers(self) -> int:
        """Layers with a mixture-of-experts MLP: ``layers − dense_layers`` for MoE models, else 0."""
        return self.layers - self.dense_layers if self.is_moe else 0

    @property
    def dense_mlp_layers(self) -> int:
        """Layers with a dense MLP of size ``ffn_hidden``: ``layers − moe_layers``."""
        return self.layers - self.moe_layers

    @property
    def qk_head_dim(self) -> int:
        """Size of a query/key head (``head_dim``; ``qk_nope + qk_rope`` for MLA)."""
        return _sized(self.head_dim)

    @property
    def v_dim(self) -> int:
        """Size of a value head (``head_dim``; ``v_head_dim`` for MLA)."""
        return _sized(self.v_head_dim if self.attention == "mla" else self.head_dim)

    @property
    def local_layers(self) -> int:
        """Layers with local attention: all ``L`` with a window and no ``global_every``, ``L − ⌊L / N⌋`` with
        ``global_every = N`` (layers ``N, 2N, ...`` global), 0 without a window."""
        if self.attention_window is None:
            return 0
        return self.layers - (self.layers // self.global_every if self.global_every else 0)

    def attention_share(self, seq_len) -> np.ndarray:
        """Attention work of all layers over that of ``L`` full causal layers at ``seq_len`` tokens:
        ``(L − L_local + L_local · K_local(s) / K_causal(s)) / L`` (:func:`causal_key_positions`); 1 without a
        window."""
        local = causal_key_positions(seq_len, self.attention_window, self.local_attention or "sliding")
        ratio = local / causal_key_positions(seq_len)
        return (self.layers - self.local_layers + self.local_layers * ratio) / self.layers

    def cached_layer_tokens(self, context) -> np.ndarray:
        """Tokens all layers' KV caches hold (and a decode step reads) at ``context`` tokens: a global layer the
        whole context, a local one at most the window, ``min(context, w)`` (a chunked layer at most one chunk:
        ``w`` is the cap, as caches such as transformers' sliding and chunked layers allocate)."""
        context = np.asarray(context, dtype=float)
        local = np.minimum(context, self.attention_window or 0)
        return (self.layers - self.local_layers) * context + self.local_layers * local

    # -- parameters --------------------------------------------------------------------
    def mlp_params(self, ffn: int) -> int:
        """One MLP of intermediate size ``ffn``: SwiGLU ``3·h·f`` (gate, up, down); GELU and squared ReLU ``2·h·f``."""
        return (3 if self.ffn_type == "swiglu" else 2) * self.hidden * ffn

    @property
    def attention_params_per_layer(self) -> int:
        """Attention weights of one layer.

        MHA/GQA (formulas.md): Q and O ``2·h·(a·d)`` plus K and V ``2·h·(a_kv·d)``, i.e.
        ``2h² + 2·h·h_kv`` with ``d = h/a`` and ``h_kv = a_kv·d`` (``4h²`` without GQA).
        MLA (DeepSeek-V2 §2.1, DeepSeek-V3 §2.1.1): query down/up projections
        ``h·r_q + r_q·a·(d_nope + d_rope)`` (or ``h·a·(d_nope + d_rope)`` without ``q_lora_rank``),
        the joint key/value down-projection with the shared rotary key ``h·(r_kv + d_rope)``,
        key/value up-projections ``r_kv·a·(d_nope + d_v)`` and the output ``a·d_v·h``.
        """
        h, a = self.hidden, self.heads
        if self.attention == "mla":
            nope, rope, r_kv, d_v = self._mla_sizes()
            qk = nope + rope
            q = h * self.q_lora_rank + self.q_lora_rank * a * qk if self.q_lora_rank else h * a * qk
            kv = h * (r_kv + rope) + r_kv * a * (nope + d_v)
            return q + kv + a * d_v * h
        d = _sized(self.head_dim)
        return 2 * h * a * d + 2 * h * _sized(self.kv_heads) * d

    def _mla_sizes(self) -> tuple[int, int, int, int]:
        """``(qk_nope_head_dim, qk_rope_head_dim, kv_lora_rank, v_head_dim)`` of an MLA model."""
        sizes = (self.qk_nope_head_dim, self.qk_rope_head_dim, self.kv_lora_rank, self.v_head_dim)
        nope, rope, r_kv, d_v = (_sized(s) for s in sizes)
        return nope, rope, r_kv, d_v

    @property
    def dense_mlp_params_per_layer(self) -> int:
        """Dense MLP of one layer: ``3·h·f`` (SwiGLU) or ``2·h·f`` (GELU), ``f = ffn_hidden``."""
        return self.mlp_params(self.ffn_hidden)

    @property
    def expert_params(self) -> int:
        """One expert (routed or shared): an MLP of size ``moe_ffn_hidden``; 0 for dense models."""
        return self.mlp_params(_sized(self.moe_ffn_hidden)) if self.is_moe else 0

    @property
    def router_params(self) -> int:
        """The MoE gate of one layer: ``h·E``; 0 for dense models."""
        return self.hidden * self.experts

    @property
    def moe_layer_params(self) -> int:
        """MLP weights of one MoE layer: ``(E + E_shared)·expert + h·E`` (all experts and the router)."""
        return (self.experts + self.shared_experts) * self.expert_params + self.router_params if self.is_moe else 0

    @property
    def moe_layer_active_params(self) -> int:
        """MLP weights one token touches in an MoE layer: ``(k + E_shared)·expert + h·E``."""
        if not self.is_moe:
            return 0
        return (self.experts_per_token + self.shared_experts) * self.expert_params + self.router_params

    @property
    def mtp_layer_params(self) -> int:
        """One multi-token-prediction depth: its projection ``2h·h`` and a Transformer layer (attention and, for MoE
        models, all experts and the router; else the dense MLP). The shared embedding and head are not counted."""
        mlp = self.moe_layer_params if self.is_moe else self.dense_mlp_params_per_layer
        return 2 * self.hidden * self.hidden + self.attention_params_per_layer + mlp

    @property
    def mtp_matmul_params_per_token(self) -> int:
        """Weights in matrix multiplies per token in the MTP depths: ``D · (2h·h + attention + active MLP + V·h)``
        (the shared output head runs again on each depth's states)."""
        mlp = self.moe_layer_active_params if self.is_moe else self.dense_mlp_params_per_layer
        per_depth = 2 * self.hidden * self.hidden + self.attention_params_per_layer + mlp + self.vocab * self.hidden
        return self.mtp_layers * per_depth

    @property
    def embedding_params(self) -> int:
        """``V·h`` (tied) or ``2·V·h`` (separate output matrix), plus ``s·h`` for learned positions."""
        tokens = self.vocab * self.hidden * (1 if self.tied_embeddings else 2)
        return tokens + (self.seq_len * self.hidden if self.position_embedding == "learned" else 0)

    @property
    def non_embedding_params(self) -> int:
        """All layer weights: ``L·attention + dense layers·MLP + MoE layers·(experts + router)``."""
        return (
            self.layers * self.attention_params_per_layer
            + self.dense_mlp_layers * self.dense_mlp_params_per_layer
            + self.moe_layers * self.moe_layer_params
        )

    @property
    def total_params(self) -> int:
        """Every weight: non-embedding + embedding parameters."""
        return self.non_embedding_params + self.embedding_params

    @property
    def active_non_embedding_params(self) -> int:
        """Layer weights one token touches (top-k and shared experts only in MoE layers)."""
        return (
            self.layers * self.attention_params_per_layer
            + self.dense_mlp_layers * self.dense_mlp_params_per_layer
            + self.moe_layers * self.moe_layer_active_params
        )

    @property
    def active_params_per_token(self) -> int:
        """Parameters touched per token: active layer weights + all embedding parameters.

        Equals :attr:`total_params` for dense models. The embeddings are counted whole, as
        Mistral's 12.9B for Mixtral 8x7B does; DeepSeek's 36.6B (quoted as 37B) for V3 leaves
        out the input embedding (0.9B).
        """
        return self.active_non_embedding_params + self.embedding_params

    @property
    def matmul_params_per_token(self) -> int:
        """Weights used in matrix multiplies per token: active layer weights + ``V·h`` logits.

        The input embedding (and position embedding) is a table look-up, not a matmul. This
        is the ``N`` of ``6·N + 12·L·h·s`` (formulas.md).
        """
        return self.active_non_embedding_params + self.vocab * self.hidden

    # -- per-token costs ------------------------------------------------------------------
    def attention_flops_per_token(self, seq_len: int | None = None, windowed: bool = True) -> float:
        """Forward FLOPs of attention scores ``QKᵀ`` and context ``PV`` per token, all layers.

        ``L · (2·s·a·d_qk + 2·s·a·d_v)`` = ``4·L·s·h`` for multi-head attention with ``d = h/a``
        (the full, non-causal count, as Megatron-LM and Narayanan et al. 2021 Eq. 3), times
        :meth:`attention_share` (``windowed``): a local layer counts the same full-matrix convention scaled by its
        key positions over a causal layer's (twice the band it computes, as a global layer counts twice its causal
        triangle). ``windowed=False`` counts every layer over the whole context (a kernel that masks the window).
        """
        s = self.seq_len if seq_len is None else seq_len
        full = self.layers * 2 * s * self.heads * (self.qk_head_dim + self.v_dim)
        return float(full * self.attention_share(s)) if windowed and self.local_layers else float(full)

    def forward_flops_per_token(self, seq_len: int | None = None) -> float:
        """Forward FLOPs per token: ``2 · matmul_params_per_token + attention_flops_per_token(s)`` (+ the MTP
        depths' :meth:`mtp_forward_flops_per_token`).

        For a dense MHA model this is ``2·N + 4·L·h·s``, so three times it (forward and
        backward) is the ``6·N + 12·L·h·s`` of formulas.md (Kaplan et al. 2020; Narayanan
        et al. 2021). ``seq_len`` defaults to the model's ``seq_len``.
        """
        main = 2.0 * self.matmul_params_per_token + self.attention_flops_per_token(seq_len)
        return main + self.mtp_forward_flops_per_token(seq_len)

    def mtp_forward_flops_per_token(self, seq_len: int | None = None) -> float:
        """Forward FLOPs per token of the MTP depths: ``2 · mtp_matmul_params_per_token`` + one layer's attention
        per depth (0 without MTP)."""
        attention = self.attention_flops_per_token(seq_len) / self.layers
        return self.mtp_layers * attention + 2.0 * self.mtp_matmul_params_per_token

    def model_flops_per_token(self, seq_len: int | None = None) -> float:
        """Training model FLOPs per token (forward + backward, no recomputation): ``3 × forward``."""
        return 3.0 * self.forward_flops_per_token(seq_len)

    def kv_cache_bytes_per_token(self, bytes_per_value: float = 2) -> float:
        """KV-cache bytes per token of context.

        MHA/GQA (formulas.md): ``2·L·a_kv·d·bytes`` (a key and a value per KV head and layer).
        MLA (DeepSeek-V2 §2.1.2): the compressed latent and the shared rotary key,
        ``(r_kv + d_rope)·L·bytes``.
        """
        if self.attention == "mla":
            _, rope, r_kv, _ = self._mla_sizes()
            return float((r_kv + rope) * self.layers * bytes_per_value)
        return float(2 * self.layers * _sized(self.kv_heads) * _sized(self.head_dim) * bytes_per_value)

    def kv_cache_bytes(self, context, bytes_per_value: float = 2):
        """KV-cache bytes of one sequence at ``context`` tokens: :meth:`kv_cache_bytes_per_token` per layer and
        token times :meth:`cached_layer_tokens` (a local layer holds at most its window)."""
        return self.kv_cache_bytes_per_token(bytes_per_value) / self.layers * self.cached_layer_tokens(context)

    def attention_kv_bytes_per_token(self, bytes_per_value: float = 2) -> float:
        """Bytes of one layer's keys and values per token as the attention kernel reads them: ``a_kv·(d_qk + d_v)``.

        What context parallelism exchanges. For MHA/GQA it is one layer's KV cache, ``2·a_kv·d·bytes``. For MLA
        it is the up-projected per-head keys (``d_nope`` plus the shared rotary key broadcast to every head) and
        values, ``a·(d_nope + d_rope + d_v)·bytes``, not the compressed latent: Megatron-Core's
        ``MLASelfAttention`` up-projects K and V before its core attention (``qkv_up_proj_and_rope_apply``), and
        Transformer Engine's CP attention exchanges the K and V it is given.
        """
        return float(_sized(self.kv_heads) * (self.qk_head_dim + self.v_dim) * bytes_per_value)

    def with_seq_len(self, seq_len: int) -> ModelSpec:
        """A copy of this model trained or served at sequence length ``seq_len``."""
        if seq_len <= 0:
            raise ValueError("seq_len must be positive")
        return self.model_copy(update={"seq_len": int(seq_len)})


def causal_key_positions(seq, window: int | None = None, kind: str = "sliding") -> np.ndarray:
    """(query, key) pairs one causal attention layer computes per sequence of ``seq`` tokens.

    Full causal: ``s(s + 1)/2``. Sliding window ``w`` (token ``i`` attends to keys ``max(0, i − w + 1) .. i``, the
    ``kv_idx > q_idx − sliding_window`` of transformers' ``masking_utils.sliding_window_overlay``, as Mistral,
    GPT-OSS and Gemma run it): ``Σ_i min(i + 1, w) = w(w + 1)/2 + (s − w)·w`` for ``s ≥ w``, else ``s(s + 1)/2``.
    Chunked with chunk ``c = w`` (Llama 4; ``chunked_overlay``: ``kv_idx // c == q_idx // c``), for
    ``s = k·c + r``: ``k·c(c + 1)/2 + r(r + 1)/2``.
    """
    s = np.asarray(seq, dtype=float)
    if window is None:
        return s * (s + 1) / 2
    if kind == "chunked":
        chunks, rest = np.floor_divide(s, window), np.mod(s, window)
        return chunks * window * (window + 1) / 2 + rest * (rest + 1) / 2
    w = np.minimum(s, window)
    return w * (w + 1) / 2 + (s - w) * w


# --- loading -----------------------------------------------------------------------------

Spec = TypeVar("Spec", bound=BaseModel)


def _sized(value: int | None) -> int:
    """A size the validators set: head_dim and kv_heads always, the MLA sizes with attention: mla, moe_ffn_hidden
    with experts."""
    assert value is not None
    return value


def builtin_names(directory: Path) -> list[str]:
    """File stems of the YAML files in ``directory``, sorted."""
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load_spec(name_or_path: str | Path, directory: Path, schema: type[Spec], what: str) -> Spec:
    """Load a built-in (a file stem in ``directory``) or a YAML file as ``schema``.

    Unknown names raise :class:`InputError` listing the built-ins with a did-you-mean;
    invalid files raise it with ``file:line:column`` and the field path of each problem.
    """
    text = str(name_or_path)
    names = builtin_names(directory)
    if text in names:
        path = directory / f"{text}.yaml"
    else:
        path = Path(text)
        if not (path.suffix in (".yaml", ".yml") or "/" in text or "\\" in text or path.exists()):
            close = get_close_matches(text, names, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}?" if close else "give a built-in name or the path of a YAML file"
            raise InputError.single(None, f"unknown {what} {text!r}; built-in {what}s: {', '.join(names)}", hint=hint)
    root = read_yaml(path)
    if not isinstance(root, dict):
        raise InputError.single(
            str(path),
            f"a {what} file is a YAML mapping of fields (name:, ...)",
            hint=f"see the built-in files in {directory}",
        )
    try:
        return schema.model_validate(to_plain(root))
    except ValidationError as exc:
        problems = problems_from_validation(exc, root)
        for problem in problems:  # a bad mapping key: name the key, not pydantic's "[key]" marker
            problem.path = problem.path.removesuffix(".[key]")
        raise InputError(str(path), problems) from None


def builtin_models() -> list[str]:
    """Names of the built-in models (``gpt3-175b``, ``llama3-405b``, ...)."""
    return builtin_names(MODELS_DIR)


def load_model(name_or_path: str | Path) -> ModelSpec:
    """A built-in model by name (see :func:`builtin_models`) or a model YAML file; raises :class:`InputError`."""
    return load_spec(name_or_path, MODELS_DIR, ModelSpec, "model")

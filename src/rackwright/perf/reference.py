"""The reference training workloads that put rack generations side by side, one definition each: ``rackwright
evaluate``'s delivery figures (:func:`rackwright.perf.api.rack_delivery`), the explorer's training figures
(:mod:`rackwright.explore.evaluate`, ``reference: dense`` or ``moe``) and a programme's workload where its file
leaves the model or the global batch out (:mod:`rackwright.programme.schema`) all take them from here.

**Batch rule.** A reference's global batch on N accelerators is ``N × sequences / per_accelerators`` sequences
(rounded down, at least one): a whole number of sequences per accelerator (or per group of them), so that the
batch grows with the job as its data-parallel degree does and every power-of-two DP degree divides it. The
ratio keeps the published run's tokens per step at the reference job size (16,384 accelerators):

* dense, Llama 3 405B: one sequence of 8,192 tokens per 8 accelerators, 2,048 sequences (16.8M tokens) on
  16,384, Llama 3's own batch on its own 16,384 GPUs (The Llama 3 Herd of Models, Table 4: DP 128 × 16
  sequences of 8,192 tokens, 16M tokens a step);
* mixture of experts, DeepSeek-V3: one sequence of 4,096 tokens per accelerator, 16,384 sequences (67.1M
  tokens) on 16,384: DeepSeek-V3's final batch of 15,360 sequences of 4,096 tokens (62.9M tokens; DeepSeek-V3
  Technical Report §4.2, trained on 2,048 H800, §3.1) rounded up to one whole sequence per accelerator (+6.7 %).
  15,360 itself (2^10 × 15) splits over at most 1,024 data-parallel replicas, which on 16,384 accelerators with
  TP 1 forces PP × CP ≥ 16 and a short pipeline fill (16.6 % MFU on GB300 NVL72 against 29.7 % with 16,384);
  DeepSeek's own 7.5 sequences per accelerator would be 122,880 sequences, 8 × the batch it trained with.
  Only the architecture and hyper-parameters of the report are used, not its GPU-hour figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReferenceTraining:
    """A reference training workload: the model (a name ``rackwright perf`` knows), the tokens it is trained on,
    the power budget of the racks it runs on (rack input power), the job size of the delivery figures, the
    sequence length, the batch rule (``sequences`` per ``per_accelerators`` accelerators, :meth:`global_batch`),
    the recipe policy (the first of ``precisions`` the accelerator supports) and the search's restrictions."""

    model: str
    tokens: float
    budget_w: float
    accelerators: int
    seq_len: int
    sequences: int
    per_accelerators: int
    precisions: tuple[str, ...] = ("bf16",)
    restrict: dict = field(default_factory=dict, hash=False)

    def global_batch(self, accelerators: int) -> int:
        """The global batch on ``accelerators`` (the module docstring's batch rule)."""
        return max(1, accelerators * self.sequences // self.per_accelerators)


#: Llama 3 405B trained on 15T tokens with the racks that 100 MW of rack input power buys, at the per-accelerator
#: throughput of the best configuration for a 16,384-accelerator job (DP scales out linearly beyond it, an
#: assumption), 2,048 sequences of 8,192 tokens a step (the batch rule).
REFERENCE_TRAINING = ReferenceTraining(
    model="llama3-405b", tokens=15e12, budget_w=100e6, accelerators=16384, seq_len=8192, sequences=1, per_accelerators=8
)
#: DeepSeek-V3 (671B, 256 fine-grained experts, MLA) trained on 15T tokens (as the dense reference; DeepSeek-V3
#: §4.1: 14.8T) on a 16,384-accelerator job in 100 MW, 16,384 sequences of 4,096 tokens a step (the batch rule).
#: The way DeepSeek ran it narrows the search (§3.2, §3.4: no tensor parallelism, DeepEP's all-to-all kernels;
#: micro-batch 1 is an assumption that keeps the search short). The recipe is the first of ``precisions`` the
#: accelerator supports: MXFP8 where the tensor cores scale blocks (Blackwell), DeepSeek's 1x128/128x128
#: blockwise FP8 (§3.3) on Hopper, BF16 without FP8.
REFERENCE_TRAINING_MOE = ReferenceTraining(
    model="deepseek-v3",
    tokens=15e12,
    budget_w=100e6,
    accelerators=16384,
    seq_len=4096,
    sequences=1,
    per_accelerators=1,
    precisions=("mxfp8", "fp8-blockwise", "bf16"),
    restrict={"tp": (1,), "micro_batch": (1,), "moe_dispatcher": (1,)},
)
#: The training references by name (a consumer such as the explorer's training objective picks one).
REFERENCE_TRAININGS = {"dense": REFERENCE_TRAINING, "moe": REFERENCE_TRAINING_MOE}

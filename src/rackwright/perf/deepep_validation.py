"""The model's DeepEP dispatch and combine against DeepEP's published normal-kernel bandwidths on H800
(``validation/deepep_runs.yaml``, issue 18: MoE inside and across scale-up domains).

Each printed figure is DeepEP's "logical" bandwidth, its benchmark's counted bytes over the kernel's time:
``counted rows x bytes a row / t`` (the file's header reads the benchmark line by line). The model's time for the
same operation, ``rackwright.perf.training._moe_dispatch_combine`` with the DeepEP dispatcher on the benchmark's EP
group, is converted to that figure with the rows the benchmark counts, at their expected value under its random
routing. The tolerance (±15 %) and the reason of every case outside it are the file's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from math import comb
from pathlib import Path

from ..published import RelativeCheck, listed, verdict
from ..yamlio import read_yaml, to_plain
from .efficiency import profile
from .precision import recipe
from .system import load_system
from .training import Parallelism, _moe_dispatch_combine
from .workload import load_model

DEEPEP_RUNS = Path("validation/deepep_runs.yaml")
# DeepEP's benchmark (test_intranode.py:16, test_internode.py:16): 256 experts, top-8, 8 GPUs a node.
EXPERTS, TOP_K, NODE_SIZE = 256, 8, 8


@dataclass(frozen=True)
class DeepEPRow(RelativeCheck):
    case: str
    version: str  # "v1" or "v2"
    ep: int
    operation: str  # "dispatch" (FP8) or "combine" (BF16)
    published: float  # GB/s, DeepEP's logical bandwidth
    computed: float  # GB/s, the model's time converted to the same figure
    tolerance: float
    known_miss: str  # the file's ``xfail`` reason where the case is expected outside the tolerance; "" otherwise
    note: str  # the file's ``note`` (why a case within the tolerance is)


def deepep_runs(root: str | Path = ".") -> dict:
    """The file as plain data: ``model``, ``system``, ``tolerance`` and ``cases``, among sources and assumptions."""
    return to_plain(read_yaml(Path(root) / DEEPEP_RUNS))


def distinct_nodes(nodes: int, kept: int) -> float:
    """Expected distinct nodes among a token's top-8 experts under DeepEP's benchmark routing (test_internode.py:25-29):
    i.i.d. scores, the ``kept`` nodes (groups) of highest top score, the 8 best experts of those. Walking the scores in
    descending order, the first ``kept`` nodes met are the kept ones and every kept expert above the 8th is one of
    them: at each of the 8 draws a new node is met with probability (its unseen experts) / (experts left)."""
    per_node = EXPERTS // nodes
    seen = {0: 1.0}  # nodes met so far -> probability
    for drawn in range(TOP_K):
        after: dict[int, float] = {}
        for j, p in seen.items():
            new = per_node * (nodes - j) / (EXPERTS - drawn) if j < kept else 0.0
            after[j + 1] = after.get(j + 1, 0.0) + p * new
            after[j] = after.get(j, 0.0) + p * (1 - new)
        seen = after
    return sum(j * p for j, p in seen.items())


def counted_per_token(case: dict) -> float:
    """Rows the benchmark counts for each of a rank's tokens (deepep_runs.yaml header).

    Intranode (``rank_received``): 8 source ranks, each token on the printing rank with P(one of its 256/EP experts)
    = 1 - C(256 - 256/EP, 8) / C(256, 8). Internode: the distinct nodes a token reaches, its own included; V1 keeps
    min(N, 4) nodes, V2 has no node limit.
    """
    if case["counted"] == "rank_received":
        return NODE_SIZE * (1 - comb(EXPERTS - EXPERTS // case["ep"], TOP_K) / comb(EXPERTS, TOP_K))
    nodes = case["nodes"]
    return distinct_nodes(nodes, min(nodes, 4) if case["version"] == "v1" else nodes)


@cache
def model_times(model_name: str, system_name: str, ep: int, tokens: int) -> tuple[float, float]:
    """The model's FP8 dispatch and BF16 combine of one rank's ``tokens`` [s]: _moe_dispatch_combine under bf16 is
    twice the BF16 one-way time, under fp8-blockwise the FP8 dispatch plus the BF16 combine."""
    model, system = load_model(model_name), load_system(system_name)
    eff = profile(system.accelerator.profile)
    # The benchmark's job is its EP group: EP ranks, data-parallel for the attention (no TP, PP or CP).
    c = Parallelism(tp=1, pp=1, dp=ep, micro_batch=1, ep=ep, etp=1, moe_dispatcher=1).arrays()
    bf16 = float(_moe_dispatch_combine(model, system, c, tokens, eff, recipe("bf16")))
    fp8 = float(_moe_dispatch_combine(model, system, c, tokens, eff, recipe("fp8-blockwise")))
    return fp8 - bf16 / 2, bf16 / 2


def predicted_gb_s(case: dict, model_name: str, system_name: str) -> float:
    """The benchmark's counted bytes (expected value) over the model's time of the case's operation [GB/s]."""
    dispatch, combine = model_times(model_name, system_name, case["ep"], case["tokens_per_rank"])
    counted_bytes = case["tokens_per_rank"] * counted_per_token(case) * case["bytes_per_token"]
    return counted_bytes / (dispatch if case["operation"] == "dispatch" else combine) / 1e9


def compare_deepep(root: str | Path = ".") -> list[DeepEPRow]:
    """One row per published figure: published against predicted GB/s at the file's tolerance."""
    doc = deepep_runs(root)
    return [
        DeepEPRow(
            case["id"],
            case["version"],
            case["ep"],
            case["operation"],
            float(case["published_gb_s"]),
            predicted_gb_s(case, doc["model"], doc["system"]),
            float(doc["tolerance"]),
            case.get("xfail", ""),
            case.get("note", ""),
        )
        for case in doc["cases"]
    ]


def deepep_markdown(rows: list[DeepEPRow]) -> str:
    """The table, then the reason of every case outside the tolerance and the note of every case within it."""
    lines = [
        "| case | version | EP | operation | published GB/s | predicted GB/s | error | tolerance | within |",
        "|---|---|---:|---|---:|---:|---:|---:|:-:|",
    ]
    lines += [
        f"| {r.case} | {r.version} | {r.ep} | {r.operation} | {r.published:.0f} | {r.computed:.1f} | "
        f"{r.error:+.1%} | ±{r.tolerance:.0%} | {verdict(r.within, r.known_miss)} |"
        for r in rows
    ]
    misses = [f"- {r.case}: {r.known_miss}" for r in rows if r.known_miss]
    notes = [f"- {r.case}: {r.note}" for r in rows if r.note]
    table = "\n".join(lines) + "\n"
    return table + listed("Known misses", misses) + listed("Notes on cases within the tolerance", notes)

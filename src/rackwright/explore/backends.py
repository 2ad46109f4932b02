"""Where chunks are evaluated: in this process (``local``) or as tasks on a Ray cluster (``ray``).

Both backends evaluate the same chunks with the same function and return them in chunk
order, so an exploration's results do not depend on the backend. Ray is an optional extra:
``ray.init`` starts a local cluster (``workers`` CPUs) unless one is already running, and the
runtime is shut down again when this call started it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import InputError
from .evaluate import evaluate_chunk
from .sample import Chunk
from .space import cached_space

BACKENDS = ("local", "ray")


def chunk_task(space_file: str, mtime: float, chunk: Chunk) -> dict[str, np.ndarray]:
    """Evaluate one chunk of the space file (loaded once per process)."""
    return evaluate_chunk(cached_space(space_file, mtime), chunk)


def run_chunks(
    space_file: str,
    chunks: list[Chunk],
    backend: str = "local",
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, np.ndarray]]:
    """Evaluate ``chunks`` of a space file on ``backend``; ``progress(designs)`` is called as chunks finish."""
    if backend not in BACKENDS:
        raise InputError.single(None, f"unknown backend {backend!r}", "--backend", f"one of: {', '.join(BACKENDS)}")
    mtime = Path(space_file).stat().st_mtime
    report = progress or (lambda designs: None)
    if backend == "local":
        results = []
        for chunk in chunks:
            results.append(chunk_task(space_file, mtime, chunk))
            report(len(chunk))
        return results
    return _run_on_ray(str(Path(space_file).resolve()), mtime, chunks, workers, report)  # workers may run elsewhere


def _run_on_ray(path: str, mtime: float, chunks: list[Chunk], workers: int | None, report) -> list[dict]:
    try:
        import ray
    except ImportError:
        raise InputError.single(
            None, "the ray backend needs Ray", "--backend", "install the optional extra: pip install 'rackwright[ray]'"
        ) from None
    started = not ray.is_initialized()
    if started:
        ray.init(
            num_cpus=workers or os.cpu_count(), include_dashboard=False, log_to_driver=False, configure_logging=False
        )
    try:
        task = ray.remote(chunk_task)
        pending = {task.remote(path, mtime, chunk): i for i, chunk in enumerate(chunks)}
        results: list = [None] * len(chunks)
        waiting = list(pending)
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=1)
            i = pending[done[0]]
            results[i] = ray.get(done[0])
            report(len(chunks[i]))
        return results
    finally:
        if started:
            ray.shutdown()

"""Where chunks are evaluated: in this process (``local``) or as tasks on a Ray cluster (``ray``).

Both backends evaluate the same chunks with the same function and return them in chunk
order (:func:`rackwright.parallel.run_tasks`), so an exploration's results do not depend on
the backend. Ray is an optional extra: ``ray.init`` starts a local cluster (``workers`` CPUs)
unless one is already running, and the runtime is shut down again when this call started it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..parallel import BACKENDS, check_backend, run_tasks
from .evaluate import evaluate_chunk
from .sample import Chunk
from .space import cached_space

__all__ = ["BACKENDS", "chunk_task", "run_chunks"]


def chunk_task(task: tuple[str, float, Chunk]) -> dict[str, np.ndarray]:
    """Evaluate one chunk ``(space file, its mtime, chunk)`` of the space file (loaded once per process)."""
    space_file, mtime, chunk = task
    return evaluate_chunk(cached_space(space_file, mtime), chunk)


def run_chunks(
    space_file: str,
    chunks: list[Chunk],
    backend: str = "local",
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, np.ndarray]]:
    """Evaluate ``chunks`` of a space file on ``backend``; ``progress(designs)`` is called as chunks finish. The
    local backend evaluates in this process; ``workers`` is the Ray cluster's CPUs."""
    check_backend(backend)
    mtime = Path(space_file).stat().st_mtime
    report = progress or (lambda designs: None)
    path = space_file if backend == "local" else str(Path(space_file).resolve())  # Ray workers may run elsewhere
    return run_tasks(
        chunk_task,
        [(path, mtime, chunk) for chunk in chunks],
        backend,
        workers if backend == "ray" else None,
        lambda i: report(len(chunks[i])),
    )

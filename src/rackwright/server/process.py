"""``rackwright serve`` as a child process: start it, wait until it answers, read the demo tokens, kill it.

Used by the crash-safety test (which needs a real process to ``kill -9``) and by
``benchmarks/bench_server.py`` (which keeps the load generator out of the server's process).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

RACKWRIGHT = Path(sys.executable).parent / "rackwright"
TOKEN_LINE = re.compile(r"demo user (\S+)\s+password \S+\s+token (\S+)")


class ServeProcess:
    """``rackwright serve --db URL --port PORT --workers N [--demo]``, its output in ``log``."""

    def __init__(self, db_url: str, port: int, log: Path, demo: bool = True, workers: int = 1):
        self.url, self.log = f"http://127.0.0.1:{port}", log
        command = [str(RACKWRIGHT), "serve", "--db", db_url, "--port", str(port), "--workers", str(workers)]
        command += ["--demo"] if demo else []
        with log.open("w") as sink:
            self.process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout_s: float = 180) -> ServeProcess:
        """Wait until the server answers; if it exits or stays silent, stop it and raise RuntimeError."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rackwright serve exited with {self.process.returncode}: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("rackwright serve did not answer in time")

    def stop(self) -> None:
        """SIGTERM (a clean shutdown, which also stops ``--workers`` processes), then wait."""
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(30)

    def tokens(self) -> dict[str, str]:
        """The demo users' API tokens printed at start."""
        return dict(TOKEN_LINE.findall(self.log.read_text()))

    def kill(self) -> None:
        """SIGKILL, no clean shutdown (what a crash does to the process; ``--workers`` children are orphaned)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

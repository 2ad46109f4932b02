"""A throwaway PostgreSQL cluster on loopback, for the server's tests and benchmark.

``initdb`` into a temporary directory and ``pg_ctl start`` on a free port (socket directory
inside it); binaries are taken from ``PATH`` or ``/usr/lib/postgresql/*/bin`` (Debian's
``postgresql`` package; ``scripts/test-deps.sh`` installs it). PostgreSQL refuses to run as
root, so under root it runs as the ``postgres`` user (``runuser``). Stopping removes it all.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def available() -> bool:
    return bool(pg_binary("initdb") and pg_binary("pg_ctl"))


class ThrowawayPostgres:
    """``with ThrowawayPostgres() as pg: url = pg.create_database()``."""

    def __init__(self, max_connections: int = 300):
        self.root = Path(tempfile.mkdtemp(prefix="rackwright-pg-"))
        self.data, self.port = self.root / "data", free_port()
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.max_connections = max_connections

    def start(self) -> ThrowawayPostgres:
        initdb, pg_ctl = pg_binary("initdb"), pg_binary("pg_ctl")
        if not (initdb and pg_ctl):
            raise RuntimeError("PostgreSQL binaries not found: run scripts/test-deps.sh (apt-get install postgresql)")
        if self.run_as:
            shutil.chown(self.root, "postgres")
        subprocess.run(
            [*self.run_as, initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections={self.max_connections}"
        )
        subprocess.run(
            [*self.run_as, pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start"],
            check=True,
            capture_output=True,
        )
        return self

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, pg_binary("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

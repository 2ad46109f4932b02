"""Shared fixtures of the collaboration-server tests: throwaway databases and live servers on loopback.

* ``pg_cluster`` (session): a throwaway PostgreSQL cluster on loopback
  (:class:`rackwright.server.throwaway_pg.ThrowawayPostgres`), stopped at the end;
  ``scripts/test-deps.sh`` installs Debian's ``postgresql`` where it is missing;
* ``db_url`` (parametrised ``sqlite`` / ``postgresql``): a fresh, empty database per test;
* ``live_server(db_url, demo=True)``: the app under uvicorn in a thread on a free port,
  stopped when the test ends; yields a :class:`LiveServer` (``url``, ``app``, ``tokens``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx
import pytest

from rackwright.server import throwaway_pg
from rackwright.server.throwaway_pg import free_port


@pytest.fixture(scope="session")
def pg_cluster():
    if not throwaway_pg.available():
        pytest.skip("PostgreSQL binaries not found: run scripts/test-deps.sh (apt-get install postgresql)")
    with throwaway_pg.ThrowawayPostgres() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rackwright.db'}"
    return request.getfixturevalue("pg_cluster").create_database()


@dataclass
class LiveServer:
    url: str
    app: object
    tokens: dict[str, str]

    def client(self, user: str | None) -> httpx.Client:
        """An API client authenticated as demo ``user`` (None: anonymous)."""
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        return httpx.Client(base_url=self.url + "/api/v1", headers=headers, timeout=60)


def start_server(db_url: str, demo: bool = True):
    """``(LiveServer, stop)``: the app under uvicorn in a daemon thread."""
    import uvicorn

    from rackwright.server.app import create_app

    app = create_app(db_url, demo=demo)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)

    def stop():
        server.should_exit = True
        thread.join(10)
        app.state.engine.dispose()

    return LiveServer(f"http://127.0.0.1:{port}", app, dict(app.state.demo_tokens)), stop


@pytest.fixture
def live_server():
    stops = []

    def start(db_url: str, demo: bool = True) -> LiveServer:
        server, stop = start_server(db_url, demo)
        stops.append(stop)
        return server

    yield start
    for stop in stops:
        stop()


# --- markers for a fast loop: `pytest -m "not slow and not postgres and not browser and not netbox"` --------------

#: Files whose tests take minutes (the docs' runnable examples; the confidentiality property over random sequences).
SLOW_FILES = ("test_docs.py", "test_server_confidentiality.py")


def pytest_collection_modifyitems(items):
    """Mark each test by what it needs: ``server`` (a collaboration server), ``postgres`` (a throwaway
    PostgreSQL cluster), ``browser`` (Chromium), ``netbox`` (a throwaway NetBox, tests/netbox_service.py),
    ``slow`` (minutes). ``make test`` runs them all."""
    for item in items:
        name = item.path.name
        params = getattr(item, "callspec", None)
        if name.startswith("test_server") or name == "test_yaml_bounds.py" and "server" in item.name:
            item.add_marker("server")
        if "pg_cluster" in item.fixturenames or params and "postgresql" in map(str, params.params.values()):
            item.add_marker("postgres")
        if "browser" in item.fixturenames:
            item.add_marker("browser")
        if "netbox" in item.fixturenames:
            item.add_marker("netbox")
        if name in SLOW_FILES:
            item.add_marker("slow")

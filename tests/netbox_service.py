"""A throwaway NetBox on loopback for the live NetBox tests (``tests/test_netbox_live.py``).

What it starts, and stops again at the end of the test session:

* PostgreSQL: a throwaway cluster (:class:`rackwright.server.throwaway_pg.ThrowawayPostgres`, Debian's
  ``postgresql``, installed by ``scripts/test-deps.sh``);
* Redis: Debian's ``redis-server`` on a free loopback port, no persistence (``scripts/test-deps.sh``);
* NetBox: the official ``netbox`` package from PyPI, pinned to :data:`NETBOX_VERSION`, in its own virtual
  environment under ``.netbox/`` (git-ignored; NetBox needs Python >= 3.12, the project's own venv may be
  older). The virtualenv is built once and reused; its configuration (a fresh ``SECRET_KEY``,
  ``ALLOWED_HOSTS`` loopback, database and Redis on loopback) is written per session into a temporary folder.
  Migrations run once per NetBox version: the migrated database is kept as a ``pg_dump`` in ``.netbox/``
  and restored on later runs. A superuser and a v1 API token are created, then NetBox is served on a free
  loopback port by gunicorn (NetBox's documented production server, a dependency of the ``netbox`` package) with
  :data:`WORKERS` worker processes, so requests run side by side (Django's ``runserver`` answers one at a time).
  Static files (the UI's CSS and JavaScript, which a production
  install leaves to nginx) come from Django's ``StaticFilesHandler`` wrapped around NetBox's WSGI application;
  ``collectstatic`` runs once per NetBox version into ``.netbox/`` (the rack elevation SVG reads its CSS there).

``NetBoxService.start()`` records how long each step took in ``timings`` (seconds), so a test can report
install, migrate and start times. Set ``RACKWRIGHT_NETBOX_PYTHON`` to the interpreter to use, or
``RACKWRIGHT_NETBOX_DIR`` to keep the cache elsewhere. :class:`Unavailable` says why NetBox cannot start here
(no Python >= 3.12, no PostgreSQL or Redis, the install failed); the fixture turns it into a skip.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
NETBOX_VERSION = "4.7.3"
MIN_PYTHON = (3, 12)
ADMIN_USER = "rackwright"
#: gunicorn worker processes: NetBox's contrib/gunicorn.py suggests 2n + 1 for n cores (n = 2 here).
WORKERS = 5
#: The WSGI module the service serves: NetBox's application with its static files.
WSGI = """\
from django.contrib.staticfiles.handlers import StaticFilesHandler
from netbox.wsgi import application as netbox_application
application = StaticFilesHandler(netbox_application)
"""


class Unavailable(RuntimeError):
    """NetBox cannot be started on this machine (the reason is the message)."""


def cache_dir() -> Path:
    return Path(os.environ.get("RACKWRIGHT_NETBOX_DIR") or ROOT / ".netbox")


def _version_of(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True,
                             text=True, timeout=30, check=True).stdout.split()
        return int(out[0]), int(out[1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def find_python() -> str:
    """An interpreter >= 3.12: $RACKWRIGHT_NETBOX_PYTHON, this one, python3.13/3.12 on PATH, or a pyenv one."""
    chosen = os.environ.get("RACKWRIGHT_NETBOX_PYTHON")
    if chosen:
        if (_version_of(chosen) or (0, 0)) < MIN_PYTHON:
            raise Unavailable(f"RACKWRIGHT_NETBOX_PYTHON={chosen} is not Python >= 3.12")
        return chosen
    candidates = [sys.executable] + [shutil.which(f"python3.{minor}") for minor in (14, 13, 12)]
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.1[2-9]*/bin/python3"), reverse=True)
    for python in filter(None, candidates):
        if (_version_of(python) or (0, 0)) >= MIN_PYTHON:
            return python
    raise Unavailable("NetBox needs Python >= 3.12 and none was found (PATH, pyenv); "
                      "set RACKWRIGHT_NETBOX_PYTHON")


def _run(cmd: list[str], what: str, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired:
        raise Unavailable(f"{what} took longer than {timeout:.0f} s") from None
    if done.returncode:
        raise Unavailable(f"{what} failed (exit {done.returncode}): {(done.stderr or done.stdout)[-2000:]}")
    return done


def install(timings: dict | None = None) -> Path:
    """The NetBox virtualenv (built once per NetBox version and Python minor); its path."""
    python = find_python()
    major, minor = _version_of(python)
    venv = cache_dir() / f"venv-{NETBOX_VERSION}-py{major}.{minor}"
    stamp = venv / ".installed"
    started = time.monotonic()
    if not stamp.is_file():
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        _run([python, "-m", "venv", str(venv)], "creating NetBox's virtualenv", 300)
        _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              f"netbox=={NETBOX_VERSION}"], f"pip install netbox=={NETBOX_VERSION}", 1800)
        stamp.write_text(NETBOX_VERSION + "\n")
    if timings is not None:
        timings["install_s"] = round(time.monotonic() - started, 1)
    return venv


def _free_port() -> int:
    from rackwright.server.throwaway_pg import free_port

    return free_port()


class NetBoxService:
    """``with NetBoxService() as nb: httpx.get(nb.url + "/api/status/", headers=nb.headers)``."""

    def __init__(self):
        self.timings: dict[str, float] = {}
        self.root = Path(tempfile.mkdtemp(prefix="rackwright-netbox-"))
        self.pg = None
        self.redis = None
        self.server = None
        self.port = None
        self.url = ""
        self.token = ""
        self.password = ""

    # -- life cycle ------------------------------------------------------------------------------------------
    def start(self) -> NetBoxService:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from rackwright.server import throwaway_pg

        if not throwaway_pg.available():
            raise Unavailable("PostgreSQL binaries not found: run scripts/test-deps.sh")
        if not shutil.which("redis-server"):
            raise Unavailable("redis-server not found: run scripts/test-deps.sh (apt-get install redis-server)")
        self.venv = install(self.timings)
        self.python = str(self.venv / "bin" / "python")

        started = time.monotonic()
        self.pg = throwaway_pg.ThrowawayPostgres(max_connections=100).start()
        self._psql("CREATE DATABASE netbox")
        self.redis_port = _free_port()
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "no", "--dir", str(self.root), "--logfile", str(self.root / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._write_configuration()
        self.timings["services_s"] = round(time.monotonic() - started, 1)
        started = time.monotonic()
        self._static_files()
        self.timings["static_s"] = round(time.monotonic() - started, 1)

        started = time.monotonic()
        dump = cache_dir() / f"migrated-{NETBOX_VERSION}.sql"
        if dump.is_file():
            self._restore(dump)
            self.timings["migrate_cached"] = True
        else:
            self._manage(["migrate", "--no-input"], "netbox migrate", 3600)
            self._dump(dump)
            self.timings["migrate_cached"] = False
        self.timings["migrate_s"] = round(time.monotonic() - started, 1)

        started = time.monotonic()
        self.token, self.password = self._create_admin()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (self.root / "rackwright_netbox_wsgi.py").write_text(WSGI)
        log = (self.root / "server.log").open("w")
        # --preload: the master imports NetBox (its URLs and GraphQL schema, ~10 s of CPU) once and forks the workers
        command = [str(self.venv / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(WORKERS),
                   "--preload", "--timeout", "900", "--graceful-timeout", "5", "--no-control-socket",
                   "--chdir", str(self.root), "--access-logfile", "-", "rackwright_netbox_wsgi:application"]
        self.server = subprocess.Popen(command, env=self._env(), stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready(300)
        self.timings["start_s"] = round(time.monotonic() - started, 1)

    def stop(self) -> None:
        for process in (self.server, self.redis):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
        self.server = self.redis = None
        if self.pg is not None:
            self.pg.stop()
            self.pg = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> NetBoxService:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- use ---------------------------------------------------------------------------------------------------
    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}", "Accept": "application/json"}

    def client(self) -> httpx.Client:
        """An API client (base URL ``.../api``) authenticated as the superuser."""
        return httpx.Client(base_url=self.url + "/api", headers=self.headers, timeout=300)

    def shell(self, code: str, timeout: float = 600) -> str:
        """Run Python ``code`` in NetBox's own Django shell (``netbox shell``); its standard output."""
        return self._manage(["shell", "--no-imports", "-c", code], "netbox shell", timeout).stdout

    # -- inside ------------------------------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "DJANGO"))}
        env["PYTHONPATH"] = str(self.root)
        env["NETBOX_CONFIGURATION"] = "rackwright_netbox_configuration"
        env["NETBOX_ROOT"] = str(self.root)
        env["PATH"] = f"{self.venv / 'bin'}:{env.get('PATH', '')}"
        return env

    def _manage(self, args: list[str], what: str, timeout: float) -> subprocess.CompletedProcess:
        return _run([self.python, "-m", "netbox", *args], what, timeout, env=self._env(), cwd=str(self.root))

    def _write_configuration(self) -> None:
        config = f"""\
            ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
            DATABASES = {{"default": {{"ENGINE": "django.db.backends.postgresql", "NAME": "netbox",
                          "USER": "postgres", "PASSWORD": "", "HOST": "127.0.0.1", "PORT": {self.pg.port},
                          "CONN_MAX_AGE": 300}}}}
            REDIS = {{
                "tasks": {{"HOST": "127.0.0.1", "PORT": {self.redis_port}, "PASSWORD": "", "DATABASE": 0,
                           "SSL": False}},
                "caching": {{"HOST": "127.0.0.1", "PORT": {self.redis_port}, "PASSWORD": "", "DATABASE": 1,
                             "SSL": False}},
            }}
            SECRET_KEY = {secrets.token_urlsafe(60)!r}
            API_TOKEN_PEPPERS = {{1: {secrets.token_urlsafe(60)!r}}}
            DEBUG = False
            LOGIN_REQUIRED = True
            MEDIA_ROOT = {str(self.root / "media")!r}
            REPORTS_ROOT = {str(self.root / "reports")!r}
            SCRIPTS_ROOT = {str(self.root / "scripts")!r}
            CENSUS_REPORTING_ENABLED = False
            RELEASE_CHECK_URL = None
            MAX_PAGE_SIZE = 5000
            """
        (self.root / "rackwright_netbox_configuration.py").write_text(textwrap.dedent(config))

    def _static_files(self) -> None:
        """NetBox's collected static files (``STATIC_ROOT`` = NETBOX_ROOT/static): its rack elevation SVG reads
        ``rack_elevation.css`` from there (a 500 without it). Collected once per NetBox version into the cache and
        linked into each session's root."""
        static = cache_dir() / f"static-{NETBOX_VERSION}"
        (self.root / "static").symlink_to(static, target_is_directory=True)
        if (static / ".collected").is_file():
            return
        shutil.rmtree(static, ignore_errors=True)
        static.mkdir(parents=True)
        self._manage(["collectstatic", "--no-input"], "netbox collectstatic", 900)
        (static / ".collected").write_text(NETBOX_VERSION + "\n")

    def _pg_tool(self, name: str) -> str:
        from rackwright.server.throwaway_pg import pg_binary

        tool = pg_binary(name)
        if not tool:
            raise Unavailable(f"PostgreSQL's {name} not found: run scripts/test-deps.sh")
        return tool

    def _psql(self, sql: str) -> None:
        _run([self._pg_tool("psql"), "-h", "127.0.0.1", "-p", str(self.pg.port), "-U", "postgres", "-d", "postgres",
              "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], f"psql {sql!r}", 120)

    def _dump(self, dump: Path) -> None:
        partial = dump.with_suffix(".partial")
        dump.parent.mkdir(parents=True, exist_ok=True)
        _run([self._pg_tool("pg_dump"), "-h", "127.0.0.1", "-p", str(self.pg.port), "-U", "postgres", "--no-owner",
              "-f", str(partial), "netbox"], "pg_dump of the migrated database", 600)
        partial.replace(dump)

    def _restore(self, dump: Path) -> None:
        _run([self._pg_tool("psql"), "-h", "127.0.0.1", "-p", str(self.pg.port), "-U", "postgres", "-d", "netbox",
              "-v", "ON_ERROR_STOP=1", "-q", "-f", str(dump)], "restoring the migrated database", 600)

    def _create_admin(self) -> tuple[str, str]:
        """The superuser's API token and password (for the UI)."""
        password = secrets.token_urlsafe(16)
        code = textwrap.dedent(f"""\
            from users.models import Token, User
            user = User.objects.create_superuser({ADMIN_USER!r}, "rackwright@example.com", {password!r})
            token = Token(user=user, version=1) if "version" in {{f.name for f in Token._meta.get_fields()}} \\
                else Token(user=user)
            token.save()
            print("TOKEN=" + (getattr(token, "plaintext", None) or token.key))
            """)
        out = self.shell(code)
        for line in out.splitlines():
            if line.startswith("TOKEN="):
                return line[len("TOKEN="):].strip(), password
        raise Unavailable(f"no API token from NetBox's shell: {out[-2000:]}")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                log = (self.root / "server.log").read_text(errors="replace")[-3000:]
                raise Unavailable(f"NetBox's gunicorn exited ({self.server.returncode}): {log}")
            try:
                response = httpx.get(self.url + "/api/status/", headers=self.headers, timeout=10)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}: {response.text[:500]}"
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.5)
        raise Unavailable(f"NetBox did not answer /api/status/ within {timeout:.0f} s ({last})")

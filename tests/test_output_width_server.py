"""The collaboration server's commands never cut a number or an id at 80 columns, piped (issue 22).

tests/test_output_width.py runs every documented example, but the server's client commands (``push``, ``pull``)
need a running server and the operator's commands (``server-admin ...``) its database, which the docs' examples
do not have. Here every one of them runs against a live demo server (tests/conftest.py: two organisations,
their users, the example designs) and its SQLite database, with long slugs and names, and its output passes the
same checks: no ellipsis after a character of a word, number or id, no id split over two lines of a table, no
line over 80 characters but those that hold something to copy whole (a URL, a token, the path of a file written).
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import start_server
from rackwright.server.throwaway_pg import free_port
from test_docs import run_in_process
from test_output_width import RACKWRIGHT, ROOT, cells, problems, too_wide

pytestmark = pytest.mark.server

ORG = "acme-international-rack-integrators"
USER = "jane.doe-thermal-engineering"
PASSWORD_ENV = "WIDTH_SERVER_PASSWORD"
#: A line that may pass 80 characters besides those of test_output_width.WIDE_LINE (a URL, a ``wrote`` note): a demo
#: user's password and token (``serve --demo``), printed in aligned columns to be copied.
TO_COPY = re.compile(r"^demo user .* token \S{40,}$")


def commands(db: str, url: str, out: Path) -> list[tuple[str, list[str]]]:
    """``(id, argv)`` of every client and operator command, in an order that works: each acts on what the ones
    before it left (``--db`` and ``--server`` name the live server's)."""
    server, database = ["--server", url], ["--db", db]
    admin = ["rackwright", "server-admin"]
    return [
        ("push new", ["rackwright", "push", "examples/gb300-nvl72.yaml", *server, "--name", "gb300-nvl72-width-check",
                      "--programme", "nvl72", "-m", "a new design with a long name"]),
        ("push revision", ["rackwright", "push", "examples/gb300-nvl72.yaml", *server, "--name", "gb300-nvl72",
                           "-m", "the same file again"]),
        ("pull", ["rackwright", "pull", "mfr/gb300-nvl72", *server, "-o", str(out / "gb300.yaml")]),
        ("pull resolved", ["rackwright", "pull", "gb300-nvl72-width-check", *server, "--resolved",
                           "-o", str(out / "width-check.yaml")]),
        ("org add", [*admin, "org", "add", ORG, "--name", "Acme International Rack Integrators, Inc.", *database]),
        ("org add exists", [*admin, "org", "add", ORG, "--name", "Acme", "--exist-ok", *database]),
        ("user add", [*admin, "user", "add", USER, "--org", ORG, "--role", "engineer", "--password-env",
                      PASSWORD_ENV, "--display-name", "Jane Doe, Senior Thermal Engineer (liquid cooling)",
                      *database]),
        ("user list", [*admin, "user", "list", *database]),
        ("user list org", [*admin, "user", "list", "--org", ORG, *database]),
        ("user role", [*admin, "user", "role", USER, "approver", *database]),
        ("user password", [*admin, "user", "password", USER, "--password-env", PASSWORD_ENV, *database]),
        ("token", [*admin, "token", USER, "--label", "width check", *database]),
    ]


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> dict[str, tuple[int, str, str]]:
    """Every command's exit status, stdout and stderr at 80 columns, against one demo server."""
    folder = tmp_path_factory.mktemp("width-server")
    db = f"sqlite:///{folder / 'server.db'}"
    server, stop = start_server(db)
    results = {}
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("COLUMNS", "80")
            patch.setenv("RACKWRIGHT_TOKEN", server.tokens["mfr-engineer"])
            patch.setenv(PASSWORD_ENV, "width-password-1")
            for name, argv in commands(db, server.url, folder):
                result = run_in_process(argv, patch)
                results[name] = (result.returncode, result.stdout, result.stderr)
    finally:
        stop()
    results["serve --demo"] = _serve(f"sqlite:///{folder / 'serve.db'}")
    return results


def _serve(db: str) -> tuple[int, str, str]:
    """What ``serve --demo`` prints before it serves (a process of its own, stdout a pipe), then it is stopped; one
    that prints nothing for two minutes is killed."""
    env = {**os.environ, "COLUMNS": "80", "PYTHONUNBUFFERED": "1"}
    argv = [str(RACKWRIGHT), "serve", "--demo", "--db", db, "--port", str(free_port())]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    watchdog = threading.Timer(120, process.kill)
    watchdog.start()
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("rackwright server on"):
                break
    finally:
        watchdog.cancel()
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    return 0 if lines and lines[-1].startswith("rackwright server on") else 1, "".join(lines), stderr


NAMES = [name for name, _ in commands("DB", "URL", Path("OUT"))] + ["serve --demo"]


@pytest.mark.parametrize("name", NAMES)
def test_server_commands_fit_80_columns_piped(ran, name):
    status, stdout, stderr = ran[name]
    assert status == 0 and "Traceback" not in stderr, stderr
    assert stdout.strip(), stderr  # something printed to check
    for text in (stdout, stderr):
        assert not problems(text), "\n".join(problems(text)) + "\n" + text
        wide = [line for line in too_wide(text) if not TO_COPY.search(line.partition(": ")[2])]
        assert not wide, "\n".join(wide)


def test_user_list_prints_long_slugs_and_every_user_whole(ran):
    """The demo's users and the long-named one: one table per organisation, named whole in its title, each username
    whole in its cell; 3 organisations, 4 users each in the demo's two (tests/conftest.py, server.seed)."""
    listed = ran["user list"][1]
    usernames = [cells(line)[0] for line in listed.splitlines() if cells(line) and cells(line)[0]]
    assert {USER, "mfr-engineer", "lab-admin"} <= set(usernames)
    assert f"{ORG}: 1 user(s)" in listed and "9 user(s) in 3 organisation(s)" in listed
    assert USER in ran["user list org"][1] and "mfr-engineer" not in ran["user list org"][1]


def test_the_token_is_printed_whole_on_a_line_of_its_own(ran):
    token = ran["token"][1].strip()
    assert re.fullmatch(r"\S{40,}", token) and "\n" not in token

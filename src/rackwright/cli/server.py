"""``rackwright serve``, ``push`` and ``pull``: the collaboration server and its client (issue 10)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Optional

import typer

from ..errors import InputError
from .common import EXIT_OK, EXIT_RULES, emit_json, guarded, out

app = typer.Typer(help="Collaboration server and client.")

SERVER_HELP = "Server URL, e.g. http://127.0.0.1:8000 (default: RACKWRIGHT_SERVER or the client config file)."


@app.command("serve")
@guarded
def serve_command(
    db: Optional[str] = typer.Option(None, "--db", help="Database: sqlite:///FILE (default ./rackwright.db) or "
                                     "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB; a bare path is an SQLite file."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    demo: bool = typer.Option(False, "--demo", help="Seed two organisations, their users and the example designs."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Server processes (uvicorn workers)."),
):
    """Run the collaboration server (FastAPI under uvicorn); the schema is migrated on start."""
    import os

    import uvicorn

    from ..server.app import create_app
    from ..server.config import DB_URL_ENV, database_url
    from ..server.seed import demo_password

    url = database_url(db)
    _check_port_free(host, port)
    app = create_app(url, demo=demo)  # migrates and seeds once, before any worker starts
    for username, token in app.state.demo_tokens.items():
        out.print(f"demo user {username:<13} password {demo_password(username):<18} token {token}", highlight=False, soft_wrap=True)
    out.print(f"rackwright server on http://{host}:{port} (API docs: http://{host}:{port}/docs)", highlight=False, soft_wrap=True)
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    app.state.engine.dispose()
    os.environ[DB_URL_ENV] = url
    # a worker loads the catalog and CoolProp before it answers the supervisor's health check (seconds)
    uvicorn.run("rackwright.server.app:app_from_environment", factory=True, workers=workers, host=host, port=port,
                log_level="warning", timeout_worker_healthcheck=120)


def _check_port_free(host: str, port: int) -> None:
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise InputError.single(None, f"cannot listen on {host}:{port}: {exc.strerror}", "--port",
                                "choose a free port or stop the other server") from None


@app.command("push")
@guarded
def push_command(
    design: Path = typer.Argument(..., help="Design YAML file; `extends` names a design already on the server."),
    server: Optional[str] = typer.Option(None, "--server", help=SERVER_HELP),
    message: str = typer.Option("", "--message", "-m", help="What changed and why."),
    name: Optional[str] = typer.Option(None, "--name", help="Design name on the server (default: the file's stem)."),
    parent: Optional[str] = typer.Option(None, "--parent", help="The revision your edit is based on (default: "
                                         "the head); a stale one is refused and nothing is stored."),
    programme: Optional[str] = typer.Option(None, "--programme", help="Programme of a new design."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored revision as JSON."),
):
    """Push a design as a new revision; the server checks and evaluates it (exit 1 if it breaks a rule)."""
    from ..server.client import ServerClient

    revision = ServerClient(server).push(design, name, message, parent, programme)
    if as_json:
        emit_json(revision)
    else:
        out.print(f"pushed {design} as revision {revision['id']} (#{revision['number']}) of {revision['name']}: "
                  f"{revision['errors']} error(s), {revision['warnings']} warning(s)", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_RULES if revision["errors"] else EXIT_OK)


@app.command("pull")
@guarded
def pull_command(
    ref: str = typer.Argument(..., metavar="NAME[@REV]", help="Design name, ORG/NAME for another organisation's; "
                              "@REV for a revision (default: the head)."),
    server: Optional[str] = typer.Option(None, "--server", help=SERVER_HELP),
    output: Path = typer.Option(..., "-o", "--output", help="YAML file to write."),
    resolved: bool = typer.Option(False, "--resolved", help="Merge `extends` into one self-contained design."),
):
    """Pull a revision's YAML from the server (full access needed)."""
    from ..server.client import ServerClient

    design, revision, text = ServerClient(server).pull(ref, resolved)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError.single(str(output), f"cannot write: {exc}") from None
    out.print(f"wrote {output} ({design}@{revision})", highlight=False, soft_wrap=True)

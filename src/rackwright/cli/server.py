"""``rackwright serve``, ``push`` and ``pull``: the collaboration server and its client (issue 10);
``rackwright server-admin``: the operator's set-up of organisations, users and tokens on the server's database."""

from __future__ import annotations

import os
import socket
import sys
from contextlib import contextmanager
from pathlib import Path

import typer

from ..errors import InputError, Problem
from .common import EXIT_OK, EXIT_RULES, emit, err, guarded, note, out, show

app = typer.Typer(help="Collaboration server and client.")
admin_app = typer.Typer(
    help="Operator set-up of the collaboration server: organisations, users, API tokens "
    "(acts on the database directly; run where the server's database is reachable).",
    no_args_is_help=True,
)
org_app = typer.Typer(help="Organisations.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
admin_app.add_typer(org_app, name="org")
admin_app.add_typer(user_app, name="user")

SERVER = typer.Option(
    None,
    "--server",
    metavar="URL",
    help="Server URL, e.g. http://127.0.0.1:8000 (default: RACKWRIGHT_SERVER or the client config file).",
)
DB = typer.Option(
    None,
    "--db",
    metavar="URL",
    help="Database: sqlite:///FILE (default ./rackwright.db) or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB; "
    "a bare path is an SQLite file.",
)


@app.command("serve")
@guarded
def serve_command(
    db: str | None = DB,
    host: str = typer.Option("127.0.0.1", "--host", metavar="HOST", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    demo: bool = typer.Option(False, "--demo", help="Seed two organisations, their users and the example designs."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Server processes (uvicorn workers)."),
):
    """Run the collaboration server (FastAPI under uvicorn); the schema is migrated on start."""
    import uvicorn

    from ..server.app import create_app
    from ..server.config import DB_URL_ENV, database_url
    from ..server.seed import demo_password

    url = database_url(db)
    _check_port_free(host, port)
    app = create_app(url, demo=demo)  # migrates and seeds once, before any worker starts
    for username, token in app.state.demo_tokens.items():
        out.print(
            f"demo user {username:<13} password {demo_password(username):<18} token {token}",
            highlight=False,
            soft_wrap=True,
        )
    out.print(
        f"rackwright server on http://{host}:{port} (API docs: http://{host}:{port}/docs)",
        highlight=False,
        soft_wrap=True,
    )
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    app.state.engine.dispose()
    os.environ[DB_URL_ENV] = url
    # a worker loads the catalog and CoolProp before it answers the supervisor's health check (seconds)
    uvicorn.run(
        "rackwright.server.app:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        timeout_worker_healthcheck=120,
    )


def _check_port_free(host: str, port: int) -> None:
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise InputError.single(
            None,
            f"cannot listen on {host}:{port}: {exc.strerror}",
            "--port",
            "choose a free port or stop the other server",
        ) from None


@app.command("push")
@guarded
def push_command(
    design: Path = typer.Argument(..., help="Design YAML file; `extends` names a design already on the server."),
    server: str | None = SERVER,
    message: str = typer.Option("", "--message", "-m", help="What changed and why."),
    name: str | None = typer.Option(None, "--name", help="Design name on the server (default: the file's stem)."),
    parent: str | None = typer.Option(
        None,
        "--parent",
        help="The revision your edit is based on (default: the head); a stale one is refused and nothing is stored.",
    ),
    programme: str | None = typer.Option(None, "--programme", help="Programme of a new design."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored revision as JSON (docs/json.md)."),
):
    """Push a design as a new revision; the server checks and evaluates it (exit 1 if it breaks a rule)."""
    from ..server.client import ServerClient

    revision = ServerClient(server).push(design, name, message, parent, programme)
    if as_json:
        emit({"revision": revision})
    else:
        out.print(
            f"pushed {design} as revision {revision['id']} (#{revision['number']}) of {revision['name']}: "
            f"{revision['errors']} error(s), {revision['warnings']} warning(s)",
            highlight=False,
        )
    raise typer.Exit(EXIT_RULES if revision["errors"] else EXIT_OK)


@app.command("pull")
@guarded
def pull_command(
    ref: str = typer.Argument(
        ...,
        metavar="NAME[@REV]",
        help="Design name, ORG/NAME for another organisation's; @REV for a revision (default: the head).",
    ),
    server: str | None = SERVER,
    output: Path = typer.Option(..., "-o", "--output", help="YAML file to write."),
    resolved: bool = typer.Option(False, "--resolved", help="Merge `extends` into one self-contained design."),
    as_json: bool = typer.Option(False, "--json", help="Print what was pulled (design, revision, file) as JSON."),
):
    """Pull a revision's YAML from the server (full access needed)."""
    from ..server.client import ServerClient

    design, revision, text = ServerClient(server).pull(ref, resolved)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError.single(str(output), f"cannot write: {exc}") from None
    note(f"wrote {output} ({design}@{revision})")
    if as_json:
        emit({"design": design, "revision": revision, "file": str(output)})


# --- server-admin: the operator's commands, on the database directly --------------------------


@contextmanager
def _operator_session(db: str | None):
    """One write transaction on the server's database, its schema upgraded first (as ``serve`` does).

    A refusal of the services (unknown organisation, taken name, bad role...) and an unreachable database
    become an :class:`InputError` (exit 2); nothing is stored then.
    """
    from sqlalchemy.exc import OperationalError

    from ..server import services
    from ..server.config import database_url
    from ..server.db import make_engine, transaction, upgrade

    engine = make_engine(database_url(db))
    try:
        upgrade(engine)
        with transaction(engine, write=True) as session:
            yield session
    except services.ServiceError as exc:
        hint = str(exc.extra.get("hint", ""))
        raise InputError(None, exc.problems or [Problem(exc.message, hint=hint)]) from None
    except OperationalError as exc:
        raise InputError.single(
            None,
            f"the database refused the write: {exc.orig}",
            "--db",
            "check that the database runs and the user may write",
        ) from None
    finally:
        engine.dispose()


@org_app.command("add")
@guarded
def org_add_command(
    slug: str = typer.Argument(..., help="Short name: 1-40 lowercase letters, digits, '.', '_', '-'."),
    name: str = typer.Option(..., "--name", help='Full name, e.g. "Example Rack Manufacturer".'),
    db: str | None = DB,
    exist_ok: bool = typer.Option(False, "--exist-ok", help="Succeed, changing nothing, when SLUG exists."),
):
    """Create an organisation (exit 2 if the slug is taken, unless --exist-ok)."""
    from ..server import services

    if _created(db, exist_ok, f"organisation {slug}", services.create_organisation, slug, name):
        out.print(f"created organisation {slug} ({name})", highlight=False)


@user_app.command("add")
@guarded
def user_add_command(
    username: str = typer.Argument(..., help="1-64 lowercase letters, digits, '.', '_', '-'; unique on the server."),
    org: str = typer.Option(..., "--org", help="The user's organisation (its slug)."),
    role: str = typer.Option(..., "--role", help="viewer, engineer, approver or admin."),
    password_env: str | None = typer.Option(
        None,
        "--password-env",
        metavar="VARIABLE",
        help="Environment variable holding the password (default: prompt twice, hidden); at least 8 characters.",
    ),
    display_name: str = typer.Option("", "--display-name", help="Name shown to people."),
    db: str | None = DB,
    exist_ok: bool = typer.Option(
        False, "--exist-ok", help="Succeed, changing nothing (not even the password), when USERNAME exists."
    ),
):
    """Create a user of an organisation, e.g. its first admin (exit 2: unknown org, taken username unless
    --exist-ok, bad role)."""
    from ..server import services

    password = _password(password_env)
    user = _created(
        db, exist_ok, f"user {username}", services.create_user, None, org, username, password, role, display_name
    )
    if user:
        out.print(f"created user {user['username']} ({user['org']}, {user['role']})", highlight=False)


def _created(db: str | None, exist_ok: bool, what: str, create, *args) -> dict | None:
    """``create(session, *args)`` in an operator session; with ``exist_ok``, None (and a notice) when ``what``
    exists already, which the services answer with :class:`Conflict` before storing anything."""
    from ..server import services

    with _operator_session(db) as session:
        try:
            return create(session, *args)
        except services.Conflict:
            if not exist_ok:
                raise
    out.print(f"{what} exists; unchanged", highlight=False)
    return None


def _password(variable: str | None) -> str:
    """A new password: from the environment variable named, else typed twice at a hidden prompt.

    Never from a command-line option, which would stay in the shell's history and the process list."""
    if variable is not None:
        if variable not in os.environ:
            raise InputError.single(
                None,
                f"environment variable {variable} is not set",
                "--password-env",
                f"export {variable}=... first, or leave --password-env out to be prompted",
            )
        return os.environ[variable]
    try:
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    except typer.Abort:  # end of input before a password
        raise InputError.single(
            None,
            "no password given",
            "--password-env",
            "type it at the prompt, or name an environment variable holding it",
        ) from None


@user_app.command("list")
@guarded
def user_list_command(
    org: str | None = typer.Option(None, "--org", help="Only this organisation's users (its slug)."),
    as_json: bool = typer.Option(False, "--json", help="Print the users as JSON (docs/json.md)."),
    db: str | None = DB,
):
    """List the users, one table per organisation: username, role, display name, created, live API tokens (exit 2:
    unknown org)."""
    from itertools import groupby

    from ..server import services

    with _operator_session(db) as session:
        users = services.operator_users(session, org)
    if as_json:
        emit({"org": org, "users": users})
        return
    tables = [_users_table(slug, list(rows)) for slug, rows in groupby(users, key=lambda user: user["org"])]
    if tables:
        show(*tables)
    out.print(f"{len(users)} user(s) in {len(tables)} organisation(s)", highlight=False)


def _users_table(org: str, users: list[dict]):
    """An organisation's users: the organisation in the title, so that a long slug and a long username both print
    whole at 80 columns; on a narrow terminal the display name prints below the role."""
    from rich.text import Text

    from ..report.tables import ID, NUMBER, Column, FitTable

    columns = [Column("username", ID), Column("role"), Column("display name", fold=True)]
    columns += [Column("created (UTC)"), Column("live tokens", NUMBER)]
    table = FitTable(f"{org}: {len(users)} user(s)", columns)
    for user in users:
        table.add_row(
            user["username"],
            user["role"],
            Text(user["display_name"]),  # not markup
            user["created"][:16].replace("T", " "),
            str(user["live_tokens"]),
        )
    return table


@user_app.command("role")
@guarded
def user_role_command(
    username: str = typer.Argument(..., help="The user."),
    role: str = typer.Argument(..., help="The new role: viewer, engineer, approver or admin."),
    db: str | None = DB,
):
    """Change a user's role; their tokens carry it from the next request (exit 2: unknown user or role)."""
    from ..server import services

    with _operator_session(db) as session:
        user = services.set_role(session, username, role)
    change = "unchanged" if user["old_role"] == role else f"was {user['old_role']}"
    out.print(f"user {username} ({user['org']}) is {role} ({change})", highlight=False)


@user_app.command("password")
@guarded
def user_password_command(
    username: str = typer.Argument(..., help="The user."),
    password_env: str | None = typer.Option(
        None,
        "--password-env",
        metavar="VARIABLE",
        help="Environment variable holding the new password (default: prompt twice, hidden); at least 8 characters.",
    ),
    db: str | None = DB,
):
    """Set a user's password and revoke all their API tokens, web sessions included (exit 2: unknown user)."""
    from ..server import services

    password = _password(password_env)
    with _operator_session(db) as session:
        revoked = services.reset_password(session, username, password)
    out.print(f"password of {username} reset; {revoked} API token(s) revoked", highlight=False)


@admin_app.command("token")
@guarded
def token_command(
    username: str = typer.Argument(..., help="The user the token acts as."),
    label: str = typer.Option("operator", "--label", help="What the token is for (shown in the database)."),
    db: str | None = DB,
):
    """Issue an API token for a user; printed once on stdout (only its hash is stored)."""
    from ..server import services

    with _operator_session(db) as session:
        token = services.operator_token(session, username, label)
    err.print(f"API token for {username} (shown once; use it as RACKWRIGHT_TOKEN):", highlight=False)
    sys.stdout.write(token + "\n")

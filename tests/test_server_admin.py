"""``rackwright server-admin``: the operator bootstraps organisations, their first admins and tokens without ``--demo``.

Expected behaviour comes from the issue and docs/cli-server.md: the commands act on the database directly
(schema upgraded first), a refusal exits 2 with one message and stores nothing, the password never comes
from a command-line option, and what they create works through the server's own API afterwards.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from rackwright.cli.app import app as cli
from rackwright.server.db import ApiToken, AuditEntry, Organisation, User, make_engine, transaction

PASSWORD_ENV = "RACKWRIGHT_TEST_PASSWORD"


def admin(*args: str, db: str, input: str | None = None):
    return CliRunner().invoke(cli, ["server-admin", *args, "--db", db], input=input)


def counts(db: str) -> tuple[int, int, int]:
    """(organisations, users, tokens) stored."""
    engine = make_engine(db)
    try:
        with transaction(engine) as session:
            return tuple(session.scalar(select(func.count()).select_from(t)) for t in (Organisation, User, ApiToken))
    finally:
        engine.dispose()


def test_bootstrap_an_organisation_whose_admin_then_works_through_the_api(db_url, live_server, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "correct horse battery")
    created = admin("org", "add", "acme", "--name", "Acme Racks", db=db_url)
    assert created.exit_code == 0 and "created organisation acme" in created.output
    user = admin("user", "add", "alice", "--org", "acme", "--role", "admin", "--password-env", PASSWORD_ENV,
                 db=db_url)
    assert user.exit_code == 0 and "created user alice (acme, admin)" in user.output, user.output
    issued = admin("token", "alice", db=db_url)
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip().splitlines()[-1]
    assert token.startswith("rw_") and "shown once" in issued.stderr

    server = live_server(db_url, demo=False)  # what the operator made is what the API authenticates
    with server.client(None) as api:
        api.headers["Authorization"] = f"Bearer {token}"
        assert api.get("/me").json() == {"username": "alice", "org": "acme", "role": "admin"}
        assert api.post("/users", json={"username": "bob", "password": "long-enough", "role": "engineer"}
                        ).status_code == 201  # the first admin creates the organisation's users
        signed = api.post("/auth/token", json={"username": "alice", "password": "correct horse battery"})
        assert signed.status_code == 200
        audit = api.get("/audit").json()
    operator_entries = [e for e in audit if e["action"] == "token.create" and e["detail"].get("by") == "operator"]
    assert len(operator_entries) == 1  # the operator's token is on record, marked as the operator's


def test_refusals_exit_2_with_one_message_and_store_nothing(tmp_path, monkeypatch):
    db = f"sqlite:///{tmp_path / 'admin.db'}"
    monkeypatch.setenv(PASSWORD_ENV, "long-enough")
    assert admin("org", "add", "acme", "--name", "Acme", db=db).exit_code == 0
    assert admin("user", "add", "alice", "--org", "acme", "--role", "admin", "--password-env", PASSWORD_ENV,
                 db=db).exit_code == 0
    before = counts(db)
    monkeypatch.setenv("SHORT_PASSWORD", "short")
    user = ("user", "add", "bob", "--org", "acme", "--role", "engineer")
    refused = {
        "organisation 'acme' exists": ("org", "add", "acme", "--name", "Again"),
        "is not a valid name": ("org", "add", "Bad Slug", "--name", "X"),
        "the limit is 40": ("org", "add", "a" * 41, "--name", "X"),
        "organisation 'nope' not found": ("user", "add", "bob", "--org", "nope", "--role", "admin",
                                          "--password-env", PASSWORD_ENV),
        "username 'alice' is taken": ("user", "add", "alice", "--org", "acme", "--role", "viewer",
                                      "--password-env", PASSWORD_ENV),
        "unknown role 'boss'": ("user", "add", "bob", "--org", "acme", "--role", "boss", "--password-env", PASSWORD_ENV),
        "shorter than 8 characters": (*user, "--password-env", "SHORT_PASSWORD"),
        "NO_SUCH_VARIABLE is not set": (*user, "--password-env", "NO_SUCH_VARIABLE"),
        "user 'nobody' not found": ("token", "nobody"),
    }
    for message, args in refused.items():
        result = admin(*args, db=db)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert admin(*user, db=db, input="").exit_code == 2  # end of input at the prompt: no password
    assert counts(db) == before
    for unreachable in ("postgresql+psycopg://nobody@127.0.0.1:9/none", str(tmp_path / "no" / "dir" / "x.db")):
        result = admin("token", "alice", db=unreachable)
        assert result.exit_code == 2 and "--db" in result.output and "Traceback" not in result.output


def test_password_prompt_asks_twice_and_exist_ok_changes_nothing(tmp_path):
    db = f"sqlite:///{tmp_path / 'admin.db'}"
    assert admin("org", "add", "acme", "--name", "Acme", db=db).exit_code == 0
    again = admin("org", "add", "acme", "--name", "Other name", "--exist-ok", db=db)
    assert again.exit_code == 0 and "exists; unchanged" in again.output
    typed = admin("user", "add", "carol", "--org", "acme", "--role", "viewer", db=db,
                  input="first-try-1\nmistyped-2\nsecret-pass\nsecret-pass\n")  # a mismatch asks again
    assert typed.exit_code == 0, typed.output
    assert "first-try-1" not in typed.output and "secret-pass" not in typed.output  # hidden input
    engine = make_engine(db)
    with transaction(engine) as session:
        assert session.scalar(select(Organisation.name).where(Organisation.slug == "acme")) == "Acme"
        from rackwright.server import services

        assert services.sign_in(session, "carol", "secret-pass").role == "viewer"
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 2  # organisation, user
    engine.dispose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slug=st.text(max_size=50), name=st.text(max_size=30), username=st.text(max_size=30),
       role=st.sampled_from(["viewer", "admin", "", "Admin", "root"]))
def test_any_arguments_exit_0_or_2_never_a_traceback(tmp_path_factory, monkeypatch, slug, name, username, role):
    db = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'admin.db'}"
    monkeypatch.setenv(PASSWORD_ENV, "long-enough")
    for args in (("org", "add", slug, "--name", name),
                 ("user", "add", username, "--org", slug, "--role", role, "--password-env", PASSWORD_ENV),
                 ("token", username)):
        result = admin(*args, db=db)
        assert result.exit_code in (0, 2), (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)

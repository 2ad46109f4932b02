"""``rackwright server-admin``: the operator bootstraps organisations, their first admins and tokens without ``--demo``.

Expected behaviour comes from the issue and docs/cli-server.md: the commands act on the database directly
(schema upgraded first), a refusal exits 2 with one message and stores nothing, the password never comes
from a command-line option, and what they create works through the server's own API afterwards.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from rackwright.cli.app import app as cli
from rackwright.server import services
from rackwright.server.db import ApiToken, AuditEntry, Organisation, User, make_engine, transaction, utcnow

PASSWORD_ENV = "RACKWRIGHT_TEST_PASSWORD"


def admin(*args: str, db: str, input: str | None = None):
    return CliRunner().invoke(cli, ["server-admin", *args, "--db", db], input=input)


@contextmanager
def stored(db: str, write: bool = False):
    """A session on the database, as the server opens one."""
    engine = make_engine(db)
    try:
        with transaction(engine, write=write) as session:
            yield session
    finally:
        engine.dispose()


def token_of(username: str, db: str) -> str:
    """A new API token for the user, issued by the operator (stdout's last line)."""
    issued = admin("token", username, db=db)
    assert issued.exit_code == 0, issued.output
    return issued.stdout.strip().splitlines()[-1]


def counts(db: str) -> tuple[int, int, int]:
    """(organisations, users, tokens) stored."""
    with stored(db) as session:
        return tuple(session.scalar(select(func.count()).select_from(t)) for t in (Organisation, User, ApiToken))


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


def _acme_with(tmp_path, monkeypatch, username: str, role: str) -> str:
    """A fresh database (its URL) holding organisation acme and its user ``username`` (password "long-enough")."""
    db = f"sqlite:///{tmp_path / 'admin.db'}"
    monkeypatch.setenv(PASSWORD_ENV, "long-enough")
    assert admin("org", "add", "acme", "--name", "Acme", db=db).exit_code == 0
    assert admin("user", "add", username, "--org", "acme", "--role", role, "--password-env", PASSWORD_ENV,
                 db=db).exit_code == 0
    return db


def test_refusals_exit_2_with_one_message_and_store_nothing(tmp_path, monkeypatch):
    db = _acme_with(tmp_path, monkeypatch, "alice", "admin")
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
    again = admin("user", "add", "carol", "--org", "acme", "--role", "admin", "--exist-ok", db=db,
                  input="other-pass-3\nother-pass-3\n")
    assert again.exit_code == 0 and "user carol exists; unchanged" in again.output, again.output
    taken = admin("user", "add", "carol", "--org", "acme", "--role", "admin", db=db,
                  input="other-pass-3\nother-pass-3\n")
    assert taken.exit_code == 2 and "taken" in taken.output
    with stored(db) as session:
        assert session.scalar(select(Organisation.name).where(Organisation.slug == "acme")) == "Acme"
        assert services.sign_in(session, "carol", "secret-pass").role == "viewer"  # neither role nor password changed
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 2  # organisation, user


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slug=st.text(max_size=50), name=st.text(max_size=30), username=st.text(max_size=30),
       role=st.sampled_from(["viewer", "admin", "", "Admin", "root"]))
def test_any_arguments_exit_0_or_2_never_a_traceback(tmp_path_factory, monkeypatch, slug, name, username, role):
    db = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'admin.db'}"
    monkeypatch.setenv(PASSWORD_ENV, "long-enough")
    for args in (("org", "add", slug, "--name", name),
                 ("user", "add", username, "--org", slug, "--role", role, "--password-env", PASSWORD_ENV),
                 ("token", username), ("user", "list", "--org", slug), ("user", "role", username, role),
                 ("user", "password", username, "--password-env", PASSWORD_ENV)):
        result = admin(*args, db=db)
        assert result.exit_code in (0, 2), (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)


DISPLAY_NAMES = {"aaron": "[/bold] Aaron", "bob": "Bob", "alice": "Alice"}


def _two_organisations(db: str) -> dict[str, str]:
    """zeta (aaron, engineer) made before acme (bob, engineer; alice, admin), users out of order; a token each
    from the operator, a web session for alice and an expired token of alice's. Returns the live tokens.
    Aaron's display name looks like Rich markup, which a table must print as it is."""
    for org in ("zeta", "acme"):
        assert admin("org", "add", org, "--name", org.title(), db=db).exit_code == 0
    for username, org, role in (("aaron", "zeta", "engineer"), ("bob", "acme", "engineer"), ("alice", "acme", "admin")):
        made = admin("user", "add", username, "--org", org, "--role", role, "--password-env", PASSWORD_ENV,
                     "--display-name", DISPLAY_NAMES[username], db=db)
        assert made.exit_code == 0, made.output
    tokens = {username: token_of(username, db) for username in ("aaron", "bob", "alice")}
    with stored(db, write=True) as session:
        alice = services.sign_in(session, "alice", "long-enough")
        tokens["alice web"] = services.issue_token(session, alice, "web session", lifetime_s=12 * 3600)
        session.add(ApiToken(user_id=alice.user_id, token_hash="0" * 64, label="web session",
                             expires_at=utcnow() - timedelta(hours=1)))  # expired: no longer authenticates
    return tokens


def test_user_list_by_organisation_then_username_with_live_tokens(db_url, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "long-enough")
    started = datetime.now(UTC)
    _two_organisations(db_url)
    listed = admin("user", "list", "--json", db=db_url)
    assert listed.exit_code == 0, listed.output
    doc = json.loads(listed.stdout)  # docs/json.md's shape: the users as records under one object
    assert list(doc) == ["schema_version", "command", "org", "users"] and doc["command"] == "server-admin user list"
    users = doc["users"]
    assert all(list(u) == ["username", "display_name", "role", "org", "created", "live_tokens"] for u in users)
    assert [(u["org"], u["username"], u["role"], u["display_name"], u["live_tokens"]) for u in users] == [
        ("acme", "alice", "admin", "Alice", 2),  # operator token and web session; the expired one not counted
        ("acme", "bob", "engineer", "Bob", 1),
        ("zeta", "aaron", "engineer", "[/bold] Aaron", 1)]
    for user in users:
        assert started - timedelta(seconds=1) <= datetime.fromisoformat(user["created"]) <= datetime.now(UTC)

    only = admin("user", "list", "--org", "zeta", "--json", db=db_url)
    assert [u["username"] for u in json.loads(only.stdout)["users"]] == ["aaron"]
    assert json.loads(only.stdout)["org"] == "zeta"
    table = admin("user", "list", db=db_url)
    assert table.exit_code == 0 and "3 user(s)" in table.output and "[/bold]" in table.output, table.output
    assert table.output.index("alice") < table.output.index("bob") < table.output.index("aaron")
    unknown = admin("user", "list", "--org", "nope", db=db_url)
    assert unknown.exit_code == 2 and "organisation 'nope' not found" in unknown.output


def test_user_role_changes_what_the_users_tokens_may_do_and_is_audited(db_url, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "long-enough")
    tokens = _two_organisations(db_url)
    changed = admin("user", "role", "bob", "approver", db=db_url)
    assert changed.exit_code == 0 and "user bob (acme) is approver (was engineer)" in changed.output, changed.output
    again = admin("user", "role", "bob", "approver", db=db_url)
    assert again.exit_code == 0 and "(unchanged)" in again.output
    with stored(db_url) as session:
        assert services.authenticate(session, tokens["bob"]).role == "approver"  # the token he already holds
        assert services.authenticate(session, tokens["alice"]).role == "admin"
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.role")).all()
        seen_by_acme = services.audit_log(session, services.authenticate(session, tokens["alice"]))  # its admin
    assert [(e.actor_id, e.target, e.detail) for e in entries] == [
        (None, "user:bob", {"old": "engineer", "new": "approver"})]  # by the operator; none for "unchanged"
    assert [(e["actor"], e["action"], e["target"]) for e in seen_by_acme if e["action"].startswith("user.")] == [
        ("operator", "user.role", "user:bob"), ("operator", "user.create", "user:alice"),
        ("operator", "user.create", "user:bob")]  # newest first; zeta's aaron is not acme's business


@pytest.mark.parametrize(("args", "message"), [
    (("nobody", "viewer"), "user 'nobody' not found"),
    (("bob", "boss"), "unknown role 'boss' (fix: one of: viewer, engineer, approver, admin)"),
    (("bob", "Admin"), "unknown role 'Admin'")])
def test_user_role_refusals_exit_2_and_change_nothing(tmp_path, monkeypatch, args, message):
    db = _acme_with(tmp_path, monkeypatch, "bob", "engineer")
    refused = admin("user", "role", *args, db=db)
    assert refused.exit_code == 2 and message in refused.output and "Traceback" not in refused.output
    with stored(db) as session:
        assert session.scalar(select(User.role).where(User.username == "bob")) == "engineer"
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 2  # organisation, user


def test_password_reset_ends_every_session_of_that_user_only(db_url, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "long-enough")
    tokens = _two_organisations(db_url)
    monkeypatch.setenv("NEW_PASSWORD", "a-fresh-secret")
    reset = admin("user", "password", "alice", "--password-env", "NEW_PASSWORD", db=db_url)
    assert reset.exit_code == 0, reset.output
    assert "password of alice reset; 2 API token(s) revoked" in reset.output  # operator token, web session
    with stored(db_url) as session:
        with pytest.raises(services.Unauthorized):
            services.sign_in(session, "alice", "long-enough")
        assert services.sign_in(session, "alice", "a-fresh-secret").username == "alice"
        for name in ("alice", "alice web"):
            with pytest.raises(services.Unauthorized):
                services.authenticate(session, tokens[name])
        assert services.authenticate(session, tokens["bob"]).username == "bob"
        assert services.authenticate(session, tokens["aaron"]).username == "aaron"
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.password")).all()
    assert [(e.actor_id, e.target, e.detail) for e in entries] == [(None, "user:alice", {"revoked_tokens": 2})]
    listed = json.loads(admin("user", "list", "--json", db=db_url).stdout)["users"]
    live = {u["username"]: u["live_tokens"] for u in listed}
    assert live == {"alice": 0, "bob": 1, "aaron": 1}


def test_password_reset_refusals_exit_2_and_change_nothing(tmp_path, monkeypatch):
    db = _acme_with(tmp_path, monkeypatch, "alice", "admin")
    monkeypatch.setenv("SHORT_PASSWORD", "short")
    token = token_of("alice", db)
    for args, message in ((("alice", "--password-env", "SHORT_PASSWORD"), "shorter than 8 characters"),
                          (("alice", "--password-env", "NO_SUCH_VARIABLE"), "NO_SUCH_VARIABLE is not set"),
                          (("nobody", "--password-env", PASSWORD_ENV), "user 'nobody' not found")):
        refused = admin("user", "password", *args, db=db)
        assert refused.exit_code == 2 and message in refused.output, (args, refused.output)
    assert admin("user", "password", "alice", db=db, input="").exit_code == 2  # end of input at the prompt
    with stored(db) as session:
        assert services.sign_in(session, "alice", "long-enough").username == "alice"
        assert services.authenticate(session, token).username == "alice"
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 3  # organisation, user, token


def test_password_reset_at_the_prompt_asks_twice_and_hides_it(tmp_path, monkeypatch):
    db = _acme_with(tmp_path, monkeypatch, "carol", "viewer")
    typed = admin("user", "password", "carol", db=db, input="new-secret-1\nnew-secret-1\n")
    assert typed.exit_code == 0 and "0 API token(s) revoked" in typed.output, typed.output
    assert "new-secret-1" not in typed.output
    with stored(db) as session:
        assert services.sign_in(session, "carol", "new-secret-1").role == "viewer"

"""Sign-in can be neither brute-forced nor used to tell which usernames exist (issue 16, defect 6), on SQLite and
PostgreSQL: through the JSON API and the web form of a live demo server, and through
:func:`rackwright.server.signin.sign_in` directly for the per-account and per-address limits, the window and
the cost of an unknown username.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from rackwright.server import security, services, signin
from rackwright.server.db import SignInFailure, make_engine, transaction, upgrade, utcnow
from rackwright.server.seed import demo_password

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
WRONG = "not-the-password"
HERE, THERE = "192.0.2.1", "198.51.100.7"  # client addresses (RFC 5737 documentation ranges)
WINDOW_S = services.SIGN_IN_WINDOW.total_seconds()


def password(username: str) -> str:
    return f"{username}-password"


@pytest.fixture
def engine(db_url):
    """A migrated database with organisation acme (users alice and bob) and umbrella (carol)."""
    engine = make_engine(db_url)
    upgrade(engine)
    with transaction(engine, write=True) as session:
        for org, users in (("acme", ("alice", "bob")), ("umbrella", ("carol",))):
            services.create_organisation(session, org, org.title())
            for username in users:
                services.create_user(session, None, org, username, password(username), "admin")
    yield engine
    engine.dispose()


def fail(engine, username: str, address: str, times: int = 1) -> None:
    """``times`` sign-ins of ``username`` from ``address`` with a wrong password, each refused as wrong."""
    for _ in range(times):
        with pytest.raises(services.Unauthorized):
            signin.sign_in(engine, username, WRONG, address)


def throttled(engine, username: str, address: str) -> services.TooManyRequests:
    """The refusal of a sign-in of ``username`` from ``address`` with the right password."""
    with pytest.raises(services.TooManyRequests) as refused:
        signin.sign_in(engine, username, password(username), address)
    return refused.value


def signs_in(engine, username: str, address: str) -> bool:
    return signin.sign_in(engine, username, password(username), address).username == username


def failures(engine, username: str) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(SignInFailure).where(SignInFailure.username == username))


def test_the_account_limit_holds_from_every_address_and_blocks_no_other_account(engine):
    fail(engine, "alice", HERE, services.MAX_FAILURES_PER_ACCOUNT)
    refusal = throttled(engine, "alice", THERE)  # the right password, from another address
    assert 0 < refusal.retry_after <= WINDOW_S
    assert failures(engine, "alice") == services.MAX_FAILURES_PER_ACCOUNT  # the refused try does not count
    assert signs_in(engine, "bob", HERE)


def test_the_address_limit_holds_for_every_account_and_blocks_no_other_address(engine):
    for n in range(services.MAX_FAILURES_PER_ADDRESS):  # password spraying: one try per username
        fail(engine, f"guess-{n}", HERE)
    assert throttled(engine, "bob", HERE).retry_after > 0
    assert signs_in(engine, "bob", THERE)


def test_a_successful_sign_in_erases_no_failure(engine):
    fail(engine, "alice", HERE, services.MAX_FAILURES_PER_ACCOUNT - 1)
    assert signs_in(engine, "alice", HERE)
    fail(engine, "alice", HERE)
    throttled(engine, "alice", HERE)


def test_failures_count_for_the_window_then_are_pruned(engine):
    def failed_ago(age: timedelta) -> None:
        with transaction(engine, write=True) as session:
            session.execute(update(SignInFailure).values(at=utcnow() - age))

    fail(engine, "alice", HERE, services.MAX_FAILURES_PER_ACCOUNT)
    failed_ago(services.SIGN_IN_WINDOW - timedelta(minutes=5))
    refusal = throttled(engine, "alice", HERE)
    assert refusal.retry_after in (299, 300)  # until the oldest failure leaves the window
    assert refusal.message.endswith("try again in 5 minutes")
    failed_ago(services.SIGN_IN_WINDOW + timedelta(seconds=1))
    assert signs_in(engine, "alice", HERE)
    fail(engine, "carol", THERE)  # recording a failure prunes those out of the window
    assert failures(engine, "alice") == 0 and failures(engine, "carol") == 1


def test_an_unknown_username_costs_one_password_hash_like_a_known_one(engine, monkeypatch):
    checked = []
    verify = security.verify_password
    monkeypatch.setattr(security, "verify_password",
                        lambda given, stored: checked.append(stored) or verify(given, stored))
    for username in ("alice", "nobody", "No Such\x00User"):
        fail(engine, username, HERE)
    assert len(checked) == 3
    scheme_and_parameters = {stored.rsplit("$", 2)[0] for stored in checked}
    assert len(scheme_and_parameters) == 1  # the same work for every username


def test_the_sixth_api_sign_in_is_refused_and_failures_are_audited_for_the_organisation(db_url, live_server):
    server = live_server(db_url)
    with server.client(None) as anonymous:
        def token(username: str, secret: str) -> httpx.Response:
            return anonymous.post("/auth/token", json={"username": username, "password": secret})

        assert [token("lab-viewer", WRONG).status_code for _ in range(5)] == [401] * 5
        refused = token("lab-viewer", demo_password("lab-viewer"))
        assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= WINDOW_S
        assert refused.json()["error"] == "too many failed sign-ins; try again in 15 minutes"
        assert token("lab-engineer", demo_password("lab-engineer")).status_code == 200  # another account
        assert token("nobody", WRONG).status_code == 401
    with server.client("lab-admin") as lab:
        audit = lab.get("/audit")
    ours = [e for e in audit.json() if e["action"].startswith("auth.")]
    newest_first = [("auth.throttled", "user:lab-viewer")] + [("auth.failure", "user:lab-viewer")] * 5
    assert [(e["action"], e["target"]) for e in ours] == newest_first  # not user:nobody: of no organisation
    assert all(e["detail"] == {"address": "127.0.0.1"} for e in ours)
    assert WRONG not in audit.text and demo_password("lab-viewer") not in audit.text
    with server.client("mfr-admin") as mfr:
        assert not [e for e in mfr.get("/audit").json() if e["action"].startswith("auth.")]


def test_the_sixth_web_sign_in_is_refused_with_429(db_url, live_server):
    server = live_server(db_url)
    with httpx.Client(base_url=server.url, follow_redirects=False) as browser:
        csrf = CSRF.search(browser.get("/sign-in").text).group(1)

        def sign_in(secret: str) -> httpx.Response:
            return browser.post("/sign-in", data={"csrf_token": csrf, "username": "mfr-viewer", "password": secret,
                                                  "next": "/programmes"})

        assert [sign_in(WRONG).status_code for _ in range(5)] == [401] * 5
        refused = sign_in(demo_password("mfr-viewer"))
        assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= WINDOW_S
        assert "too many failed sign-ins; try again in 15 minutes" in refused.text
        assert browser.get("/programmes").status_code == 303  # still signed out
    api = httpx.post(server.url + "/api/v1/auth/token",
                     json={"username": "mfr-viewer", "password": demo_password("mfr-viewer")})
    assert api.status_code == 429  # one count for both ways of signing in

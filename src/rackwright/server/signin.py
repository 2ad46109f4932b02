"""Signing in, one procedure for the JSON API (``POST /api/v1/auth/token``) and the web form (``POST /sign-in``).

The limits on failed sign-ins (:data:`.services.SIGN_IN_WINDOW` and the constants next to it) are checked
first, then the password, both in a read transaction: the password hash is slow, so it is not checked under
the write lock. A refusal is recorded (and audited) in a write transaction of its own; on success the caller
issues its token (an API token, or a web session's).

**Client address.** Failures are counted per address of :func:`client_address`, the TCP peer as uvicorn
reports it. Behind a reverse proxy every client would share the proxy's address, and so its limit: uvicorn
takes the client from the proxy's ``X-Forwarded-For`` header when the connection comes from an address it
trusts, 127.0.0.1 and ::1 by default (a proxy on the same host). For a proxy on another host, start the
server with ``FORWARDED_ALLOW_IPS`` set to the proxy's address; never to ``*`` where clients can reach the
server directly, or any client could name its own address.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.engine import Engine

from . import services
from .db import transaction


def sign_in(engine: Engine, username: str, password: str, address: str) -> services.Actor:
    """The actor whose password this is; :class:`.services.TooManyRequests` while the account or the address is
    throttled, :class:`.services.Unauthorized` for a wrong password or an unknown user (both recorded)."""
    try:
        with transaction(engine) as session:
            services.refuse_throttled_sign_in(session, username, address)
            return services.sign_in(session, username, password)
    except (services.Unauthorized, services.TooManyRequests) as refusal:
        with transaction(engine, write=True) as session:
            services.record_failed_sign_in(
                session, username, address, throttled=isinstance(refusal, services.TooManyRequests)
            )
        raise


def client_address(request: Request) -> str:
    """The address sign-ins from ``request`` are counted under (see the module's note on reverse proxies)."""
    return request.client.host if request.client else "unknown"

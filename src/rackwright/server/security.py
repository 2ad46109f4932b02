"""Passwords, API tokens and roles.

Passwords are hashed with scrypt (RFC 7914) from the standard library, n=2¹⁴, r=8, p=1
(the interactive-login parameters recommended in the RFC's section 2 and by OWASP's
Password Storage Cheat Sheet), with a 16-byte random salt. API tokens are 32 random
bytes (``secrets.token_urlsafe``); only their SHA-256 is stored — a token has 256 bits
of entropy, so a fast hash suffices and a database leak reveals no usable token.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

from .db import ROLES

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
TOKEN_PREFIX = "rw_"


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) of ``password``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    encode = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${encode(salt)}${encode(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` string (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def dummy_password_hash() -> str:
    """A hash of no one's password, made once with the current parameters: checking a password for an unknown
    username against it costs one scrypt, as for a real user, so the response time does not tell which
    usernames exist."""
    return hash_password(secrets.token_urlsafe(16))


def new_token() -> str:
    """A fresh API token (shown once to its owner)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database stores of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def role_at_least(role: str, needed: str) -> bool:
    """Roles are ordered viewer < engineer < approver < admin; each may do what the ones below may."""
    return ROLES.index(role) >= ROLES.index(needed)

"""Server settings: database URL, request size limit, and the client's token and server lookup."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

#: The embedded default: an SQLite file in the working directory (nothing to set up).
DEFAULT_DB_URL = "sqlite:///rackwright.db"
#: Largest request body accepted [bytes]; a design YAML is a few kB, a qualification file a few hundred kB.
MAX_BODY_BYTES = 1_048_576
#: Threads per server process running the (synchronous) routes; see ``app._lifespan``.
WORKER_THREADS = 8
TOKEN_ENV = "RACKWRIGHT_TOKEN"
SERVER_ENV = "RACKWRIGHT_SERVER"
DB_URL_ENV = "RACKWRIGHT_DB_URL"  # how `serve --workers N` hands the database URL to its worker processes


def database_url(text: str | None) -> str:
    """A SQLAlchemy URL from ``--db``: a URL as given, a bare path as an SQLite file, None as the default."""
    if not text:
        return DEFAULT_DB_URL
    if "://" in text:
        if not text.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise InputError.single(
                None,
                f"unsupported database URL scheme {text.split('://')[0]!r}",
                "--db",
                "use sqlite:///FILE or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB",
            )
        return text.replace("postgresql://", "postgresql+psycopg://", 1) if text.startswith("postgresql://") else text
    return f"sqlite:///{text}"


@dataclass(frozen=True)
class ClientConfig:
    """Where the client talks to and with which token."""

    server: str | None
    token: str | None


def config_files(cwd: Path | None = None) -> list[Path]:
    """Client config files, first found wins: ``./.rackwright.toml``, ``~/.config/rackwright/config.toml``."""
    home = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return [(cwd or Path.cwd()) / ".rackwright.toml", home / "rackwright" / "config.toml"]


def client_config(server: str | None = None, cwd: Path | None = None) -> ClientConfig:
    """Server URL and token: options, then ``RACKWRIGHT_SERVER``/``RACKWRIGHT_TOKEN``, then the config file.

    The config file is TOML with ``server = "http://..."`` and ``token = "..."`` at the top level.
    """
    file_doc: dict = {}
    for path in config_files(cwd):
        if path.is_file():
            try:
                file_doc = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise InputError.single(
                    str(path),
                    f"cannot read the client config: {exc}",
                    hint='write server = "http://HOST:PORT" and token = "..."',
                ) from None
            break
    for key in ("server", "token"):
        if key in file_doc and not isinstance(file_doc[key], str):
            raise InputError.single(None, f"{key} must be a string in the client config", key)
    return ClientConfig(
        server or os.environ.get(SERVER_ENV) or file_doc.get("server"),
        os.environ.get(TOKEN_ENV) or file_doc.get("token"),
    )

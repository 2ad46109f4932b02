"""The HTTP client behind ``rackwright push`` and ``pull`` (httpx).

Server errors come back as :class:`~rackwright.errors.InputError` carrying the server's
problems (field path, line, hint), so a design rejected by the server reads like a local
check error; an unreachable server, a missing token and a refused token are InputErrors too.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx

from ..errors import InputError, Problem
from ..yamlio import read_input_text
from .config import SERVER_ENV, TOKEN_ENV, client_config

TIMEOUT_S = 60.0


class ServerClient:
    """A session with one server as the holder of one API token."""

    def __init__(self, server: str | None, token: str | None = None, timeout: float = TIMEOUT_S):
        config = client_config(server)
        self.server = (config.server or "").rstrip("/")
        token = token or config.token
        if not self.server:
            raise InputError.single(
                None, "no server given", "--server", f"pass --server http://HOST:PORT or set {SERVER_ENV}"
            )
        if not self.server.startswith(("http://", "https://")):
            raise InputError.single(
                None, f"server {self.server!r} is not an http(s) URL", "--server", "e.g. http://127.0.0.1:8000"
            )
        if not token:
            raise InputError.single(
                None,
                "no API token",
                hint=f'set {TOKEN_ENV}, or token = "..." in ~/.config/rackwright/config.toml or ./.rackwright.toml',
            )
        self.http = httpx.Client(
            base_url=self.server + "/api/v1", timeout=timeout, headers={"Authorization": f"Bearer {token}"}
        )

    def request(
        self, method: str, path: str, file: str | None = None, expect: tuple[int, ...] = (200, 201), **kwargs
    ) -> httpx.Response:
        """One API call; an unreachable server or an error status raises InputError (``file`` names the input)."""
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise InputError.single(
                None,
                f"cannot reach the server at {self.server}: {exc}",
                "--server",
                "start it with `rackwright serve` or check the URL",
            ) from None
        if response.status_code not in expect:
            raise _server_error(response, file)
        return response

    def call(self, method: str, path: str, file: str | None = None, **kwargs) -> dict:
        """An API call's JSON document (InputError when the answer is not a JSON object)."""
        return self.document(self.request(method, path, file, **kwargs))

    def document(self, response: httpx.Response) -> dict:
        try:
            document = response.json()
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise InputError.single(
                None,
                f"{self.server} answered {response.request.url.path} without a JSON object",
                "--server",
                "is this the URL of a rackwright server?",
            )
        return document

    def me(self) -> dict:
        return self.call("GET", "/me")

    def push(
        self,
        design: Path,
        name: str | None = None,
        message: str = "",
        parent: str | None = None,
        programme: str | None = None,
    ) -> dict:
        """Write ``design`` as the new head of ``name`` (default: the file's stem) in your organisation.

        A new design is created with it; otherwise the revision is based on ``parent`` (default: the
        current head), and the server refuses it (409) when ``parent`` is no longer the head.
        """
        content = read_input_text(design, "a design file")
        name = name or design.stem
        org = self.me()["org"]
        path = f"/designs/{quote(org, safe='')}/{quote(name, safe='')}"
        existing = self.request("GET", path, expect=(200, 404))
        if existing.status_code == 404:
            body = {"name": name, "content": content, "message": message, "programme": programme}
            return self.call("POST", "/designs", str(design), json=body)["head"]
        parent = parent or self.document(existing)["head_revision"]
        return self.call(
            "POST",
            f"{path}/revisions",
            str(design),
            json={"content": content, "message": message},
            headers={"If-Match": f'"{parent}"'},
        )

    def pull(self, ref: str, resolved: bool = False) -> tuple[str, str, str]:
        """``(ORG/NAME, revision id, YAML)`` of ``[ORG/]NAME[@REV]`` (default: your organisation, the head)."""
        design, _, rev = ref.partition("@")
        if "/" not in design:
            design = f"{self.me()['org']}/{design}"
        org, _, name = design.partition("/")
        if not org or not name or "/" in name:
            raise InputError.single(
                None,
                f"{ref!r} is not a design reference",
                "NAME",
                "write NAME, ORG/NAME, NAME@REVISION or ORG/NAME@REVISION",
            )
        response = self.request(
            "GET",
            f"/designs/{quote(org, safe='')}/{quote(name, safe='')}/revisions/{quote(rev or 'head', safe='')}/content",
            params={"resolved": resolved},
        )
        return design, response.headers.get("ETag", "").strip('"'), response.text


def _server_error(response: httpx.Response, file: str | None) -> InputError:
    """The server's JSON error as an InputError (problems kept with their paths and lines)."""
    try:
        document = response.json()
    except ValueError:
        document = {}
    if not isinstance(document, dict):
        document = {}
    message = f"server answered {response.status_code}: {document.get('error') or response.reason_phrase}"
    hint = str(document.get("hint") or "")
    if document.get("head"):
        hint = (hint + f" (current head: {document['head']})").strip()
    problems = [Problem(message, hint=hint)]
    for p in document.get("problems") or []:
        if isinstance(p, dict):
            problems.append(
                Problem(
                    str(p.get("message", "")),
                    str(p.get("path") or ""),
                    str(p.get("hint") or ""),
                    p.get("line"),
                    p.get("column"),
                )
            )
    return InputError(file, problems)

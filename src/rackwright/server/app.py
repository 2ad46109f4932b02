"""``create_app(db_url)``: the FastAPI application — schema upgraded, API mounted, errors as JSON.

The HTML pages (part B of issue 10) live in :mod:`rackwright.server.web`; when that module
exists its ``router`` is included here, with nothing else to change.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import json
import os
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import IntegrityError, OperationalError

from .. import __version__
from . import api, checker, services
from .config import DB_URL_ENV, DEFAULT_DB_URL, MAX_BODY_BYTES, WORKER_THREADS
from .db import make_engine, upgrade


def create_app(db_url: str = DEFAULT_DB_URL, demo: bool = False, max_body: int = MAX_BODY_BYTES) -> FastAPI:
    """The server application on the database at ``db_url`` (schema brought up to date first).

    ``demo`` seeds the demonstration organisations, users and designs (:mod:`.seed`) when absent.
    The engine is ``app.state.engine``; open transactions with :func:`.db.transaction`.
    """
    engine = make_engine(db_url)
    upgrade(engine)
    checker.warm_up()
    # /docs and /redoc load Swagger UI and ReDoc from fastapi-offline's static files (/static-offline-docs),
    # not a CDN, and no Google fonts: they work on an air-gapped host; none of it is in the OpenAPI document
    app = FastAPIOffline(
        title="rackwright collaboration server",
        version=__version__,
        lifespan=_lifespan,
        description="Versioned rack designs shared between organisations: revisions, evaluation, "
        "reviews, approvals and qualification. See docs/server.md.",
    )
    app.state.engine = engine
    app.state.demo_tokens = {}
    if demo:
        from .seed import seed_demo

        app.state.demo_tokens = seed_demo(engine)
    app.include_router(api.router)
    if importlib.util.find_spec(f"{__package__}.web") is not None:  # part B: the HTML pages
        from . import web

        app.include_router(web.router)
    _error_handlers(app)
    app.add_middleware(BodyLimit, limit=max_body)
    app.add_middleware(DocsPolicy)
    return app


@asynccontextmanager
async def _lifespan(_app: FastAPI):
    """Run the synchronous routes on a few threads: requests are CPU-bound Python, and many threads
    contending for the interpreter lock serve fewer requests, and later, than a few. New revisions are
    checked and evaluated in a worker process (:mod:`.checker`) while the app runs. What start-up loaded
    is moved out of the collector's generations (``gc.freeze``): each full collection traversed it all,
    a pause every request in flight waited for (bench_server.py, SQLite, half load: read p99 35-38 ms with,
    49-165 ms without)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    await asyncio.wrap_future(checker.start())
    gc.collect()
    gc.freeze()  # the catalog, property tables and code loaded at start are never garbage: full collections skip them
    yield


def app_from_environment() -> FastAPI:
    """uvicorn factory for ``rackwright serve --workers N``: each worker builds its app on ``RACKWRIGHT_DB_URL``."""
    return create_app(os.environ[DB_URL_ENV])


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(services.ServiceError)
    async def service_error(_request: Request, exc: services.ServiceError):
        status = next(code for kind, code in services.HTTP_STATUS.items() if isinstance(exc, kind))
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, services.TooManyRequests):
            headers = exc.headers()  # Retry-After
        return JSONResponse(exc.as_dict(), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError):
        problems = [
            {"path": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "hint": "", "line": None, "column": None}
            for e in exc.errors()
        ]
        return JSONResponse({"error": "invalid request", "problems": problems}, status_code=422)

    @app.exception_handler(IntegrityError)
    async def integrity(_request: Request, _exc: IntegrityError):
        return JSONResponse(
            {
                "error": "a concurrent write changed the same object; nothing was stored",
                "problems": [],
                "hint": "fetch the current state and retry",
            },
            status_code=409,
        )

    @app.exception_handler(OperationalError)
    async def unavailable(_request: Request, _exc: OperationalError):
        return JSONResponse(
            {"error": "the database is unavailable or busy; nothing was stored", "problems": []},
            status_code=503,
            headers={"Retry-After": "1"},
        )


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is answered 413 before any route sees it."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._too_large(send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await self._too_large(send)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)

    async def _too_large(self, send):
        document = json.dumps(
            {
                "error": f"request body over {self.limit} bytes",
                "problems": [],
                "hint": "send a smaller design or results file",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(document)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": document})


class DocsPolicy:
    """ASGI middleware: ``/docs`` and ``/redoc`` are answered with a Content-Security-Policy that keeps images,
    fonts and requests on this server. Their scripts and styles come from the package already; ReDoc's bundle
    still names its vendor's logo on a CDN, which the browser then never asks for (an air-gapped host, or one
    whose users must not be seen reading the API's documentation, leaks nothing)."""

    PATHS = ("/docs", "/redoc")
    HEADER = (b"content-security-policy", b"img-src 'self' data:; font-src 'self' data:; connect-src 'self'")

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] not in self.PATHS:
            return await self.app(scope, receive, send)

        async def send_with_policy(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self.HEADER]}
            await send(message)

        return await self.app(scope, receive, send_with_policy)

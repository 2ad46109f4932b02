"""The collaboration server's web UI (issue 10, part B): server-rendered HTML pages over :mod:`.services`.

Pages are Jinja2 templates (``templates/``) with plain HTML forms and one stylesheet served
from ``static/``: no JavaScript, no build step, nothing loaded from outside the server. Every
page calls the same service functions as the JSON API, so visibility and permissions are
enforced in one place: what an organisation may not see answers 404 here too, and an
envelope-level viewer is shown only the envelope the services return.

**Sessions.** Signing in issues an API token (label ``web session``, stored hashed like every
token, expiring with the session after :data:`SESSION_SECONDS`); a cookie holds ``{token, CSRF
token, expiry}`` signed with HMAC-SHA256 (RFC 2104). Every page authenticates the token with
:func:`.services.authenticate`, the API's one code path, so signing out, which revokes the token,
ends the session on the server: a copy of the cookie taken before answers as signed out.
``itsdangerous``, which Starlette's ``SessionMiddleware`` needs, is not a dependency of the project,
and the standard library's ``hmac`` is all a signature needs. The key is
``RACKWRIGHT_SESSION_SECRET``; when unset, a random one is drawn when this module is imported and put
into that variable, so the server's worker processes share it (sessions then end when the server
restarts). The cookie is ``HttpOnly`` and ``SameSite=Lax``; signing in issues a fresh session (no
session fixation).

**CSRF.** Every form carries the session's token in a hidden ``csrf_token`` field (the
synchronizer-token pattern of the OWASP CSRF Prevention Cheat Sheet); a POST whose token is
missing or wrong is answered 403 before any service runs, so nothing is stored. The sign-in
form is protected the same way (the anonymous session that shows it holds a token).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData, UploadFile

from ..errors import Problem
from ..rack.compare import flatten
from ..rack.figures import FIGURES, SECTIONS
from ..report.html import PLOTLY_BUNDLE
from ..report.jsonout import public_figure
from ..report.present import Format, figure_format, format_value, headline_format, relative_change
from . import inbox, services, signin
from .db import MAX_ID, ROLES, STATUSES, transaction
from .params import NAME_HELP, Name, OptionalCompared, OptionalRevision

HERE = Path(__file__).parent
STATIC = HERE / "static"
COOKIE = "rackwright_session"
SESSION_SECONDS = 12 * 3600
SESSION_TOKEN_LABEL = "web session"
SECRET_ENV = "RACKWRIGHT_SESSION_SECRET"
STATUS_LABELS = {
    "draft": "Draft",
    "in_review": "In review",
    "approved": "Approved",
    "frozen": "Frozen for qualification",
    "shipped": "Shipped",
}
ACCESS_LABELS = {"owner": "owner", "full": "shared in full", "envelope": "envelope only", "none": "withheld"}
CONTENT = ("owner", "full")  # the read levels of a revision (services.Access) that show its file and fields
#: Headers of every page: no framing, no sniffing, nothing but this server's own resources.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
#: The policy of a programme plan's page, which draws its dashboard with plotly.js: scripts from this server only
#: (``plotly.min.js`` and ``plan-dashboard.js``, no inline script), and inline styles, which plotly.js sets on the
#: chart's elements; everything else as :data:`SECURITY_HEADERS`.
DASHBOARD_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'"
)


# --- sessions and CSRF --------------------------------------------------------------------


class SignInRequired(Exception):
    """The page needs a signed-in user."""


class CsrfRejected(Exception):
    """A POST without the session's CSRF token."""


@dataclass(frozen=True)
class WebSession:
    """What the session cookie holds (``token``: the signed-in user's API token, None when anonymous);
    ``changed`` sessions are written back with the response."""

    token: str | None
    csrf: str
    expires: int
    changed: bool = False


def _new_session(token: str | None) -> WebSession:
    return WebSession(token, secrets.token_urlsafe(32), int(time.time()) + SESSION_SECONDS, changed=True)


# Drawn once and put into the environment, so that the worker processes `rackwright serve --workers N`
# starts after this import inherit the same key and accept each other's cookies.
os.environ.setdefault(SECRET_ENV, secrets.token_urlsafe(32))


def _secret() -> bytes:
    return os.environ[SECRET_ENV].encode()


def _signature(payload: str) -> str:
    digest = hmac.new(_secret(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _encode(session: WebSession) -> str:
    document = json.dumps({"token": session.token, "csrf": session.csrf, "exp": session.expires})
    payload = base64.urlsafe_b64encode(document.encode()).decode().rstrip("=")
    return f"{payload}.{_signature(payload)}"


def _decode(cookie: str | None) -> WebSession | None:
    """The session of a cookie whose signature checks and which has not expired, else None."""
    payload, _, signature = (cookie or "").partition(".")
    if not payload or not hmac.compare_digest(signature.encode(), _signature(payload).encode()):
        return None
    try:
        document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        session = WebSession(document["token"], document["csrf"], int(document["exp"]))
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires > time.time() else None


def web_session(request: Request) -> WebSession:
    """The request's session (a new anonymous one when the cookie is absent, forged or expired)."""
    if getattr(request.state, "web_session", None) is None:
        request.state.web_session = _decode(request.cookies.get(COOKIE)) or _new_session(None)
    return request.state.web_session


async def checked_form(request: Request) -> FormData:
    """The POSTed form, once its ``csrf_token`` matches the session's (else :class:`CsrfRejected`)."""
    form = await request.form()
    token = form.get("csrf_token")
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), web_session(request).csrf.encode()):
        raise CsrfRejected()
    return form


Form = Depends(checked_form)


def _actor(session, request: Request) -> services.Actor:
    """The signed-in user, authenticated by the session's token exactly as the API authenticates a request."""
    try:
        return services.authenticate(session, web_session(request).token)
    except services.Unauthorized:  # anonymous, signed out (the token revoked) or expired
        raise SignInRequired() from None


# --- responses ----------------------------------------------------------------------------

TEMPLATES = Jinja2Templates(directory=HERE / "templates")


def _number(value) -> bool:
    return value is None or isinstance(value, (int, float)) and not isinstance(value, bool)


def _value(value) -> str:
    """A cell: numbers as the CLI tables print them (report.present), whole ones with thousands separators."""
    return format_value(value) if _number(value) else str(value)


def headline_row(row: dict) -> tuple[str, str, str]:
    """``(label, value, unit)`` of a programme document's headline figure, as report.present shows it."""
    shown = headline_format(row["name"], row["unit"])
    return shown.label, shown.value(row["value"]) if _number(row["value"]) else _value(row["value"]), shown.shown_unit


TEMPLATES.env.filters["value"] = _value
TEMPLATES.env.globals["headline_row"] = headline_row
TEMPLATES.env.globals.update(
    status_labels=STATUS_LABELS,
    access_labels=ACCESS_LABELS,
    statuses=STATUSES,
    name_help=NAME_HELP,
    envelope_sections=services.ENVELOPE_SECTIONS,
    confidential_sections=services.CONFIDENTIAL_SECTIONS,
)


def _page(request: Request, template: str, actor: services.Actor | None, status: int = 200, **context) -> Response:
    me = services.whoami(actor) if actor else None
    admin = actor is not None and actor.at_least("admin")  # the users and audit pages in the navigation
    return TEMPLATES.TemplateResponse(
        request, template, {"me": me, "admin": admin, "csrf": web_session(request).csrf, **context}, status_code=status
    )


def _error_page(
    request: Request, status: int, message: str, problems: list[dict] | None = None, hint: str = ""
) -> Response:
    return _page(
        request,
        "error.html",
        None,
        status,
        code=status,
        message=message,
        problems=problems or [],
        hint=hint,
        signed_in=web_session(request).token is not None,
    )


def _status(exc: services.ServiceError) -> int:
    return next(code for kind, code in services.HTTP_STATUS.items() if isinstance(exc, kind))


def _safe_next(target: str | None) -> str:
    """A local path to go to after signing in (never another site: no scheme, no ``//``)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/programmes"


class HtmlRoute(APIRoute):
    """A page route: errors become HTML pages, the session cookie and security headers are set."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired:  # back to the page after signing in (a form's target is no page)
                back = request.url.path if request.method == "GET" else "/programmes"
                response = RedirectResponse("/sign-in?" + urlencode({"next": back}), status_code=303)
            except CsrfRejected:
                response = _error_page(
                    request,
                    403,
                    "The form's security token is missing or out of date; nothing was stored.",
                    hint="Reload the page and submit it again.",
                )
            except services.ServiceError as exc:
                response = _error_page(
                    request, _status(exc), exc.message, exc.as_dict()["problems"], str(exc.extra.get("hint", ""))
                )
            except RequestValidationError as exc:  # a malformed name or revision id in the address
                response = _error_page(
                    request,
                    422,
                    "This address names no design, revision or programme.",
                    [{"path": ".".join(map(str, e["loc"])), "message": e["msg"], "hint": ""} for e in exc.errors()],
                    hint=f"Names are {NAME_HELP}.",
                )
            session = web_session(request)
            if session.changed:
                response.set_cookie(
                    COOKIE,
                    _encode(session),
                    max_age=SESSION_SECONDS,
                    httponly=True,
                    samesite="lax",
                    secure=request.url.scheme == "https",
                )
            for header, value in SECURITY_HEADERS.items():  # a page may set a policy of its own (DASHBOARD_CSP)
                response.headers.setdefault(header, value)
            return response

        return page_handler


router = APIRouter(include_in_schema=False, route_class=HtmlRoute)


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _back(org: str, name: str, form: FormData, fragment: str) -> RedirectResponse:
    """Back to the design page the form was on (``view``: the revision shown, empty for the head)."""
    view = _text(form, "view")
    url = f"/designs/{quote(org)}/{quote(name)}" + (f"?{urlencode({'rev': view})}" if view else "")
    return RedirectResponse(f"{url}#{fragment}", status_code=303)


def _write(request: Request, function, *args, **kwargs):
    """Run ``function(session, actor, *args)`` in one write transaction as the signed-in user."""
    with transaction(request.app.state.engine, write=True) as session:
        return function(session, _actor(session, request), *args, **kwargs)


# --- sign-in ------------------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> Response:
    """The signed-in user's inbox: designs in review waiting for their organisation, or for a partner."""
    if not web_session(request).token:
        return RedirectResponse("/sign-in", status_code=303)
    with transaction(request.app.state.engine) as session:
        actor = _actor(session, request)
        waiting = inbox.inbox(session, actor)
    return _page(request, "home.html", actor, inbox=waiting, approver=actor.at_least("approver"))


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "") -> Response:  # noqa: A002 - the query parameter's name
    return _page(request, "sign_in.html", None, next=_safe_next(next))


@router.post("/sign-in")
def sign_in(request: Request, form: FormData = Form) -> Response:
    target, username = _safe_next(_text(form, "next")), _text(form, "username")
    try:
        actor = signin.sign_in(
            request.app.state.engine, username, _text(form, "password"), signin.client_address(request)
        )
    except (services.Unauthorized, services.TooManyRequests) as refusal:
        page = _page(
            request, "sign_in.html", None, _status(refusal), next=target, error=refusal.message, username=username
        )
        if isinstance(refusal, services.TooManyRequests):
            page.headers.update(refusal.headers())
        return page
    with transaction(request.app.state.engine, write=True) as session:
        token = services.issue_token(session, actor, SESSION_TOKEN_LABEL, lifetime_s=SESSION_SECONDS)
    request.state.web_session = _new_session(token)
    return RedirectResponse(target, status_code=303)


@router.post("/sign-out")
def sign_out(request: Request, form: FormData = Form) -> Response:
    """Revoke the session's token (copies of the cookie stop working too), then start an anonymous session."""
    token = web_session(request).token
    if token:
        try:
            _write(request, services.revoke_token, token)
        except SignInRequired:
            pass  # the session had already ended (expired, or signed out elsewhere)
    request.state.web_session = _new_session(None)
    return RedirectResponse("/sign-in", status_code=303)


@router.get("/static/{filename}")
def static(filename: str) -> Response:
    if filename == PLOTLY_BUNDLE:
        return Response(_plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})
    path = STATIC / filename
    if not re.fullmatch(r"[a-z0-9-]+\.(css|svg|ico|js)", filename) or not path.is_file():
        raise services.NotFound(f"no static file {filename!r}")
    return FileResponse(path, headers={"Cache-Control": "max-age=3600"})


@functools.cache
def _plotly_js() -> str:
    """plotly.js of the installed plotly package, the bundle every rackwright report loads (no CDN)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


# --- programmes and the generations board --------------------------------------------------


@router.get("/programmes")
def programmes(request: Request) -> Response:
    with transaction(request.app.state.engine) as session:
        actor = _actor(session, request)
        found = services.list_programmes(session, actor)
        designs = services.list_designs(session, actor)
    return _page(
        request, "programmes.html", actor, programmes=found, designs=designs, can_create=actor.at_least("engineer")
    )


@router.post("/programmes")
def create_programme(request: Request, form: FormData = Form) -> Response:
    created = _write(request, services.create_programme, _text(form, "slug"), _text(form, "title"))
    return RedirectResponse(f"/programmes/{quote(created['org'])}/{quote(created['slug'])}", status_code=303)


@router.get("/programmes/{org}/{slug}")
def programme(request: Request, org: Name, slug: Name) -> Response:
    with transaction(request.app.state.engine) as session:
        actor = _actor(session, request)
        found = services.get_programme(session, actor, org, slug)
        designs = {f"{d['org']}/{d['name']}": d for d in services.list_designs(session, actor)}
    columns = [(status, [designs[key] for key in found["board"][status]]) for status in STATUSES]
    return _page(request, "board.html", actor, programme=found, columns=columns)


# --- programme plans ---------------------------------------------------------------------


@router.get("/plans")
def plans(request: Request) -> Response:
    return _plans_page(request)


def _plans_page(
    request: Request, status: int = 200, exc: services.ServiceError | None = None, name: str = ""
) -> Response:
    """The plans the organisation owns or is granted, and the upload form (after ``exc``: its problems)."""
    with transaction(request.app.state.engine) as session:
        actor = _actor(session, request)
        found = services.list_plans(session, actor)
    refusal = {} if exc is None else {"error": exc.message, "problems": exc.as_dict()["problems"]}
    return _page(
        request,
        "plans.html",
        actor,
        status,
        plans=found,
        can_create=actor.at_least("engineer"),
        max_files=services.MAX_PLAN_FILES,
        name=name,
        **refusal,
    )


@router.post("/plans")
def create_plan(request: Request, form: FormData = Form) -> Response:
    name = _text(form, "name")
    try:
        programme = _uploaded(form, "programme")
        if programme is None:
            raise services.Invalid("choose a programme file", [Problem("no file", "programme", "a .yaml file")])
        files = dict(filter(None, (_uploaded(form, "files", upload) for upload in form.getlist("files"))))
        with transaction(request.app.state.engine) as session:
            prepared = services.prepare_plan(session, _actor(session, request), name, programme[1], files)
        planned = services.run_plan(prepared)  # seconds, in a worker process: no transaction open meanwhile
        created = _write(request, services.create_plan, name, prepared, planned)
    except FIXABLE as exc:
        return _plans_page(request, _status(exc), exc, name)
    return RedirectResponse(f"/plans/{quote(created['org'])}/{quote(created['name'])}", status_code=303)


def _uploaded(form: FormData, field: str, upload: object = None) -> tuple[str, str] | None:
    """``(file name, text)`` of an uploaded file (``upload``, else the form's ``field``); None when none was chosen."""
    upload = form.get(field) if upload is None else upload
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    try:
        return upload.filename, upload.file.read().decode("utf-8")
    except UnicodeDecodeError:
        raise services.Invalid(
            f"{upload.filename} is not UTF-8 text", [Problem("not UTF-8", field, "save it as UTF-8 YAML")]
        ) from None


@router.get("/plans/{org}/{name}")
def plan(request: Request, org: Name, name: Name) -> Response:
    with transaction(request.app.state.engine) as session:
        actor = _actor(session, request)
        found = services.get_plan(session, actor, org, name)
    page = _page(request, "plan.html", actor, plan=found)
    page.headers["Content-Security-Policy"] = DASHBOARD_CSP
    return page


@router.get("/plans/{org}/{name}/dashboard.json")
def plan_dashboard(request: Request, org: Name, name: Name) -> Response:
    """The dashboard's plotly figure, for ``plan-dashboard.js``; 404 where the dashboard is withheld."""
    with transaction(request.app.state.engine) as session:
        found = services.get_plan(session, _actor(session, request), org, name, figure=True)
    if found["withheld"]:
        raise services.NotFound(f"the dashboard of {org}/{name}: {found['withheld']}")
    return Response(found["figure"], media_type="application/json")


@router.post("/plans/{org}/{name}/replan")
def replan(request: Request, org: Name, name: Name, form: FormData = Form) -> Response:
    with transaction(request.app.state.engine) as session:
        prepared = services.prepare_replan(session, _actor(session, request), org, name)
    planned = services.run_plan(prepared)
    _write(request, services.replan, org, name, prepared, planned)
    return RedirectResponse(f"/plans/{quote(org)}/{quote(name)}", status_code=303)


@router.post("/plans/{org}/{name}/shares")
def share_plan(request: Request, org: Name, name: Name, form: FormData = Form) -> Response:
    level = _text(form, "level")
    _write(request, services.share_plan, org, name, _text(form, "org"), None if level == "none" else level)
    return RedirectResponse(f"/plans/{quote(org)}/{quote(name)}#grants-heading", status_code=303)


# --- a design -----------------------------------------------------------------------------


@router.get("/designs/{org}/{name}")
def design(
    request: Request,
    org: Name,
    name: Name,
    rev: OptionalRevision = "",
    anchor: str = "",
    before: int | None = Query(None, ge=1, le=MAX_ID),
) -> Response:
    with transaction(request.app.state.engine) as session:
        actor = _actor(session, request)
        found = services.get_design(session, actor, org, name)
        revision = services.get_revision(session, actor, org, name, rev) if rev else found["head"]
        history = services.list_revisions(session, actor, org, name, services.HISTORY_PAGE, before)
        threads = services.list_threads(session, actor, org, name)
        signatures = services.approvals(session, actor, org, name, revision["id"])
        head_approvals = (
            signatures
            if revision["id"] == found["head_revision"]
            else services.approvals(session, actor, org, name, found["head_revision"])
        )
        qualifications = services.list_qualifications(session, actor, org, name, revision["id"])
        fields = _fields(session, actor, org, name, revision["id"]) if revision["access"] in CONTENT else {}
        others = [
            f"{d['org']}/{d['name']}"
            for d in services.list_designs(session, actor)
            if (d["org"], d["name"]) != (org, name)
        ]
        can = _abilities(actor, found)
        partners = (
            [o for o in services.list_organisations(session, actor) if o["slug"] != org] if can["administer"] else []
        )
    tables = figure_tables(revision["report"] or {})
    anchors = [key for _, rows in tables for key, *_ in rows] + list(fields)
    next_statuses = [after for before, after in services.TRANSITIONS if before == found["status"]]
    signed = actor.username in {s["user"] for s in signatures["signatures"]}
    older = services.older_than(history, services.HISTORY_PAGE)
    return _page(
        request,
        "design.html",
        actor,
        design=found,
        revision=revision,
        history=history,
        threads=threads,
        older=older,
        paged=before is not None,
        approvals=signatures,
        head_approvals=head_approvals,
        qualifications=qualifications,
        qualification_rows=inbox.QUALIFICATION_ROWS,
        fields=fields,
        tables=tables,
        anchors=anchors,
        anchor=anchor,
        others=others,
        next_statuses=next_statuses,
        signed=signed,
        can=can,
        partners=partners,
    )


def _fields(session, actor: services.Actor, org: str, name: str, rev: str) -> dict[str, object]:
    """The revision's fields by path (``slots[compute].part``), ``extends`` merged; full access only.

    A thin reading of :func:`.services.revision_content` (one header line, then the resolved design as JSON).
    """
    _, text = services.revision_content(session, actor, org, name, rev, resolved=True)
    return flatten(json.loads(text.partition("\n")[2]))


def _abilities(actor: services.Actor, design: dict) -> dict[str, bool]:
    """Which forms to show; the services decide again on every POST."""
    access = design["access"]
    return {
        "comment": actor.at_least("engineer"),
        "approve": actor.at_least("approver"),
        "internal": access == "owner",
        "move": access == "owner",
        "administer": access == "owner" and actor.at_least("admin"),
        "edit": access in ("owner", "full") and actor.at_least("engineer") and design["status"] in services.EDITABLE,
        "qualify": access in ("owner", "full") and actor.at_least("engineer"),
    }


#: The figure table's name of each part of a figure's public name that differs from it (``hbm_bytes`` →
#: ``hbm_tb``) and the factor from the table's unit to the public one (1e12): the server's JSON names and scales
#: figures as ``evaluate --json`` does, its pages label them as the CLI tables do.
TABLE_PARTS = {
    public: (f.json, factor) for f in FIGURES for public, factor in [public_figure(f.json)] if public != f.json
}


def shown_figure(name: str) -> tuple[Format, float]:
    """How the CLI tables show the figure the server's JSON names ``name`` (``compute.hbm_bytes``; an older key such
    as ``sourcing.domestic_share`` too), and the factor its JSON value is divided by to be in the table's unit."""
    parts, factor = [], 1.0
    for part in public_figure(name)[0].split("."):
        key, scale = TABLE_PARTS.get(part, (part, 1.0))
        parts.append(key)
        factor *= scale
    return figure_format(".".join(parts)), factor


def figure_tables(report: dict) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    """``[(section, [(figure name, label, value, unit), ...]), ...]`` of a report view, in :data:`SECTIONS` order.

    Mapped figures (peak FLOP/s by precision, cables by media) give one row per entry (:func:`figure_row`).
    """
    tables = []
    for section in [s for s in SECTIONS if isinstance(report.get(s), dict)] + [
        s for s, v in report.items() if isinstance(v, dict) and s not in SECTIONS
    ]:
        rows = []
        for key, value in report[section].items():
            entries = value.items() if isinstance(value, dict) else [(None, value)]
            for sub, entry in entries:
                figure_key = f"{section}.{key}" + (f".{sub}" if sub else "")
                rows.append((figure_key, *figure_row(figure_key, entry)))
        tables.append((section, rows))
    return tables


def figure_row(name: str, value) -> tuple[str, str, str]:
    """``(label, value, unit)`` of report figure ``section.name[.entry]`` as the CLI tables show it
    (:func:`shown_figure`): whole counts as integers, shares in per cent, a figure no table describes by its name."""
    shown, factor = shown_figure(name)
    return shown.label, shown.value(_unscaled(value, factor)) if _number(value) else _value(value), shown.shown_unit


def _unscaled(value, factor: float):
    """A value of the server's JSON in the unit of the CLI tables (bytes of HBM in TB)."""
    return value / factor if factor != 1.0 and value is not None else value


TEMPLATES.env.globals["figure_row"] = figure_row  # a thread's anchored value, shown as the tables show it


def figure_changes(figures: list[dict]) -> list[dict]:
    """The figures of a :func:`.services.diff` with their labels and units, formatted as ``rackwright compare``
    prints them (report.present.Format.row): before and after with one number of decimals, the change as the
    difference of the values shown (a share in per cent, its change in percentage points)."""
    changes = []
    for change in figures:
        shown, factor = shown_figure(change["figure"])
        values = [_unscaled(change[k], factor) for k in ("before", "after")]
        before, after, absolute = shown.row(values, change=True)
        relative = relative_change(change["relative"])
        changes.append(
            {**change, "label": shown.label, "unit": shown.shown_unit, "before": before, "after": after}
            | {"absolute": absolute, "relative": relative}
        )
    return changes


@router.get("/designs/{org}/{name}/elevation.svg")
def elevation(request: Request, org: Name, name: Name, rev: OptionalRevision = "") -> Response:
    with transaction(request.app.state.engine) as session:
        svg = services.elevation(session, _actor(session, request), org, name, rev or None)
    return Response(svg, media_type="image/svg+xml")


@router.get("/designs/{org}/{name}/design.yaml")
def download(request: Request, org: Name, name: Name, rev: OptionalRevision = "") -> Response:
    """A revision's YAML as written (the head without ``rev``), as a file to save; full access only (else 404)."""
    with transaction(request.app.state.engine) as session:
        rev_id, content = services.revision_content(session, _actor(session, request), org, name, rev or None)
    filename = f"{org}-{name}-{rev_id}.yaml"  # names and ids are slugs: nothing to quote
    return Response(
        content, media_type="application/yaml", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get("/designs/{org}/{name}/qualifications/{result_id}")
def qualification(request: Request, org: Name, name: Name, result_id: int, rev: OptionalRevision = "") -> Response:
    """Every measurement row of one qualification result (the design page shows the first ones)."""
    with transaction(request.app.state.engine) as session:
        actor = _actor(session, request)
        revision = services.get_revision(session, actor, org, name, rev or None)
        result = inbox.qualification(session, actor, org, name, revision["id"], result_id)
    return _page(request, "qualification.html", actor, org=org, name=name, revision=revision, q=result)


@router.get("/designs/{org}/{name}/diff")
def diff(
    request: Request, org: Name, name: Name, before: OptionalCompared = "", after: OptionalRevision = ""
) -> Response:
    if not before:
        raise services.Invalid(
            "choose the revision to compare with",
            [Problem("is empty", "before", "pick a revision of the history, or ORG/NAME[@REV]")],
        )
    with transaction(request.app.state.engine) as session:
        actor = _actor(session, request)
        found = services.diff(session, actor, org, name, before, after or None)
    return _page(request, "diff.html", actor, org=org, name=name, diff=found, figures=figure_changes(found["figures"]))


# --- the organisation: users and audit log (admins) -----------------------------------------


@router.get("/users")
def users(request: Request) -> Response:
    with transaction(request.app.state.engine) as session:
        actor = _actor(session, request)
        found = inbox.organisation_users(session, actor)
    return _page(request, "users.html", actor, users=found, roles=ROLES)


@router.post("/users")
def create_user(request: Request, form: FormData = Form) -> Response:
    created = _write(
        request,
        inbox.create_colleague,
        _text(form, "username"),
        _text(form, "password"),
        _text(form, "role"),
        _text(form, "display_name"),
    )
    return RedirectResponse(f"/users#user-{quote(created['username'])}", status_code=303)


@router.get("/audit")
def audit(request: Request, page: int = Query(0, ge=0, lt=inbox.AUDIT_REACH // inbox.AUDIT_PAGE)) -> Response:
    with transaction(request.app.state.engine) as session:
        actor = _actor(session, request)
        entries, more = inbox.audit_page(session, actor, page)
    return _page(
        request,
        "audit.html",
        actor,
        entries=entries,
        page=page,
        more=more,
        per_page=inbox.AUDIT_PAGE,
        reach=inbox.AUDIT_REACH,
    )


# --- writes (all CSRF-checked) --------------------------------------------------------------


@router.post("/designs/{org}/{name}/threads")
def open_thread(request: Request, org: Name, name: Name, form: FormData = Form) -> Response:
    rev = _text(form, "revision") or None
    visibility = {"on": True, "off": False}.get(_text(form, "internal"))  # radio buttons, neither checked at first
    thread = _write(
        request, services.open_thread, org, name, rev, _text(form, "path"), _text(form, "body"), internal=visibility
    )
    return _back(org, name, form, f"thread-{thread['id']}")


@router.post("/designs/{org}/{name}/threads/{thread_id}/comments")
def reply(request: Request, org: Name, name: Name, thread_id: int, form: FormData = Form) -> Response:
    resolve = {"resolve": True, "reopen": False}.get(_text(form, "resolve"))
    _write(request, services.reply, org, name, thread_id, _text(form, "body"), resolve)
    return _back(org, name, form, f"thread-{thread_id}")


@router.post("/designs/{org}/{name}/approvals")
def approve(request: Request, org: Name, name: Name, form: FormData = Form) -> Response:
    rev = _text(form, "revision") or None
    _write(request, services.approve, org, name, rev, _text(form, "reason") or None)
    return _back(org, name, form, "approvals")


@router.post("/designs/{org}/{name}/status")
def move(request: Request, org: Name, name: Name, form: FormData = Form) -> Response:
    _write(request, services.set_status, org, name, _text(form, "status"), _text(form, "reason") or None)
    return _back(org, name, form, "status")


@router.post("/designs/{org}/{name}/shares")
def share(request: Request, org: Name, name: Name, form: FormData = Form) -> Response:
    level = _text(form, "level")
    _write(request, services.share, org, name, _text(form, "org"), None if level == "none" else level)
    return _back(org, name, form, "sharing")


@router.post("/designs/{org}/{name}/confidential")
def confidential(request: Request, org: Name, name: Name, form: FormData = Form) -> Response:
    sections = [value for value in form.getlist("sections") if isinstance(value, str)]
    _write(request, services.set_confidential, org, name, sections)
    return _back(org, name, form, "sharing")


@router.post("/designs/{org}/{name}/qualifications")
def qualify(request: Request, org: Name, name: Name, form: FormData = Form) -> Response:
    rev = _text(form, "revision") or None
    upload = form.get("results")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise services.Invalid("choose a results file", [Problem("no file", "results", "a .csv or .json file")])
    try:
        content = upload.file.read().decode("utf-8")
    except UnicodeDecodeError:
        raise services.Invalid(
            "the results file is not UTF-8 text", [Problem("not UTF-8", "results", "save it as UTF-8 CSV or JSON")]
        ) from None
    _write(request, services.attach_qualification, org, name, rev, upload.filename, content)
    return _back(org, name, form, "qualification")


# --- writing designs: a new design, a new revision (engineers with full access) --------------

#: Refusals the writer fixes by editing what was typed: the form comes back with it, not an error page.
FIXABLE = (services.Invalid, services.Conflict, services.PreconditionRequired)


def _typed(form: FormData) -> dict[str, str]:
    return {key: _text(form, key) for key in ("name", "programme", "message", "content", "parent")}


def _design_form(request: Request, status: int = 200, exc: services.ServiceError | None = None, **context) -> Response:
    """The form to write a design (``mode`` new) or a revision (``mode`` revision), after ``exc`` with its
    problems and what was typed (nothing was stored then)."""
    with transaction(request.app.state.engine) as session:
        actor = _actor(session, request)
        actor.require("engineer", "writing designs")
        programmes = [p for p in services.list_programmes(session, actor) if p["org"] == actor.org]
    refusal = (
        {}
        if exc is None
        else {
            "error": exc.message,
            "problems": exc.as_dict()["problems"],
            "hint": str(exc.extra.get("hint", "")),
            "head": exc.extra.get("head"),
        }
    )
    return _page(request, "design_form.html", actor, status, programmes=programmes, **refusal, **context)


@router.get("/designs/new")
def new_design(request: Request) -> Response:
    return _design_form(request, mode="new", form={})


@router.post("/designs")
def create_design(request: Request, form: FormData = Form) -> Response:
    typed = _typed(form)
    try:
        created = _write(
            request,
            services.create_design,
            typed["name"],
            typed["content"],
            typed["message"],
            typed["programme"] or None,
        )
    except FIXABLE as exc:
        return _design_form(request, _status(exc), exc, mode="new", form=typed)
    return RedirectResponse(f"/designs/{quote(created['org'])}/{quote(created['name'])}", status_code=303)


@router.get("/designs/{org}/{name}/edit")
def edit_design(request: Request, org: Name, name: Name) -> Response:
    with transaction(request.app.state.engine) as session:  # the head's YAML: full access only (else 404)
        head, content = services.revision_content(session, _actor(session, request), org, name)
    return _design_form(request, mode="revision", org=org, name=name, form={"content": content, "parent": head})


@router.post("/designs/{org}/{name}/revisions")
def push(request: Request, org: Name, name: Name, form: FormData = Form) -> Response:
    typed = _typed(form)
    parent = typed["parent"] or None
    try:
        with transaction(request.app.state.engine) as session:  # evaluated first: not under the write lock
            prepared = services.prepare_revision(session, _actor(session, request), org, name, typed["content"], parent)
        _write(request, services.push_revision, org, name, typed["content"], typed["message"], parent, prepared)
    except FIXABLE as exc:
        return _design_form(request, _status(exc), exc, mode="revision", org=org, name=name, form=typed)
    return RedirectResponse(f"/designs/{quote(org)}/{quote(name)}#history", status_code=303)

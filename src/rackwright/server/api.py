"""The JSON API (``/api/v1``): thin FastAPI routes over :mod:`.services`, documented in OpenAPI.

Each route opens one transaction (:func:`.db.transaction`; writes with ``BEGIN IMMEDIATE``
on SQLite), authenticates the bearer token, calls one service function and returns its
dict. The transaction commits before the response is sent, so a 2xx answer to a write
means the write is durable. Service errors become JSON ``{"error", "problems", ...}``
with the status of :data:`.services.HTTP_STATUS` (401, 403, 404, 409, 422, 428).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from . import services, signin
from .db import MAX_ID, ROLES, STATUSES, transaction
from .params import NAME_HELP, NAME_RULE, REVISION_RULE, Compared, Name, Revision, RevisionQuery

router = APIRouter(prefix="/api/v1", generate_unique_id_function=lambda route: route.name)  # operationId = name
bearer = HTTPBearer(auto_error=False, description="An API token: POST /api/v1/auth/token, or `rackwright serve --demo`")
HEAD = "head"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenRequest(Body):
    username: str = Field(max_length=64, pattern=NAME_RULE)
    password: str = Field(max_length=200)
    label: str = Field("", max_length=services.MAX_TITLE)


class UserCreate(Body):
    username: str = Field(max_length=64, pattern=NAME_RULE, description=NAME_HELP)
    password: str = Field(min_length=8, max_length=200)
    role: Literal[ROLES]  # type: ignore[valid-type]
    display_name: str = Field("", max_length=services.MAX_TITLE)


class ProgrammeCreate(Body):
    slug: str = Field(max_length=64, pattern=NAME_RULE, description=NAME_HELP)
    title: str = Field("", max_length=services.MAX_TITLE)


class DesignCreate(Body):
    name: str = Field(
        max_length=64, pattern=NAME_RULE, description=f"The design's name within your organisation: {NAME_HELP}"
    )
    content: str = Field(
        max_length=services.MAX_CONTENT,
        description="Design YAML (docs/design-files.md); "
        "`extends: NAME`, `ORG/NAME` or `ORG/NAME@REV` names a design on this server",
    )
    message: str = Field("", max_length=services.MAX_MESSAGE)
    programme: str | None = Field(None, max_length=64, pattern=NAME_RULE)
    confidential: list[str] | None = Field(
        None,
        description="Figure sections hidden from envelope viewers; "
        f"default all of {', '.join(services.CONFIDENTIAL_SECTIONS)}",
    )


class RevisionCreate(Body):
    content: str = Field(max_length=services.MAX_CONTENT)
    message: str = Field("", max_length=services.MAX_MESSAGE)


class StatusChange(Body):
    status: Literal[STATUSES]  # type: ignore[valid-type]
    reason: str | None = Field(
        None,
        max_length=services.MAX_MESSAGE,
        description="Why the head may go to review or be approved despite its rule errors "
        "(needed then; every organisation that reads the design sees it)",
    )


class Approval(Body):
    reason: str | None = Field(
        None,
        max_length=services.MAX_MESSAGE,
        description="Why you sign a revision that breaks design rules (needed then; every "
        "organisation that reads the design sees it)",
    )


class ShareRequest(Body):
    level: Literal["full", "envelope"]


class ConfidentialSections(Body):
    sections: list[str] = Field(
        max_length=len(services.CONFIDENTIAL_SECTIONS) * 2,
        description="Figure sections hidden from envelope viewers, a subset of "
        f"{', '.join(services.CONFIDENTIAL_SECTIONS)} ([] shares them all)",
    )


class ThreadCreate(Body):
    revision: str | None = Field(None, pattern=REVISION_RULE, description="Revision id; default the head")
    path: str = Field(
        "", max_length=services.MAX_PATH, description="Field path (slots[3].part) or figure (power.input_kw)"
    )
    body: str = Field(max_length=services.MAX_COMMENT)
    internal: bool = Field(
        description="An explicit choice: true keeps the thread within your own organisation "
        "(owners only), false shares it with every organisation that reads the design"
    )


class CommentCreate(Body):
    body: str = Field(max_length=services.MAX_COMMENT)
    resolve: bool | None = Field(None, description="true: mark the thread resolved; false: open it again")


class QualificationCreate(Body):
    filename: str = Field(max_length=services.MAX_TITLE, description="results.csv or results.json")
    content: str = Field(
        max_length=services.MAX_CONTENT,
        description="rack_id,generation,test,metric,value,unit,timestamp rows (docs/reliability.md)",
    )
    racks: list[str] | None = None


class PlanCreate(Body):
    name: str = Field(
        max_length=64, pattern=NAME_RULE, description=f"The plan's name within your organisation: {NAME_HELP}"
    )
    content: str = Field(
        max_length=services.MAX_CONTENT,
        description="Programme YAML (docs/programme.md) whose generations name designs on this server: "
        "`design: NAME` (your organisation's) or `ORG/NAME`, each read by you in full",
    )
    files: dict[str, str] = Field(
        default_factory=dict,
        max_length=services.MAX_PLAN_FILES,
        description="The line, site and scenario files the programme names, by those names: {name: YAML text}",
    )


class PlanShareRequest(Body):
    level: Literal["read", "write"] | None = Field(
        description="read: the plan's page; write: re-plan too; null: no longer granted"
    )


def _call(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    function: Callable,
    *args,
    write: bool = False,
    **kwargs,
):
    """Run ``function(session, actor, *args)`` in one transaction as the token's holder."""
    with transaction(request.app.state.engine, write) as session:
        actor = services.authenticate(session, credentials.credentials if credentials else None)
        return function(session, actor, *args, **kwargs)


def _hot(document: dict | list, headers: dict[str, str] | None = None, status_code: int = 200) -> JSONResponse:
    """The most frequent requests answer with the services' document as JSON directly: it holds JSON types
    only, so FastAPI's validation and encoding against the return annotation (which still documents the
    operation in OpenAPI) would only cost time."""
    return JSONResponse(document, status_code, headers)


def _rev(rev: str) -> str | None:
    return None if rev == HEAD else rev


def _etag(value: str | None) -> str | None:
    """An ``If-Match`` value without quotes or weak prefix."""
    return value.strip().removeprefix("W/").strip('"') if value else None


Auth = Depends(bearer)


@router.get("/health", tags=["server"], summary="Liveness (no authentication)")
def health() -> dict:
    return {"status": "ok"}


@router.post(
    "/auth/token",
    tags=["auth"],
    summary="Exchange username and password for an API token",
    responses={
        429: {
            "description": "Too many failed sign-ins for the account or from this address: "
            "try again after Retry-After seconds"
        }
    },
)
def sign_in(request: Request, body: TokenRequest) -> dict:
    actor = signin.sign_in(request.app.state.engine, body.username, body.password, signin.client_address(request))
    with transaction(request.app.state.engine, write=True) as session:
        return {"token": services.issue_token(session, actor, body.label), **services.whoami(actor)}


@router.delete("/auth/token", tags=["auth"], summary="Revoke the token of this request (sign out)")
def revoke_token(request: Request, credentials=Auth) -> dict:
    return _call(
        request, credentials, services.revoke_token, credentials.credentials if credentials else "", write=True
    )


@router.get("/me", tags=["auth"], summary="The token's user, organisation and role")
def me(request: Request, credentials=Auth) -> dict:
    return _call(request, credentials, lambda session, actor: services.whoami(actor))


@router.get("/organisations", tags=["organisations"], summary="All organisations (to share with)")
def organisations(request: Request, credentials=Auth) -> list[dict]:
    return _call(request, credentials, services.list_organisations)


@router.get("/users", tags=["organisations"], summary="Users of your organisation")
def users(request: Request, credentials=Auth) -> list[dict]:
    return _call(request, credentials, services.list_users)


@router.post("/users", status_code=201, tags=["organisations"], summary="Create a user in your organisation (admin)")
def create_user(request: Request, body: UserCreate, credentials=Auth) -> dict:
    return _call(
        request,
        credentials,
        lambda s, a: services.create_user(s, a, a.org, body.username, body.password, body.role, body.display_name),
        write=True,
    )


@router.get("/programmes", tags=["programmes"], summary="Visible programmes with their generation boards")
def programmes(request: Request, credentials=Auth) -> list[dict]:
    return _call(request, credentials, services.list_programmes)


@router.post("/programmes", status_code=201, tags=["programmes"], summary="Create a programme (engineer)")
def create_programme(request: Request, body: ProgrammeCreate, credentials=Auth) -> dict:
    return _call(request, credentials, services.create_programme, body.slug, body.title, write=True)


@router.get("/programmes/{org}/{slug}", tags=["programmes"], summary="One programme's generations by status")
def programme(request: Request, org: Name, slug: Name, credentials=Auth) -> dict:
    return _call(request, credentials, services.get_programme, org, slug)


@router.get("/plans", tags=["plans"], summary="Programme plans your organisation owns or is granted")
def plans(request: Request, credentials=Auth) -> list[dict]:
    return _call(request, credentials, services.list_plans)


@router.post(
    "/plans",
    status_code=201,
    tags=["plans"],
    summary="Upload a programme file and plan it on the heads of the designs it names (engineer)",
)
def create_plan(request: Request, body: PlanCreate, credentials=Auth) -> dict:
    prepared = _call(request, credentials, services.prepare_plan, body.name, body.content, body.files)
    planned = services.run_plan(prepared)  # seconds, in a worker process: no transaction open meanwhile
    return _call(request, credentials, services.create_plan, body.name, prepared, planned, write=True)


@router.get(
    "/plans/{org}/{name}",
    tags=["plans"],
    summary="A programme plan: its file, the revisions it was planned on, which are stale, its programme document",
)
def plan(request: Request, org: Name, name: Name, credentials=Auth) -> dict:
    return _call(request, credentials, services.get_plan, org, name)


@router.post(
    "/plans/{org}/{name}/replan",
    tags=["plans"],
    summary="Plan again on the designs' heads (engineer of the owner or of an organisation granted write)",
)
def replan(request: Request, org: Name, name: Name, credentials=Auth) -> dict:
    prepared = _call(request, credentials, services.prepare_replan, org, name)
    planned = services.run_plan(prepared)
    return _call(request, credentials, services.replan, org, name, prepared, planned, write=True)


@router.put(
    "/plans/{org}/{name}/shares/{with_org}",
    tags=["plans"],
    summary="Grant a programme plan to another organisation to read or write (owner admin)",
)
def share_plan(
    request: Request, org: Name, name: Name, with_org: Name, body: PlanShareRequest, credentials=Auth
) -> dict:
    return _call(request, credentials, services.share_plan, org, name, with_org, body.level, write=True)


@router.get("/designs", tags=["designs"], summary="Designs your organisation sees, with your access level")
def designs(request: Request, credentials=Auth) -> list[dict]:
    return _call(request, credentials, services.list_designs)


@router.post(
    "/designs",
    status_code=201,
    tags=["designs"],
    summary="Create a design with its first revision (checked and evaluated on the server)",
)
def create_design(request: Request, body: DesignCreate, response: Response, credentials=Auth) -> dict:
    view = _call(
        request,
        credentials,
        services.create_design,
        body.name,
        body.content,
        body.message,
        body.programme,
        body.confidential,
        write=True,
    )
    response.headers["ETag"] = f'"{view["head_revision"]}"'
    return view


@router.get(
    "/designs/{org}/{name}",
    response_model=dict,
    tags=["designs"],
    summary="A design with its head revision and report",
)
def design(request: Request, org: Name, name: Name, credentials=Auth) -> JSONResponse:
    view = _call(request, credentials, services.get_design, org, name)
    return _hot(view, headers={"ETag": f'"{view["head_revision"]}"'})


@router.get(
    "/designs/{org}/{name}/revisions",
    response_model=list[dict],
    tags=["revisions"],
    summary="History, newest first, one page",
    description="At most `limit` revisions numbered below `before` (default: from the head). When the page "
    'is full, a `Link: <...>; rel="next"` header names the next page.',
)
def revisions(
    request: Request,
    org: Name,
    name: Name,
    credentials=Auth,
    limit: int = Query(services.HISTORY_PAGE, ge=1, le=services.MAX_HISTORY_PAGE),
    before: int | None = Query(None, ge=1, le=MAX_ID),
) -> JSONResponse:
    page = _call(request, credentials, services.list_revisions, org, name, limit, before)
    following = services.older_than(page, limit)
    url = request.url.include_query_params(before=following, limit=limit) if following else None
    return _hot(page, headers={"Link": f'<{url}>; rel="next"'} if url else None)


@router.post(
    "/designs/{org}/{name}/revisions",
    response_model=dict,
    status_code=201,
    tags=["revisions"],
    summary="Write a new head revision; If-Match must name the current head (else 409, or 428 if absent)",
)
def push(
    request: Request,
    org: Name,
    name: Name,
    body: RevisionCreate,
    if_match: str | None = Header(None, description="The revision id your edit is based on"),
    credentials=Auth,
) -> JSONResponse:
    # checked and evaluated first in a read transaction: the write transaction then holds the lock briefly
    prepared = _call(request, credentials, services.prepare_revision, org, name, body.content, _etag(if_match))
    view = _call(
        request,
        credentials,
        services.push_revision,
        org,
        name,
        body.content,
        body.message,
        _etag(if_match),
        prepared,
        write=True,
    )
    return _hot(view, headers={"ETag": f'"{view["id"]}"'}, status_code=201)


@router.get(
    "/designs/{org}/{name}/revisions/{rev}",
    tags=["revisions"],
    summary="A revision (`head` for the newest) with content and report as far as you may see them",
)
def revision(request: Request, org: Name, name: Name, rev: Revision, credentials=Auth) -> dict:
    return _call(request, credentials, services.get_revision, org, name, _rev(rev))


@router.get(
    "/designs/{org}/{name}/revisions/{rev}/content",
    tags=["revisions"],
    response_class=PlainTextResponse,
    summary="The revision's YAML (full access); resolved=true merges `extends`",
)
def content(request: Request, org: Name, name: Name, rev: Revision, resolved: bool = False, credentials=Auth):
    rev_id, text = _call(request, credentials, services.revision_content, org, name, _rev(rev), resolved)
    return PlainTextResponse(text, media_type="application/yaml", headers={"ETag": f'"{rev_id}"'})


@router.get(
    "/designs/{org}/{name}/revisions/{rev}/report",
    tags=["revisions"],
    response_model=dict,
    summary="Stored evaluation: figures (named and scaled as evaluate --json) and violations, filtered by your access",
)
def report(request: Request, org: Name, name: Name, rev: Revision, credentials=Auth) -> JSONResponse:
    return _hot(_call(request, credentials, services.report, org, name, _rev(rev)))


@router.get(
    "/designs/{org}/{name}/revisions/{rev}/elevation.svg",
    tags=["revisions"],
    response_class=Response,
    summary="Rack elevation drawing (full access)",
)
def elevation(request: Request, org: Name, name: Name, rev: Revision, credentials=Auth):
    svg = _call(request, credentials, services.elevation, org, name, _rev(rev))
    return Response(svg, media_type="image/svg+xml")


@router.get(
    "/designs/{org}/{name}/diff",
    tags=["revisions"],
    summary="Fields and figures that differ between two revisions (before may be ORG/NAME@REV)",
)
def diff(
    request: Request, org: Name, name: Name, before: Compared, credentials=Auth, after: RevisionQuery = HEAD
) -> dict:
    return _call(request, credentials, services.diff, org, name, before, _rev(after))


@router.put(
    "/designs/{org}/{name}/status",
    tags=["workflow"],
    summary="Move along draft → in_review → approved → frozen → shipped (owner organisation)",
)
def status(request: Request, org: Name, name: Name, body: StatusChange, credentials=Auth) -> dict:
    return _call(request, credentials, services.set_status, org, name, body.status, body.reason, write=True)


@router.put(
    "/designs/{org}/{name}/shares/{with_org}",
    tags=["workflow"],
    summary="Share with an organisation at full or envelope level (owner admin)",
)
def share(request: Request, org: Name, name: Name, with_org: Name, body: ShareRequest, credentials=Auth) -> dict:
    return _call(request, credentials, services.share, org, name, with_org, body.level, write=True)


@router.delete("/designs/{org}/{name}/shares/{with_org}", tags=["workflow"], summary="Stop sharing (owner admin)")
def unshare(request: Request, org: Name, name: Name, with_org: Name, credentials=Auth) -> dict:
    return _call(request, credentials, services.share, org, name, with_org, None, write=True)


@router.put(
    "/designs/{org}/{name}/confidential",
    tags=["workflow"],
    summary="Choose the figure sections envelope viewers do not see (owner admin)",
)
def set_confidential(request: Request, org: Name, name: Name, body: ConfidentialSections, credentials=Auth) -> dict:
    return _call(request, credentials, services.set_confidential, org, name, body.sections, write=True)


@router.get("/designs/{org}/{name}/threads", tags=["reviews"], summary="Review threads you may see")
def threads(request: Request, org: Name, name: Name, credentials=Auth) -> list[dict]:
    return _call(request, credentials, services.list_threads, org, name)


@router.post(
    "/designs/{org}/{name}/threads",
    status_code=201,
    tags=["reviews"],
    summary="Open a review thread anchored to a field path or figure",
)
def open_thread(request: Request, org: Name, name: Name, body: ThreadCreate, credentials=Auth) -> dict:
    return _call(
        request,
        credentials,
        services.open_thread,
        org,
        name,
        body.revision,
        body.path,
        body.body,
        body.internal,
        write=True,
    )


@router.post(
    "/designs/{org}/{name}/threads/{thread_id}/comments",
    status_code=201,
    tags=["reviews"],
    summary="Reply to a thread; resolve or reopen it",
)
def comment(
    request: Request,
    org: Name,
    name: Name,
    body: CommentCreate,
    credentials=Auth,
    thread_id: int = Path(ge=1, le=MAX_ID, description="The thread's id"),
) -> dict:
    return _call(request, credentials, services.reply, org, name, thread_id, body.body, body.resolve, write=True)


@router.get(
    "/designs/{org}/{name}/revisions/{rev}/approvals",
    tags=["reviews"],
    summary="Signatures, missing organisations, approved or not",
)
def approvals(request: Request, org: Name, name: Name, rev: Revision, credentials=Auth) -> dict:
    return _call(request, credentials, services.approvals, org, name, _rev(rev))


@router.post(
    "/designs/{org}/{name}/revisions/{rev}/approvals",
    status_code=201,
    tags=["reviews"],
    summary="Sign a revision for your organisation (approver)",
)
def approve(
    request: Request, org: Name, name: Name, rev: Revision, body: Approval | None = None, credentials=Auth
) -> dict:
    return _call(
        request, credentials, services.approve, org, name, _rev(rev), body.reason if body else None, write=True
    )


@router.get(
    "/designs/{org}/{name}/revisions/{rev}/qualifications",
    tags=["qualification"],
    summary="Qualification results of a revision (summary only for envelope access)",
)
def qualifications(request: Request, org: Name, name: Name, rev: Revision, credentials=Auth) -> list[dict]:
    return _call(request, credentials, services.list_qualifications, org, name, _rev(rev))


@router.post(
    "/designs/{org}/{name}/revisions/{rev}/qualifications",
    status_code=201,
    tags=["qualification"],
    summary="Attach measured results; the server qualifies them (pass/warn/fail)",
)
def qualify(
    request: Request, org: Name, name: Name, rev: Revision, body: QualificationCreate, credentials=Auth
) -> dict:
    return _call(
        request,
        credentials,
        services.attach_qualification,
        org,
        name,
        _rev(rev),
        body.filename,
        body.content,
        body.racks,
        write=True,
    )


@router.get("/audit", tags=["server"], summary="Audit log of your organisation and its designs (admin)")
def audit(request: Request, credentials=Auth, limit: int = Query(200, ge=1, le=1000)) -> list[dict]:
    return _call(request, credentials, services.audit_log, limit)

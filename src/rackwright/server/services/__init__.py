"""The collaboration server's domain operations: one function per use case, over a SQLAlchemy ``Session``.

Every function takes the acting :class:`Actor` (who, which organisation, which role) and
enforces two things before it reads or writes anything:

* **visibility** — a design is seen by its owner organisation and by the organisations
  it is shared with, at ``full`` (everything) or ``envelope`` level (the evaluated
  envelope: :data:`ENVELOPE_SECTIONS` figures and the sections the owner did not mark
  confidential; never the YAML, its digest, part ids, prices, origins or lineage). A revision
  whose ``extends`` merged other designs is read at no higher level than the reader has on each
  of them (:class:`Access`). Anything an organisation may not see raises :class:`NotFound`,
  exactly as if it did not exist;
* **permission** — roles are ordered viewer < engineer < approver < admin
  (:func:`~.security.role_at_least`); a visible object the actor may not change raises
  :class:`Forbidden`.

Functions return plain JSON-ready dicts already filtered for the actor, so the JSON API
(:mod:`.api`) and the HTML pages render what they get and cannot leak by omission. Errors
are :class:`ServiceError` subclasses; callers map them to HTTP statuses
(:data:`HTTP_STATUS`). The caller owns the transaction (:func:`.db.transaction`): a
function that raises leaves nothing stored, the audit entry included.

Designs are addressed as ``(org, name)``; a revision by its id (16 hex digits, a hash of
its parent, content, author, message, time and a random salt, so that it confirms no guess of the
content). Writing a revision needs the id of the revision it was based on (``expected_head``, HTTP ``If-Match``): a
stale one raises :class:`Conflict` and stores nothing (optimistic locking with a
compare-and-swap on the design's head).

The package, by concern: :mod:`.common` (rules, limits, errors, :class:`Actor`), :mod:`.accounts` (organisations,
users, tokens, sign-in), :mod:`.access` (who reads what, at which level: :class:`Access`), :mod:`.designs`
(programmes, designs, revisions), :mod:`.sharing` (status, sharing, confidential sections), :mod:`.signoff`
(approvals, overrides), :mod:`.plans` (programme plans on stored designs), :mod:`.reviews` (threads,
qualification), :mod:`.audit` (the audit log) and :mod:`.views` (what leaves the services).
Callers use the names re-exported here (``services.push_revision``).
"""

from .access import Access
from .accounts import (
    MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_ADDRESS,
    MAX_THROTTLE_KEY,
    SIGN_IN_WINDOW,
    actor_for,
    authenticate,
    create_organisation,
    create_user,
    issue_token,
    list_organisations,
    list_users,
    operator_token,
    operator_users,
    record_failed_sign_in,
    refuse_throttled_sign_in,
    reset_password,
    revoke_token,
    set_role,
    sign_in,
    whoami,
)
from .audit import audit_log
from .common import (
    CONFIDENTIAL_SECTIONS,
    CONTROL,
    EDITABLE,
    ENVELOPE_SECTIONS,
    HISTORY_PAGE,
    HTTP_STATUS,
    LINE_CONTROL,
    MAX_COMMENT,
    MAX_CONTENT,
    MAX_HISTORY_PAGE,
    MAX_MESSAGE,
    MAX_ORG_SLUG,
    MAX_PATH,
    MAX_TITLE,
    NAME,
    NAME_PATTERN,
    READ_LEVELS,
    REVISION_ID,
    REVISION_PATTERN,
    TRANSITIONS,
    Actor,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionRequired,
    ServiceError,
    TooManyRequests,
    Unauthorized,
    clean_text,
)
from .designs import (
    Prepared,
    create_design,
    create_programme,
    diff,
    elevation,
    get_design,
    get_programme,
    get_revision,
    list_designs,
    list_programmes,
    list_revisions,
    older_than,
    prepare_revision,
    push_revision,
    report,
    revision_content,
)
from .plans import (
    MAX_PLAN_FILES,
    PreparedPlan,
    create_plan,
    get_plan,
    list_plans,
    prepare_plan,
    prepare_replan,
    replan,
    run_plan,
    share_plan,
)
from .reviews import MISSING, attach_qualification, list_qualifications, list_threads, open_thread, reply
from .sharing import set_confidential, set_status, share
from .signoff import OVERRIDDEN, approvals, approve
from .views import CONTENT_META, EVALUATED_META

__all__ = [  # the services API
    "CONFIDENTIAL_SECTIONS",
    "CONTENT_META",
    "CONTROL",
    "EDITABLE",
    "ENVELOPE_SECTIONS",
    "EVALUATED_META",
    "HISTORY_PAGE",
    "HTTP_STATUS",
    "LINE_CONTROL",
    "MAX_COMMENT",
    "MAX_CONTENT",
    "MAX_FAILURES_PER_ACCOUNT",
    "MAX_FAILURES_PER_ADDRESS",
    "MAX_HISTORY_PAGE",
    "MAX_MESSAGE",
    "MAX_PLAN_FILES",
    "MAX_ORG_SLUG",
    "MAX_PATH",
    "MAX_THROTTLE_KEY",
    "MAX_TITLE",
    "MISSING",
    "NAME",
    "NAME_PATTERN",
    "OVERRIDDEN",
    "READ_LEVELS",
    "REVISION_ID",
    "REVISION_PATTERN",
    "SIGN_IN_WINDOW",
    "TRANSITIONS",
    "Access",
    "Actor",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "PreconditionRequired",
    "Prepared",
    "PreparedPlan",
    "ServiceError",
    "TooManyRequests",
    "Unauthorized",
    "actor_for",
    "approvals",
    "approve",
    "attach_qualification",
    "audit_log",
    "authenticate",
    "clean_text",
    "create_design",
    "create_organisation",
    "create_plan",
    "create_programme",
    "create_user",
    "diff",
    "elevation",
    "get_design",
    "get_plan",
    "get_programme",
    "get_revision",
    "issue_token",
    "list_designs",
    "list_organisations",
    "list_plans",
    "list_programmes",
    "list_qualifications",
    "list_revisions",
    "list_threads",
    "list_users",
    "older_than",
    "open_thread",
    "operator_token",
    "operator_users",
    "prepare_plan",
    "prepare_replan",
    "prepare_revision",
    "push_revision",
    "record_failed_sign_in",
    "refuse_throttled_sign_in",
    "replan",
    "reply",
    "report",
    "reset_password",
    "revision_content",
    "revoke_token",
    "run_plan",
    "set_confidential",
    "set_role",
    "set_status",
    "share",
    "share_plan",
    "sign_in",
    "whoami",
]

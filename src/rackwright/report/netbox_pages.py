"""The report pages of ``netbox push -o DIR`` and ``netbox diff -o DIR`` (HTML tables; presentation only).

Each takes the command's document (what ``--json`` prints, before :func:`rackwright.report.jsonout.document`) and
the lines that say what drove it (the plan folder, NetBox's URL, the hall, the batch; never the token). The push
page opens with what was created, skipped (already in NetBox) and refused per kind of object, with totals, then
lists every refused object with NetBox's reason; the diff page opens with the missing, extra and changed objects
per kind, then lists every difference.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from html import escape

from .pages import ID, LABEL, NUMBER, page, table
from .present import COUNT, format_value

#: How a diff names what differs, in the order its counts are shown.
STATUSES = ("missing", "extra", "changed")


def _n(value: int) -> str:
    return format_value(value, COUNT)


def push_headline(doc: dict) -> str:
    """``1,862 objects created, 0 skipped (already in NetBox), 2 refused``."""
    created, skipped, refused = (sum(_step_counts(s)[i] for s in doc["steps"]) for i in range(3))
    return (
        f"{_n(created)} objects created, {_n(skipped)} skipped (already in NetBox), {_n(refused)} refused "
        f"in NetBox at {doc['url']}"
    )


def _step_counts(step: dict) -> tuple[int, int, int]:
    return step["created"], step["skipped"], len(step["refused"])


def push_page(doc: dict, inputs: Sequence[str]) -> str:
    """The push page: created / skipped / refused per kind of object and in all, then each refused object and why."""
    rows = [[s["step"], *(_n(n) for n in _step_counts(s))] for s in doc["steps"]]
    totals = ["all objects", *(_n(sum(_step_counts(s)[i] for s in doc["steps"])) for i in range(3))]
    counts = table(["objects", "created", "skipped (in NetBox)", "refused"], rows, [LABEL] + [NUMBER] * 3, total=totals)
    refusals = [[s["step"], *_name_and_reason(r)] for s in doc["steps"] for r in s["refused"]]
    listed = _listing("Refused objects", ["objects", "name", "NetBox's reason"], refusals, "NetBox refused nothing.")
    return page(f"{doc['site']} pushed to NetBox", push_headline(doc), inputs, [listed], counts=counts)


def _listing(heading: str, headers: list[str], rows: list[list[str]], empty: str) -> tuple[str, str]:
    """A page's section listing ``rows`` (their count in its heading; the second column an object's name, the
    others labels), or saying ``empty`` where there are none."""
    kinds = [LABEL, ID] + [LABEL] * (len(headers) - 2)
    return f"{heading} ({_n(len(rows))})", table(headers, rows, kinds) if rows else f"<p>{escape(empty)}</p>"


def _name_and_reason(refusal: str) -> tuple[str, str]:
    """``"<name>: <NetBox's reason>"`` (rackwright.site.netbox_api.Tally) as its two parts."""
    name, _, reason = refusal.partition(": ")
    return name, reason


def diff_headline(doc: dict) -> str:
    """``12 differences: 10 missing, 1 extra, 1 changed`` (or that NetBox holds the plan)."""
    found = doc["differences"]
    if not found:
        return f"NetBox at {doc['url']} holds the plan of {doc['site']}: no differences"
    status = Counter(d["status"] for d in found)
    return f"{_n(len(found))} differences from NetBox at {doc['url']}: " + ", ".join(
        f"{_n(status[s])} {s}" for s in STATUSES
    )


def diff_page(doc: dict, inputs: Sequence[str]) -> str:
    """The diff page: missing / extra / changed per kind of object and in all, then every difference."""
    found = doc["differences"]
    by_kind = Counter((d["kind"], d["status"]) for d in found)
    per_kind = Counter(d["kind"] for d in found)
    rows = [[kind, *(_n(by_kind[kind, s]) for s in STATUSES), _n(n)] for kind, n in per_kind.items()]
    totals = ["all objects", *(_n(sum(by_kind[k, s] for k in per_kind)) for s in STATUSES), _n(len(found))]
    counts = table(["objects", *STATUSES, "differences"], rows, [LABEL] + [NUMBER] * 4, total=totals)
    every = [[d["kind"], d["name"], d["status"], d["detail"]] for d in found]
    empty = "None: NetBox holds every planned device, module, power feed and cable as planned."
    listed = _listing("Every difference", ["object", "name", "status", "detail"], every, empty)
    return page(f"{doc['site']} against NetBox", diff_headline(doc), inputs, [listed], counts=counts)

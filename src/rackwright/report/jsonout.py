"""JSON that tools can read: the one shape of every command's ``--json`` (documented in docs/json.md).

Every document is a JSON object that opens with ``schema_version`` and ``command``; where a command has
several of a thing (designs, stations, quarters) it lists records, and a data value (a quarter, a station id,
a rule code, a generation's name) is a field of a record, never a key. One quantity has one name and one unit
in every command (:data:`RENAMES`: US content is ``us_content_share``, a fraction from 0 to 1; memory is in
bytes). Errors under ``--json`` are a document too (:func:`error_document`). Numbers print with Python's
shortest round-trip ``repr``, keys in the order the command built them (nothing ordered is sorted), NaN and
infinities as ``null``: the same input gives the same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import InputError

#: The version of the shapes in docs/json.md: 2 since issue 22 (records, one name per quantity, the error
#: object); the documents before it had no version. Raised whenever a shape changes incompatibly.
SCHEMA_VERSION = 2

#: One name and one unit per quantity across commands: an old key → its public name and the factor from the
#: old key's unit to the public one (TB of memory → bytes).
RENAMES: dict[str, tuple[str, float]] = {
    "us_share": ("us_content_share", 1.0),
    "domestic_share": ("us_content_share", 1.0),
    "us_share_by_category": ("us_content_share_by_category", 1.0),
    "min_us_share": ("min_us_content_share", 1.0),
    "hbm_tb": ("hbm_bytes", 1e12),
    "storage_bandwidth_gb_per_s": ("storage_bandwidth_bytes_per_s", 1e9),
    "memory_gb_per_accelerator": ("memory_bytes_per_accelerator", 1e9),
    "least_memory_gb_per_accelerator": ("least_memory_bytes_per_accelerator", 1e9),
    "hbm_gb_per_accelerator": ("hbm_bytes_per_accelerator", 1e9),
    "memory_breakdown_gb": ("memory_breakdown_bytes", 1e9),
}

#: Mappings whose keys are data values, listed as records wherever they appear: the public key → the field the
#: old key becomes and the field its value becomes.
AS_RECORDS: dict[str, tuple[str, str]] = {
    "us_content_share_by_category": ("category", "us_content_share"),
}


def document(command: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The public document of ``command`` (``"site plan"``): ``schema_version``, ``command``, then ``body``
    with its keys renamed by :data:`RENAMES` and its numbers made plain (:func:`plain`)."""
    return {"schema_version": SCHEMA_VERSION, "command": command, **plain(body)}


def plain(value: Any) -> Any:
    """``value`` as JSON data: keys renamed (:data:`RENAMES`), data-valued mappings as records
    (:data:`AS_RECORDS`), NumPy numbers and arrays as Python ones, non-finite floats as ``None``, dates and
    paths as text, tuples as lists; mapping order kept."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            name, factor = RENAMES.get(str(key), (str(key), 1.0))
            item = plain(item)
            if name in AS_RECORDS and isinstance(item, Mapping):
                item = records(item, *AS_RECORDS[name])
            out[name] = scaled(item, factor)
        return out
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (date, Path)):
        return str(value)
    if hasattr(value, "tolist") and not isinstance(value, (int, float)):  # a NumPy scalar or array
        return plain(value.tolist())
    if isinstance(value, float):
        return float(value) + 0.0 if math.isfinite(value) else None  # + 0.0: -0.0 prints as 0.0
    return value


def public_figure(key: str) -> tuple[str, float]:
    """A dotted figure key (``compute.hbm_tb``, as ``compare`` and the explorer name figures) as
    ``evaluate --json`` names it (``compute.hbm_bytes``), and the factor to its unit (1e12): each part renamed by
    :data:`RENAMES`."""
    parts, factor = [], 1.0
    for part in key.split("."):
        name, scale = RENAMES.get(part, (part, 1.0))
        parts.append(name)
        factor *= scale
    return ".".join(parts), factor


def scaled(value: Any, factor: float) -> Any:
    """A number in the public unit; 12 significant digits, so that 0.186 TB is 186000000000.0 bytes, not
    185999999999.99997. A mapping of numbers (a breakdown) is scaled value by value."""
    if isinstance(value, Mapping):
        return {k: scaled(v, factor) for k, v in value.items()}
    if factor == 1.0 or isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return float(f"{value * factor:.12g}")


def records(mapping: Mapping[str, Any], key: str, value: str = "value") -> list[dict[str, Any]]:
    """``{"burn-in": {...}, ...}`` → ``[{"station": "burn-in", ...}, ...]`` with ``key="station"``: the data
    value becomes a field of its record. A mapping to plain values gives ``[{key: k, value: v}]``."""
    return [{key: k, **v} if isinstance(v, Mapping) else {key: k, value: v} for k, v in mapping.items()]


def by_quarter(quarters: Iterable[str], **series: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One record per quarter with the value of each series (``gw_by_quarter`` → ``{"quarter": q, "gw": ...}``)."""
    return [{"quarter": q, **{name: values.get(q) for name, values in series.items()}} for q in quarters]


def quarter_records(
    doc: Mapping[str, Any], quarters: Iterable[str], names: Mapping[str, str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``doc`` split into its other keys and one record per quarter holding every ``*_by_quarter`` mapping of it:
    a series is named by ``names`` (``{"gw_by_quarter": "it_power_gw"}``), else by its key less ``_by_quarter``;
    a series of mappings (percentiles) spreads into one field each (``it_power_gw_p10``)."""
    series = {k: v for k, v in doc.items() if k.endswith("_by_quarter") and isinstance(v, Mapping)}
    rest = {k: v for k, v in doc.items() if k not in series}
    rows = []
    for quarter in quarters:
        row: dict[str, Any] = {"quarter": quarter}
        for key, values in series.items():
            name, value = names.get(key, key.removesuffix("_by_quarter")), values.get(quarter)
            if isinstance(value, Mapping):
                row.update({f"{name}_{field}": v for field, v in value.items()})
            else:
                row[name] = value
        rows.append(row)
    return rest, rows


def dumps(doc: Mapping[str, Any]) -> str:
    """The document's text: two-space indent, UTF-8 as is, no NaN, a final newline."""
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def error_document(command: str, exc: InputError) -> dict[str, Any]:
    """Bad input as a document: ``error`` is the first problem (``message``, ``file``, ``line``, ``field``,
    ``fix``), ``problems`` every problem in the same form."""
    problems = [
        {
            "message": p.message,
            "file": exc.file,
            "line": p.line,
            "column": p.column,
            "field": p.path or None,
            "fix": p.hint or None,
        }
        for p in exc.problems
    ] or [{"message": str(exc), "file": exc.file, "line": None, "column": None, "field": None, "fix": None}]
    return {"schema_version": SCHEMA_VERSION, "command": command, "error": problems[0], "problems": problems}


def write_json(path: Path, doc: Mapping[str, Any]) -> None:
    """Write a document made by :func:`document` to ``path`` (the machine files of ``-o DIR``)."""
    path.write_text(dumps(doc), encoding="utf-8")

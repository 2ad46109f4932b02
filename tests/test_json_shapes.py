"""The shape of every command's ``--json`` (docs/json.md): one top-level object with ``schema_version`` and
``command`` whatever the argument count, records rather than data values as keys, errors as a JSON object on
stdout (exit 2), the same bytes for the same input (the site plan's cable lengths included), and each
command's key structure as its snapshot under tests/data/json_shapes/ (regenerated with
``RACKWRIGHT_UPDATE_SHAPES=1``, see :data:`REGENERATE`)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.report.jsonout import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[1]
E = "examples/"
runner = CliRunner()

#: Each command with --json → (its name in the document, arguments run from the repository root).
CASES = {
    "evaluate": ("evaluate", ["evaluate", E + "gb300-nvl72.yaml", "--json"]),
    "evaluate-two": ("evaluate", ["evaluate", E + "gb200-nvl72.yaml", E + "gb300-nvl72.yaml", "--json"]),
    "check": ("check", ["check", E + "meta-catalina.yaml", "--json"]),
    "compare": ("compare", ["compare", E + "gb200-nvl72.yaml", E + "gb300-nvl72.yaml", "--json"]),
    "bom": ("bom", ["bom", E + "gb200-nvl72.yaml", "--by", "origin", "--json"]),
    "catalog list": ("catalog list", ["catalog", "list", "--kind", "cdu", "--json"]),
    "catalog show": ("catalog show", ["catalog", "show", "vertiv-coolchip-cdu-1350", "--json"]),
    "sourcing whatif": (
        "sourcing whatif",
        ["sourcing", "whatif", E + "gb200-nvl72.yaml", E + "sourcing-us-power-cabling.yaml", "--json"],
    ),
    "sourcing sweep": (
        "sourcing whatif",
        ["sourcing", "whatif", E + "gb200-nvl72.yaml", E + "sourcing-us-power-cabling.yaml", "--json",
         "--sweep", "substitutions[0].price_change=0:0.3:3"],
    ),
    "sourcing build-date": (
        "sourcing build-date",
        ["sourcing", "build-date", E + "gb200-nvl72.yaml", "--order-date", "2026-01-05", "--racks", "10", "--json"],
    ),
    "reliability job": (
        "reliability job",
        ["reliability", "job", "--design", E + "hgx-h100-air.yaml", "--accelerators", "16384", "--json"],
    ),
    "reliability spares": (
        "reliability spares",
        ["reliability", "spares", "--design", E + "gb200-nvl72.yaml", "--racks", "100", "--repair-days", "7", "--json"],
    ),
    "reliability qualify": (
        "reliability qualify",
        ["reliability", "qualify", E + "gb200-nvl72.yaml", E + "qualification-gb200.csv", "--json"],
    ),
    "factory simulate": (
        "factory simulate",
        ["factory", "simulate", E + "line-us.yaml", "--design", E + "gb200-nvl72.yaml", "--weeks", "3", "--warmup",
         "1", "--replications", "2", "--seed", "1", "--json"],
    ),
    "factory capacity": (
        "factory capacity",
        ["factory", "capacity", E + "line-us.yaml", "--design", E + "gb200-nvl72.yaml", "--target", "200/week",
         "--replications", "1", "--json"],
    ),
    "roadmap plan": ("roadmap plan", ["roadmap", "plan", E + "roadmap-10gw.yaml", "--json"]),
    "roadmap risk": (
        "roadmap risk",
        ["roadmap", "risk", E + "roadmap-10gw.yaml", "--samples", "10", "--seed", "1", "--json"],
    ),
    "explore": (
        "explore", ["explore", E + "space-gb300-small.yaml", "-o", "OUT/explore", "--json", "--no-sensitivity"]
    ),
    "site plan": ("site plan", ["site", "plan", E + "site-100mw.yaml", "-o", "OUT/site", "--json", "--no-report"]),
    "site cables": ("site cables", ["site", "cables", "OUT/site", "--json"]),  # the plan the case above wrote
    "perf train": (
        "perf train",
        ["perf", "train", "--model", "llama3-70b", "--system", "dgx-h100-ndr", "--accelerators", "64",
         "--global-batch", "128", "--tp", "4", "--pp", "4", "--sp", "--distributed-optimizer", "--json"],
    ),
    "perf search": (
        "perf search",
        ["perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "64",
         "--global-batch", "512", "--top", "3", "--json"],
    ),
    "perf infer": (
        "perf infer",
        ["perf", "infer", "--model", "llama3-70b", "--system", "dgx-h100-ndr", "--batch", "16", "--input-tokens",
         "1024", "--output-tokens", "256", "--json"],
    ),
    "programme plan": ("programme plan", ["programme", "plan", E + "programme-small.yaml", "--json"]),
    "programme whatif": (
        "programme whatif",
        ["programme", "whatif", E + "programme-small.yaml", "--set", "generations.e1.first_ship=2027-04-01", "--json"],
    ),
    "programme risk": (
        "programme risk", ["programme", "risk", E + "programme-small.yaml", "--samples", "5", "--seed", "1", "--json"]
    ),
    "elevation": ("elevation", ["elevation", E + "gb300-nvl72.yaml", "-o", "OUT/elevation", "--json"]),
    # a new database has no users: tests/test_server_admin.py checks the records' fields
    "server-admin user list": (
        "server-admin user list", ["server-admin", "user", "list", "--json", "--db", "sqlite:///OUT/users.db"]
    ),
}
#: Commands whose --json has not moved to the shape yet (other work is changing them; docs/json.md lists what
#: each still needs).
NOT_YET: set[str] = set()
#: Commands that need a running collaboration server: their documents are checked by tests/test_server_api.py.
SERVER = {"push", "pull"}
#: Commands that need a running NetBox: their documents are checked by tests/test_netbox_live.py (marker netbox).
LIVE = {"netbox push", "netbox diff"}
#: Fields whose values are data (a quarter, a station id, a rule code, a name from an input file): none of them
#: may also be a key of the same document. (A part's ``category`` is one of the catalog's six, named like the
#: sections of an evaluated design, so it is not among them.)
DATA_FIELDS = ("quarter", "station", "rule", "generation", "factory", "site", "axis", "cause", "group", "media",
               "objective")
QUARTER = re.compile(r"^\d{4}Q[1-4]$")
RULE_CODE = re.compile(r"^[A-Z]{3,5}\d{3}$")


def run(args: list[str], out: Path):
    return runner.invoke(app, [a.replace("OUT", str(out)) for a in args])


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """Each case run once: (exit code, stdout)."""
    out = tmp_path_factory.mktemp("first")
    results: dict = {"OUT": out}
    for case, (_, args) in CASES.items():
        result = run(args, out)
        results[case] = (result.exit_code, result.stdout)
    return results


def walk(node, path=()):
    """(path, key) of every key and (path, field, value) of every record field, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, (*path, "[]"))


def commands_with_json(group: typer.Typer, prefix: str = "") -> set[str]:
    found = set()
    for command in group.registered_commands:
        click_command = typer.main.get_command_from_info(
            command, pretty_exceptions_short=False, rich_markup_mode=None
        )
        if any("--json" in getattr(p, "opts", ()) for p in click_command.params):
            found.add(prefix + (command.name or command.callback.__name__.replace("_", "-")))
    for sub in group.registered_groups:
        found |= commands_with_json(sub.typer_instance, f"{prefix}{sub.name} ")
    return found


def test_every_command_with_json_is_covered():
    covered = {name for name, _ in CASES.values()} | {"catalog import-netbox", "qualify"}
    assert commands_with_json(app) - covered - NOT_YET - SERVER - LIVE == set()


@pytest.mark.parametrize("case", list(CASES))
def test_one_top_level_object_with_its_version_and_no_data_as_keys(first, case):
    code, stdout = first[case]
    assert code in (0, 1), stdout
    doc = json.loads(stdout)
    assert isinstance(doc, dict)
    assert list(doc)[:2] == ["schema_version", "command"]
    assert doc["schema_version"] == SCHEMA_VERSION and doc["command"] == CASES[case][0]
    keys = {key for _, key, _ in walk(doc)}
    data = {value for _, key, value in walk(doc) if key in DATA_FIELDS and isinstance(value, str)}
    assert not {k for k in keys if QUARTER.match(k) or RULE_CODE.match(k)}, case
    assert not keys & data, f"{case}: data values used as keys: {sorted(keys & data)}"
    assert not {k for k in keys if k.endswith("_gb") or k.endswith("_tb")}, "memory is in bytes"
    assert not keys & {"us_share", "domestic_share", "bom_us_content_by_quarter"}, "US content is us_content_share"


def test_one_design_or_two_give_the_same_shape(first):
    one, two = (json.loads(first[case][1]) for case in ("evaluate", "evaluate-two"))
    assert set(one) == set(two) == {"schema_version", "command", "designs"}
    assert len(one["designs"]) == 1 and len(two["designs"]) == 2
    assert set(one["designs"][0]) == set(two["designs"][0])


def test_us_content_is_one_fraction_under_one_name(first):
    """The BOM's, the what-if's and the site's US content: ``us_content_share`` between 0 and 1 (not %)."""
    bom = json.loads(first["bom"][1])
    whatif = json.loads(first["sourcing whatif"][1])
    site = json.loads(first["site plan"][1])
    evaluated = json.loads(first["evaluate"][1])["designs"][0]
    for share in (bom["us_content_share"], whatif["what_if"]["us_content_share"], site["us_content_share"],
                  evaluated["sourcing"]["us_content_share"]):
        assert 0 <= share <= 1
    # the BOM's total is the cost-weighted mean of its groups: by hand from the totals it lists
    us = sum(g["us_cost_usd"] for g in bom["totals"])
    assert bom["us_content_share"] == pytest.approx(us / bom["total_usd"], rel=1e-12)


def test_memory_in_bytes(first):
    """HBM per rack: 72 GB300 at 279 GB of usable HBM each (issue 20's figure) = 20.088 TB, printed in bytes."""
    evaluated = json.loads(first["evaluate"][1])["designs"][0]
    assert evaluated["compute"]["hbm_bytes"] == pytest.approx(72 * 279e9, rel=1e-9)
    [job] = json.loads(first["reliability job"][1])["designs"]
    assert job["checkpoint"]["storage_bandwidth_bytes_per_s"] == pytest.approx(2e12)  # --storage-bandwidth 2 TB/s
    search = json.loads(first["perf search"][1])
    assert search["hbm_bytes_per_accelerator"] == 80 * 2**30  # the H100's 80 GiB, binary
    assert all(row["memory_bytes_per_accelerator"] < 80 * 2**30 for row in search["top"])  # they fit


#: The programme's cases take half a minute each on a shared core, so they run with the slow tests.
SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    "case",
    ["site plan", "site cables", "roadmap plan", "roadmap risk", "factory simulate", "explore", "bom", "perf search",
     "evaluate", "sourcing whatif", pytest.param("programme plan", marks=SLOW),
     pytest.param("programme whatif", marks=SLOW)],
)
def test_the_same_input_gives_the_same_bytes(first, case):
    """Run again into the same folder: byte for byte what the first run printed (the site plan's and the cable
    summary's lengths are exact sums, no timings are printed; the programme's plans solve the same MILP)."""
    assert run(CASES[case][1], first["OUT"]).stdout == first[case][1]


#: Where each case's shape is kept, and how to write them again after a deliberate change of shape.
SHAPES = ROOT / "tests" / "data" / "json_shapes"
REGENERATE = "RACKWRIGHT_UPDATE_SHAPES=1 .venv/bin/python -m pytest tests/test_json_shapes.py -k snapshot"
UPDATE = os.environ.get("RACKWRIGHT_UPDATE_SHAPES") == "1"
JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"),
              (dict, "object"), (type(None), "null"))


def json_type(value) -> str:
    return next(name for kind, name in JSON_TYPES if isinstance(value, kind))


def shape(doc: dict) -> dict[str, list[str]]:
    """Every key path of a document (``fabric/tiers``; the items of a list merged as ``designs[]``) → the JSON
    types found there, in the order the document first reaches each path."""
    found: dict[str, set[str]] = {}

    def visit(node, path: str) -> None:
        if path:
            found.setdefault(path, set()).add(json_type(node))
        if isinstance(node, dict):
            for key, value in node.items():
                visit(value, f"{path}/{key}" if path else key)
        elif isinstance(node, list):
            for item in node:
                visit(item, path + "[]")

    visit(doc, "")
    return {path: sorted(types) for path, types in found.items()}


def snapshot_text(command: str, paths: dict[str, list[str]]) -> str:
    """A snapshot as JSON, one path a line (a change of shape reads as a diff of lines)."""
    lines = ",\n".join(f"    {json.dumps(path)}: {json.dumps(types)}" for path, types in paths.items())
    head = {"command": command, "schema_version": SCHEMA_VERSION}
    return json.dumps(head, indent=2)[:-2] + ',\n  "paths": {\n' + lines + "\n  }\n}\n"


def shape_file(case: str) -> Path:
    return SHAPES / (case.replace(" ", "-") + ".json")


def shape_changes(old: dict[str, list[str]], new: dict[str, list[str]]) -> tuple[list[str], list[str], list[str]]:
    """Paths added, removed and retyped (``path: old types -> new types``) from ``old`` to ``new``."""
    retyped = [f"{p}: {'|'.join(old[p])} -> {'|'.join(new[p])}" for p in old if p in new and old[p] != new[p]]
    return [p for p in new if p not in old], [p for p in old if p not in new], retyped


def changed_shape(command: str, case: str, kept: dict, now: dict[str, list[str]]) -> str:
    """What changed from the snapshot and what to do: an empty text when nothing did."""
    added, removed, retyped = shape_changes(kept["paths"], now)
    if not (added or removed or retyped):
        return ""
    listed = (("added", added), ("removed", removed), ("retyped", retyped))
    bump = (removed or retyped) and SCHEMA_VERSION == kept["schema_version"]
    return (
        f"the JSON shape of `{command}` ({case}) changed from {shape_file(case).relative_to(ROOT)}:\n"
        + "".join(f"  {name}: {', '.join(paths)}\n" for name, paths in listed if paths)
        + "Update docs/json.md (the command's row in 'Shapes by command'), "
        + (f"raise SCHEMA_VERSION (now {SCHEMA_VERSION}) in src/rackwright/report/jsonout.py since a path was "
           "removed or retyped, and say so in CHANGELOG.md, " if bump else "")
        + f"then regenerate the snapshots: {REGENERATE}"
    )


@pytest.mark.parametrize("case", list(CASES))
def test_shape_matches_its_snapshot(first, case):
    """Each case's key paths and JSON types against tests/data/json_shapes/CASE.json: a change of shape is a
    change of the documented interface, so it fails until the docs and the snapshot follow it."""
    command = CASES[case][0]
    now = shape(json.loads(first[case][1]))
    path = shape_file(case)
    if UPDATE:
        SHAPES.mkdir(parents=True, exist_ok=True)
        path.write_text(snapshot_text(command, now), encoding="utf-8")
    assert path.is_file(), f"no shape snapshot for {case!r}: write it with {REGENERATE}"
    kept = json.loads(path.read_text(encoding="utf-8"))
    problem = changed_shape(command, case, kept, now)
    assert not problem, problem
    assert kept["command"] == command and kept["schema_version"] == SCHEMA_VERSION, f"regenerate: {REGENERATE}"


def test_shape_changes_are_found():
    """The comparison by hand: a key added, one removed, a record field retyped, a list's items merged; the
    message asks for a new schema_version only for an incompatible change."""
    old = shape({"a": 1, "b": [{"c": "x"}, {"c": None, "d": 2.5}]})
    assert old == {"a": ["integer"], "b": ["array"], "b[]": ["object"], "b[]/c": ["null", "string"],
                   "b[]/d": ["number"]}
    new = shape({"b": [{"c": 3, "d": 2.5}], "e": {"f": True}})
    assert shape_changes(old, new) == (["e", "e/f"], ["a"], ["b[]/c: null|string -> integer"])
    assert shape_changes(new, new) == ([], [], [])
    kept = {"schema_version": SCHEMA_VERSION, "paths": old}
    assert "raise SCHEMA_VERSION" in changed_shape("bom", "bom", kept, new)
    grown = changed_shape("bom", "bom", kept, {**old, "e": ["integer"]})
    assert "added: e\n" in grown and "SCHEMA_VERSION" not in grown and REGENERATE in grown
    assert changed_shape("bom", "bom", kept, old) == ""


def test_every_case_has_one_snapshot():
    """No snapshot is left from a case that is gone (the update removes it)."""
    stale = set(SHAPES.glob("*.json")) - {shape_file(case) for case in CASES}
    for path in stale if UPDATE else ():
        path.unlink()
    assert not set(SHAPES.glob("*.json")) - {shape_file(case) for case in CASES}, f"stale: {sorted(stale)}"


#: docs/json.md's list of each snapshot's top-level keys sits between these lines (made from the snapshots).
DOCS = ROOT / "docs" / "json.md"
BEGIN, END = "<!-- top-level keys: made from tests/data/json_shapes -->", "<!-- end of top-level keys -->"


def top_level_table() -> str:
    """One row per snapshot: its command, its file and its top-level keys with their JSON types (``array of
    object`` for a list of records)."""
    rows = ["| command | snapshot | top-level keys (JSON type) |", "|---|---|---|"]
    for case in CASES:
        kept = json.loads(shape_file(case).read_text(encoding="utf-8"))
        paths = kept["paths"]
        keys = [p for p in paths if "/" not in p and "[]" not in p and p not in ("schema_version", "command")]
        items = {k: " or ".join(paths[k + "[]"]) if k + "[]" in paths else "(empty in the example)" for k in keys}
        shown = [f"`{k}` " + " or ".join(f"array of {items[k]}" if t == "array" else t for t in paths[k]) for k in keys]
        rows.append(f"| `{kept['command']}` | `{shape_file(case).name}` | {', '.join(shown)} |")
    return "\n".join(rows)


def test_docs_list_each_snapshots_top_level_keys():
    """docs/json.md's generated table agrees with the snapshots (regenerated with them)."""
    def section(text: str) -> tuple[str, str, str]:
        assert BEGIN in text and END in text, f"docs/json.md lost the lines {BEGIN} ... {END}"
        head, rest = text.split(BEGIN, 1)
        body, tail = rest.split(END, 1)
        return head, body, tail

    made = f"\n{top_level_table()}\n"
    if UPDATE:
        head, _, tail = section(DOCS.read_text(encoding="utf-8"))
        DOCS.write_text(head + BEGIN + made + END + tail, encoding="utf-8")
    assert section(DOCS.read_text(encoding="utf-8"))[1] == made, f"docs/json.md's table is old: {REGENERATE}"


ERRORS = {
    "evaluate": ["evaluate", E + "no-such.yaml", "--json"],
    "site plan": ["site", "plan", E + "no-such.yaml", "-o", "OUT/x", "--json"],
    "roadmap plan": ["roadmap", "plan", E + "no-such.yaml", "--json"],
    "catalog show": ["catalog", "show", "no-such-part", "--json"],
    "sourcing build-date": ["sourcing", "build-date", E + "gb200-nvl72.yaml", "--order-date", "soon", "--json"],
    "factory simulate": ["factory", "simulate", E + "line-us.yaml", "--design", E + "no-such.yaml", "--json"],
}


@pytest.mark.parametrize("command", list(ERRORS))
def test_bad_input_under_json_is_a_json_error_on_stdout(tmp_path, command):
    result = run(ERRORS[command], tmp_path)
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == SCHEMA_VERSION and doc["command"] == command
    assert set(doc["error"]) == {"message", "file", "line", "column", "field", "fix"} and doc["error"]["message"]
    assert doc["problems"][0] == doc["error"]
    assert "error" not in result.stderr  # not printed twice


@pytest.mark.parametrize("args, command, field", [
    (["factory", "simulate", E + "line-us.yaml", "--design", E + "gb200-nvl72.yaml", "--weeks", "0", "--json"],
     "factory simulate", "--weeks"),
    (["evaluate", "--no-such-option", E + "gb200-nvl72.yaml", "--json"], "evaluate", None),
    (["site", "plan", "--json"], "site plan", "SITE"),
])
def test_usage_errors_under_json_are_json_too(tmp_path, args, command, field):
    """Found by the parser before the command runs (out of range, unknown option, missing argument)."""
    result = run(args, tmp_path)
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["command"] == command and doc["error"]["message"]
    assert field is None or doc["error"]["field"] == field


def test_usage_errors_without_json_stay_text(tmp_path):
    result = run(["factory", "simulate", E + "line-us.yaml", "--design", E + "gb200-nvl72.yaml", "--weeks", "0"],
                 tmp_path)
    assert result.exit_code == 2 and result.stdout == "" and "--weeks" in result.stderr


def test_bad_input_names_its_file_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: " + str(ROOT / E / "gb200-nvl72.yaml") + "\npower:\n  redundancy: sideways\n")
    doc = json.loads(run(["evaluate", str(bad), "--json"], tmp_path).stdout)
    assert doc["error"]["file"] == str(bad) and "redundancy" in (doc["error"]["field"] or "")


@pytest.mark.parametrize("args, name", [
    (["bom", E + "gb200-nvl72.yaml", "--json", "-o", "OUT"], "bom.json"),
    (["reliability", "job", "--design", E + "hgx-h100-air.yaml", "--accelerators", "16384", "--json", "-o", "OUT"],
     "job.json"),
    (["roadmap", "plan", E + "roadmap-10gw.yaml", "--json", "-o", "OUT"], "plan.json"),
    (["roadmap", "risk", E + "roadmap-10gw.yaml", "--samples", "8", "--seed", "1", "--json", "-o", "OUT"], "risk.json"),
    (["programme", "risk", E + "programme-small.yaml", "--samples", "4", "--seed", "1", "--json", "-o", "OUT"],
     "risk.json"),
])
def test_o_dir_writes_the_document_json_prints_and_a_report(tmp_path, args, name):
    result = run(args, tmp_path)
    assert result.exit_code in (0, 1), result.output
    assert (tmp_path / name).read_text(encoding="utf-8") == result.stdout
    assert (tmp_path / "report.html").stat().st_size > 0
    assert "wrote" not in result.stdout  # the note on files written is on stderr under --json


def test_plain_numbers_names_and_records():
    """The shape's rules by hand: renamed keys with their unit factor, -0.0 and NaN, NumPy scalars, records."""
    import math

    import numpy as np

    from rackwright.errors import InputError
    from rackwright.report.jsonout import document, error_document, plain

    doc = plain({"compute": {"hbm_tb": 0.186, "x": np.float32(0.5)}, "us_share": -0.0, "gap": math.nan,
                 "us_share_by_category": {"power": 0.25}, "n": np.int64(3), "a": np.array([1.5, np.inf])})
    assert doc == {"compute": {"hbm_bytes": 186e9, "x": 0.5}, "us_content_share": 0.0, "gap": None,
                   "us_content_share_by_category": [{"category": "power", "us_content_share": 0.25}], "n": 3,
                   "a": [1.5, None]}
    assert repr(doc["us_content_share"]) == "0.0" and type(doc["n"]) is int
    # a renamed mapping of numbers (perf's memory breakdown in GB) is scaled value by value
    assert plain({"memory_breakdown_gb": {"weights": 1.5, "total": 0.186}}) == {
        "memory_breakdown_bytes": {"weights": 1.5e9, "total": 186e6}
    }
    assert list(document("bom", {"b": 1, "a": 2})) == ["schema_version", "command", "b", "a"]  # order kept
    error = error_document("check", InputError.single("d.yaml", "bad", "power.redundancy", "write N+1", line=3))
    assert error["error"] == {"message": "bad", "file": "d.yaml", "line": 3, "column": None,
                              "field": "power.redundancy", "fix": "write N+1"}


def test_exploration_records(tmp_path):
    """Axes, objectives, rules and sensitivity as records, figures named as evaluate --json names them."""
    from rackwright.cli.explore import exploration_json
    from rackwright.explore import explore

    result = explore(ROOT / E / "space-gb300-small.yaml")
    doc = exploration_json(result, {"explore": tmp_path / "explore.json"}, [])
    assert "evaluations_per_s" not in doc and doc["outputs"] == {"explore": str(tmp_path / "explore.json")}
    assert doc["failed"][0] == {"code": "THM005", "name": "the facility water is warmer than the CDU accepts",
                                "count": 288}
    point = doc["pareto"][0]
    assert [a["axis"] for a in point["axes"]][:2] == ["parts.accelerator.power", "slots[compute-upper].count"]
    assert point["objectives"][1] == {"figure": "sourcing.us_content_share",
                                      "value": result.columns["sourcing.domestic_share"][result.front[0]]}
    share = [r for r in doc["sensitivity"] if r["objective"] == "sourcing.us_content_share"]
    assert len(share) == 6 and set(share[0]) == {"objective", "axis", "first", "total"}


def test_quarter_series_fold_into_one_record_per_quarter():
    from rackwright.report.jsonout import quarter_records

    rest, rows = quarter_records(
        {"roadmap": "r", "gw_by_quarter": {"2027Q1": {"p10": 1.0, "p90": 2.0}}, "new_by_quarter": {"2027Q1": 3}},
        ["2027Q1"],
        {"gw_by_quarter": "it_power_gw"},
    )
    assert rest == {"roadmap": "r"}
    assert rows == [{"quarter": "2027Q1", "it_power_gw_p10": 1.0, "it_power_gw_p90": 2.0, "new": 3}]

"""The CLI: exit codes, JSON output, and no traceback on any malformed input (fuzzed)."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from typer.testing import CliRunner

from rackwright.cli.app import app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_exit_codes():
    assert run("check", EXAMPLES / "gb200-nvl72.yaml").exit_code == 0
    assert run("check", EXAMPLES / "meta-catalina.yaml").exit_code == 1  # THM002, see the file's header
    assert run("check", EXAMPLES / "no-such.yaml").exit_code == 2
    assert run("evaluate").exit_code == 2  # usage: missing argument
    assert run("catalog", "show", "no-such-part").exit_code == 2


def test_evaluate_json_has_the_report_sections():
    result = run("evaluate", EXAMPLES / "gb300-nvl72.yaml", "--json")
    doc = json.loads(result.stdout)["designs"][0]  # one design: a list of one record (docs/json.md)
    assert doc["compute"]["accelerators"] == 72 and doc["violations"] == []
    assert {"power", "thermal", "mechanical", "compute", "network", "cabling", "cost", "sourcing", "reliability"} <= set(doc)
    both = json.loads(run("evaluate", EXAMPLES / "gb200-nvl72.yaml", EXAMPLES / "gb300-nvl72.yaml", "--json").stdout)
    assert [d["generation"] for d in both["designs"]] == ["gb200", "gb300"]


def test_compare_shows_lineage_fields_and_figures():
    doc = json.loads(run("compare", EXAMPLES / "gb200-nvl72.yaml", EXAMPLES / "gb300-nvl72.yaml", "--json").stdout)
    assert len(doc["after"]["lineage"]) == 2
    fields = {c["path"]: c for c in doc["fields"]}
    assert fields["slots[compute-upper].part"]["after"] == "nvidia-gb300-compute-tray"
    assert fields["power.redundancy"] == {"path": "power.redundancy", "before": "N+N", "after": "N+1"}
    figures = {c["figure"]: c for c in doc["figures"]}
    hbm = figures["compute.hbm_bytes"]
    assert hbm["relative"] == pytest.approx(279 / 186 - 1)  # usable HBM per GPU (issue 20)
    assert hbm["before"] == 72 * 186e9  # bytes, as evaluate --json gives them: 72 GPUs x 186 GB usable HBM
    assert "compute.accelerators" not in figures  # unchanged figures are not listed


def test_compare_names_figures_as_evaluate_json_does():
    """One name and one unit per quantity: each figure compare lists is a figure of evaluate --json (flattened
    with dots) with the same before and after values."""
    doc = json.loads(run("compare", EXAMPLES / "gb200-nvl72.yaml", EXAMPLES / "gb300-nvl72.yaml", "--json").stdout)
    both = json.loads(run("evaluate", EXAMPLES / "gb200-nvl72.yaml", EXAMPLES / "gb300-nvl72.yaml", "--json").stdout)

    def flat(node, prefix=""):
        if not isinstance(node, dict):
            return {prefix[:-1]: node}
        return {k: v for key, item in node.items() for k, v in flat(item, f"{prefix}{key}.").items()}

    before, after = (flat(d) for d in both["designs"])
    names = [c["figure"] for c in doc["figures"]]
    assert {"sourcing.us_content_share", "compute.hbm_bytes"} <= set(names)
    assert not {"sourcing.domestic_share", "compute.hbm_tb"} & set(names)
    for change in doc["figures"]:
        name = change["figure"]
        assert before[name] == pytest.approx(change["before"], rel=1e-6, abs=1e-6), name
        assert after[name] == pytest.approx(change["after"], rel=1e-6, abs=1e-6), name


def test_elevation_writes_svg_and_a_page_into_a_folder(tmp_path):
    result = run("elevation", EXAMPLES / "gb200-nvl72.yaml", "-o", tmp_path / "rack")
    assert result.exit_code == 0 and "deprecated" not in result.output
    svg = (tmp_path / "rack" / "elevation.svg").read_text()
    assert svg.startswith("<?xml") and "compute-upper: 10 ×" in svg and "#e45756" in svg  # power shelves in red
    page = (tmp_path / "rack" / "report.html").read_text()
    assert "<title>GB200 NVL72: rack elevation" in page and "compute-upper: 10 ×" in page and "<?xml" not in page


def test_elevation_to_a_svg_file_still_works_with_a_deprecation_note(tmp_path):
    result = run("elevation", EXAMPLES / "gb200-nvl72.yaml", "-o", tmp_path / "rack.svg")
    assert result.exit_code == 0 and "deprecated" in result.output
    assert (tmp_path / "rack.svg").read_text().startswith("<?xml") and sorted(tmp_path.iterdir()) == [
        tmp_path / "rack.svg"
    ]


def test_catalog_commands(tmp_path):
    listed = json.loads(run("catalog", "list", "--kind", "accelerator", "--json").stdout)["parts"]
    assert {p["kind"] for p in listed} == {"accelerator"} and len(listed) >= 4
    assert run("catalog", "list", "--kind", "toaster").exit_code == 2
    shown = json.loads(run("catalog", "show", "nvidia-b200-gb200", "--json").stdout)["part"]
    assert shown["specs"]["power"] == "1200 W" and shown["source"]["url"].startswith("https://")
    assert run("catalog", "export-netbox", "nvidia-sn5600", "-o", tmp_path).exit_code == 0
    exported = next(tmp_path.rglob("*.yaml"))
    imported = json.loads(run("catalog", "import-netbox", exported, "--json").stdout)
    assert imported["part"]["specs"]["ports"] == 64 and "price_usd" in imported["missing"]


# --- fuzzing: mutate valid designs at random; the CLI must answer 0, 1 or 2 and never crash -----------

yaml = YAML(typ="safe")
BASES = {name: yaml.load((EXAMPLES / name).read_text()) for name in
         ("gb200-nvl72.yaml", "hgx-h100-air.yaml", "ethernet-800vdc.yaml", "gb300-nvl72.yaml")}

junk = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                 st.text(max_size=12), st.sampled_from(["120 kg", "-3 kW", "45 degC", "W99", "N+7", "nvidia-b200-gb20",
                                                        "1e400 W", "../gb200-nvl72.yaml", "[", "{a: 1}"]),
                 st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


def paths_of(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths_of(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths_of(value, prefix + (i,))


def mutate(doc, path, action, value):
    doc = copy.deepcopy(doc)
    if not path:
        return value if action == "replace" else doc
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if action == "delete":
        del parent[key]
    elif action == "replace":
        parent[key] = value
    elif action == "add" and isinstance(parent, dict):
        parent[f"unknown_{key}"] = value
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_designs_never_crash_the_cli(tmp_path, data):
    name = data.draw(st.sampled_from(sorted(BASES)))
    doc = BASES[name]
    mutated = doc
    for _ in range(data.draw(st.integers(1, 3))):
        paths = list(paths_of(mutated))
        path = data.draw(st.sampled_from(paths))
        mutated = mutate(mutated, path, data.draw(st.sampled_from(["delete", "replace", "add"])), data.draw(junk))
    for file in EXAMPLES.glob("*.yaml"):  # parents for `extends`
        (tmp_path / file.name).write_text(file.read_text())
    target = tmp_path / f"fuzz-{name}"
    with target.open("w") as handle:
        YAML().dump(mutated, handle)
    if data.draw(st.booleans()):  # sometimes corrupt the bytes as well
        text = target.read_text()
        cut = data.draw(st.integers(0, len(text)))
        target.write_text(text[:cut] + data.draw(st.sampled_from(["", ":", "\t", "- [", "'", "\x00"])) + text[cut:])
    for command in (["check", target], ["evaluate", target, "--json"]):
        result = run(*command)
        assert result.exit_code in (0, 1, 2), (command, result.exit_code, result.output)
        assert "Traceback" not in result.output


def test_quiet_and_verbose(tmp_path):
    """--quiet leaves out the notes on files written in every command (one helper); --verbose adds how the result
    was reached on stderr, never on stdout (the JSON stays byte for byte the same); both at once is refused."""
    loud = run("catalog", "export-netbox", "nvidia-sn5600", "-o", tmp_path / "a")
    quiet = run("--quiet", "catalog", "export-netbox", "nvidia-sn5600", "-o", tmp_path / "b")
    assert "wrote" in loud.stdout and quiet.stdout == "" and next((tmp_path / "b").rglob("*.yaml"))
    plain = run("roadmap", "plan", EXAMPLES / "roadmap-10gw.yaml", "--json")
    verbose = run("--verbose", "roadmap", "plan", EXAMPLES / "roadmap-10gw.yaml", "--json")
    assert "solved in" in verbose.stderr and "solved in" not in plain.stderr and verbose.stdout == plain.stdout
    assert run("--quiet", "--verbose", "check", EXAMPLES / "gb200-nvl72.yaml").exit_code == 2


def test_notes_go_to_stderr_under_json(tmp_path):
    result = run("bom", EXAMPLES / "gb200-nvl72.yaml", "-o", tmp_path, "--json")
    assert json.loads(result.stdout)["command"] == "bom" and "wrote" in result.stderr


def test_every_option_of_rackwright_is_in_the_global_options_table():
    """docs/cli.md's table of the options every command takes lists each option ``rackwright --help`` shows."""
    import typer.main

    doc = (EXAMPLES.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    table = doc.split("## Options every command takes", 1)[1].split("\n\n| option | meaning |", 1)[1].split("\n\n")[0]
    names = {f"`{name}`" for param in typer.main.get_command(app).params for name in param.opts}
    assert {"`--verbose`", "`--install-completion`", "`--show-completion`"} <= names
    assert {name for name in names if name not in table} == set()


def test_shell_completion_is_offered():
    assert "--install-completion" in run("--help").stdout


def test_python_m_rackwright_is_named_rackwright():
    """Under ``python -m rackwright`` a usage error names the command as the installed ``rackwright`` does: in the
    JSON document (it read ``-m rackwright compare``) and in the usage line."""
    design = str(EXAMPLES / "gb200-nvl72.yaml")
    for flags in (["--json"], []):
        ran = subprocess.run([sys.executable, "-m", "rackwright", "compare", design, *flags], capture_output=True,
                             text=True, timeout=120)
        assert ran.returncode == 2, ran.stderr
        if flags:
            assert json.loads(ran.stdout)["command"] == "compare"
        else:
            assert "Usage: rackwright compare [OPTIONS] BEFORE AFTER" in ran.stderr

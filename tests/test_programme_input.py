"""Bad programme files: one clear error each (file, line, field path, fix), exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.errors import InputError
from rackwright.programme import load_programme

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "examples" / "programme-small.yaml"


def _broken(tmp_path: Path, edit) -> Path:
    """A copy of the small example (beside the example's design and line files) with one edit."""
    yaml = YAML()
    data = yaml.load(SMALL.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "broken.yaml"
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    return path


def _design_paths_absolute(data):
    for generation in data["generations"]:
        generation["design"] = str(SMALL.parent / generation["design"])
    for factory in data["factories"]:
        factory["line"] = str(SMALL.parent / factory["line"])
    for site in data["sites"]:
        if "plan" in site:
            site["plan"] = str(SMALL.parent / site["plan"])
    data["sourcing"]["scenario"] = str(SMALL.parent / data["sourcing"]["scenario"])


def _set(path: tuple, value):
    def edit(data):
        _design_paths_absolute(data)
        node = data
        for key in path[:-1]:
            node = node[key]
        if value is KeyError:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return edit


CASES = [
    ("no workload", _set(("workload",), KeyError), "workload", "required field is missing"),
    ("a factory builds an unknown generation", _set(("factories", 0, "builds", 1), "e9"), "factories[0].builds[1]",
     "unknown generation 'e9'"),
    ("a dense reference model", _set(("workload", "model"), "llama3-70b"), "workload.model", "dense model"),
    ("an unknown model", _set(("workload", "model"), "gpt-9"), "workload.model", "unknown model"),
    ("a share of zero", _set(("factories", 0, "share"), 0), "factories[0].share", "greater than 0"),
    ("a misspelt site field", _set(("sites", 0, "energy_usd_per_mw"), 55), "sites[0].energy_usd_per_mw",
     "unknown field"),
    ("a bandwidth without a unit", _set(("workload", "storage_bandwidth"), "2"), "workload.storage_bandwidth", ""),
    ("a missing design file", _set(("generations", 1, "design"), "nowhere.yaml"), "generations[1].design",
     "cannot be used"),
    ("a missing line file", _set(("factories", 0, "line"), "nowhere.yaml"), "factories[0].line", "not found"),
    ("a site hosting an unknown generation", _set(("sites", 1, "hosts", 0), "e9"), "sites[1].hosts[0]",
     "unknown generation"),
    ("an order date for an unknown generation", _set(("sourcing", "ordered", "e9"), "2026-01-01"),
     "sourcing.ordered.e9", "unknown generation"),
    ("a missing site file", _set(("sites", 0, "plan"), "nowhere.yaml"), "sites[0].plan", "not found"),
    ("a global batch of zero", _set(("workload", "global_batch"), 0), "workload.global_batch",
     "greater than or equal to 1"),
    ("a factory builds one generation twice", _set(("factories", 0, "builds"), ["gb300", "gb300"]),
     "factories[0].builds[1]", "twice"),
]


@pytest.mark.parametrize("edit, field, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_broken_programme_names_the_field_and_its_line(tmp_path, edit, field, words):
    path = _broken(tmp_path, edit)
    with pytest.raises(InputError) as caught:
        from rackwright.programme import plan_programme

        plan_programme(load_programme(path))
    text = str(caught.value)
    assert str(path) in text and field in text and words in text.lower()
    if field != "workload":  # a missing section has no line of its own
        assert any(p.line for p in caught.value.problems)


def test_the_cli_exits_2_with_the_message(tmp_path):
    path = _broken(tmp_path, _set(("factories", 0, "builds", 1), "e9"))
    result = CliRunner().invoke(app, ["programme", "plan", str(path)])
    assert result.exit_code == 2
    assert "factories[0].builds[1]" in result.output and "Traceback" not in result.output


def test_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(InputError, match="a programme file is a YAML mapping"):
        load_programme(path)

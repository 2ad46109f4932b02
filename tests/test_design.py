"""Design files: extends resolution, keyed-list merging, and clear errors for bad input."""

from pathlib import Path

import pytest

from rackwright.chain import resolve
from rackwright.design import deep_merge, load_design
from rackwright.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_gb300_extends_gb200_and_overrides_a_few_fields():
    gb300 = load_design(EXAMPLES / "gb300-nvl72.yaml")
    assert [Path(p).name for p in gb300.lineage] == ["gb200-nvl72.yaml", "gb300-nvl72.yaml"]
    slots = {s.id: s for s in gb300.design.slots}
    assert slots["compute-upper"].part == "nvidia-gb300-compute-tray"
    assert slots["compute-upper"].count == 10 and slots["compute-upper"].position == 33  # inherited
    assert slots["nvswitch"].part == "nvidia-nvlink5-switch-tray"  # untouched slot kept
    assert gb300.design.power.redundancy == "N+1" and gb300.design.power.busbar == "hpr-50v-busbar"


def test_keyed_merge_replaces_adds_and_removes():
    base = {"slots": [{"id": "a", "part": "p", "count": 1}, {"id": "b", "part": "q"}], "x": {"y": 1, "z": 2}}
    child = {"slots": [{"id": "a", "count": 3}, {"id": "b", "remove": True}, {"id": "c", "part": "r"}], "x": {"z": 5}}
    merged = deep_merge(base, child)
    assert merged["slots"] == [{"id": "a", "part": "p", "count": 3}, {"id": "c", "part": "r"}]
    assert merged["x"] == {"y": 1, "z": 5}
    assert base["slots"][0]["count"] == 1  # inputs untouched


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def child_of_gb200(tmp_path, body: str) -> Path:
    (tmp_path / "gb200-nvl72.yaml").write_text((EXAMPLES / "gb200-nvl72.yaml").read_text())
    return write(tmp_path, "child.yaml", "name: child\ngeneration: x\nextends: gb200-nvl72.yaml\n" + body)


def errors_of(path) -> str:
    with pytest.raises(InputError) as info:
        resolve(load_design(path))
    return str(info.value)


def test_extends_cycle(tmp_path):
    write(tmp_path, "a.yaml", "name: a\ngeneration: a\nextends: b.yaml\n")
    write(tmp_path, "b.yaml", "name: b\ngeneration: b\nextends: a.yaml\n")
    assert "extends cycle" in errors_of(tmp_path / "a.yaml")


def test_missing_parent(tmp_path):
    path = write(tmp_path, "a.yaml", "name: a\ngeneration: a\nextends: nowhere.yaml\n")
    text = errors_of(path)
    assert "parent design 'nowhere.yaml' not found" in text and "extends" in text


def test_yaml_syntax_error_has_line_and_column(tmp_path):
    path = write(tmp_path, "a.yaml", "name: a\nslots: [\n  - id: x\n")
    text = errors_of(path)
    assert "a.yaml:" in text and "YAML syntax error" in text


def test_unknown_field_names_path_and_line(tmp_path):
    path = child_of_gb200(tmp_path, "power:\n  voltage_rail: 12\n")
    text = errors_of(path)
    assert "child.yaml:5:3: power.voltage_rail: unknown field" in text


def test_unknown_part_suggests_a_near_id(tmp_path):
    path = child_of_gb200(tmp_path, "slots:\n  - {id: mgmt, part: nvidia-sn220}\n")
    text = errors_of(path)
    assert "slots[5].part: unknown part 'nvidia-sn220'" in text and "did you mean 'nvidia-sn2201'" in text


def test_wrong_unit_is_explained(tmp_path):
    path = child_of_gb200(tmp_path, 'cooling:\n  coolant_delta_t: "120 kg"\n')
    text = errors_of(path)
    assert "cooling.coolant_delta_t" in text and "not a temperature difference" in text


def test_negative_count(tmp_path):
    path = child_of_gb200(tmp_path, "slots:\n  - {id: mgmt, count: -2}\n")
    assert "slots[5].count" in errors_of(path)


def test_bad_override_path(tmp_path):
    path = child_of_gb200(tmp_path, 'overrides:\n  parts.accelerator.wattage: "1 kW"\n')
    text = errors_of(path)
    assert "overrides.parts.accelerator.wattage" in text and "unknown spec" in text


def test_unreadable_file(tmp_path):
    assert "is a directory" in errors_of(tmp_path)
    assert "file not found" in errors_of(tmp_path / "missing.yaml")


def test_link_routed_to_a_missing_slot(tmp_path):
    path = child_of_gb200(tmp_path, "network:\n  links:\n    - {id: mgmt-cabling, to_slot: nowhere}\n")
    assert "network.links[1].to_slot: no slot 'nowhere' to route to" in errors_of(path)


def test_lines_point_into_the_child_file_by_item_id(tmp_path):
    # The merged list puts inherited slots first; the error must still point at the child's own line.
    path = child_of_gb200(tmp_path, "slots:\n  - {id: compute-upper, count: 9}\n  - {id: mgmt, count: -2}\n")
    assert "child.yaml:6:16: slots[5].count" in errors_of(path)


def test_override_selector_must_be_in_the_design(tmp_path):
    path = child_of_gb200(tmp_path, 'overrides:\n  parts.server.power: "1 kW"\n')
    text = errors_of_evaluate(path)
    assert "child.yaml:5:3: overrides.parts.server.power" in text and "no part of kind or id 'server'" in text


def errors_of_evaluate(path) -> str:
    import rackwright

    with pytest.raises(InputError) as info:
        rackwright.evaluate(path)
    return str(info.value)

"""Design files: extends resolution, keyed-list merging, and clear errors for bad input."""

from pathlib import Path

import pytest

import rackwright
from rackwright.errors import InputError
from rackwright.rack.design import deep_merge, load_design

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
    """The message of the input error that evaluating ``path`` raises."""
    with pytest.raises(InputError) as info:
        rackwright.evaluate(path)
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


#: Child designs of GB200 that are wrong, and fragments their one error message must contain.
BAD_CHILDREN = {
    "unknown field": ("power:\n  voltage_rail: 12\n", ["child.yaml:5:3: power.voltage_rail: unknown field"]),
    "unknown part": ("slots:\n  - {id: mgmt, part: nvidia-sn220}\n",
                     ["slots[5].part: unknown part 'nvidia-sn220'", "did you mean 'nvidia-sn2201'"]),
    "wrong unit": ('cooling:\n  coolant_delta_t: "120 kg"\n', ["cooling.coolant_delta_t", "not a temperature difference"]),
    "negative count": ("slots:\n  - {id: mgmt, count: -2}\n", ["slots[5].count"]),
    "unknown override spec": ('overrides:\n  parts.accelerator.wattage: "1 kW"\n',
                              ["overrides.parts.accelerator.wattage", "unknown spec"]),
    "override selector not in design": ('overrides:\n  parts.server.power: "1 kW"\n',
                                        ["child.yaml:5:3: overrides.parts.server.power", "no part of kind or id 'server'"]),
    "link to a missing slot": ("network:\n  links:\n    - {id: mgmt-cabling, to_slot: nowhere}\n",
                               ["network.links[1].to_slot: no slot 'nowhere' to route to"]),
    # The merged list puts inherited slots first; the line must still be the child's own.
    "line by item id": ("slots:\n  - {id: compute-upper, count: 9}\n  - {id: mgmt, count: -2}\n",
                        ["child.yaml:6:16: slots[5].count"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CHILDREN))
def test_bad_child_designs_are_explained(tmp_path, case):
    body, fragments = BAD_CHILDREN[case]
    text = errors_of(child_of_gb200(tmp_path, body))
    for fragment in fragments:
        assert fragment in text


def test_unreadable_file(tmp_path):
    assert "is a directory" in errors_of(tmp_path)
    assert "file not found" in errors_of(tmp_path / "missing.yaml")


def test_part_ids_name_every_part_the_design_uses():
    """GB200 NVL72 example: the enclosure, busbar, in-row CDU and manifold besides the slot and link parts."""
    design = load_design(EXAMPLES / "gb200-nvl72.yaml").design
    ids = design.part_ids()
    assert {"nvidia-mgx-rack-48u", "hpr-50v-busbar", "vertiv-coolchip-cdu-1350", "nvl72-rack-manifold"} <= ids
    assert {slot.part for slot in design.slots} <= ids and {link.part for link in design.network.links} <= ids

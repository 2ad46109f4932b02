"""Issue 17: hypothesis fuzz of every input file kind but designs (those are fuzzed in tests/test_validity.py).

Each example file of a kind is mutated once per case (a sign flip, NaN or infinity, zero, a huge magnitude, a
wrong type, a deleted key or item, a duplicated list item) and read the way its command reads it:

- sourcing scenarios through ``rackwright sourcing whatif`` (the whole command: it takes a few milliseconds);
- site, roadmap, space and factory line files through their loaders, the validation step of ``site plan``,
  ``roadmap plan``, ``explore`` and ``factory capacity`` (each command plans for seconds to minutes after it),
  an :class:`InputError` standing for the commands' exit 2.

No mutation may end in anything but exit 0, 1 or 2 (no traceback), and a mutation outside a value's domain
(NaN, infinity, a positive number made negative) never in exit 0.
"""

import copy
import math
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from rackwright.errors import InputError
from rackwright.explore.space import load_space
from rackwright.factory.line import load_line
from rackwright.roadmap.schema import load_roadmap
from rackwright.site.schema import load_site
from test_cli import mutate, run

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # a numpy warning fails the test

#: Keys whose numbers may be negative (a change, a shift): a sign flip there is not outside the domain.
SIGNED = {"lead_time_change_weeks", "price_change"}
#: Examples per file kind (the whole file runs in well under a minute on two cores).
EXAMPLES_PER_KIND = 20


def _loader(load):
    def read(path: Path) -> int:
        try:
            load(path)
        except InputError:
            return 2
        return 0

    return read


def _whatif(path: Path) -> int:
    return run("sourcing", "whatif", path.parent / "gb200-nvl72.yaml", path).exit_code


KINDS = {  # kind: (example file, how its command reads it)
    "site": ("site-100mw.yaml", _loader(load_site)),
    "roadmap": ("roadmap-10gw.yaml", _loader(load_roadmap)),
    "space": ("space-gb300-small.yaml", _loader(load_space)),
    "line": ("line-us.yaml", _loader(load_line)),
    "sourcing scenario": ("sourcing-us-power-cabling.yaml", _whatif),
}


def _leaves(node, path=()):
    """Every (path, value) below ``node``: mappings and lists too, so that they can be deleted or duplicated."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield path + (key,), value
        yield from _leaves(value, path + (key,))


def _outside(value, new, key) -> bool:
    """The mutation left the domain of the value whatever the field: NaN or infinity for a number, or a
    positive number made negative where the key is not a signed change."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    return not math.isfinite(new) or (value > 0 and new == -value and key not in SIGNED)


MUTATIONS = {
    "sign": lambda v: -v if isinstance(v, (int, float)) and not isinstance(v, bool) else f"-{v}",
    "nan": lambda v: math.nan,
    "inf": lambda v: math.inf,
    "zero": lambda v: 0,
    "huge": lambda v: 1e300,
    "string": lambda v: "abc",
    "list": lambda v: [v],
    "mapping": lambda v: {"x": v},
}


def _mutate(doc, data) -> tuple[object, bool]:
    """A copy of ``doc`` with one mutation drawn by hypothesis, and whether it left the value's domain."""
    how = data.draw(st.sampled_from([*MUTATIONS, "delete", "duplicate"]))
    leaves = list(_leaves(doc))
    numbers = [(p, v) for p, v in leaves if isinstance(v, (int, float)) and not isinstance(v, bool)]
    path, value = data.draw(st.sampled_from(numbers if how in ("sign", "nan", "inf") and numbers else leaves))
    if how == "delete":
        return mutate(doc, path, "delete", None), False
    if how == "duplicate":
        if not isinstance(value, list) or not value:
            return doc, False
        return mutate(doc, path, "replace", [*value, copy.deepcopy(data.draw(st.sampled_from(value)))]), False
    new = MUTATIONS[how](value)
    return mutate(doc, path, "replace", new), isinstance(new, float) and _outside(value, new, path[-1])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A copy of examples/, so that a mutated file finds the designs it names by relative path."""
    target = tmp_path_factory.mktemp("fuzz") / "examples"
    shutil.copytree(EXAMPLES, target)
    return target


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=EXAMPLES_PER_KIND, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_files_exit_cleanly(folder, kind, data):
    name, read = KINDS[kind]
    yaml = YAML(typ="safe", pure=True)
    doc, outside = _mutate(yaml.load(EXAMPLES / name), data)
    path = folder / f"fuzz-{name}"
    with path.open("w") as stream:
        yaml.dump(doc, stream)
    code = read(path)  # a traceback fails the test here
    assert code in (0, 1, 2)
    assert not (outside and code == 0), f"{kind}: a value outside its domain was accepted"

"""rackwright.rack.sourcing.sweep, called from Python: a field path it cannot read is a ValueError naming the path."""

import re
from pathlib import Path

import pytest

import rackwright
from rackwright.rack.chain import resolve
from rackwright.rack.sourcing import load_scenario, sweep

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", ["substitutions.0.price_change", "nonsense", "substitutions[99].price_change"])
def test_sweep_refuses_a_path_it_cannot_read(path):
    model = resolve(rackwright.load_design(ROOT / "examples" / "gb200-nvl72.yaml"))
    scenario = load_scenario(ROOT / "examples" / "sourcing-us-power-cabling.yaml")
    with pytest.raises(ValueError, match=re.escape(f"the scenario has no field {path!r}")):
        sweep(model, scenario, path, [0.0, 0.1])

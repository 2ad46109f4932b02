"""Unit parsing at the edges: datasheet spellings, bits vs bytes, clear errors."""

import numpy as np
import pytest

from rackwright.units import UnitError, from_si, parse_quantity


@pytest.mark.parametrize("text, dimension, expected", [
    ("1.2 kW", "power", 1200.0),
    ("800 Gb/s", "data_rate", 100e9),  # 800 gigabit per second = 100 GB/s
    ("800 Gbps", "data_rate", 100e9),
    ("1.8 TB/s", "data_rate", 1.8e12),
    ("192 GB", "data", 192e9),
    ("1 U", "length", 0.04445),  # EIA-310
    ("2 OU", "length", 0.096),  # ORv3: 48 mm
    ("45 degC", "temperature", 318.15),
    ("45 °C", "temperature", 318.15),
    ("10 K", "temperature_difference", 10.0),
    ("150 L/min", "volume_flow", 0.0025),
    ("3000 cfm", "volume_flow", 3000 * 0.3048**3 / 60),
    ("2.5 PFLOP/s", "compute_rate", 2.5e15),
    ("20 PFLOPS", "compute_rate", 20e15),
    ("3.5 kWh", "energy", 3.5 * 3.6e6),
    ("3,000 lb", "mass", 3000 * 0.45359237),  # thousands separators are read
])
def test_parse(text, dimension, expected):
    if expected is None:
        with pytest.raises(UnitError):
            parse_quantity(text, dimension)
    else:
        assert parse_quantity(text, dimension) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("text, dimension", [
    ("120 kg", "power"),  # wrong dimension
    ("1.2 GHz", "data_rate"),  # a frequency is not a data rate
    ("1200", "power"),  # no unit
    (1200, "power"),
    ("twelve watts", "power"),
    ({"value": 12}, "power"),  # unhashable input must not escape as a TypeError
])
def test_bad_quantities_name_the_dimension(text, dimension):
    with pytest.raises(UnitError) as info:
        parse_quantity(text, dimension)
    assert "e.g." in str(info.value)


def test_from_si_is_offset_aware_and_vectorised():
    assert from_si(318.15, "degC", "temperature") == pytest.approx(45.0)
    assert np.allclose(from_si(np.array([1e3, 132e3]), "kW", "power"), [1.0, 132.0])
    assert from_si(100e9, "Gb/s", "data_rate") == pytest.approx(800.0)

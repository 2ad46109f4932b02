"""The catalog's InfiniBand scale-out switches (issue 18): their figures against NVIDIA's documents, and the SHARP a
rack design takes from them on its scale-out level in ``perf train``, by hand."""

import json

import pytest

from rackwright.catalog.loader import load_catalog
from rackwright.perf.api import resolve_system
from rackwright.perf.efficiency import profile
from rackwright.perf.training import _collective
from test_cli import run

HGX = "examples/hgx-h100-air.yaml"  # four DGX H100 (8 x 400G ConnectX-7 each), no scale-out switch
U = 0.04445  # one EIA-310 rack unit [m]


def test_parts_match_nvidia_figures():
    catalog = load_catalog()
    qm9700, q3400 = catalog.get("nvidia-quantum-2-qm9700"), catalog.get("nvidia-quantum-x800-q3400")
    # QM97XX user manual and NVIDIA's mlx-platform commit: 64 x 400 Gb/s NDR on 32 twin-port OSFP cages, 1U;
    # 51.2 Tb/s both ways = 25.6 Tb/s = 3.2e12 B/s a direction; SHARPv3 (SHARP 3.13 release notes).
    assert (qm9700.kind, qm9700.value("ports"), qm9700.text("connector")) == ("scale_out_switch", 64, "osfp")
    assert qm9700.value("port_speed") == pytest.approx(400e9 / 8)
    assert qm9700.value("switching_capacity") == pytest.approx(3.2e12)
    assert qm9700.value("height") == pytest.approx(1 * U)
    # Quantum-X800 Q3400-RA: 144 x 800 Gb/s XDR = 115.2 Tb/s = 14.4e12 B/s a direction, 4U, fan-cooled; SHARPv4.
    assert (q3400.kind, q3400.value("ports"), q3400.value("liquid_fraction")) == ("scale_out_switch", 144, 0)
    assert q3400.value("port_speed") == pytest.approx(800e9 / 8)
    assert q3400.value("switching_capacity") == pytest.approx(14.4e12)
    assert q3400.value("height") == pytest.approx(4 * U)
    for part in (qm9700, q3400):
        assert part.text("in_network_reduction") == "infiniband-sharp"


def _design(tmp_path, *slots):
    """The HGX H100 example with ``slots`` (YAML flow mappings) added above its DGX systems (units 3-34)."""
    text = open(HGX).read()
    anchor = "  - {id: rear-door, part: motivair-chilleddoor-rdhx, count: 1}\n"
    assert anchor in text
    path = tmp_path / f"design-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(text.replace(anchor, anchor + "".join(f"  - {slot}\n" for slot in slots)))
    return path


QM9700 = "{id: leaf, part: nvidia-quantum-2-qm9700, count: 1, position: 38}"
Q3400 = "{id: leaf, part: nvidia-quantum-x800-q3400, count: 1, position: 36}"
SN5600 = "{id: eth-leaf, part: nvidia-sn5600, count: 1, position: 40}"


def test_perf_train_takes_scale_out_sharp_from_the_switch(tmp_path):
    # Scale-up stays NVLink SHARP (the DGX H100's third-generation NVSwitches); scale-out reduces in the switch only
    # where every scale-out switch of the rack is InfiniBand: none, an Ethernet one, or the two mixed, do not.
    cases = {
        (QM9700,): True,
        (Q3400,): True,
        (): False,
        (SN5600,): False,
        (QM9700, SN5600): False,
    }
    args = ["--model", "llama3-8b", "--global-batch", "64", "--accelerators", "32", "--tp", "8", "--json"]
    for slots, scale_out in cases.items():
        result = run("perf", "train", "--system", _design(tmp_path, *slots), *args)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["in_network_reduction"] == {"scale_up": True, "scale_out": scale_out}, slots


def test_dp_all_reduce_across_the_servers_by_hand(tmp_path):
    # DP 4 at stride 8 (TP 8): one member in each DGX H100's 8-GPU NVLink domain, so the all-reduce of S = 1 GB runs
    # over scale-out alone. Each GPU has its own 400 Gb/s ConnectX-7 = 50 GB/s a direction; the h100 profile's rings
    # reach 0.85 of it (42.5 GB/s), α 10 µs.
    #   ring: 2 · 3 · (1e9 / (4 · 42.5e9) + 10 µs) = 6 · 5.892353 ms = 35.354118 ms;
    #   SHARP in the QM9700: 1e9 / 42.5e9 + 10 µs = 23.529412 ms + 0.01 ms = 23.539412 ms.
    system = resolve_system(str(_design(tmp_path, QM9700)))
    eff = profile("h100")
    assert (system.scale_out.bandwidth, eff.scale_out_link, system.latency.scale_out) == (50e9, 0.85, 10e-6)
    assert float(_collective(8, 4, 1e9, system, eff, passes=2)) == pytest.approx(23.539412e-3, rel=1e-7)
    ring = system.with_in_network_reduction(scale_up=True, scale_out=False)
    assert float(_collective(8, 4, 1e9, ring, eff, passes=2)) == pytest.approx(35.354118e-3, rel=1e-7)

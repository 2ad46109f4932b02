"""Catalog figures corrected in issue 20, each against the value its primary source publishes.

The expected numbers below are the published figures (with the arithmetic that turns a rack or shelf figure
into the catalog's per-part figure), never the catalog's own output; tolerances are the source's precision.
"""

from pathlib import Path

import pytest

import rackwright
from rackwright.catalog import load_catalog
from rackwright.models.power import ride_through_time
from rackwright.yamlio import read_yaml, to_plain

ROOT = Path(__file__).resolve().parents[1]
CATALOG = load_catalog()


def test_gb200_fp64_is_nvidias_current_table():
    # NVIDIA GB200 NVL72 specifications (current edition): FP64 / FP64 Tensor Core 2,880 TF per 72-GPU rack.
    gpu = CATALOG.get("nvidia-b200-gb200")
    assert gpu.peak_flops["fp64_dense"] == pytest.approx(2880e12 / 72)  # 40 TF, not the launch table's 45 TF


def test_gb200_hbm_is_the_usable_186_gb():
    # NVIDIA: up to 13.4 TB HBM3e per rack = 186 GB usable per GPU (192 GB nominal); MLCommons system
    # descriptions list the GB200 as GB200-186GB.
    gpu = CATALOG.get("nvidia-b200-gb200")
    assert gpu.value("hbm") == pytest.approx(186e9)
    assert 72 * gpu.value("hbm") == pytest.approx(13.4e12, rel=0.005)


def test_hbm_is_usable_capacity_throughout():
    # One convention (usable): HGX B200 is NVIDIA's 1,440 GB per 8 GPUs; GB300 is below its 288 GB nominal by
    # the same usable share as GB200 (186 of 192 GB).
    assert CATALOG.get("nvidia-b200-hgx").value("hbm") == pytest.approx(1440e9 / 8)
    gb300 = CATALOG.get("nvidia-b300-gb300").value("hbm")
    assert gb300 < 288e9
    assert gb300 == pytest.approx(288e9 * 186 / 192, rel=0.005)


@pytest.mark.parametrize("part_id, rating_w", [("orv3-bbu-shelf", 18e3), ("orv3-hpr-bbu-shelf", 33e3)])
def test_bbu_shelves_ride_through_90_s_at_full_rated_power(part_id, rating_w):
    # Meta/Rittal "ORv3 High Power Rack (HPR) Ecosystem Solution" (OCP): BBU shelf 18 kW (6 x 3 kW, 90 s) and
    # HPR BBU shelf 33 kW (6 x 5.5 kW, 90 s). 240 s was an upper bound in a transfer timing diagram.
    bbu = CATALOG.get(part_id)
    assert bbu.value("capacity") == pytest.approx(rating_w)
    seconds = ride_through_time(bbu.value("energy"), bbu.value("efficiency"), rating_w)
    assert seconds == pytest.approx(90.0, rel=0.01)
    delivered_kwh = seconds * rating_w / 3.6e6
    assert delivered_kwh == pytest.approx(rating_w * 90 / 3.6e6, rel=0.01)  # ~0.45 and ~0.83 kWh


def test_catalina_ride_through_follows_the_90_s_rating():
    # Two 33 kW HPR BBU shelves rated 90 s at 33 kW: 2 x 33 kW x 90 s of delivered energy over the rack's IT load.
    r = rackwright.evaluate(ROOT / "examples" / "meta-catalina.yaml")
    expected = 2 * 33e3 * 90 / (r["power.it_load_kw"] * 1e3)
    assert r["power.bbu_ride_through_s"] == pytest.approx(expected, rel=0.01)
    assert r["power.bbu_ride_through_s"] < 120  # was ~239 s on the 240 s upper bound


def test_sn5600_weight_is_the_datasheet_23_5_kg():
    # NVIDIA Spectrum-4 SN5000 2U hardware user manual, specifications: SN5600 23.5 kg.
    sn5600 = CATALOG.get("nvidia-sn5600")
    assert sn5600.value("weight") == pytest.approx(23.5)
    assert "weight" not in sn5600.assumptions


def test_hpr_busbar_rating_is_the_155_kw_roofline_at_50_v():
    # Meta "ORv3 HPR Next" (OCP): the existing HPR busbar has a 155 kW power roofline. No product datasheet
    # gives a current, so the rating is an assumption derived from it, with the reasoning written out.
    bar = CATALOG.get("hpr-50v-busbar")
    assert bar.value("current_rating") * bar.value("output_voltage") == pytest.approx(155e3, rel=0.01)
    reason = bar.assumptions["current_rating"]
    assert "155 kW" in reason and "1,400" in reason


def test_weak_citations_are_gone():
    # introl.com (plain errors) and the Network World mirror are no longer cited by any part or rack figure.
    banned = ("introl.com", "wucizu.info", "zdszero.github.io")
    for part in CATALOG:
        for source in [part.source, *part.field_sources.values()]:
            assert not any(b in source.url for b in banned), part.id
    for path in sorted((ROOT / "validation" / "racks").glob("*.yaml")):
        for row in to_plain(read_yaml(path)).get("figures", []):
            assert not any(b in row["source"]["url"] for b in banned), (path.name, row["figure"])


def test_gb200_fp64_validation_row_is_back_at_the_vendor_tolerance():
    rows = to_plain(read_yaml(ROOT / "validation" / "racks" / "gb200-nvl72.yaml"))["figures"]
    fp64 = next(r for r in rows if r["figure"] == "compute.peak_pflops.fp64_dense")
    assert fp64["value"] == pytest.approx(2.88) and fp64["tolerance"] == 0.05 and fp64["kind"] == "vendor"
    assert fp64["source"]["url"].startswith("https://www.nvidia.com/")


def test_catalog_list_filters_by_source_quality():
    import json

    from typer.testing import CliRunner

    from rackwright.cli.app import app

    runner = CliRunner()
    result = runner.invoke(app, ["catalog", "list", "--source-quality", "secondary", "--json"])
    assert result.exit_code == 0, result.output
    ids = {p["id"] for p in json.loads(result.stdout)["parts"]}
    expected = {p.id for p in CATALOG if p.fields_with_quality("secondary")}
    assert ids == expected and "nvidia-b300-gb300" in ids and "nvidia-sn5600" not in ids
    table = runner.invoke(app, ["catalog", "list", "--source-quality", "estimate"])
    assert table.exit_code == 0 and "lab-xpu-e1" in table.stdout and "field" in table.stdout
    bad = runner.invoke(app, ["catalog", "list", "--source-quality", "blog"])
    assert bad.exit_code == 2 and "primary, secondary, estimate" in bad.output
    show = runner.invoke(app, ["catalog", "show", "nvidia-sn5600"])
    assert show.exit_code == 0 and "source_quality: primary" in show.stdout


# ---------------------------------------------------------------- the next generations (issue 20, started)


def test_rubin_gpu_power_and_hbm_are_nvidias_mlperf_system_description():
    # NVIDIA's MLPerf Inference v6.1 system description of the Vera Rubin NVL72: 288 GB HBM4, 2300 W TGP per GPU.
    gpu = CATALOG.get("nvidia-rubin-vr200")
    assert gpu.value("power") == pytest.approx(2300) and gpu.value("hbm") == pytest.approx(288e9)
    assert gpu.source.source_quality == "primary" and "mlcommons" in gpu.source.url
    # What only an announcement gives is labelled so, field by field.
    for field in ("hbm_bandwidth", "peak_flops", "scale_up_bandwidth"):
        assert gpu.assumptions[field].startswith("Announcement only"), field
    assert 72 * gpu.value("scale_up_bandwidth") == pytest.approx(260e12, rel=0.01)  # NVIDIA: 260 TB/s per rack


def test_tomahawk_6_is_broadcoms_102_4_tbps_in_512_lanes_of_200g():
    # Broadcom, 'Broadcom Ships Tomahawk 6' (2025-06-03): 102.4 Tb/s, 512 x 200G PAM4 SerDes.
    th6 = CATALOG.get("broadcom-tomahawk-6")
    assert th6.value("switching_capacity") == pytest.approx(102.4e12 / 8)  # bytes per second
    assert th6.value("ports") == 512 and th6.value("port_speed") == pytest.approx(200e9 / 8)
    assert th6.source.source_quality == "primary" and "broadcom.com" in th6.source.url


def test_1_6t_dr8_is_ieee_802_3dj_1_6tbase_dr8():
    # IEEE P802.3dj 1.6TBASE-DR8: 8 x 200 Gb/s over 8 pairs of single-mode fibre, 500 m. Module power is not
    # in the standard: a secondary figure and an assumption.
    dr8 = CATALOG.get("generic-osfp-1.6t-dr8")
    assert dr8.value("speed") == pytest.approx(1.6e12 / 8) and dr8.value("lanes") == 8
    assert dr8.value("reach") == pytest.approx(500)
    assert dr8.source.source_quality == "primary" and "802.3dj" in dr8.source.url
    assert dr8.fields_with_quality("secondary") == ["power"] and "power" in dr8.assumptions


def test_vera_cpu_cores_are_nvidias_tuning_guide():
    # NVIDIA Vera Performance Tuning Guide: 88 cores per socket, 2 hardware threads per core.
    vera = CATALOG.get("nvidia-vera")
    assert vera.value("cores") == 88 and vera.source.source_quality == "primary"
    # MLPerf v6.1 Vera Rubin NVL72: 2.2 TB LPDDR5x per node of 2 Vera CPUs.
    assert 2 * vera.value("memory") == pytest.approx(2.2e12)
    assert "power" in vera.assumptions  # no published figure


# ---------------------------------------------------------------- the next generations (issue 20, continued)


def test_vera_rubin_tray_is_nvidias_mlperf_node():
    # NVIDIA's MLPerf Inference v6.1 description of the Vera Rubin NVL72: each node holds 4 GPUs and 2 Vera
    # CPUs with 2.2 TB LPDDR5X, 18 nodes per rack.
    tray = CATALOG.get("nvidia-vr200-compute-tray")
    counts = {c.part: c.count for c in tray.contains}
    assert counts["nvidia-rubin-vr200"] == 4 and counts["nvidia-vera"] == 2
    assert tray.source.source_quality == "primary" and "mlcommons" in tray.source.url
    r = rackwright.evaluate(ROOT / "examples" / "vera-rubin-nvl144.yaml").figures
    assert r["compute.accelerators"] == 18 * 4 and r["compute.cpus"] == 18 * 2
    assert r["compute.hbm"] == pytest.approx(72 * 288e9)  # 20.7 TB: 72 x 288 GB HBM4


def test_nvlink6_switch_trays_carry_nvidias_260_tb_per_s_rack_figure():
    # NVIDIA (CES 2026, an announcement): NVLink 6 gives 3.6 TB/s per GPU, 260 TB/s per 72-GPU rack. The
    # switch trays must carry every GPU link: 9 trays x 144 ports x 100 GB/s x 2 directions.
    tray = CATALOG.get("nvidia-nvlink6-switch-tray")
    per_direction = 9 * tray.value("ports") * tray.value("port_speed")
    assert 2 * per_direction == pytest.approx(260e12, rel=0.01)
    gpu = CATALOG.get("nvidia-rubin-vr200")
    assert 72 * gpu.value("scale_up_links") == 9 * tray.value("ports")
    # the Oberon spine's 5,184 cables = 72 GPUs x 18 links x 2 lanes x 2 directions
    assert 72 * gpu.value("scale_up_links") * 2 * 2 == 5184
    for part, field in [
        (tray, "port_speed"),
        (CATALOG.get("nvidia-nvlink6-switch"), "port_speed"),
        (gpu, "scale_up_links"),
    ]:
        assert part.assumptions[field].startswith("Announcement only"), (part.id, field)


def test_connectx_9_line_rate_is_labelled_an_announcement():
    # No NVIDIA document retrieved states ConnectX-9's line rate; NVIDIA's roadmap shows 1,600G per GPU.
    nic = CATALOG.get("nvidia-connectx-9-1.6t")
    assert nic.value("port_speed") == pytest.approx(1.6e12 / 8)
    assert nic.assumptions["port_speed"].startswith("Announcement only")
    assert nic.fields_with_quality("secondary") == ["port_speed"]
    assert nic.source.source_quality == "primary" and nic.source.url.startswith("https://docs.nvidia.com/")


def test_tomahawk_6_davisson_is_broadcoms_102_4_tbps_cpo_at_200g_per_channel():
    # Broadcom, 'Broadcom Ships Tomahawk 6 - Davisson' (2025-10): 102.4 Tb/s of optically enabled switching,
    # 200 Gb/s per channel, co-packaged optics. Read through a copy of the release, which the title says.
    cpo = CATALOG.get("broadcom-tomahawk-6-davisson")
    assert cpo.value("switching_capacity") == pytest.approx(102.4e12 / 8)
    assert cpo.value("port_speed") == pytest.approx(200e9 / 8)
    assert cpo.value("ports") * cpo.value("port_speed") == pytest.approx(102.4e12 / 8)
    assert cpo.specs["connector"] == "cpo"
    assert cpo.source.source_quality == "primary" and "copy" in cpo.source.title
    assert "power" in cpo.assumptions  # no published power


@pytest.mark.parametrize(
    "part_id, speed_bps, lanes, reach_m",
    [
        ("generic-osfp-1.6t-2xfr4", 2 * 800e9, 8, 2000),  # 2 x 800GBASE-FR4: 4 x 200G wavelengths, 2 km
        ("generic-osfp-1.6t-cr8-dac-1m", 1.6e12, 8, 1.0),  # 1.6TBASE-CR8: 8 x 200G twinax, at least 1 m
    ],
)
def test_1_6t_optics_and_copper_are_ieee_802_3dj(part_id, speed_bps, lanes, reach_m):
    part = CATALOG.get(part_id)
    assert part.value("speed") == pytest.approx(speed_bps / 8) and part.value("lanes") == lanes
    assert part.value("reach") == pytest.approx(reach_m)
    assert part.source.source_quality == "primary" and "802.3dj" in part.source.url


def test_1_6t_lpo_is_labelled_an_announcement():
    # No 200G-per-lane linear pluggable optic has a datasheet or MSA text here: power and reach are stated
    # as announcement-stage assumptions over the 1.6TBASE-DR8 PMD.
    lpo = CATALOG.get("generic-osfp-1.6t-dr8-lpo")
    for field in ("power", "reach"):
        assert lpo.assumptions[field].startswith("Announcement only"), field
    assert lpo.value("power") < CATALOG.get("generic-osfp-1.6t-dr8").value("power")


def test_kyber_rack_is_nvidias_announced_four_pods_of_18_blades():
    # GTC 2025 (Tom's Hardware, secondary): four pods of 18 blades, up to 8 Rubin Ultra dies per blade, 4 dies per
    # package -> 144 packages, 'NVL576'; NVLink switches in the rack behind a midplane; 800 VDC; up to 600 kW.
    r = rackwright.evaluate(ROOT / "examples" / "kyber-nvl576.yaml")
    assert r.figures["compute.accelerators"] * 4 == 4 * 18 * 8 == 576
    assert r.figures["power.busbar_current"] == pytest.approx(r.figures["power.input"] / 800, rel=0.01)
    # every Kyber part rests on announcements or assumptions, and says so: nothing claims a primary figure
    for part_id in (
        "nvidia-rubin-ultra",
        "nvidia-kyber-compute-blade",
        "nvidia-kyber-nvlink-switch-blade",
        "nvidia-kyber-midplane",
        "nvidia-kyber-rack",
        "nvidia-kyber-rack-manifold",
    ):
        part = CATALOG.get(part_id)
        assert part.source.source_quality == "secondary", part_id
    gpu = CATALOG.get("nvidia-rubin-ultra")
    for field in ("power", "hbm", "peak_flops", "scale_up_bandwidth"):
        assert gpu.assumptions[field].startswith("Announcement only"), field
    # the finding the design states in its header: it passes on the 8,000 kg/m2 slab it assumes, while the
    # 2,500 kg/m2 slab of the other examples does not carry ~5.1 t on 0.72 m2 (~7,100 kg/m2)
    assert not r.violations
    assert 7_000 < r.figures["mechanical.floor_load"] < 8_000


def test_jericho_4_is_broadcoms_announced_51_2_tbps_with_3_2t_hyperports():
    # Broadcom's Jericho4 announcement (2025-08, known here through the press: a secondary source, labelled so):
    # 51.2 Tb/s, 200G PAM4 SerDes, 3.2 Tb/s HyperPorts of four 800GE links.
    j4 = CATALOG.get("broadcom-jericho-4")
    assert j4.value("switching_capacity") == pytest.approx(51.2e12 / 8)
    assert j4.value("lanes") * 200e9 / 8 == pytest.approx(j4.value("switching_capacity"))
    assert j4.value("ports") * j4.value("port_speed") == pytest.approx(51.2e12 / 8)
    assert 4 * j4.value("port_speed") == pytest.approx(3.2e12 / 8)  # one HyperPort
    assert j4.source.source_quality == "secondary" and "power" in j4.assumptions


def test_bluefield_4_front_end_is_the_ras_two_400g_ports_per_node():
    # NVIDIA Vera Rubin NVL72 AI Factory RA (network logical architecture): the converged (N/S) network connects
    # each node with two 400 Gb/s ports to two switches; NVIDIA's MLPerf v6.1 description lists BlueField-4 per
    # node. The DPU became its own part out of the tray's own power: 700 W before = 550 W own + 150 W DPU.
    bf4 = CATALOG.get("nvidia-bluefield-4")
    assert bf4.source.source_quality == "primary" and bf4.kind == "dpu"
    assert bf4.value("ports") * bf4.value("port_speed") == pytest.approx(2 * 400e9 / 8)
    tray = CATALOG.get("nvidia-vr200-compute-tray")
    assert {c.part: c.count for c in tray.contains}["nvidia-bluefield-4"] == 1
    assert tray.value("power") + bf4.value("power") == pytest.approx(700)
    r = rackwright.evaluate(ROOT / "examples" / "vera-rubin-nvl144.yaml")
    assert r.figures["network.front_end_ports"] == 18 * 2


def test_hpr_v4_power_rack_is_metas_800_kw_plus_minus_400_v():
    # Meta, ORv3 HPR 'Next' OCP deck: HPR V4 (plan of record) +/-400 Vdc side power rack, up to 800 kW per rack.
    rack = CATALOG.get("meta-orv3-hpr-v4-power-rack")
    assert rack.source.source_quality == "primary" and rack.kind == "power_sidecar"
    assert rack.value("capacity") == pytest.approx(800e3)
    assert rack.value("output_voltage") == pytest.approx(2 * 400)


def test_800_vdc_power_rack_and_vera_rubin_shelf_rest_on_reports_and_say_so():
    # Delta's 800 V power rack: 1.5 MW (TrendForce seminar, 2025-11, through the press); Flex's Vera Rubin
    # shelf: 110 kW in 3RU, four per rack = 440 kW (Computex 2026, through a secondary account).
    delta = CATALOG.get("delta-800vdc-power-rack-1.5mw")
    assert delta.value("capacity") == pytest.approx(1.5e6) and delta.source.source_quality == "secondary"
    shelf = CATALOG.get("flex-vr-110kw-power-shelf")
    assert 4 * shelf.value("capacity") == pytest.approx(440e3) and shelf.source.source_quality == "secondary"
    # the Kyber example's power rack carries two ~620 kW racks, as its header states
    kyber = rackwright.evaluate(ROOT / "examples" / "kyber-nvl576.yaml")
    assert 2 * kyber.figures["power.input"] <= delta.value("capacity") < 3 * kyber.figures["power.input"]


def test_rubin_cpx_is_the_announced_30_pf_128_gb_part_of_an_8_ef_rack():
    # NVIDIA's Rubin CPX announcement (2025-09, through the press): 30 PF NVFP4 and 128 GB GDDR7 per CPX; the
    # Vera Rubin NVL144 CPX rack: 144 CPX + 72 Rubin packages (50 PF NVFP4 inference each), 8 EF NVFP4.
    cpx = CATALOG.get("nvidia-rubin-cpx")
    assert cpx.source.source_quality == "secondary"
    assert cpx.peak_flops["fp4_sparse"] == pytest.approx(30e15)
    assert cpx.value("hbm") == pytest.approx(128e9)
    assert 144 * 30e15 + 72 * 50e15 == pytest.approx(8e18, rel=0.02)
    for field in ("hbm", "peak_flops"):
        assert cpx.assumptions[field].startswith("Announcement only"), field


def test_w40_cdu_meets_the_announced_45_degc_inlet_on_ashrae_w40_water():
    # ASHRAE TC 9.9 class W40: facility water supply up to 40 degC. No W40/W45 CDU datasheet was found: the CDU is
    # the lab's estimate and labelled so. On W40 at its 4 K approach the coolant reaches ~44 degC, inside the
    # ~45 degC inlet NVIDIA announces for Vera Rubin (secondary); nine ~211 kW racks stay within its 2 MW.
    cdu = CATALOG.get("generic-cdu-2mw-w40")
    assert cdu.source.source_quality == "estimate"
    assert cdu.value("max_facility_supply") == pytest.approx(273.15 + 40)
    r = rackwright.evaluate(ROOT / "examples" / "vera-rubin-nvl72-w40.yaml")
    assert r.figures["thermal.tcs_supply"] == pytest.approx(273.15 + 40 + 4)
    assert r.figures["thermal.tcs_supply"] <= 273.15 + 45
    assert 9 * r.figures["thermal.heat_to_liquid"] <= cdu.value("capacity")
    assert r.violations == []


def test_vera_rubin_space_takes_w40_water_only_through_the_cdu_rated_for_it():
    # examples/space-vera-rubin.yaml: facility water above a CDU's rated maximum is THM005 - W40 (40 degC) and W45
    # (45 degC) exceed the 1.35 MW CDU's W32 rating; W45 exceeds the 2 MW CDU's W40 rating as well. The result
    # columns hold each discrete axis as the index of its value in the space file.
    from rackwright.explore import explore

    cdus, waters = ["w32-1350kw", "w40-2mw"], ["W27", "W32", "W40", "W45"]
    cols = explore(ROOT / "examples" / "space-vera-rubin.yaml", sensitivity=False).columns
    cdu = [cdus[int(i)] for i in cols["cdu"]]
    water = [waters[int(i)] for i in cols["cooling.facility_supply"]]
    expected = [w == "W45" or (w == "W40" and c == "w32-1350kw") for c, w in zip(cdu, water, strict=True)]
    assert [bool(x) for x in cols["fails.THM005"]] == expected
    feasible_w40 = {c for c, w, f in zip(cdu, water, cols["feasible"], strict=True) if f and w == "W40"}
    assert feasible_w40 == {"w40-2mw"}


def test_each_vera_rubin_gpu_has_its_own_connectx_9_supernic():
    # NVIDIA Vera Rubin NVL72 AI Factory RA (networking physical topologies): the GPUs connect to the rail-optimized
    # scale-out fabric through their respective ConnectX-9 SuperNICs - one SuperNIC per GPU, 72 rails' worth per rack.
    nic = CATALOG.get("nvidia-connectx-9-1.6t")
    assert nic.field_sources["ports"].source_quality == "primary"
    contents = {c.part: c.count for c in CATALOG.get("nvidia-vr200-compute-tray").contains}
    assert contents["nvidia-connectx-9-1.6t"] == contents["nvidia-rubin-vr200"] == 4
    r = rackwright.evaluate(ROOT / "examples" / "vera-rubin-nvl144.yaml")
    assert r.figures["network.scale_out_ports"] == r.figures["compute.accelerators"] == 72


def test_kyber_on_the_slab_of_the_other_examples_breaks_mec003(tmp_path):
    on_slab = tmp_path / "kyber-on-2500.yaml"
    on_slab.write_text(f'extends: {ROOT / "examples" / "kyber-nvl576.yaml"}\nfloor_rating: "2500 kg/m**2"\n')
    assert {v.code for v in rackwright.evaluate(on_slab).violations} == {"MEC003"}


def test_800_vdc_rack_energy_storage_smooths_two_seconds_and_says_it_is_an_estimate():
    # no product rating exists (NVIDIA's white paper describes the function only): sized by hand for one
    # ~600 kW rack for 2 s, t = E x efficiency / P = 0.3436 kWh x 3.6e6 J/kWh x 0.97 / 600 kW = 2.0 s
    part = CATALOG.get("generic-800vdc-rack-energy-storage")
    assert part.source.source_quality == "estimate"
    seconds = part.value("energy") * part.value("efficiency") / part.value("capacity")
    assert seconds == pytest.approx(0.3436 * 3.6e6 * 0.97 / 600e3, rel=1e-3)
    assert seconds == pytest.approx(2.0, rel=0.01)
    assert part.value("output_voltage") == pytest.approx(800)

"""The built-in catalog: enough real parts, every figure sourced or marked, references resolve."""

import pytest
from pydantic import ValidationError

from rackwright.catalog import KINDS, load_catalog
from rackwright.catalog.loader import load_family
from rackwright.catalog.schema import PROVENANCE_FIELDS, SOURCE_QUALITIES, Part
from rackwright.errors import InputError

CATALOG = load_catalog()

#: Kinds the issue requires the catalog to cover.
REQUIRED_KINDS = {
    "compute_tray", "server", "accelerator", "cpu", "scale_up_switch_tray", "scale_out_switch", "nic", "dpu",
    "power_shelf", "psu", "dc_dc", "power_sidecar", "bbu", "busbar", "cdu", "manifold", "cold_plate_loop",
    "rear_door_hx", "cable", "transceiver", "enclosure", "management_switch",
}


def test_at_least_sixty_parts_and_all_required_kinds():
    assert len(CATALOG) >= 60
    assert REQUIRED_KINDS <= {p.kind for p in CATALOG}


def test_cable_media_and_enclosure_standards_covered():
    media = {p.text("media") for p in CATALOG if p.kind in ("cable", "transceiver")}
    assert {"dac", "aec", "aoc", "optical"} <= media
    standards = {(p.text("rack_standard"), round(p.value("usable_height") / p.value("unit_pitch")))
                 for p in CATALOG.by_kind("enclosure")}
    assert ("eia-19", 42) in standards and ("eia-19", 48) in standards
    assert any(s == "orv3-21" for s, _ in standards)


@pytest.mark.parametrize("part", list(CATALOG), ids=lambda p: p.id)
def test_every_part_is_sourced(part):
    assert part.source.url.startswith("http")
    documented = set(part.field_sources) | set(part.assumptions)
    assert set(PROVENANCE_FIELDS) <= documented
    for reason in part.assumptions.values():
        assert len(reason) >= 10, f"{part.id}: an assumption needs its reasoning"
    assert part.kind in KINDS


@pytest.mark.parametrize("part", list(CATALOG), ids=lambda p: p.id)
def test_every_source_names_title_url_date_and_quality(part):
    for label, source in part.sources:
        assert len(source.title) >= 10, f"{part.id} {label}: a title that says what the source is"
        assert source.url.startswith(("https://", "http://")), f"{part.id} {label}"
        assert source.date[:4].isdigit() and 1990 <= int(source.date[:4]) <= 2030, f"{part.id} {label}: {source.date}"
        assert source.source_quality in SOURCE_QUALITIES, f"{part.id} {label}"
    if part.id.startswith("lab-"):  # the lab's own parts are assumptions throughout
        assert part.source.source_quality == "estimate"


def test_source_quality_matches_the_kind_of_source():
    # Press and blogs are never primary; the lab's design assumptions are estimates, not datasheets.
    press = ("servethehome.com", "storagereview.com", "theregister.com", "techstories", "wccftech", "verda.com",
             "glennklockwood", "pulse.bot", "aidatacenterguide", "introl.com")
    for part in CATALOG:
        for label, source in part.sources:
            if any(p in source.url for p in press):
                assert source.source_quality != "primary", (part.id, label, source.url)
            if source.title.lower().startswith("lab design assumption"):
                assert source.source_quality == "estimate", (part.id, label)


@pytest.mark.parametrize("part", list(CATALOG), ids=lambda p: p.id)
def test_physical_sanity(part):
    if part.kind == "accelerator":
        assert 300 <= part.value("power") <= 3000
        assert part.value("hbm") > 0 and part.value("hbm_bandwidth") > 0
        flops = part.peak_flops
        for precision in ("fp8", "bf16"):  # 2:4 sparsity doubles these (not FP4 on Blackwell Ultra)
            dense, sparse = flops.get(f"{precision}_dense"), flops.get(f"{precision}_sparse")
            if dense and sparse:
                assert sparse == pytest.approx(2 * dense, rel=0.01)
        for key, rate in flops.items():
            if key.endswith("_sparse") and key.replace("_sparse", "_dense") in flops:
                assert rate >= flops[key.replace("_sparse", "_dense")]
    for efficiency in [part.value("efficiency")]:
        assert efficiency is None or 0.8 < efficiency <= 1.0
    fraction = part.value("liquid_fraction")
    assert fraction is None or 0 <= fraction <= 1


def test_explode_counts_nested_parts():
    rows = CATALOG.explode("nvidia-gb200-compute-tray", 18)
    counts = {part.id: n for part, n, _ in rows}
    assert rows[0][2] == () and ("nvidia-b200-gb200", ("nvidia-gb200-compute-tray",)) in {(p.id, path) for p, _, path in rows}
    assert counts["nvidia-b200-gb200"] == 72 and counts["nvidia-grace"] == 36


def test_unknown_part_suggests_the_nearest_id():
    with pytest.raises(KeyError, match="did you mean 'nvidia-b200-gb200'"):
        CATALOG.get("nvidia-b200-gb20")


def _part(**changes):
    base = dict(id="x-part", kind="psu", manufacturer="X", model="Y", category="power", specs={"capacity": "3 kW"},
                price_usd=1.0, origin={"manufacture": "US"}, lead_time_weeks=1, afr=0.01,
                source={"title": "A datasheet", "url": "https://example.com/ds.pdf", "date": "2024-01",
                        "source_quality": "primary"},
                assumptions={f: "reason given here" for f in PROVENANCE_FIELDS})
    base.update(changes)
    return Part.model_validate(base)


@pytest.mark.parametrize("changes, message", [
    ({"assumptions": {}}, "no provenance"),
    ({"specs": {"capacity": "3 kg"}}, "not a power"),
    ({"specs": {"capcity": "3 kW"}}, "did you mean 'capacity'"),
    ({"afr": None}, "exactly one of afr"),
    ({"origin": {"manufacture": "USA"}}, "two-letter"),
    ({"kind": "toaster"}, "unknown kind"),
    ({"id": "x" * 201}, "at most 200 characters"),
    ({"model": "M" * 100_000}, "at most 200 characters"),
    ({"source": {"title": "A datasheet", "url": "https://example.com/ds.pdf", "date": "2024"}},
     "no source_quality on source"),
    ({"source": {"title": "A datasheet", "url": "https://example.com/ds.pdf", "source_quality": "primary"}},
     "no date on source"),
    ({"source": {"title": "A datasheet", "url": "https://example.com/ds.pdf", "date": "2024", "source_quality": "blog"}},
     "source_quality"),
    ({"field_sources": {"price_usd": {"title": "A price list", "url": "https://example.com/p", "date": "2024"}}},
     "no source_quality on field_sources.price_usd"),
])
def test_bad_parts_are_rejected_with_a_reason(changes, message):
    with pytest.raises(ValidationError, match=message):
        _part(**changes)


def test_bad_family_file_names_file_line_and_path(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("family: x\nparts:\n  - id: a\n    kind: psu\n    colour: red\n")
    with pytest.raises(InputError) as info:
        load_family(path)
    text = str(info.value)
    assert "bad.yaml:5:5" in text and "parts[0].colour" in text and "unknown field" in text

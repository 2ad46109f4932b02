"""``netbox push -o DIR`` and ``netbox diff -o DIR`` against a stand-in NetBox: the folder holds ``push.json`` /
``diff.json``, the very document ``--json`` prints, and ``report.html``, whose page opens with the counts per kind
of object and their totals, names the plan, the URL and the hall, lists every refusal or difference, and never
holds the token.

The stand-in replaces the REST client and the two calls the commands make (``push``, ``diff`` of
rackwright.site.netbox_api) with fixed answers, so the counts are known by hand: the push creates 4 + 160 + 798
objects, skips 6 racks and refuses 2 cables (4 + 160 + 798 = 962 created); the diff finds 2 missing devices, 1
extra cable and 1 changed power feed.
"""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.site import netbox_api
from rackwright.site.netbox_api import Difference, Tally
from test_netbox import small_plan  # noqa: F401 (the fixture: 4 GB200 NVL72 racks, two tiers)
from test_output_width import problems

TOKEN = "0123456789abcdef-secret"
URL = "http://netbox.test"

TALLIES = {
    "manufacturers": Tally(created=4),
    "racks": Tally(skipped=6),
    "devices": Tally(created=160),
    "cables": Tally(created=798, refused=["C-0001: a_terminations: already cabled", "C-0002: bad end"]),
}
DIFFERENCES = [
    Difference("device", "h1-r01-k01-tray01", "missing", "GB200 compute tray"),
    Difference("device", "h1-r01-k01-tray02", "missing", "GB200 compute tray"),
    Difference("cable", "#77", "extra", "sw1:swp1 – sw2:swp1"),
    Difference("power feed", "h1-r01-k01-A", "changed", "amperage: plan 63, NetBox 32"),
]


class StandIn:
    """NetBox's REST client as the commands use it: a context manager whose settings are all it keeps."""

    def __init__(self, url: str, token: str, **settings):
        self.url = url

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


@pytest.fixture
def netbox(monkeypatch):
    monkeypatch.setattr(netbox_api, "NetBox", StandIn)
    monkeypatch.setattr(netbox_api, "push", lambda nb, export, progress=None: dict(TALLIES))
    monkeypatch.setattr(netbox_api, "diff", lambda nb, export, hall=None: list(DIFFERENCES))


@pytest.fixture(scope="module")
def plan(small_plan):  # noqa: F811 (the fixture)
    return small_plan


def run(plan, command: str, *more: str):
    return CliRunner().invoke(app, ["netbox", command, str(plan), "--url", URL, "--token", TOKEN, *more])


@pytest.mark.parametrize("command", ["push", "diff"])
def test_o_writes_the_json_document_and_a_page(netbox, plan, tmp_path, command):
    as_json = run(plan, command, "--json")
    written = run(plan, command, "-o", str(tmp_path), "--hall", "1")
    assert as_json.exit_code == written.exit_code == 1, written.output  # refusals, differences: exit 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{command}.json", "report.html"]
    document = json.loads((tmp_path / f"{command}.json").read_text(encoding="utf-8"))
    assert document == json.loads(as_json.stdout)
    for path in tmp_path.iterdir():
        assert TOKEN not in path.read_text(encoding="utf-8")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert str(plan) in page and URL in page and "hall 1 only" in page
    assert "<script src" not in page and "https://" not in page  # nothing loaded from outside the page


def _row(page: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is ``first``."""
    match = re.search(rf"<tr[^>]*><td[^>]*>{re.escape(first)}</td>(.*?)</tr>", page)
    assert match, first
    return re.findall(r"<td[^>]*>(.*?)</td>", match.group(1))


def test_push_page_opens_with_the_counts_and_lists_each_refusal(netbox, plan, tmp_path):
    result = run(plan, "push", "-o", str(tmp_path), "--batch", "100")
    assert result.exit_code == 1
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    headline = "962 objects created, 6 skipped (already in NetBox), 2 refused"
    assert headline in page and page.index(headline) < page.index("Inputs") < page.index("Refused objects (2)")
    assert _row(page, "cables") == ["798", "0", "2"]
    assert _row(page, "all objects") == ["962", "6", "2"]
    assert "<td class='id'>C-0002</td><td>bad end</td>" in page and "already cabled" in page
    assert "100 objects per POST" in page and "every hall" in page


def test_diff_page_opens_with_the_counts_per_kind_and_lists_every_difference(netbox, plan, tmp_path):
    assert run(plan, "diff", "-o", str(tmp_path)).exit_code == 1
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "4 differences from NetBox at http://netbox.test: 2 missing, 1 extra, 1 changed" in page
    assert _row(page, "device") == ["2", "0", "0", "2"]
    assert _row(page, "power feed") == ["0", "0", "1", "1"]
    assert _row(page, "all objects") == ["2", "1", "1", "4"]
    assert page.count("<td class='id'>h1-r01-k01-tray0") == 2 and "amperage: plan 63, NetBox 32" in page


def test_diff_page_of_a_plan_netbox_holds(netbox, plan, tmp_path, monkeypatch):
    monkeypatch.setattr(netbox_api, "diff", lambda nb, export, hall=None: [])
    assert run(plan, "diff", "-o", str(tmp_path)).exit_code == 0
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "holds the plan of" in page and _row(page, "all objects") == ["0", "0", "0", "0"]


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("http://netbox.test", "http://netbox.test"),
        ("https://admin:hunter2@netbox.test:8443/api", "https://***@netbox.test:8443/api"),
        ("http://admin@netbox.test", "http://***@netbox.test"),
    ],
)
def test_a_url_shows_no_credentials(typed, shown):
    from rackwright.cli.netbox import shown_url

    assert shown_url(typed) == shown


@pytest.mark.parametrize("command", ["push", "diff"])
def test_a_password_in_the_url_is_in_no_output(netbox, plan, tmp_path, command):
    typed = "https://admin:hunter2@netbox.test"
    result = CliRunner().invoke(app, ["netbox", command, str(plan), "--url", typed, "--token", TOKEN, "-o",
                                      str(tmp_path), "--json"])
    assert result.exit_code == 1 and "hunter2" not in result.output
    assert json.loads(result.stdout)["url"] == "https://***@netbox.test"
    for path in tmp_path.iterdir():
        assert "hunter2" not in path.read_text(encoding="utf-8")


#: Names as a 1 GW plan has them, longer than an 80-column table's share of the width.
LONG = "h01-r003-k05-gb200-nvl72-compute-tray-01"


@pytest.mark.parametrize("command", ["push", "diff"])
def test_the_tables_never_cut_an_id_at_80_columns_piped(netbox, plan, monkeypatch, command):
    """Piped at COLUMNS=80, every name prints whole, on one line (no "h01-r003-k05-gb200-nvl72-c…"), and NetBox's
    reasons read as words, not as a Python dict."""
    monkeypatch.setenv("COLUMNS", "80")
    tallies = {**TALLIES, f"power feeds of {LONG}": Tally(created=1, refused=[f"{LONG}-feed-A: rack: no such rack"])}
    differences = [
        *DIFFERENCES,
        Difference("device", LONG, "changed", f"rack: plan h01-r003-k05, NetBox h01-r003-k06; type: {LONG[13:]}"),
        Difference("module", f"{LONG} GPU1", "missing", "nvidia-b200-gb200"),
        Difference("cable", "C0000123", "changed", f"a: plan {LONG}:eth1, NetBox {LONG}:eth2"),
    ]
    monkeypatch.setattr(netbox_api, "push", lambda nb, export, progress=None: dict(tallies))
    monkeypatch.setattr(netbox_api, "diff", lambda nb, export, hall=None: list(differences))
    result = run(plan, command)
    assert result.exit_code == 1
    assert not problems(result.stdout), result.stdout
    assert "…" not in result.output and "{'" not in result.output
    pushed, differ = [f"power feeds of {LONG}", f"{LONG}-feed-A"], [LONG, f"{LONG} GPU1", f"{LONG}:eth2"]
    names = pushed if command == "push" else differ
    lines = result.output.splitlines()
    assert all(any(name in line for line in lines) for name in names), result.output

"""Issue 17: hypothesis fuzz of every command's options (and, for the commands that take only files, of the file).

Each case starts from a command line that works and changes one option's value: a sign flip, zero, NaN,
infinity, 1e12, 1e308, a fraction where a whole number is meant, a word, a unit where none is meant or the
wrong unit, an empty string. Every option declares its domain here (by hand, from the command's help), so the
test knows which values are outside it. Each case asserts:

- no traceback (``test_cli.run`` fails on any exception but SystemExit), and no hang (an alarm, not a bound);
- exit 0, 1 or 2, and exit 2 for every value outside the option's domain;
- for a JSON output (``--json``) that exits 0 or 1, every number finite, none negative but a change or a
  deviation (or a Celsius temperature), and shares, fractions, MFU and goodput in [0, 1].

Commands whose inputs are files (evaluate, check, compare, elevation, qualify, site plan, roadmap plan and
risk, explore, factory simulate and capacity, sourcing build-date --scenario, catalog import-netbox) get one mutated
file per case through the whole command (the file fuzz of tests/test_fuzz_files.py stops at the loaders); there a
number made NaN, infinite, 1e300 or negative, or a quantity given the wrong unit, is outside its domain. Cases run
in-process (typer's CliRunner). The two fuzz tests are marked ``slow`` (a minute or two in all, 12 cases per
command; FUZZ_EXAMPLES=N for more); what they found is checked by hand at the end, in the fast loop.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from test_cli import mutate, run
from test_fuzz_files import _leaves
from test_fuzz_files import _mutate as mutate_file
from test_validity import BASES, in_physical_range
from test_validity import mutated as mutate_design

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # a numpy warning fails the test

#: Examples per command (about a minute in all on two cores; the slowest commands take a second a case).
EXAMPLES_PER_COMMAND = int(os.environ.get("FUZZ_EXAMPLES", 12))  # FUZZ_EXAMPLES=200: a deeper search
#: A case still running after this long is a hang (the slowest valid case takes a few seconds).
HANG_S = 120


# --- option domains and their mutations ----------------------------------------------------------------------

@dataclass
class Number:
    """A number ``low ≤ x ≤ high`` (``low < x`` when ``low_open``), written with ``unit`` when it has one.

    ``cap``: the largest in-domain value worth its run time here (a 520-week simulation is valid but slow)."""

    valid: float
    low: float
    high: float
    integer: bool = False
    low_open: bool = False
    unit: str = ""
    cap: float = math.inf

    def inside(self, x: float) -> bool:
        above = x > self.low if self.low_open else x >= self.low
        return math.isfinite(x) and above and x <= self.high and (not self.integer or x == round(x))

    def text(self, x: float) -> str:
        number = str(int(x)) if math.isfinite(x) and x == round(x) and abs(x) < 1e15 else repr(float(x))
        return f"{number} {self.unit}" if self.unit else number


@dataclass
class Choice:
    """One of ``values`` (a word outside them is refused); ``maybe``: words that may or may not be accepted."""

    values: tuple
    maybe: tuple = ()
    refused: tuple = ()  # words near the valid ones that must be refused


SPECIAL = ["negate", "zero", "nan", "inf", "-inf", "1e12", "1e308", "tiny", "fraction", "random", "word", "unit",
           "empty"]


def number_case(spec: Number, data) -> tuple[str, bool | None]:
    """A mutated value of a number option, and whether it lies outside the domain (None: it may or may not)."""
    v = spec.valid
    how = data.draw(st.sampled_from(SPECIAL), label="how")
    if how in ("word", "empty"):
        return ("abc" if how == "word" else ""), True
    if how == "unit":  # a unit where the option takes a plain number, or the wrong unit for a quantity
        return (f"{spec.text(v).split()[0]} kg" if spec.unit != "kg" else f"{v:g} s"), True
    x = {"negate": -v, "zero": 0.0, "nan": math.nan, "inf": math.inf, "-inf": -math.inf, "1e12": 1e12,
         "1e308": 1e308, "tiny": 1e-300, "fraction": v * 1.5 + 0.25}.get(how)
    if x is None:
        x = data.draw(st.one_of(st.integers(-1000, 1000), st.floats(-1e4, 1e4), st.sampled_from(
            [spec.low, spec.high, spec.low - 1, spec.high + 1, spec.high * 10])), label="x")
    inside = spec.inside(x)
    assume(not (inside and x > spec.cap))
    return spec.text(x), not inside


def choice_case(spec: Choice, data) -> tuple[str, bool | None]:
    word = data.draw(st.one_of(st.sampled_from(spec.values + spec.maybe + spec.refused),
                               st.sampled_from(["", " ", "nan", "-1", "1e308", "NONE", "../x"]),
                               st.text("abcxyz-_.", max_size=8)), label="word")
    return word, None if word in spec.maybe else word not in spec.values


def case(options: dict, data) -> tuple[str, str, bool | None]:
    """(flag, new value, outside) for one option of ``options`` drawn by hypothesis."""
    flag = data.draw(st.sampled_from(sorted(options)), label="option")
    spec = options[flag]
    value, outside = number_case(spec, data) if isinstance(spec, Number) else choice_case(spec, data)
    return flag, value, outside


def with_option(args: list, flag: str, value: str) -> list:
    """``args`` with ``flag``'s value replaced (or the option added)."""
    args = [str(a) for a in args]
    if flag in args:
        args[args.index(flag) + 1] = value
        return args
    return [*args, flag, value]


# --- the output's physical range ------------------------------------------------------------------------------

#: Keys whose numbers may be negative: changes, deviations, differences, Celsius temperatures.
SIGNED = ("absolute", "relative", "deviation", "delta", "change", "_c", "margin", "headroom", "slack", "seed")
#: Keys whose numbers are shares of a whole (not a rate per share, nor spares per installed unit: 12 spares of a
#: part installed 5 times in a small fleet is 240 %).
SHARES = ("share", "fraction", "mfu", "hfu", "goodput", "p_goal", "probability", "availability")


def walk(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, path + (str(key),))
    elif isinstance(node, list):
        for value in node:
            yield from walk(value, path)
    else:
        yield path, node


def in_range(document, echoed: frozenset[str] = frozenset()) -> None:
    """No figure of a JSON output outside its physical range (see the module docstring). A string the command
    line gave (``echoed``: an organisation named "nan" listed by ``user list --org nan``) is a name, not a figure."""
    for path, value in walk(document):
        where = ".".join(path)
        if isinstance(value, str) and value not in echoed:
            assert value.strip().lower() not in ("nan", "inf", "-inf", "infinity"), where
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        assert math.isfinite(value), (where, value)
        if not any(s in key for key in path for s in SIGNED):
            assert value >= 0, (where, value)
        if path and any(s in path[-1] for s in SHARES) and not any(s in path[-1] for s in ("per", "spare")):
            assert value <= 1 + 1e-9, (where, value)


# --- running one case ---------------------------------------------------------------------------------------

def invoke(*args):
    """``test_cli.run`` under an alarm: a case that runs past HANG_S fails as a hang."""
    def hang(*_):
        pytest.fail(f"hangs: rackwright {' '.join(map(str, args))}")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(HANG_S)
    try:
        return run(*args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check(args: list, outside: bool | None):
    result = invoke(*args)
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output and "Warning" not in result.output, result.output
    if outside:
        assert result.exit_code == 2, f"accepted a value outside its domain: {args}\n{result.output}"
    if result.exit_code in (0, 1) and "--json" in args:
        in_range(json.loads(result.stdout), frozenset(map(str, args)))
    return result


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A copy of examples/ (files mutated next to the designs they name) and a planned site for ``site cables``."""
    target = tmp_path_factory.mktemp("fuzz-commands") / "examples"
    shutil.copytree(EXAMPLES, target)
    assert run("site", "plan", target / "site-100mw.yaml", "-o", target / "planned", "--no-report").exit_code == 0
    assert run("catalog", "export-netbox", "nvidia-sn5600", "-o", target / "netbox").exit_code == 0
    db = ["--db", f"sqlite:///{target}/admin.db"]
    os.environ["FUZZ_PASSWORD"] = "fuzz-password-1"
    assert run("server-admin", "org", "add", "fuzz", "--name", "Fuzz", *db).exit_code == 0
    assert run("server-admin", "user", "add", "fuzz-user", "--org", "fuzz", "--role", "engineer", "--password-env",
               "FUZZ_PASSWORD", *db).exit_code == 0
    return target


SETTINGS = settings(max_examples=EXAMPLES_PER_COMMAND, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])


# --- commands fuzzed by their options ------------------------------------------------------------------------

COUNT = dict(low=1, high=1e6, integer=True)
AVAILABILITY = Number(0.999, 1e-9, 1 - 1e-12)
PERF_SYSTEMS = ("dgx-h100-ndr",)
MODELS = ("llama3-8b", "llama3-70b", "llama3-405b")


@dataclass
class Command:
    args: list  # a command line that works; {folder} is replaced
    options: dict = field(default_factory=dict)


def _g(folder: Path) -> Path:
    return folder / "gb200-nvl72.yaml"


OPTIONS = {
    "bom": Command(["bom", "{gb200}", "--json"], {
        "--racks": Number(8, **COUNT), "--by": Choice(("category", "origin", "supplier", "kind")),
        "--us-rule": Choice(("own-value", "final-assembly", "manufacture"))}),
    "catalog list": Command(["catalog", "list", "--json"], {
        "--kind": Choice(("accelerator", "compute_tray", "power_shelf", "switch", "cdu"))}),
    "perf train": Command(["perf", "train", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--global-batch", 64,
                           "--tp", 8, "--json", "--train-tokens", "1e12"], {
        "--global-batch": Number(64, **COUNT, cap=4096), "--micro-batch": Number(1, **COUNT, cap=64),
        "--tp": Number(8, **COUNT), "--pp": Number(1, **COUNT), "--vp": Number(1, **COUNT),
        "--cp": Number(1, **COUNT), "--accelerators": Number(64, **COUNT, cap=4096),
        "--seq-len": Number(8192, 1, 1e8, integer=True, cap=131072), "--train-tokens": Number(1e12, 1, 1e16),
        "--recompute": Choice(("none", "selective", "full")), "--attention": Choice(("flash", "materialized")),
        "--precision": Choice(("bf16", "fp8"), maybe=("fp4",)), "--model": Choice(MODELS)}),
    "perf search": Command(["perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--global-batch",
                            64, "--json"], {
        "--global-batch": Number(64, **COUNT, cap=4096), "--accelerators": Number(64, **COUNT, cap=1024),
        "--top": Number(10, **COUNT), "--seq-len": Number(8192, 1, 1e8, integer=True, cap=131072),
        "--precision": Choice(("bf16", "fp8"), maybe=("fp4",)), "--backend": Choice(("local",), maybe=("ray",))}),
    "perf infer": Command(["perf", "infer", "--model", "llama3-70b", "--system", "dgx-h100-ndr", "--batch", 8,
                           "--input-tokens", 1000, "--output-tokens", 200, "--json"], {
        "--batch": Number(8, **COUNT, cap=4096), "--input-tokens": Number(1000, 1, 1e8, integer=True, cap=1e6),
        "--output-tokens": Number(200, 1, 1e8, integer=True, cap=1e6), "--tp": Number(8, **COUNT),
        "--precision": Choice(("bf16", "fp8"), maybe=("fp4",)), "--model": Choice(MODELS)}),
    "perf infer (rack design)": Command(["perf", "infer", "--model", "llama3-70b", "--system", "{gb200}", "--racks", 2,
                                         "--batch", 8, "--input-tokens", 1000, "--output-tokens", 200, "--json"], {
        "--racks": Number(2, **COUNT, cap=1000), "--batch": Number(8, **COUNT, cap=4096),
        "--precision": Choice(("bf16", "fp8"), maybe=("fp4",))}),
    "sourcing whatif": Command(["sourcing", "whatif", "{gb200}", "{folder}/sourcing-us-power-cabling.yaml",
                                "--json"], {"--racks": Number(8, **COUNT), "--sweep": Choice(
        ("substitutions[0].price_change=0:0.3:3", "tariffs[0].rate=0:1:5"),
        refused=("substitutions[0].price_change=0:nan:3", "substitutions[0].price_change=-5:0.3:3",
                 "substitutions[0].price_change=0:0.3:0", "substitutions[0].price_change=0:0.3:1e9",
                 "substitutions[0].price_change=0:0.3:2.5", "tariffs[0].rate=0:1e9:3", "tariffs[0].rate=inf:1:3",
                 "substitutions[99].price_change=0:0.3:3", "nothing=0:1:3", "substitutions[0].price_change"))}),
    "sourcing build-date": Command(["sourcing", "build-date", "{gb200}", "--order-date", "2026-01-05", "--json"], {
        "--racks": Number(100, **COUNT), "--integration-days": Number(14, 0, 3640),
        "--order-date": Choice(("2026-01-05", "2030-12-31"), maybe=("9999-12-31", "0001-01-01", "2026-1-5"))}),
    "factory simulate": Command(["factory", "simulate", "{folder}/line-us.yaml", "--design", "{gb200}", "--weeks", 4,
                                 "--replications", 2, "--seed", 1, "--warmup", 1, "--json"], {
        "--weeks": Number(4, 1, 520, integer=True, cap=8), "--replications": Number(2, 1, 1000, integer=True, cap=4),
        "--seed": Number(1, 0, math.inf, integer=True), "--warmup": Number(1, 0, 520, cap=8)}),
    "factory capacity": Command(["factory", "capacity", "{folder}/line-us.yaml", "--design", "{gb200}", "--target",
                                 "20/week", "--replications", 1, "--max-iterations", 3, "--json"], {
        "--weeks": Number(8, 1, 520, integer=True, cap=12), "--warmup": Number(2, 0, 520, cap=6),
        "--replications": Number(1, 1, 1000, integer=True, cap=2), "--tolerance": Number(0.01, 0, 0.5),
        "--max-utilisation": Number(1.0, 0.05, 1.0), "--max-iterations": Number(3, 1, 1000, integer=True, cap=5),
        "--target": Choice(("20/week", "3/day", "20"), maybe=("1e-9/week", "0.5/day"))}),
    "reliability job": Command(["reliability", "job", "--design", "{gb200}", "--accelerators", 1024, "--json"], {
        "--accelerators": Number(1024, **COUNT), "--checkpoint-write-s": Number(60, 1e-3, 1e6),
        "--spares": Number(8, 0, 1e6, integer=True), "--bytes-per-param": Number(14, 0.125, 64),
        "--oversubscription": Number(1, 1, 100), "--availability": AVAILABILITY,
        "--storage-bandwidth": Number(2, 0, 1e6, low_open=True, unit="TB/s"), "--model": Choice(MODELS)}),
    "reliability spares": Command(["reliability", "spares", "--design", "{gb200}", "--racks", 10, "--repair-days", 5,
                                   "--json"], {
        "--racks": Number(10, **COUNT), "--repair-days": Number(5, 1e-3, 3650), "--availability": AVAILABILITY}),
    "site plan --set": Command(["site", "plan", "{folder}/site-100mw.yaml", "-o", "{folder}/fuzz-set", "--json",
                                "--no-report", "--set", "fabric.tiers=3"], {"--set": Choice(
        ("fabric.tiers=3", "target.generations.0.share=1.0"),
        refused=("fabric.tiers=nan", "fabric.tiers=[", "fabric.tiers=*a", "fabric.tiers=-3", "=2", "fabric.tiers",
                 "fabric.tiers=1e308", "target.generations.0.share=2", "target.generations.5.share=1",
                 "fabric.tiers={a: 1}", "name=", "fabric=null", "no.such.field=1"))}),
    "roadmap plan": Command(["roadmap", "plan", "{folder}/roadmap/tight-2027.yaml", "--json"], {
        "--gap": Number(0.001, 0, 0.1)}),
    "roadmap risk": Command(["roadmap", "risk", "{folder}/roadmap/tight-2027.yaml", "--samples", 4, "--seed", 1,
                             "--json"], {
        "--samples": Number(4, **COUNT, cap=16), "--seed": Number(1, 0, math.inf, integer=True)}),
    "serve": Command(["serve", "--db", "sqlite:///{folder}/never.db", "--port", "70000"], {
        # only values that must be refused: a valid port would start the server
        "--port": Number(70000, 1, 65535, integer=True, cap=0), "--workers": Number(0, 1, 64, integer=True, cap=0)}),
}


def _args(command: Command, folder: Path) -> list:
    return [str(a).replace("{gb200}", str(_g(folder))).replace("{folder}", str(folder)) for a in command.args]


@pytest.mark.slow  # (both fuzz tests: about 80 s on two busy cores)
@pytest.mark.parametrize("name", OPTIONS)
@SETTINGS
@given(data=st.data())
def test_fuzzed_options(folder, name, data):
    command = OPTIONS[name]
    flag, value, outside = case(command.options, data)
    if name == "serve" and not outside:
        return  # (cap=0 keeps valid values out; a word may be valid for no option here)
    check(with_option(_args(command, folder), flag, value), outside)


# --- commands fuzzed by their input file ---------------------------------------------------------------------

yaml = YAML(typ="safe", pure=True)
#: A quantity with its unit ("100 MW", "1.5 m"), whose unit a case may make the wrong one.
QUANTITY = re.compile(r"^([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*([A-Za-z°][\w/*°]*)$")


def _design(folder: Path, data) -> tuple[Path, bool]:
    """A mutated example design (test_validity.mutated) next to the examples it extends."""
    name = data.draw(st.sampled_from(sorted(BASES)), label="design")
    doc, outside = mutate_design(BASES[name], data)
    path = folder / f"fuzz-{name}"
    with path.open("w") as stream:
        YAML().dump(doc, stream)
    return path, outside


def _file(folder: Path, name: str, data) -> tuple[Path, bool]:
    """A mutated copy of examples/``name`` (test_fuzz_files._mutate) in the same folder; a number made 1e300 is
    outside its domain too (every domain ends below 1e22)."""
    original = yaml.load(folder / name)
    quantities = [(p, v) for p, v in _leaves(original) if isinstance(v, str) and QUANTITY.match(v)]
    if quantities and data.draw(st.integers(0, 4), label="wrong unit?") == 0:
        path, value = data.draw(st.sampled_from(quantities), label="quantity")
        number, unit = QUANTITY.match(value).groups()
        doc, outside = mutate(original, path, "replace", f"{number} {'kg' if unit != 'kg' else 'degC'}"), True
    else:
        doc, outside = mutate_file(original, data)
    outside = outside or _made_huge(original, doc)
    path = (folder / name).with_name(f"fuzz-{Path(name).name}")
    with path.open("w") as stream:
        yaml.dump(doc, stream)
    return path, outside


def _made_huge(original, doc) -> bool:
    """A number of ``original`` (not 0) is 1e300 in ``doc``."""
    before = {path: value for path, value in _leaves(original)}
    return any(value == 1e300 and isinstance(before.get(path), (int, float)) and not isinstance(before[path], bool)
               and before[path] != 0 for path, value in _leaves(doc) if isinstance(value, float))


def _csv(folder: Path, data) -> tuple[Path, bool]:
    """The qualification results with one measured value replaced."""
    lines = (folder / "qualification-gb200.csv").read_text().splitlines()
    row = data.draw(st.integers(1, len(lines) - 1), label="row")
    cells = lines[row].split(",")
    value = float(cells[4])
    new, outside = data.draw(st.sampled_from([(repr(-value), value > 0), ("nan", True), ("inf", True), ("1e308", True),
                                              ("0", False), ("abc", True), ("", True), (f"{value} kW", True)]))
    cells[4] = new
    lines[row] = ",".join(cells)
    path = folder / "fuzz-qualification.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, outside


def _with_design(folder: Path, data, args_of) -> tuple[list, bool]:
    path, outside = _design(folder, data)
    return args_of(path), outside


def _with_file(folder: Path, name: str, data, args_of) -> tuple[list, bool]:
    path, outside = _file(folder, name, data)
    return args_of(path), outside


def _word(data, valid: tuple) -> tuple[str, bool]:
    word, outside = choice_case(Choice(valid), data)
    return word, outside


def _output(folder: Path, data, kind: str) -> tuple[Path, bool]:
    """A ``kind`` ("file" or "folder") to write, or a path of the wrong kind: a folder for a file, a file for a
    folder, a path below a file."""
    (folder / "a-file").write_text("keep\n")
    wrong = folder if kind == "file" else folder / "a-file"
    return data.draw(st.sampled_from([(folder / "fuzz-out" / f"a-{kind}", False), (wrong, True),
                                      (folder / "a-file" / "below", True)]), label="output")


def _server(data) -> str:
    return data.draw(st.sampled_from(["http://127.0.0.1:1", "abc", "", "ftp://x", "http://[::1", "http://x:99999",
                                      "http://127.0.0.1:1/" + "a" * 300]), label="server")


FILES = {  # name: (folder, data) → (a command line with a mutated file or argument, outside its domain)
    "evaluate": lambda f, d: _with_design(f, d, lambda p: ["evaluate", p, "--json", "--no-delivery"]),
    "check": lambda f, d: _with_design(f, d, lambda p: ["check", p, "--json"]),
    "compare": lambda f, d: _with_design(f, d, lambda p: ["compare", _g(f), p, "--json"]),
    "elevation": lambda f, d: _with_design(f, d, lambda p: ["elevation", p, "-o", f / "fuzz-elevation"]),
    "qualify": lambda f, d: _with_csv(f, d, ["qualify"]),
    "reliability qualify": lambda f, d: _with_csv(f, d, ["reliability", "qualify"]),
    "site plan": lambda f, d: _with_file(f, "site-100mw.yaml", d, lambda p: [
        "site", "plan", p, "-o", f / "fuzz-site", "--json", "--no-report"]),
    "roadmap plan (file)": lambda f, d: _with_file(f, "roadmap/tight-2027.yaml", d, lambda p: [
        "roadmap", "plan", p, "--json"]),
    "explore": lambda f, d: _with_file(f, "space-gb300-small.yaml", d, lambda p: [
        "explore", p, "-o", f / "fuzz-explore", "--json", "--no-sensitivity"]),
    "catalog import-netbox": lambda f, d: _with_file(f, NETBOX, d, lambda p: [
        "catalog", "import-netbox", p, "--json"]),
    "catalog show": lambda f, d: (lambda w: (["catalog", "show", w[0], "--json"], w[1]))(
        _word(d, ("nvidia-b200-gb200", "nvidia-sn5600"))),
    "catalog export-netbox": lambda f, d: (lambda o: (["catalog", "export-netbox", "nvidia-sn5600", "-o", o[0]], o[1]))(
        _output(f, d, "folder")),
    "site cables": lambda f, d: (lambda o: (["site", "cables", f / "planned", "--netbox", "-o", o[0]], o[1]))(
        _output(f, d, "folder")),
    "push": lambda f, d: (["push", _g(f), "--server", _server(d), "--json"], True),
    "pull": lambda f, d: (["pull", "gb200-nvl72", "--server", _server(d), "-o", f / "pulled.yaml"], True),
    "server-admin org add": lambda f, d: (lambda w: (["server-admin", "org", "add", w[0], "--name", "Fuzz", "--db",
                                                      f"sqlite:///{f}/admin.db", "--exist-ok"], None))(
        _word(d, ("lab", "mfr-2"))),
    "server-admin user add": lambda f, d: (lambda w: (["server-admin", "user", "add", "fuzz-user", "--org", "nowhere",
                                                       "--role", w[0], "--db", f"sqlite:///{f}/admin.db"], True))(
        _word(d, ("engineer", "viewer", "admin"))),
    "server-admin user role": lambda f, d: (lambda w: (["server-admin", "user", "role", "fuzz-user", w[0], "--db",
                                                        f"sqlite:///{f}/admin.db"], w[1]))(
        _word(d, ("engineer", "viewer", "approver", "admin"))),
    "server-admin user list": lambda f, d: (lambda w: (["server-admin", "user", "list", "--org", w[0], "--json",
                                                        "--db", f"sqlite:///{f}/admin.db"], None))(
        _word(d, ("fuzz",))),
    "server-admin user password": lambda f, d: (lambda w: (["server-admin", "user", "password", "fuzz-user",
                                                            "--password-env", w[0], "--db",
                                                            f"sqlite:///{f}/admin.db"],
                                                           # a drawn name the environment holds (`_`, set by the
                                                           # shell) is a real variable: its value decides
                                                           w[1] if w[0] not in os.environ else None))(
        _word(d, ("FUZZ_PASSWORD",))),
    "server-admin token": lambda f, d: (lambda w: (["server-admin", "token", w[0], "--db",
                                                    f"sqlite:///{f}/admin.db"], w[1]))(_word(d, ("fuzz-user",))),
    "roadmap risk (file)": lambda f, d: _with_file(f, "roadmap/tight-2027.yaml", d, lambda p: [
        "roadmap", "risk", p, "--samples", 4, "--seed", 1, "--json"]),
    "factory capacity (file)": lambda f, d: _with_file(f, "line-us.yaml", d, lambda p: [
        "factory", "capacity", p, "--design", _g(f), "--target", "20/week", "--replications", 1, "--max-iterations",
        3, "--json"]),
    "factory simulate (file)": lambda f, d: _with_file(f, "line-us.yaml", d, lambda p: [
        "factory", "simulate", p, "--design", _g(f), "--weeks", 4, "--replications", 2, "--seed", 1, "--json"]),
    "sourcing build-date (scenario)": lambda f, d: _with_file(f, "sourcing-us-power-cabling.yaml", d, lambda p: [
        "sourcing", "build-date", _g(f), "--order-date", "2026-01-05", "--racks", 100, "--scenario", p, "--json"]),
}


def _with_csv(folder: Path, data, prefix: list) -> tuple[list, bool]:
    path, outside = _csv(folder, data)
    return [*prefix, _g(folder), path, "--json"], outside


@pytest.mark.slow  # (both fuzz tests: about 80 s on two busy cores)
@pytest.mark.parametrize("name", FILES)
@SETTINGS
@given(data=st.data())
def test_fuzzed_files_and_arguments(folder, name, data):
    args, outside = FILES[name](folder, data)
    result = check(args, outside)
    if name == "evaluate" and result.exit_code == 0:  # (a broken rule may put a utilisation above 1)
        in_physical_range(json.loads(result.stdout)["designs"][0])


# --- defects found here in code this change leaves to others, each with its reproducer ------------------------

NETBOX = "netbox/NVIDIA/spectrum-4-sn5600-spectrum-x.yaml"


def test_a_netbox_interface_type_that_is_not_a_name_is_refused(folder):
    path = folder / "netbox-untyped.yaml"
    path.write_text((folder / NETBOX).read_text().replace("type: 800gbase-x-osfp", "type: 1.0e+300", 1))
    assert run("catalog", "import-netbox", path).exit_code == 2


# --- what the fuzz found and this change fixed, by hand (each stays checked whatever hypothesis draws) ----------

HEADER = "rack_id,generation,test,metric,value,unit,timestamp\n"
QUALIFY_FOUND = {  # a results row: (exit code, a fragment of the answer)
    "1e308 burn-in failures": ("R01,gb200,burn-in,burn_in_failures,1e308,failures/48 h,2026-03-04T08:00:00Z",
                               2, "whole number ≥ 0 (at most 1e+06)"),
    "a flow of 1e308 L/min": ("R01,gb200,soak,coolant_flow,1e308,L/min,2026-03-02T09:40:00Z", 2,
                              "outside the domain of volume flow"),
    "an inlet at -20 degC": ("R01,gb200,soak,inlet_temperature,-20,degC,2026-03-02T09:40:00Z", 2,
                             "outside the domain of temperature"),
    "a step time of 0 s (ZeroDivisionError)": ("R01,gb200,llama3-8b-tp8,step_time,0,s,2026-03-02T16:30:00Z", 2,
                                               "no step takes no time"),
    "no coolant flow (ZeroDivisionError)": ("R01,gb200,soak,coolant_flow,0,L/min,2026-03-02T09:40:00Z", 1,
                                            "no coolant flow was measured"),
}


@pytest.mark.parametrize("case", QUALIFY_FOUND)
def test_qualify_found(tmp_path, case):
    row, code, fragment = QUALIFY_FOUND[case]
    results = tmp_path / "results.csv"
    results.write_text(HEADER + row + "\n")
    result = run("qualify", EXAMPLES / "gb200-nvl72.yaml", results)
    assert result.exit_code == code and fragment in " ".join(result.output.split()), result.output


def test_compare_json_of_an_air_and_a_liquid_rack(monkeypatch):
    """An air-cooled rack has no CDU utilisation (NaN): compare --json said "Out of range float values are not
    JSON compliant" (a traceback); the figure is null, as in evaluate --json."""
    monkeypatch.setattr("rackwright.cli.app._with_delivery", lambda report, *_: report)  # (perf, not compared)
    result = run("compare", EXAMPLES / "gb200-nvl72.yaml", EXAMPLES / "hgx-h100-air.yaml", "--json")
    figures = {f["figure"]: f for f in json.loads(result.stdout)["figures"]}
    assert figures["thermal.cdu_utilisation"]["after"] is None and figures["thermal.cdu_utilisation"]["before"] > 0


@pytest.mark.parametrize("bandwidth", ["1e-300 TB/s", "1 B/s"])
def test_a_checkpoint_that_would_take_longer_than_the_time_domain_is_refused(bandwidth):
    # 1e-300 TB/s: a numpy overflow warning, then an infinite write time
    result = run("reliability", "job", "--design", EXAMPLES / "gb200-nvl72.yaml", "--accelerators", 72,
                 "--storage-bandwidth", bandwidth)
    assert result.exit_code == 2 and "checkpoint of Llama 3 405B would take" in " ".join(result.output.split())


@pytest.mark.parametrize("extra", [["--order-date", "9999-12-31"], ["--order-date", "9999-06-01", "--racks", 100]])
def test_a_build_date_past_the_calendar_is_refused(extra):
    # was an OverflowError from datetime (date value out of range)
    result = run("sourcing", "build-date", EXAMPLES / "gb200-nvl72.yaml", *extra)
    assert result.exit_code == 2 and "the end of the calendar" in " ".join(result.output.split())


def test_site_cables_makes_the_folder_of_its_output(folder):
    # was a FileNotFoundError from polars when the CSV's folder did not exist
    target = folder / "new-folder" / "deeper"
    result = run("site", "cables", folder / "planned", "--netbox", "-o", target)
    assert result.exit_code == 0 and (target / "netbox-cables.csv").read_text().startswith("side_a_site,side_a_device")


@pytest.mark.parametrize("value", ["[", "*a"])
def test_a_set_value_that_is_not_yaml_names_the_option(tmp_path, value):
    # was "error: :1:2: YAML syntax error ...", naming neither the option nor the field
    result = run("site", "plan", EXAMPLES / "site-100mw.yaml", "-o", tmp_path, "--set", f"fabric.tiers={value}")
    assert result.exit_code == 2 and "--set fabric.tiers: " in " ".join(result.output.split())


def test_an_organisation_named_nan_is_a_name_not_a_figure(tmp_path):
    """The fuzz added an organisation "nan", then ``user list --org nan --json`` echoed it back and in_range took the
    name for a NaN figure (CI, 2026-12-07). A name the command line gave is echoed as given; a "nan" it did not give
    is still a figure out of range."""
    db = ["--db", f"sqlite:///{tmp_path / 'server.db'}"]
    assert run("server-admin", "org", "add", "nan", "--name", "NaN Inc", *db).exit_code == 0
    result = run("server-admin", "user", "list", "--org", "nan", "--json", *db)
    assert result.exit_code == 0 and json.loads(result.stdout)["org"] == "nan"
    in_range(json.loads(result.stdout), frozenset({"nan"}))
    with pytest.raises(AssertionError):
        in_range({"share": "NaN"}, frozenset({"nan"}))

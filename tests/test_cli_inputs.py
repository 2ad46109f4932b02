"""Issue 17 at the command line: downstream commands refuse a design that breaks its rules, options are
bounded before any work starts, and --help keeps its bracketed text."""

import os
import re
from pathlib import Path

import pytest
import typer

from rackwright.cli.app import app
from rackwright.errors import InputError
from rackwright.rack.evaluation import sound_design
from test_cli import run, runner

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def weak(tmp_path_factory) -> Path:
    """GB200 NVL72 with one 33 kW shelf per power zone: 121.4 kW on 33 kW usable at N+N breaks PWR001."""
    folder = tmp_path_factory.mktemp("weak")
    parent = os.path.relpath(EXAMPLES / "gb200-nvl72.yaml", folder)
    path = folder / "weak.yaml"
    path.write_text(f"extends: {parent}\nname: weak GB200\ngeneration: weak\n"
                    "slots:\n  - {id: power-lower, part: nvidia-mgx-33kw-power-shelf, count: 1, position: 12}\n"
                    "  - {id: power-upper, part: nvidia-mgx-33kw-power-shelf, count: 1, position: 43}\n")
    return path


def test_sound_design_lists_the_designs_own_errors(weak):
    with pytest.raises(InputError) as caught:
        sound_design(weak)
    codes = [p.message.split()[0] for p in caught.value.problems[1:]]
    assert codes == ["PWR001"] and caught.value.problems[1].path == "power.redundancy"
    assert "rackwright check" in caught.value.problems[0].hint
    assert sound_design(EXAMPLES / "gb200-nvl72.yaml").figures["compute.accelerators"] == 72


def _roadmap(folder: Path, design: Path) -> Path:
    text = (EXAMPLES / "roadmap" / "tight-2027.yaml").read_text().replace("../gb300-nvl72.yaml", str(design))
    path = folder / "roadmap.yaml"
    path.write_text(text)
    return path


def _space(folder: Path, design: Path) -> Path:
    text = (EXAMPLES / "space-gb300-small.yaml").read_text().replace("base: gb300-nvl72.yaml", f"base: {design}")
    path = folder / "space.yaml"
    path.write_text(text)
    return path


DOWNSTREAM = {
    "site plan": lambda d, tmp: ["site", "plan", EXAMPLES / "site-100mw.yaml", "-o", tmp / "site",
                                 "--set", f"target.generations.0.design={d}"],
    "roadmap plan": lambda d, tmp: ["roadmap", "plan", _roadmap(tmp, d)],
    "roadmap risk": lambda d, tmp: ["roadmap", "risk", _roadmap(tmp, d), "--samples", 2],
    "explore": lambda d, tmp: ["explore", _space(tmp, d), "-o", tmp / "explore"],
    "reliability qualify": lambda d, tmp: ["reliability", "qualify", d, EXAMPLES / "qualification-gb200.csv"],
    "reliability job": lambda d, tmp: ["reliability", "job", "--design", d, "--accelerators", 72],
    "reliability spares": lambda d, tmp: ["reliability", "spares", "--design", d, "--racks", 10, "--repair-days", 5],
    "perf train": lambda d, tmp: ["perf", "train", "--model", "llama3-8b", "--system", d, "--global-batch", 72],
    "factory simulate": lambda d, tmp: ["factory", "simulate", EXAMPLES / "line-us.yaml", "--design", d],
    "factory capacity": lambda d, tmp: ["factory", "capacity", EXAMPLES / "line-us.yaml", "--design", d,
                                        "--target", "100/week"],
    "bom": lambda d, tmp: ["bom", d],
    "sourcing whatif": lambda d, tmp: ["sourcing", "whatif", d, EXAMPLES / "sourcing-us-power-cabling.yaml"],
    "sourcing build-date": lambda d, tmp: ["sourcing", "build-date", d, "--order-date", "2026-01-05"],
}


@pytest.mark.parametrize("command", DOWNSTREAM)
def test_downstream_commands_refuse_a_design_that_breaks_its_rules(command, weak, tmp_path):
    result = run(*DOWNSTREAM[command](weak, tmp_path))
    assert result.exit_code == 2, result.output
    assert "PWR001" in result.output and "weak GB200 breaks 1 of its design rules" in result.output
    assert not (tmp_path / "site").exists() and not (tmp_path / "explore").exists()


GB200 = EXAMPLES / "gb200-nvl72.yaml"
LINE = EXAMPLES / "line-us.yaml"
SCENARIO = EXAMPLES / "sourcing-us-power-cabling.yaml"
PERF = ["--model", "llama3-8b", "--system", "dgx-h100-ndr", "--global-batch", 64]
JOB = ["reliability", "job", "--design", GB200, "--accelerators", 72]
SPARES = ["reliability", "spares", "--design", GB200, "--racks", 10, "--repair-days", 5]

#: Each option outside its bounds, and a fragment of the message that refuses it (exit 2, nothing run).
OUT_OF_BOUNDS = {
    "train tokens < 0": (["perf", "train", *PERF, "--train-tokens", -1], "--train-tokens"),
    "train tokens NaN": (["perf", "train", *PERF, "--train-tokens", "nan"], "--train-tokens"),
    "accelerators 1e12": (["perf", "train", *PERF, "--accelerators", 10 ** 12], "--accelerators"),
    "search accelerators": (["perf", "search", *PERF, "--accelerators", 10 ** 12], "--accelerators"),
    "partitions 1e6": (["perf", "search", *PERF, "--partitions", 10 ** 6], "--partitions"),
    "seq len": (["perf", "train", *PERF, "--seq-len", 10 ** 9], "--seq-len"),
    "infer batch": (["perf", "infer", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--batch", 10 ** 9,
                     "--input-tokens", 10, "--output-tokens", 10], "--batch"),
    "integration days 1e308": (["sourcing", "build-date", GB200, "--order-date", "2026-01-05",
                                "--integration-days", "1e308"], "lead time"),
    "integration days < 0": (["sourcing", "build-date", GB200, "--order-date", "2026-01-05",
                              "--integration-days", -1], "lead time"),
    "sourcing racks": (["sourcing", "whatif", GB200, SCENARIO, "--racks", 10 ** 7], "--racks"),
    "sweep of 1e8 steps": (["sourcing", "whatif", GB200, SCENARIO, "--sweep",
                            "substitutions[0].price_change=0:0.3:100000000"], "2 to 1,000 steps"),
    "bom racks": (["bom", GB200, "--racks", 0], "--racks"),
    "job accelerators": ([*JOB[:-1], -5], "--accelerators"),
    "zero storage bandwidth": ([*JOB, "--storage-bandwidth", "0 TB/s"], "0 B/s"),
    "negative storage bandwidth": ([*JOB, "--storage-bandwidth", "-1 TB/s"], "data rate"),
    "checkpoint write inf": ([*JOB, "--checkpoint-write-s", "inf"], "--checkpoint-write-s"),
    "bytes per param": ([*JOB, "--bytes-per-param", 0], "--bytes-per-param"),
    "oversubscription": ([*JOB, "--oversubscription", "nan"], "--oversubscription"),
    "availability": ([*JOB, "--availability", 1], "--availability"),
    "spares racks 1e8": (["reliability", "spares", "--design", GB200, "--racks", 10 ** 8, "--repair-days", 5],
                         "--racks"),
    "repair days 1e300": ([*SPARES[:-1], "1e300"], "--repair-days"),
    "factory weeks": (["factory", "simulate", LINE, "--design", GB200, "--weeks", 10 ** 6], "--weeks"),
    "factory replications": (["factory", "simulate", LINE, "--design", GB200, "--replications", 0], "--replications"),
    "factory warmup NaN": (["factory", "simulate", LINE, "--design", GB200, "--warmup", "nan"], "--warmup"),
    "roadmap samples": (["roadmap", "risk", EXAMPLES / "roadmap-10gw.yaml", "--samples", 10 ** 7], "--samples"),
    "roadmap gap NaN": (["roadmap", "plan", EXAMPLES / "roadmap-10gw.yaml", "--gap", "nan"], "--gap"),
}


@pytest.mark.parametrize("case", OUT_OF_BOUNDS)
def test_options_out_of_bounds_are_refused_before_any_work(case):
    args, fragment = OUT_OF_BOUNDS[case]
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert fragment in _text(result.output)


def _text(output: str) -> str:
    """The output's words, without the boxes and line breaks of Rich's error panel."""
    return " ".join(output.replace("│", " ").split())


def _outputs(tmp: Path, file: Path, folder: Path) -> dict:
    """Each command's output option given ``file`` where a folder is needed or ``folder`` where a file is."""
    return {
        "elevation -o": ["elevation", GB200, "-o", file],
        "bom -o": ["bom", GB200, "-o", file],
        "site plan -o": ["site", "plan", EXAMPLES / "site-100mw.yaml", "-o", file],
        "site cables -o": ["site", "cables", tmp, "--netbox", "-o", file],
        "roadmap plan -o": ["roadmap", "plan", EXAMPLES / "roadmap-10gw.yaml", "-o", file],
        "roadmap risk -o": ["roadmap", "risk", EXAMPLES / "roadmap-10gw.yaml", "-o", file],
        "explore -o": ["explore", EXAMPLES / "space-gb300-small.yaml", "-o", file],
        "explore --export-pareto": ["explore", EXAMPLES / "space-gb300-small.yaml", "-o", tmp / "x",
                                    "--export-pareto", file],
        "factory -o": ["factory", "simulate", LINE, "--design", GB200, "-o", file],
        "reliability -o": [*JOB, "-o", file],
        "sourcing -o": ["sourcing", "whatif", GB200, SCENARIO, "--sweep", "substitutions[0].price_change=0:0.3:3",
                        "-o", file],
        "catalog export-netbox -o": ["catalog", "export-netbox", "nvidia-b200-gb200", "-o", file],
        "below a file": ["elevation", GB200, "-o", file / "rack.svg"],
    }


@pytest.mark.parametrize("command", _outputs(Path(), Path(), Path()))
def test_outputs_of_the_wrong_kind_are_refused_before_any_work(command, tmp_path):
    file, folder = tmp_path / "a-file", tmp_path / "a-folder"
    file.write_text("keep me\n")
    folder.mkdir()
    before = sorted(tmp_path.rglob("*"))
    result = run(*_outputs(tmp_path, file, folder)[command])
    assert result.exit_code == 2, result.output
    assert "is a file" in _text(result.output) or "is a folder" in _text(result.output)
    assert sorted(tmp_path.rglob("*")) == before and file.read_text() == "keep me\n"


def _commands(command, path=()):
    """(path, click command) of every command below ``command``, groups included."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, path + (name,))


COMMANDS = dict(_commands(typer.main.get_command(app)))


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "rackwright")
def test_help_keeps_every_word_of_its_text(path):
    """Every word of a command's docstring and options' help is shown: "[s]", "[days]" and "FIELD[i].name" are
    not Rich markup (the help is stored escaped, ``\\[s]``: the user sees the source text)."""
    command = COMMANDS[path]
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    shown = _text(result.output)
    texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
    for word in " ".join(texts).replace("\b", " ").replace("\\[", "[").split():
        assert word in shown, word
    if path == ("sourcing", "whatif"):  # by hand: the three texts the issue saw eaten
        assert "FIELD[i].name" in shown
    elif path == ("reliability", "spares"):
        assert "[days]" in shown


#: Text options whose value has a shape, by command and option: the metavar their --help shows instead of TEXT.
SHAPED_OPTIONS = {
    ("programme", "whatif", "--set"): "KEY=VALUE",
    ("programme", "whatif", "--replace"): "GEN=FILE",
    ("programme", "whatif", "--sweep"): "KEY=V1,V2,...",
    ("site", "plan", "--set"): "KEY=VALUE",
    ("sourcing", "whatif", "--sweep"): "FIELD=START:STOP:STEPS",
    ("sourcing", "build-date", "--order-date"): "YYYY-MM-DD",
    ("perf", "train", "--recompute-modules"): "MODULE,...",
    ("perf", "search", "--recompute-modules"): "MODULE,...",
    ("perf", "search", "--precisions"): "RECIPE,...",
    ("perf", "search", "--restrict"): "AXIS=V,V",
    ("perf", "search", "--within-scale-up"): "GROUP,...",
    ("factory", "capacity", "--target"): "N/PERIOD",
    ("reliability", "job", "--storage-bandwidth"): "RATE",
    ("reliability", "qualify", "--racks"): "ID,...",
    ("qualify", "--racks"): "ID,...",
    ("serve", "--db"): "URL",
    ("serve", "--host"): "HOST",
    ("push", "--server"): "URL",
    ("pull", "--server"): "URL",
    ("server-admin", "user", "add", "--db"): "URL",
    ("netbox", "push", "--url"): "URL",
    ("netbox", "push", "--token"): "TOKEN",
}


@pytest.mark.parametrize("key", SHAPED_OPTIONS, ids=" ".join)
def test_help_names_the_shape_of_a_text_option(key):
    """``--help`` at 80 columns shows such an option's value as KEY=VALUE, NAME=FILE, URL..., never as TEXT."""
    *path, option = key
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    rows = [re.match(rf"│\s*\*?\s*{re.escape(option)}\s+(\S+)", line) for line in result.stdout.splitlines()]
    assert [m[1] for m in rows if m] == [SHAPED_OPTIONS[key]], result.stdout


#: Whose -o is a file, not a report folder: pull writes the revision's YAML.
O_IS_A_FILE = {("pull",)}


def test_every_report_folder_is_o_or_output():
    """One way to ask for a report (issue 22): every command whose -o names its report folder also takes
    --output (roadmap and programme keep their older --outdir beside it)."""
    folders = {path: param.opts for path, command in COMMANDS.items() for param in getattr(command, "params", [])
               if "-o" in param.opts and path not in O_IS_A_FILE}
    assert len(folders) >= 30, sorted(folders)
    assert {path: opts for path, opts in folders.items() if "--output" not in opts} == {}
    assert "--outdir" in folders[("roadmap", "plan")] and "--outdir" in folders[("programme", "plan")]


def test_perf_search_without_a_valid_configuration_names_the_constraint():
    # 7 is prime, so DP × micro-batch is 1 or 7. DP = 1 needs TP·PP·CP = 1000 = 2³·5³, but TP and CP are powers
    # of two and PP divides Llama 3 8B's 32 layers: no factor 5. DP = 7 does not divide 1000. Nothing is valid.
    result = run("perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", 1000,
                 "--global-batch", 7)
    assert result.exit_code == 2 and "divides the global batch of 7" in _text(result.output)


def test_perf_search_with_nothing_that_fits_says_how_much_memory():
    # Llama 3 405B on 8 H100s: 405e9 parameters × 2 B of bf16 weights alone over 8 GPUs is 101 GB > 80 GiB (85.9 GB;
    # nvidia-smi reports 81,559 MiB for an H100 SXM)
    result = run("perf", "search", "--model", "llama3-405b", "--system", "dgx-h100-ndr", "--accelerators", 8,
                 "--global-batch", 8)
    assert result.exit_code == 1
    text = _text(result.output)
    least = float(text.split("the leanest needs ")[1].split(" GB")[0].replace(",", ""))
    assert least > 405e9 * 2 / 8 / 1e9 and "which has 85.9 GB" in text


def test_perf_refuses_more_accelerators_than_the_racks_hold():
    result = run("perf", "search", "--model", "llama3-8b", "--system", GB200, "--accelerators", 1000,
                 "--global-batch", 72)
    assert result.exit_code == 2 and "more than the 72 of 1 rack(s)" in _text(result.output)
    assert "--racks 14" in _text(result.output)  # ceil(1000 / 72)

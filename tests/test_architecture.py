"""The package's shape: imports run one way (no cycles, counting imports inside functions too), and a design file
is turned into an evaluated rack at the file edges only, once; every model above ``rack/`` receives the rack."""

import ast
from pathlib import Path

import networkx as nx
import pytest

from rackwright.errors import InputError

SRC = Path(__file__).resolve().parents[1] / "src"
EXAMPLES = SRC.parents[0] / "examples"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that ``path`` imports anywhere in its body (``from x import y`` counts ``x.y`` when
    that is a module, else ``x``)."""
    name = module_name(path)
    package = name if path.stem == "__init__" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found |= {f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names}
    return {m for m in found if m in modules and m != name}


def import_graph() -> nx.DiGraph:
    """Module → the package modules it imports; a package's ``__init__`` only re-exports (and the root loads its
    API lazily), so edges out of packages are left out."""
    files = sorted(SRC.rglob("*.py"))
    modules = {module_name(f) for f in files}
    graph = nx.DiGraph()
    for file in files:
        if file.stem != "__init__":
            graph.add_edges_from((module_name(file), target) for target in imported_modules(file, modules))
    return graph


def test_no_import_cycles():
    cycles = list(nx.simple_cycles(import_graph()))
    assert not cycles, "\n".join(" -> ".join(c + [c[0]]) for c in cycles[:10])


# --- one rack, one path: design files become racks at the file edges only -------------------------------------

#: The functions that load, resolve and evaluate a design (from a path or a loaded design) into a rack.
EVALUATORS = {"load_design", "evaluate", "sound_design"}
#: Where they may be called: the rack domain itself and the file edges, which turn a design path into a rack once.
EDGES = {
    "rackwright.rack": "the rack domain",
    "rackwright.cli": "the command line",
    "rackwright.server": "the server, which receives designs as text",
    "rackwright.site.schema": "the site file names its designs",
    "rackwright.roadmap.schema": "the roadmap file names its designs",
    "rackwright.explore.space": "the space file names its base design",
    "rackwright.validation": "a published-figures file names its design",
    "rackwright.fleet.validation": "a validation case names its design",
    "rackwright.perf.api": "perf's --system names a built-in system, a system file or a rack design",
    "rackwright.site.netbox": "a planned site's generations.json names the design files its export mounts",
}


def evaluator_calls(path: Path) -> list[tuple[int, str]]:
    """(line, name) of each call of an evaluator in ``path``, by name or as an attribute (``rackwright.evaluate``)."""
    calls = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name in EVALUATORS:
                calls.append((node.lineno, name))
    return calls


def test_only_the_file_edges_evaluate_a_design():
    """No model above rack/ loads or evaluates a design: it receives the rack a file edge evaluated."""
    found = []
    for file in sorted((SRC / "rackwright").rglob("*.py")):
        name = module_name(file)
        if any(name == edge or name.startswith(edge + ".") for edge in EDGES):
            continue
        found += [f"{file.relative_to(SRC)}:{line} calls {call}" for line, call in evaluator_calls(file)]
    assert not found, "\n".join(found)


def test_the_edge_list_names_modules_that_exist():
    modules = {module_name(f) for f in SRC.rglob("*.py")}
    assert all(edge in modules for edge in EDGES), sorted(set(EDGES) - modules)


def test_the_rule_sees_a_call():
    """The scan finds an evaluator called by name and as an attribute (else the rule above would pass vacuously)."""
    assert [call for _, call in evaluator_calls(SRC / "rackwright" / "cli" / "sourcing.py")] == ["sound_design"]
    assert {call for _, call in evaluator_calls(SRC / "rackwright" / "validation.py")} == {"evaluate"}


def _models():
    from rackwright.fleet import inventory, job_report, spares_report
    from rackwright.fleet.qualify import design_context
    from rackwright.perf.system import system_from_rack

    return {
        "system_from_rack": lambda d: system_from_rack(d),
        "spares_report": lambda d: spares_report(d, 10, 14),
        "job_report": lambda d: job_report(d, 1024),
        "the failure inventory": lambda d: inventory(d),
        "qualify": lambda d: design_context(d),
    }


@pytest.mark.parametrize(
    ("model", "use"),
    [
        ("system_from_rack", "system_from_rack"),
        ("spares_report", "spares_report"),
        ("job_report", "the failure inventory"),  # the job's interruptions come from the rack's failure inventory
        ("the failure inventory", "the failure inventory"),
        ("qualify", "qualify"),
    ],
)
def test_a_model_refuses_a_design_path(model, use):
    with pytest.raises(InputError) as info:
        _models()[model](EXAMPLES / "gb200-nvl72.yaml")
    assert f"{use} takes an evaluated rack, not PosixPath" in str(info.value)


def test_a_model_refuses_a_rack_that_breaks_a_rule():
    """meta-catalina breaks error rules (rackwright check exits 1): nothing is planned with it."""
    import rackwright
    from rackwright.fleet import spares_report

    rack = rackwright.evaluate(EXAMPLES / "meta-catalina.yaml")
    assert rack.errors
    with pytest.raises(InputError) as info:
        spares_report(rack, 10, 14)
    assert f"breaks {len(rack.errors)} of its design rules" in str(info.value)


def test_a_design_named_twice_in_a_site_file_is_evaluated_once(tmp_path, monkeypatch):
    from rackwright.rack import evaluation
    from rackwright.site.schema import load_site

    text = (EXAMPLES / "site-100mw.yaml").read_text(encoding="utf-8")
    design = EXAMPLES / "gb200-nvl72.yaml"
    mix = f"    - {{design: {design}, share: 0.5}}\n    - {{design: examples/gb200-nvl72.yaml, share: 0.5}}\n"
    site = tmp_path / "twice.yaml"
    (tmp_path / "examples").symlink_to(EXAMPLES)  # the second spelling of the same file
    site.write_text(text.replace("    - {design: gb200-nvl72.yaml, share: 1.0}\n", mix), encoding="utf-8")
    chains = []
    real = evaluation._chain
    monkeypatch.setattr(evaluation, "_chain", lambda *a, **k: chains.append(a[0]) or real(*a, **k))
    loaded = load_site(site)
    assert len(chains) == 1
    assert len(loaded.racks) == 2 and loaded.racks[0] is loaded.racks[1]


def test_a_design_named_twice_in_a_roadmap_is_evaluated_once(monkeypatch):
    from rackwright.rack import evaluation
    from rackwright.roadmap.schema import validate_roadmap
    from test_roadmap import small

    data = small(gens=("gb200", "gb300"))
    data["generations"][1]["design"] = "gb200-nvl72.yaml"  # a second generation id on the same rack design
    chains = []
    real = evaluation._chain
    monkeypatch.setattr(evaluation, "_chain", lambda *a, **k: chains.append(a[0]) or real(*a, **k))
    loaded = validate_roadmap(data, "twice.yaml", folder=EXAMPLES)
    assert len(chains) == 1
    assert len(loaded.racks) == 2 and loaded.racks[0] is loaded.racks[1]


def test_nothing_below_the_command_line_imports_it():
    # the CLI is thin over the Python API: a model, report or the server never reaches into rackwright.cli
    # (only the package's entry point, __main__, starts it)
    graph = import_graph()
    upward = [
        (source, target)
        for source, target in graph.edges
        if target.startswith("rackwright.cli") and not source.startswith("rackwright.cli") and source != "rackwright.__main__"
    ]
    assert not upward, upward


def test_the_command_line_and_the_reports_import_no_private_name_of_another_package():
    # a name with a leading underscore is its module's own: cli.common folded help words with report.tables'
    # _breaks until it became the public report.words.break_offsets
    private = []
    for package in ("cli", "report"):
        for path in sorted((SRC / "rackwright" / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level >= 2:
                    private += [(path.name, node.module, a.name) for a in node.names if a.name.startswith("_")]
    assert not private

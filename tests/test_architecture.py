"""The package's shape: imports run one way (no cycles, counting imports inside functions too)."""

import ast
from pathlib import Path

import networkx as nx

SRC = Path(__file__).resolve().parents[1] / "src"


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

"""A plain install (no extras) does what the core commands need: no web framework, database driver, Ray or
browser driver is a core dependency, and the core commands run with those modules absent."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OPTIONAL = ("fastapi", "uvicorn", "sqlalchemy", "alembic", "psycopg", "httpx", "ray", "playwright")
#: Runs the CLI in a fresh interpreter where the optional modules cannot be imported, as after `pip install .`.
BLOCKED_CLI = f"""
import sys
from importlib.abc import MetaPathFinder

class Absent(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {OPTIONAL!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

sys.meta_path.insert(0, Absent())
from rackwright.cli.app import main
sys.argv = ["rackwright", *sys.argv[1:]]
main()
"""


def run_without_extras(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKED_CLI, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)


def test_core_dependencies_hold_no_server_database_ray_or_browser_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"]).lower()
    assert not [name for name in OPTIONAL if name in core]
    assert {"server", "ray", "dev"} <= set(project["optional-dependencies"])


@pytest.mark.parametrize("args", [
    ("check", "examples/gb300-nvl72.yaml"),
    ("evaluate", "examples/gb200-nvl72.yaml", "--json"),
    ("perf", "train", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "64", "--global-batch", "128",
     "--tp", "2"),
    ("roadmap", "plan", "examples/roadmap-10gw.yaml", "--json"),
], ids=["check", "evaluate", "perf-train", "roadmap-plan"])
def test_core_commands_run_without_the_extras(args):
    result = run_without_extras(*args)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_a_command_of_an_extra_names_the_extra_to_install():
    result = run_without_extras("push", "examples/gb300-nvl72.yaml", "--server", "http://127.0.0.1:9")
    assert result.returncode == 2 and "pip install 'rackwright[server]'" in result.stderr
    assert "Traceback" not in result.stderr

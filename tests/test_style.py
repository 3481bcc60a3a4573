"""The code stays linted (ruff) and typed (mypy): run by `make test`, so CI holds the line."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "tool,args",
    [
        ("ruff", ["check", "labelcheck", "tests", "fixtures", "bench"]),
        ("mypy", ["labelcheck"]),
        ("lint-imports", []),  # pyproject.toml's contract: the stages import down the pipeline only
    ],
)
def test_tool_is_clean(tool, args):
    exe = shutil.which(tool, path=str(BIN))
    if exe is None:
        pytest.skip(f"{tool} is not installed")
    p = subprocess.run([exe, *args], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]


PACKAGE = ROOT / "labelcheck"
MAX_TOP_LEVEL_MODULES = 6
MAX_MODULE_LINES = 400


def test_no_import_circle_between_any_two_modules():
    """Not only between stages (the contract): no module imports, even inside a function, one that imports it back."""
    import grimp

    graph = grimp.build_graph("labelcheck")
    circles = [
        (a, b)
        for a in sorted(graph.modules)
        for b in graph.find_modules_directly_imported_by(a)
        if graph.chain_exists(importer=b, imported=a)
    ]
    assert circles == []


def test_the_package_reads_as_the_pipeline_small_modules_in_stage_folders():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}

"""The code stays linted (ruff) and typed (mypy): run by `make test`, so CI holds the line."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "tool,args", [("ruff", ["check", "labelcheck", "tests", "fixtures", "bench"]), ("mypy", ["labelcheck"])]
)
def test_tool_is_clean(tool, args):
    exe = shutil.which(tool, path=str(BIN))
    if exe is None:
        pytest.skip(f"{tool} is not installed")
    p = subprocess.run([exe, *args], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]

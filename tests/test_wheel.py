"""The built wheel carries the schemas and the trust list, and the installed package finds them."""

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT

from labelcheck.classify import generators


def test_wheel_contains_and_finds_the_schemas(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("labelcheck-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "labelcheck/schemas/report.schema.json" in names
    assert "labelcheck/data/c2pa-trust-list/C2PA-TRUST-LIST.pem" in names
    assert "labelcheck/data/c2pa-trust-list/LICENSE" in names
    assert "labelcheck/schemas/policy.schema.json" in names
    assert "labelcheck/schemas/labels/aigc.schema.json" in names
    assert "labelcheck/policy/policies/eu-ai-act-art50.yaml" in names
    assert "labelcheck/extract/exiftool.config" in names
    assert "labelcheck/classify/generators.yaml" in names and "labelcheck/schemas/generators.schema.json" in names
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    code = (
        "import labelcheck, labelcheck.resources as r, labelcheck.policy.load as p; print(labelcheck.__file__); "
        "print(r.schemas_dir()); print(r.schema('report')['title']); print(r.trust_list_pem().is_file()); "
        "print(len(p.load('broadcast-gate').rules)); "
        "from labelcheck.classify import generators as g; print(g.__file__); print(len(g.load()))"
    )
    # The test venv's own packages stay importable; PYTHONPATH puts the wheel's labelcheck before the checkout.
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    ).stdout.splitlines()
    assert out[0].startswith(str(site))  # the wheel's copy, not the checkout
    assert Path(out[1]) == site / "labelcheck" / "schemas"
    assert out[2:5] == ["labelcheck report", "True", "5"]
    assert out[5].startswith(str(site)) and int(out[6]) == len(generators.load())  # the registry, validated, loads

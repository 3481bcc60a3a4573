"""The fuzz harness (`make fuzz`, fuzz/) works: mutants are a function of the seed, a tiny mutation fuzz runs end to end
through the real command line, and the HTTP fuzz refuses to run outside a network namespace with loopback alone (and,
where one can be made, runs a tiny round inside it)."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys

import pytest
from conftest import MEDIA, ROOT

from fuzz import mutations, netns
from fuzz.mutate import make_mutants, make_one, sources


def _digests(d):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


def test_mutants_are_a_function_of_the_seed(tmp_path):
    srcs = sources()
    a = make_mutants(tmp_path / "a", 1, 40, srcs)
    b = make_mutants(tmp_path / "b", 1, 40, srcs)
    assert a == b
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    # any one mutant can be made again alone, and another seed makes other mutants
    m, data = make_one(1, 17, srcs)
    assert m == a[17] and hashlib.sha256(data).hexdigest() == a[17].sha256
    other = make_mutants(tmp_path / "c", 2, 40, srcs)
    assert [m.sha256 for m in other] != [m.sha256 for m in a]
    # the mutations themselves: the same generator state, the same bytes
    data = (MEDIA / "plain_camera.jpg").read_bytes()
    spliced = (MEDIA / "png_comfyui.png").read_bytes()
    runs = [mutations.mutate(data, spliced, random.Random(7)) for _ in range(2)]
    assert runs[0] == runs[1] and runs[0][0] != data


def test_length_fields_of_the_known_containers():
    """The container-aware mutation finds the length fields it is meant to corrupt."""
    kinds = {
        "plain_camera.jpg": "jpeg:",
        "png_comfyui.png": "png:",
        "plain_video.mp4": "bmff:",
        "riff_aigc.wav": "riff:",
        "id3_aigc.mp3": "id3",
        "c2pa_fully_ai.jpg": "jumbf:",
    }
    for name, prefix in kinds.items():
        fields = mutations.length_fields((MEDIA / name).read_bytes())
        assert any(f.what.startswith(prefix) for f in fields), (name, [f.what for f in fields][:10])


def test_mutation_fuzz_end_to_end(tmp_path):
    """12 mutants of seed 1 through `labelcheck check` as a real process: every target met, every mutant reported."""
    p = subprocess.run(
        [sys.executable, "-m", "fuzz.mutate", "--seed", "1", "--n", "12", "--out", str(tmp_path), "--cap", "120",
         "--json", str(tmp_path / "figures.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    figures = {f["name"]: f for f in json.loads((tmp_path / "figures.json").read_text())}
    assert figures["dropped items"]["value"] == "0"
    assert figures["tracebacks (output + stderr)"]["value"] == "0"
    assert all(f["ok"] is not False for f in figures.values())
    results = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len([r for r in results if r["type"] == "result"]) == 12
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["seed"] == 1 and len(manifest["mutants"]) == 12
    assert "dropped items" in p.stdout and "peak memory per item" in p.stdout


@pytest.mark.skipif(netns.interfaces() == ["lo"], reason="this namespace has loopback alone: nothing to refuse")
def test_http_fuzz_refuses_to_run_unisolated(tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "fuzz.http", "--requests", "1", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert p.returncode != 0
    assert "refusing to run the HTTP fuzz" in p.stderr
    assert not (tmp_path / "server.log").exists()


def _unshare() -> list[str] | None:
    """An unshare command that makes a network namespace here (as root, or in a user namespace), or None."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return None
    for cmd in (["unshare", "-n"], ["unshare", "-r", "-n"]):
        if subprocess.run([*cmd, "true"], capture_output=True, timeout=10, check=False).returncode == 0:
            return cmd
    return None


@pytest.mark.skipif(_unshare() is None, reason="no network namespace can be made here (unshare)")
def test_http_fuzz_tiny_round_in_a_namespace(tmp_path):
    """10 schemathesis requests and the hostile cases against a real `labelcheck serve`, inside `unshare -n`: the
    harness runs, its positive control is fetched (so '0 non-public addresses fetched' means something), and it writes
    every figure. Whether the server meets each target is `make fuzz`'s verdict, not this test's."""
    unshare = _unshare()
    assert unshare is not None
    run = f"{sys.executable} -m fuzz.http --requests 10 --out {tmp_path} --json {tmp_path}/f"
    script = f"ip link set lo up && exec {run}"
    p = subprocess.run(
        [*unshare, "sh", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    assert p.returncode in (0, 1), p.stdout[-3000:] + p.stderr[-3000:]
    figures = {f["name"]: f for f in json.loads((tmp_path / "f").read_text())}
    assert figures["positive control: public stand-in fetched"]["ok"] is True, p.stdout[-3000:]
    assert int(figures["requests with the token (schemathesis)"]["value"].split()[0]) == 10
    for name in ("server errors (5xx)", "auth bypasses (not 401)", "non-public addresses fetched"):
        assert name in figures


def test_the_mutation_fuzz_sees_what_it_must(tmp_path):
    """The analysis counts a dropped item, a doubled one, a traceback, an undefined exit code and a hang."""
    from fuzz.mutate import Run, analyse
    from fuzz.procs import Peaks

    mutants = make_mutants(tmp_path, 3, 4, sources())
    line = {"type": "result", "status": "pass", "errors": []}
    lines = [json.dumps({**line, "target": str(tmp_path / m.name)}) for m in mutants[:3]]
    lines.append(lines[0])
    peaks = Peaks(worker_pss={1: 2 << 20})  # a worker at 2 GB
    run = Run(70, 9.0, True, "Traceback (most recent call last):\n  boom", lines, peaks, 0)
    figures = {f.name: f for f in analyse(mutants, tmp_path, run, 5.0, 3).figures}
    for name in ("dropped items", "items reported twice or unknown", "tracebacks (output + stderr)", "exit code",
                 "hangs (run over its cap)", "peak memory per item: worker + its tools (PSS)"):  # fmt: skip
        assert figures[name].ok is False, name


def test_a_run_over_its_cap_is_stopped_and_counted(tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "fuzz.mutate", "--seed", "1", "--n", "4", "--out", str(tmp_path), "--cap", "0.2",
         "--json", str(tmp_path / "figures.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert p.returncode == 1, p.stdout[-2000:] + p.stderr[-2000:]
    figures = {f["name"]: f for f in json.loads((tmp_path / "figures.json").read_text())}
    assert figures["hangs (run over its cap)"]["value"] == "1"
    assert figures["processes left after the run"]["value"] == "0"

"""What `labelcheck label` costs against exiftool doing the same writes (`make bench`): 100 JPEGs made by ffmpeg,
labelled fully_ai (IPTC DigitalSourceType). Three figures: exiftool alone (one process writing all 100 copies),
label's write step in-process (write.write per file: the write, then exiftool reading every field back), and the
whole command as a user runs it (start-up, writes, and the re-check of every output with the policy)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from labelcheck.label import tool, write

TERM = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
N = 100


def _best(f, rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def report(out: Path) -> None:
    src = out / "label-in"
    if not src.is_dir() or len(list(src.glob("*.jpg"))) != N:
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=640x480:r=1", "-frames:v",
                        str(N), "-q:v", "3", str(src / "img%03d.jpg")], check=True, timeout=300)  # fmt: skip
    files = sorted(src.glob("*.jpg"))
    dst = out / "label-out"

    def fresh() -> None:
        shutil.rmtree(dst, ignore_errors=True)
        dst.mkdir()

    def alone() -> None:
        fresh()
        subprocess.run(["exiftool", "-q", "-o", f"{dst}/", f"-XMP-iptcExt:DigitalSourceType={TERM}", *map(str, files)],
                       check=True, timeout=300)  # fmt: skip

    req = write.LabelRequest("fully_ai", ("iptc",))

    def step() -> None:
        fresh()
        for f in files:
            write.write(f, dst / f.name, "image/jpeg", req)
        tool.close()  # as a label run does: no exiftool left behind

    def command() -> None:
        shutil.rmtree(dst, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "labelcheck", "label", "--as", "fully_ai", "--output-dir", str(dst),
                        str(src)], check=True, capture_output=True, timeout=600)  # fmt: skip

    a, w, c = _best(alone), _best(step), _best(command)
    print(
        f"label {N} JPEGs: exiftool alone {a:.2f} s; label's write step {w:.2f} s ({w / a:.1f}x, "
        f"{1000 * w / N:.1f} ms a file, read-back included; target <= 2x); the whole command {c:.2f} s "
        f"({c / a:.1f}x: start-up and the re-check of every output included)"
    )


if __name__ == "__main__":
    report(Path(__file__).resolve().parent / "out")

"""What reading the pixels costs in a batch (`make bench`, after the throughput figures): milliseconds per 1080p still
and per minute of 1080p video with --read-pixels against the same run without it, and the ratio of the whole
benchmark list with pixels on to the same list with them off. The media are made by ffmpeg (lavfi test sources,
half the stills with a drawn label) and kept in bench/out."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
STILLS = 20
SOURCES = ("testsrc2", "smptehdbars", "mandelbrot", "cellauto=rule=110", "life=ratio=0.3")
ROUNDS = 2  # best of: each still run costs ~15 s


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=600)


def media(out: Path) -> tuple[list[Path], Path]:
    """STILLS 1920x1080 JPEGs (every other one labelled 'AI-generated' in a corner) and a 60-s 1080p H.264 video."""
    stills = []
    for i in range(STILLS):
        path = out / f"still{i:02d}.jpg"
        stills.append(path)
        if path.exists():
            continue
        src = SOURCES[i % len(SOURCES)]
        vf = "scale=1920:1080"
        if i % 2 and FONT.exists():
            vf += (
                f",drawtext=fontfile={FONT}:text='AI-generated':fontsize=56:fontcolor=white:box=1:"
                "boxcolor=black@0.6:boxborderw=14:x=w-tw-60:y=h-th-60"
            )
        lavfi = f"{src}{':' if '=' in src else '='}s=1920x1080"
        _ffmpeg("-f", "lavfi", "-i", lavfi, "-frames:v", "1", "-vf", vf, "-q:v", "3", str(path))
    video = out / "minute-1080p.mp4"
    if not video.exists():
        _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=25:d=60", "-c:v", "libx264", "-preset", "ultrafast",
                "-pix_fmt", "yuv420p", str(video))  # fmt: skip
    return stills, video


Run = Callable[..., tuple[float, object, float]]


def _best(run: Run, lst: Path, workers: int, extra: tuple[str, ...], rounds: int) -> tuple[float, float]:
    """(wall, CPU) of the fastest of `rounds` runs."""
    got = [run(lst, workers, extra) for _ in range(rounds)]
    wall, _, cpu = min(got, key=lambda r: r[0])
    return wall, cpu


def report(run: Run, out: Path, items_list: Path, items: int, cores: int) -> None:
    stills, video = media(out)
    lst, vlst = out / "stills.txt", out / "minute.txt"
    lst.write_text("".join(f"{p}\n" for p in stills))
    vlst.write_text(f"{video}\n")
    on, off = ("--read-pixels",), ("--no-read-pixels",)
    s_on, s_on_cpu = _best(run, lst, 1, on, ROUNDS)
    s_off, s_off_cpu = _best(run, lst, 1, off, ROUNDS)
    per_still, per_still_cpu = (s_on - s_off) / len(stills), (s_on_cpu - s_off_cpu) / len(stills)
    print(
        f"pixels on, {len(stills)} 1080p stills, 1 worker: {s_on:.2f} s against {s_off:.2f} s off: "
        f"{1000 * per_still:.0f} ms wall, {1000 * per_still_cpu:.0f} ms CPU per still (target: <= 1 s of OCR)"
    )
    v_on, v_on_cpu = _best(run, vlst, 1, on, ROUNDS)
    v_off, v_off_cpu = _best(run, vlst, 1, off, ROUNDS)
    print(
        f"pixels on, a minute of 1080p video, 1 worker: {v_on - v_off:.2f} s wall, {v_on_cpu - v_off_cpu:.2f} s CPU "
        f"over the run without (its first 3 s at 2 frames/s and 3 frames of the rest; target: first 3 s <= 2 s)"
    )
    b_on, _ = _best(run, items_list, cores, on, 1)
    b_off, _ = _best(run, items_list, cores, off, 1)
    print(
        f"pixels on, the {items} benchmark items with {cores} workers: {b_on:.2f} s against {b_off:.2f} s off: "
        f"ratio {b_on / b_off:.2f}x ({items / b_on:.1f} items/s)"
    )

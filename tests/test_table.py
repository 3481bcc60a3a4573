"""`check --format table`, the report a person reads: it fits the terminal (or COLUMNS, or 80), names items as they
were typed and never cuts a name mid-word, says each error once, and shares the terminal with the progress bar."""

import fcntl
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time

from conftest import MEDIA, ROOT, run_cli
from rich.cells import cell_len

SGR = re.compile(r"\x1b\[[0-9;]*m")  # a colour or style
ROW = re.compile(r"^(pass|fail|error) ")


def table(*args, columns=None, cwd=ROOT):
    """The table `check` prints to a pipe, with COLUMNS set to `columns` (or unset)."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    p = run_cli("check", "--format", "table", *args, env=env, cwd=cwd)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def widest(text):
    return max(cell_len(line) for line in text.splitlines())


def on_terminal(*args, columns=80, env=(), stdout=None, timeout=120):
    """All a terminal of `columns` columns shows of `labelcheck ARGS` run in it (stdout to the file `stdout` when
    given), with "\\r\\n" as "\\n"."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
    environ.update({"TERM": "xterm-256color", **dict(env)})
    out = open(stdout, "w") if stdout else None  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "labelcheck", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=out or slave,
        stderr=slave,
        cwd=ROOT,
        env=environ,
    )
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every end of the terminal closed
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None and not select.select([master], [], [], 0.2)[0]:
                break
        assert proc.wait(10) is not None
    finally:
        os.close(master)
        if out:
            out.close()
    return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def test_two_items_at_80_columns_are_named_whole_and_as_typed():
    """The done-when of the table: 147 columns wide with COLUMNS=80, and /abs/.../fixtures/media/... for
    fixtures/media/...; now it fits and both names are whole, relative as typed."""
    p = table("fixtures/media/xmp_virtual_recording.mp4", "fixtures/media/xmp_composite_https.png", columns=80)
    assert widest(p.stdout) <= 80, p.stdout
    lines = [line.strip() for line in p.stdout.splitlines()]
    for name in ("xmp_virtual_recording.mp4", "xmp_composite_https.png"):
        # broken after its directory, never inside the name
        assert any(line.startswith(name) or f"fixtures/media/{name}" in line for line in lines), p.stdout
    assert str(ROOT) not in p.stdout and "fixtures/media/" in p.stdout
    assert p.stdout.rstrip().splitlines()[-1] == "2 items: 2 pass, 0 fail, 0 error"


def test_a_directory_at_80_columns_keeps_every_name_whole(tmp_path):
    """The fixtures directory was 160 columns wide with names folded mid-word over two lines (…/bad_label_c2pa_acti
    | on.jpg); at 80 columns each name is whole, on a line of its own when the path does not fit."""
    p = table("fixtures/media", "--report", f"json={tmp_path / 'r.json'}", columns=80)
    assert widest(p.stdout) <= 80, p.stdout
    names = [os.path.basename(r["target"]) for r in json.loads((tmp_path / "r.json").read_text())["results"]]
    lines = [line.split() for line in p.stdout.splitlines()]
    shown = {word for words in lines for word in words}
    assert len(names) > 40 and all(n in shown or f"fixtures/media/{n}" in shown for n in names), p.stdout
    assert "…" not in p.stdout and str(ROOT) not in p.stdout
    assert sum(bool(ROW.match(line)) for line in p.stdout.splitlines()) == len(names)  # one row per item


def test_items_are_named_as_typed_while_the_json_report_keeps_absolute_targets(tmp_path):
    """A relative glob, a './' path and an absolute path, each named in the table as typed; the JSON written from
    the same run (what --resume matches) still names absolute paths."""
    typed = ["fixtures/media/*comfy*", "./fixtures/media/xmp_capture.jpg", str(MEDIA / "xmp_fully_ai.jpg")]
    p = table(*typed, "--report", f"json={tmp_path / 'r.json'}", columns=200)
    items = [line.split()[1] for line in p.stdout.splitlines() if ROW.match(line)]  # one line per item when wide
    assert items == [
        "fixtures/media/png_comfyui.png",
        "./fixtures/media/xmp_capture.jpg",
        str(MEDIA / "xmp_fully_ai.jpg"),
    ]
    targets = [r["target"] for r in json.loads((tmp_path / "r.json").read_text())["results"]]
    assert targets == [str(MEDIA / n) for n in ("png_comfyui.png", "xmp_capture.jpg", "xmp_fully_ai.jpg")]


def test_columns_is_honoured_when_piped_and_80_is_the_default():
    """A pipe has no width: COLUMNS says it, else 80 (the table was 160 wide whatever COLUMNS said)."""
    narrow, unset, wide = (table("fixtures/media", columns=c).stdout for c in (60, None, 200))
    assert widest(narrow) <= 60 and widest(unset) <= 80, (narrow, unset)
    # wide enough for a line per item: a column per field, no path broken
    assert 80 < widest(wide) <= 200
    assert all(ROW.match(line) or not line.startswith(" " * 8) for line in wide.splitlines()[2:]), wide


def test_a_name_longer_than_its_column_is_shortened_in_its_middle(tmp_path):
    """Only a name longer than the whole column gives way, in its middle ('…'), its start and its extension kept;
    it was folded mid-word over several lines. Wide (CJK) characters count as two columns."""
    long = "a_master_render_of_the_evening_news_opening_titles_for_the_archive_" + "z" * 20 + "_final.jpg"
    cjk = "人工智能生成的新闻片头画面最终版本用于存档和广播的副本" + ".jpg"
    for name in (long, cjk):
        shutil.copy(MEDIA / "xmp_fully_ai.jpg", tmp_path / name)
    shutil.copy(MEDIA / "png_comfyui.png", tmp_path / "short.png")
    p = table(long, cjk, "short.png", columns=80, cwd=tmp_path)
    assert widest(p.stdout) <= 80, p.stdout
    assert long not in p.stdout and cjk not in p.stdout
    cut = [line.split()[1] for line in p.stdout.splitlines() if "…" in line]
    assert len(cut) == 2, p.stdout
    assert cut[0].startswith("a_master_rend") and cut[0].endswith("_final.jpg")
    assert cut[1].startswith("人工智能") and cut[1].endswith(".jpg")
    assert "short.png" in p.stdout.split()  # a name that fits is whole


def test_findings_name_the_rules_and_each_error_is_said_once():
    """A missing file's error was said twice (the 'not checked' finding repeated the input error); the detail column
    held whole messages. Now the findings column names rules, and each error is printed once, under the table."""
    p = table("nosuch.jpg", "fixtures/media/bad_garbage.mp4", "fixtures/media/png_comfyui.png", columns=80)
    out = p.stdout
    assert out.count("no such file") == 1 and "nosuch.jpg: input: no such file" in out, out
    assert out.count("File format error") == 1 and out.count("could not be parsed for C2PA") == 1, out
    assert "no such file" not in p.stderr
    assert "ai-label-standard" in out and "without a standard" not in out  # the rule, not what it says
    assert widest(out) <= 80
    assert out.rstrip().splitlines()[-1] == "3 items: 0 pass, 1 fail, 2 error"


def test_on_a_terminal_the_bar_is_cleared_before_the_table_and_not_drawn_after_it():
    """The progress bar's last line was drawn again below the table; now it is erased before the table and the
    table is the last thing on the terminal."""
    out = on_terminal("check", "--progress", "fixtures/media/png_comfyui.png", "nosuch.jpg")
    start = out.index("status")
    assert "items/s" in out[:start], out  # the bar was shown
    assert "items/s" not in out[start:] and "checking" not in out[start:], out
    assert "\x1b[2K" in out[out.rindex("items/s", 0, start) : start]  # and erased
    assert SGR.sub("", out).rstrip().splitlines()[-1] == "2 items: 0 pass, 1 fail, 1 error"


def test_on_a_terminal_the_table_fits_its_width_and_has_colour_unless_no_color():
    """The terminal's own width (no COLUMNS): 80 and 150 columns; colour there, and none with NO_COLOR set to
    anything but the empty string (no-color.org)."""
    narrow = on_terminal("check", "--no-progress", "fixtures/media", columns=80)
    wide = on_terminal("check", "--no-progress", "fixtures/media", columns=150)
    assert widest(SGR.sub("", narrow)) <= 80 and 80 < widest(SGR.sub("", wide)) <= 150
    assert re.search(r"\x1b\[[0-9;]*mfail", narrow), narrow
    plain = on_terminal("check", "--no-progress", "fixtures/media/png_comfyui.png", env={"NO_COLOR": "1"})
    assert "fail" in plain and "\x1b[" not in plain, plain
    empty = on_terminal("check", "--no-progress", "fixtures/media/png_comfyui.png", env={"NO_COLOR": ""})
    assert re.search(r"\x1b\[[0-9;]*mfail", empty), empty


def test_a_report_redirected_to_a_file_is_not_caught_by_the_bar_on_the_terminal(tmp_path):
    """With the bar on a terminal, `check --format jsonl > file` wrote the results onto the terminal (the bar's
    console took standard output) and left the file empty."""
    out = tmp_path / "r.jsonl"
    shown = on_terminal("check", "--progress", "--format", "jsonl", "fixtures/media/png_comfyui.png", stdout=out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["type"] for d in lines] == ["run", "result", "summary"], out.read_text()
    assert '"type"' not in shown and "items/s" in shown  # the terminal shows the bar only

"""The documentation: README.md and docs/ (the MkDocs site). Every shell and YAML example is run or validated, so
that none goes stale; the README's 30-second example is run for real and its output compared with the README
(`pytest --update-golden` rewrites it from the real output)."""

from __future__ import annotations

import copy
import glob
import importlib.util
import os
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from conftest import ROOT, run_cli
from markdown_it import MarkdownIt

from labelcheck import cli, resources
from labelcheck.policy import load as policy
from labelcheck.policy import waivers as waivers_mod
from labelcheck.render import document as report_mod

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
README_LIMIT = 10 * 1024  # bytes: the README is the front door, the docs/ pages hold the rest
EXAMPLE_MARK = "<!-- example-output"  # the README's fenced output block follows this comment
SHELL = {"sh", "bash", "shell", "console"}
LANGUAGES = SHELL | {"yaml", "toml", "text"}
RUN_OK = {"check": {0, 1, 5}, "explain": {0, 1, 5}}  # exit codes of a check that ran as it should; others: 0


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    end: int  # 0-based line after the closing fence
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def name(self) -> str | None:
        """The file a YAML example stands for, from its first line (`# house.yaml`), for the shell examples."""
        m = re.match(r"#\s*([\w.-]+\.ya?ml)\b", self.text)
        return m.group(1) if m else None


def blocks(page: Path) -> list[Block]:
    tokens = MarkdownIt("commonmark").parse(page.read_text(encoding="utf-8"))
    out = []
    for t in tokens:
        if t.type in ("fence", "code_block") and t.map:
            out.append(Block(page, t.map[0] + 1, t.map[1], t.info.strip().split(" ")[0], t.content))
    return out


ALL = [b for p in PAGES for b in blocks(p)]


# ---------------------------------------------------------------- shell: command lines


def command_lines(text: str) -> list[str]:
    """Logical lines: backslash continuations joined, blank lines and whole-line comments dropped."""
    out, cur = [], ""
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        cur += line
        if cur.strip() and not cur.strip().startswith("#"):
            out.append(cur.strip())
        cur = ""
    return out


def segments(line: str) -> list[tuple[list[str], bool]]:
    """The simple commands of a line (split at |, &&, ||, ;), each with whether it is part of a pipeline."""
    lex = shlex.shlex(line, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    tokens = list(lex)
    out: list[list[str]] = [[]]
    seps: list[str] = []
    for tok in tokens:
        if tok in ("|", "&&", "||", ";"):
            out.append([])
            seps.append(tok)
        else:
            out[-1].append(tok)
    piped = [False] * len(out)
    for i, sep in enumerate(seps):
        if sep == "|":
            piped[i] = piped[i + 1] = True
    result = []
    for argv, in_pipe in zip(out, piped, strict=True):
        while argv and re.match(r"^[A-Z_][A-Z0-9_]*=", argv[0]):  # VAR=value before the command
            argv = argv[1:]
        if argv:
            result.append((argv, in_pipe))
    return result


SHELL_COMMANDS = [
    pytest.param(b, argv, piped, id=f"{b.where}:{' '.join(argv)[:60]}")
    for b in ALL
    if b.lang in SHELL
    for line in command_lines(b.text)
    for argv, piped in segments(line)
]


def _relaxed(cmd: click.Command) -> click.Command:
    """The command with file and path parameters taking any string: the example's own files need not exist."""
    new = copy.copy(cmd)
    params = []
    for p in cmd.params:
        if isinstance(p.type, click.File | click.Path):
            p = copy.copy(p)
            p.type = click.STRING
        params.append(p)
    new.params = params
    return new


def parse(argv: list[str], relaxed: bool = True) -> tuple[click.Command, click.Context]:
    """`labelcheck ARGS` parsed by the real command tree (options, choices, ranges, dates, arguments), not run."""
    group: click.Command = cli.main
    ctx = group.make_context("labelcheck", list(argv))
    while isinstance(group, click.Group):
        protected = ctx._protected_args if hasattr(ctx, "_protected_args") else ctx.protected_args  # click < 8.2
        args = [*protected, *ctx.args]
        assert args, f"no subcommand in labelcheck {shlex.join(argv)}"
        sub = group.get_command(ctx, args[0])
        assert sub is not None, f"no such command: labelcheck {args[0]}"
        ctx = (_relaxed(sub) if relaxed else sub).make_context(args[0], args[1:], parent=ctx)
        group = sub
    return group, ctx


def _absolute(argv: list[str], workdir: Path) -> list[str]:
    """Paths of the repository (fixtures/...) made absolute, so that the example runs in `workdir`."""
    out = []
    for tok in argv:
        if not tok.startswith("-") and "://" not in tok and not (workdir / tok).exists():
            if (ROOT / tok).exists() or glob.glob(str(ROOT / tok), recursive=True):
                tok = str(ROOT / tok)
        out.append(tok)
    return out


def runnable(argv: list[str], piped: bool, workdir: Path) -> list[str] | None:
    """The arguments to run an example with, or None when it may only be parsed: a pipeline, a service, anything
    naming a network address or a cluster, or a check of files that do not exist."""
    if piped or argv[0] in ("watch", "serve") or "--scheduler" in argv or any("://" in a for a in argv):
        return None
    args = _absolute(argv, workdir)
    old = Path.cwd()
    try:
        os.chdir(workdir)
        cmd, ctx = parse(args, relaxed=False)  # files the options need (FILE, --waivers, ...) must be there
    except click.ClickException:
        return None
    finally:
        os.chdir(old)
    if cmd.name in ("check", "explain"):
        for path in ctx.params["paths"]:
            p = Path(path) if Path(path).is_absolute() else workdir / path
            if not (p.exists() or glob.glob(str(p), recursive=True)):
                return None
    return args


def named_files(page: Path, workdir: Path) -> None:
    """The page's YAML examples that name their file (`# house.yaml`), written where its shell examples run."""
    for b in blocks(page):
        if b.lang == "yaml" and b.name:
            (workdir / b.name).write_text(b.text, encoding="utf-8")


def _make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M))


def _api_routes() -> list[re.Pattern[str]]:
    source = (ROOT / "labelcheck" / "service" / "server" / "app.py").read_text(encoding="utf-8")
    paths = re.findall(r'@app\.(?:get|post)\(\s*"([^"]+)"', source)
    return [re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p)) + "$") for p in paths]


def _extras() -> set[str]:
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(doc["project"]["optional-dependencies"])


def _outputs(args: list[str]) -> list[str]:
    """The files a check example writes: -o FILE, --report FORMAT=FILE, --evidence-dir DIR."""
    out = []
    for opt, value in zip(args, args[1:], strict=False):
        if opt in ("-o", "--output", "--evidence-dir"):
            out.append(value)
        elif opt == "--report":
            out.append(value.split("=", 1)[1])
    return out


@pytest.mark.parametrize(("block", "argv", "piped"), SHELL_COMMANDS)
def test_shell_example(block, argv, piped, tmp_path):
    prog, args = argv[0], argv[1:]
    if prog == "labelcheck":
        parse(args)  # every subcommand, option and value exists (raises click's own error otherwise)
        named_files(block.page, tmp_path)
        run = runnable(args, piped, tmp_path)
        if run is None:
            return  # parsed only: it needs the network, a server, a cluster or the user's files
        p = run_cli(*run, cwd=tmp_path, env={**os.environ, "COLUMNS": "80"}, timeout=120)
        assert p.returncode in RUN_OK.get(args[0], {0}), (block.where, argv, p.returncode, p.stderr[-2000:])
        assert "Traceback" not in p.stderr, (block.where, p.stderr)
        for written in _outputs(args):
            assert (tmp_path / written).exists(), (block.where, written)
    elif prog == "make":
        assert set(args) <= _make_targets(), (block.where, args)
    elif prog == "dask":
        from distributed.cli import dask_scheduler, dask_worker

        command = {"scheduler": dask_scheduler.main, "worker": dask_worker.main}[args[0]]
        command.make_context(f"dask {args[0]}", args[1:])  # parsed by distributed's own CLI, never started
    elif prog == "curl":
        urls = [a for a in args if "://" in a and not a.startswith("{")]
        assert urls, (block.where, argv)
        routes = _api_routes()
        for url in urls:
            m = re.match(r"https?://(127\.0\.0\.1|localhost)(:\d+)?(/[^?]*)", url)
            assert m, f"{block.where}: a curl example talks to the local API: {url}"
            assert any(r.match(m.group(3)) for r in routes), f"{block.where}: no API route {m.group(3)}"
    elif prog == "pip":
        assert args[0] == "install", (block.where, argv)
        for req in args[1:]:
            m = re.fullmatch(r"labelcheck(?:\[([\w,-]+)\])?", req)
            assert m, (block.where, req)
            assert set(filter(None, (m.group(1) or "").split(","))) <= _extras(), (block.where, req)
    elif prog == "find":
        pass  # the standard tool feeding --from-list -
    else:
        pytest.fail(f"{block.where}: no check for shell examples of {prog!r}: add one to tests/test_docs.py")


PIPELINES = [
    pytest.param(b, line, id=f"{b.where}:{line[:60]}")
    for b in ALL
    if b.lang in SHELL
    for line in command_lines(b.text)
    if [argv[0] for argv, _ in segments(line)] == ["find", "labelcheck"]
]


@pytest.mark.parametrize(("block", "line"), PIPELINES)
def test_find_pipeline_example_runs(block, line, tmp_path):
    """`find fixtures/... | labelcheck check --from-list - ...`: local files only, so it runs as written."""
    (find, _), (argv, _) = segments(line)
    found = subprocess.run(_absolute(find, tmp_path), capture_output=True, text=True, check=True, timeout=30)
    assert found.stdout.strip(), (block.where, "find found nothing")
    p = subprocess.run(
        [sys.executable, "-m", "labelcheck", *argv[1:]],
        input=found.stdout,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert p.returncode in RUN_OK[argv[1]], (block.where, p.returncode, p.stderr[-2000:])
    for written in _outputs(argv[1:]):
        assert (tmp_path / written).exists(), (block.where, written)


# ---------------------------------------------------------------- YAML and TOML


def _github_steps(doc: list[Any], block: Block) -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    ours = [s for s in doc if str(s.get("uses", "")).startswith("labelcheck/labelcheck@")]
    assert ours, f"{block.where}: a workflow example uses the action"
    for step in ours:
        given = set(step.get("with", {}))
        assert given <= set(action["inputs"]), (block.where, given - set(action["inputs"]))
        required = {k for k, v in action["inputs"].items() if v.get("required")}
        assert required <= given, (block.where, required - given)
        for upload in (s for s in doc if "upload-sarif" in str(s.get("uses", ""))):
            sarif = step.get("with", {}).get("sarif", action["inputs"]["sarif"]["default"])
            assert upload["with"]["sarif_file"] == sarif, block.where


def _gitlab_job(job: dict[str, Any], block: Block) -> None:
    for line in [*job.get("before_script", []), *job["script"]]:
        for argv, _ in segments(line):
            if argv[0] == "labelcheck":
                parse(argv[1:])
            elif argv[0] == "pip":
                assert argv[1:] == ["install", "labelcheck"], (block.where, argv)


def _pre_commit(doc: dict[str, Any], block: Block) -> None:
    hooks = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    ids = [h["id"] for repo in doc["repos"] for h in repo["hooks"]]
    assert ids and set(ids) <= hooks, (block.where, ids)
    for hook in hooks:  # the comment names the other hook
        assert hook in block.text, (block.where, hook)


YAML_BLOCKS = [pytest.param(b, id=b.where) for b in ALL if b.lang == "yaml"]


@pytest.mark.parametrize("block", YAML_BLOCKS)
def test_yaml_example(block, tmp_path):
    doc = yaml.safe_load(block.text)
    path = tmp_path / (block.name or "example.yaml")
    path.write_text(block.text, encoding="utf-8")
    if isinstance(doc, dict) and "waivers" in doc:
        assert waivers_mod.load(path), block.where  # schemas/waivers.schema.json, dates, as --waivers reads it
    elif isinstance(doc, dict) and "rules" in doc:
        resources.validator("policy")  # the schema exists; the command applies it, then extends, checks, options
        p = run_cli("policy", "validate", path)
        assert p.returncode == 0, (block.where, p.stdout, p.stderr)
    elif isinstance(doc, dict) and "repos" in doc:
        _pre_commit(doc, block)
    elif isinstance(doc, list) and all(isinstance(s, dict) and ("uses" in s or "run" in s) for s in doc):
        _github_steps(doc, block)
    elif isinstance(doc, dict) and all(isinstance(j, dict) and "script" in j for j in doc.values()):
        for job in doc.values():
            _gitlab_job(job, block)
    else:
        pytest.fail(f"{block.where}: a YAML example of no known kind: add its check to tests/test_docs.py")


@pytest.mark.parametrize("block", [pytest.param(b, id=b.where) for b in ALL if b.lang == "toml"])
def test_toml_example_is_a_valid_service_configuration(block):
    errors = list(resources.validator("config").iter_errors(tomllib.loads(block.text)))
    assert not errors, (block.where, [e.message for e in errors])


def test_every_example_has_a_known_language():
    for b in ALL:
        assert b.lang in LANGUAGES, f"{b.where}: fenced block of language {b.lang!r} (known: {sorted(LANGUAGES)})"


def test_docs_examples_files_are_valid():
    conf = tomllib.loads((DOCS / "examples" / "labelcheck.toml").read_text(encoding="utf-8"))
    assert not list(resources.validator("config").iter_errors(conf))
    unit = (DOCS / "examples" / "labelcheck.service").read_text(encoding="utf-8")
    start = re.search(r"^ExecStart=\S+/labelcheck (.*)$", unit, re.M)
    assert start, "the systemd unit starts labelcheck"
    parse(shlex.split(start.group(1)))


# ---------------------------------------------------------------- the README's 30-second example


def _example() -> tuple[list[str], Block]:
    text = README.read_text(encoding="utf-8")
    mark = text.index(EXAMPLE_MARK)
    mark_line = text[:mark].count("\n")
    fences = blocks(README)
    command = [b for b in fences if b.end <= mark_line and b.lang in SHELL][-1]
    output = next(b for b in fences if b.line > mark_line)
    (line,) = command_lines(command.text)
    argv = shlex.split(line)
    assert argv[0] == "labelcheck", command.where
    return argv[1:], output


def _tidy(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines()) + "\n"


_BOX = "│┃┏┓┗┛┡┩└┘┌┐┳┻╇╈┼━─╋┯┷┿╂┠┨┣┫├┤┬┴═║╔╗╚╝╠╣╦╩╬"


def _loose(text: str, root: str) -> str:
    """The text without the checkout's path, whitespace and table borders: for a checkout that is not where the
    README's example was recorded (the table shows absolute paths, so its column widths follow the checkout's)."""
    return re.sub(rf"[\s{_BOX}]+", "", text.replace(root, ""))


def test_readme_example_output_is_real(request):
    args, block = _example()
    p = run_cli(*args, cwd=ROOT, env={**os.environ, "COLUMNS": "80"})
    assert p.returncode == 0 and not p.stderr, (p.returncode, p.stderr)
    real = _tidy(p.stdout)
    if request.config.getoption("--update-golden"):
        lines = README.read_text(encoding="utf-8").splitlines(keepends=True)
        fence = "```" + block.lang + "\n" + real + "```\n"
        README.write_text("".join(lines[: block.line - 1]) + fence + "".join(lines[block.end :]), encoding="utf-8")
        _, block = _example()
    recorded = block.text
    hint = "README.md's example output is stale: run `pytest tests/test_docs.py --update-golden`"
    m = re.search(r"(/\S*?)/fixtures/media/", recorded)
    if m and m.group(1) != str(ROOT):  # recorded in another checkout
        assert _loose(real, str(ROOT)) == _loose(recorded, m.group(1)), hint
    else:
        assert real == _tidy(recorded), hint


# ---------------------------------------------------------------- what the pages must say


def test_readme_is_a_front_door():
    assert len(README.read_bytes()) <= README_LIMIT, f"README.md is {len(README.read_bytes())} bytes"


def _links(page: Path) -> set[str]:
    return set(re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")))


def test_readme_links_every_docs_page_and_each_link_resolves():
    links = _links(README)
    for page in DOCS.glob("*.md"):
        assert f"docs/{page.name}" in links, page.name
    for link in links:
        if "://" not in link:
            assert (ROOT / link).exists(), link


def test_mkdocs_nav_lists_every_page():
    conf = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert conf["site_name"] == "labelcheck" and conf["theme"]["name"] == "material" and conf["strict"] is True
    nav = [next(iter(entry.values())) for entry in conf["nav"]]
    assert sorted(nav) == sorted(p.name for p in DOCS.glob("*.md"))


def test_mkdocs_builds_strict(tmp_path):
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    p = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", ROOT / "mkdocs.yml", "-d", tmp_path / "site"],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=120,
        check=False,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    assert (tmp_path / "site" / "index.html").exists()


def _exit_rows(page: Path) -> dict[str, str]:
    return dict(re.findall(r"^\| ([0-9]+(?:, [0-9]+)*) \| (.+) \|$", page.read_text(encoding="utf-8"), re.M))


def test_exit_code_tables_list_every_code():
    codes = {str(v) for k, v in vars(report_mod).items() if k.startswith("EXIT_")}
    for page in (README, DOCS / "usage.md"):
        listed = {c for row in _exit_rows(page) for c in row.split(", ")}
        assert listed == codes, (page.name, listed ^ codes)


def _level(rule: policy.Rule) -> str:
    return rule.level + (f" from {rule.applies_from.isoformat()}" if rule.applies_from else "")


def test_policies_page_documents_every_builtin_rule():
    text = (DOCS / "policies.md").read_text(encoding="utf-8")
    for pid in policy.BUILTIN:
        section = text.split(f"**`{pid}`**", 1)[1].split("\n\n", 2)[1]
        rows = [line for line in section.splitlines() if line.startswith("| `")]
        expected = [f"| `{r.id}` | `{r.check}` | {r.reference} | {_level(r)} |" for r in policy.load(pid).rules]
        assert rows == expected, pid


def test_architecture_page_names_every_stage_folder():
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    package = ROOT / "labelcheck"
    for folder in sorted(p.parent for p in package.glob("*/__init__.py")):
        assert f"`{folder.name}/`" in text, folder.name
    for module in sorted(package.glob("*.py")):
        if module.name != "__init__.py":
            assert f"`{module.name}`" in text, module.name


def test_architecture_page_shows_the_import_contract():
    contract = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in contract["contracts"] if c["type"] == "layers"]
    shown = re.search(r"^## Layers\n.*?^```text\n(.*?)^```", (DOCS / "architecture.md").read_text(), re.S | re.M)
    assert shown, "docs/architecture.md has a Layers section with the layers in a text block"
    assert shown.group(1).splitlines() == [layer.replace("labelcheck.", "") for layer in layers]

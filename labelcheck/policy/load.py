"""Policies: load YAML, resolve `extends`, validate in two layers (policy schema, then check options), evaluate."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .. import resources
from ..model import Finding, FindingStatus, Subject
from .checks import CHECKS

POLICY_DIR = Path(__file__).resolve().parent / "policies"
# Built-in policies: ID -> file in labelcheck/policies (a literal registry, no globbing).
BUILTIN: dict[str, str] = {
    "labelcheck-default": "labelcheck-default.yaml",
    "eu-ai-act-art50": "eu-ai-act-art50.yaml",
    "cn-gb45438": "cn-gb45438.yaml",
    "ca-sb942": "ca-sb942.yaml",
    "creators-two-labels": "creators-two-labels.yaml",
    "broadcast-gate": "broadcast-gate.yaml",
}
DEFAULT = "labelcheck-default"
LEVEL_RANK = {"info": 0, "warning": 1, "error": 2}


class PolicyError(Exception):
    """A policy that cannot be used; the message names the file, the rule and the option."""


@dataclass(frozen=True)
class Rule:
    id: str
    check: str
    level: str
    reference: str
    description: str
    applies_from: dt.date | None
    escalate: tuple[tuple[dt.date, str], ...]
    options_json: str  # the merged options, as canonical JSON (frozen and hashable)

    @property
    def options(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.options_json)
        return loaded

    def level_on(self, day: dt.date) -> str:
        """The level in force on `day`: info before applies_from, then the last escalation reached."""
        if self.applies_from and day < self.applies_from:
            return "info"
        level = self.level
        for start, escalated in self.escalate:
            if day >= start:
                level = escalated
        return level


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    description: str
    source: str  # "builtin" or the file it was read from
    rules: tuple[Rule, ...]


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay strings until the schema has seen them."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _path_of(ref: str, relative_to: Path | None) -> tuple[Path, str]:
    if ref in BUILTIN:
        return POLICY_DIR / BUILTIN[ref], "builtin"
    path = Path(ref) if relative_to is None or Path(ref).is_absolute() else relative_to.parent / ref
    if not path.is_file():
        known = ", ".join(BUILTIN)
        where = f"{relative_to}: extends {ref}" if relative_to else ref
        raise PolicyError(f"{where}: no such policy file or built-in policy (built-in: {known})")
    return path, str(path)


def _schema_errors(schema: dict[str, Any], doc: Any) -> list[Any]:
    import jsonschema  # imported when a policy is validated, not when the package is

    return sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))


def _validated(source: str, strict: bool) -> bool:
    """Whether a document from `source` is checked against the schemas: a user's file always; the built-in policies
    ship with the package and are validated by its tests (`strict`), not at every start."""
    return strict or source != "builtin"


def _read(path: Path, validate: bool = True) -> dict[str, Any]:
    return read_document(path, "policy" if validate else None, "a policy is a mapping with id, title and rules")


def read_document(path: Path, schema: str | None, shape: str) -> dict[str, Any]:
    """A YAML mapping from `path`, checked against `schema` (unless None); PolicyError names the place of any
    problem. `shape` says what the file should be when it is no mapping."""
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise PolicyError(f"{path}:{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot be read ({exc})") from exc
    if not isinstance(doc, dict):
        raise PolicyError(f"{path}: {shape}")
    errors = _schema_errors(resources.schema(schema), doc) if schema else []
    if errors:
        err = errors[0]
        where = _where(doc, list(err.absolute_path))
        raise PolicyError(f"{path}: {where}: {err.message}")
    return doc


def _where(doc: dict[str, Any], path: list[Any]) -> str:
    """A place in a policy or waiver document in words: `rule 'x' option 'y'` rather than rules/3/options/y."""
    if len(path) >= 2 and path[0] in ("rules", "waivers") and isinstance(path[1], int):
        entries = doc.get(path[0]) or []
        entry = entries[path[1]] if path[1] < len(entries) and isinstance(entries[path[1]], dict) else {}
        rid = entry.get("id", f"#{path[1] + 1}")
        rest = "/".join(str(p) for p in path[2:])
        return f"{path[0][:-1]} '{rid}'" + (f" {rest}" if rest else "")
    return "/".join(str(p) for p in path) or "(top level)"


def _resolve(
    ref: str, relative_to: Path | None, stack: tuple[str, ...], strict: bool = False
) -> tuple[dict[str, Any], str, list[dict]]:
    """The policy document and its rules with every `extends` applied (base first, then overrides by rule id).
    Built-in documents are validated only when `strict` (the package's tests load each one strictly)."""
    path, source = _path_of(ref, relative_to)
    key = str(path.resolve())
    if key in stack:
        chain = " -> ".join(Path(s).name for s in (*stack, key))
        raise PolicyError(f"{path}: circular extends ({chain})")
    doc = _read(path, validate=_validated(source, strict))
    bases = doc.get("extends") or []
    rules: dict[str, dict[str, Any]] = {}
    for base in [bases] if isinstance(bases, str) else bases:
        for r in _resolve(base, path, (*stack, key), strict)[2]:
            rules[r["id"]] = r
    for r in doc.get("rules") or []:
        merged = {**rules.get(r["id"], {}), **r}
        merged["options"] = {**rules.get(r["id"], {}).get("options", {}), **r.get("options", {})}
        merged["_file"] = source
        rules[r["id"]] = merged
    return doc, source, list(rules.values())


def _rule(r: dict[str, Any], policy_id: str, strict: bool = False) -> Rule:
    where = f"{r['_file']}: rule '{r['id']}'"
    check = r.get("check")
    if not check:
        raise PolicyError(f"{where}: no check named (policy {policy_id})")
    if check not in CHECKS:
        raise PolicyError(f"{where}: unknown check '{check}' (known: {', '.join(CHECKS)})")
    if "level" not in r:
        raise PolicyError(f"{where}: no level (error, warning or info)")
    module = CHECKS[check]
    options = {**module.DEFAULTS, **r.get("options", {})}
    errors = _schema_errors(module.OPTIONS, options) if _validated(r["_file"], strict) else []
    if errors:
        err = errors[0]
        option = "/".join(str(p) for p in err.absolute_path) or (
            err.message.split("'")[1] if "'" in err.message else "options"
        )
        raise PolicyError(f"{where}: option '{option}': {err.message}")
    escalate = tuple((dt.date.fromisoformat(e["from"]), e["level"]) for e in r.get("escalate", []))
    try:
        applies = dt.date.fromisoformat(r["applies_from"]) if r.get("applies_from") else None
    except ValueError as exc:
        raise PolicyError(f"{where}: applies_from: {exc}") from exc
    return Rule(
        r["id"],
        check,
        r["level"],
        r.get("reference", ""),
        r.get("description", ""),
        applies,
        tuple(sorted(escalate)),
        json.dumps(options, sort_keys=True),
    )


def load(ref: str, strict: bool = False) -> Policy:
    """A built-in policy by ID, or a policy file; raises PolicyError naming the place of any problem.

    A user's file is always validated against the policy schema and each check's options; the built-in policies
    ship with the package and are validated by its tests (`strict=True`), not at every start."""
    try:
        doc, source, rules = _resolve(ref, None, (), strict)
        built = tuple(_rule(r, doc["id"], strict) for r in rules if r.get("enabled", True))
    except ValueError as exc:  # a date that matches the pattern but is no date
        raise PolicyError(f"{ref}: {exc}") from exc
    return Policy(doc["id"], doc["title"], doc.get("description", ""), source, built)


def in_force(policies: tuple[Policy, ...]) -> tuple[Policy, ...]:
    """The policies a run applies: those given, or the built-in default policy."""
    return policies or (load(DEFAULT),)


def unreadable(subject: Subject) -> str | None:
    """Why nothing can be decided about the item (it could not be read at all), or None."""
    errors = subject.evidence.errors
    inputs = [e.message for e in errors if e.source in ("input", "runner")]
    if inputs:
        return inputs[0]
    failed = {e.source for e in errors}
    if {"c2pa", "exiftool"} <= failed and not subject.evidence.signals:
        return "neither C2PA nor metadata could be read"
    return None


def evaluate(policies: tuple[Policy, ...], subject: Subject) -> tuple[Finding, ...]:
    """Every rule of every policy applied to one item (pure: checks do no I/O)."""
    findings = []
    cannot = unreadable(subject)
    for p in policies:
        for rule in p.rules:
            level = rule.level_on(subject.today)
            if cannot:
                findings.append(
                    Finding(rule.id, FindingStatus.ERROR, level, f"not checked: {cannot}", p.id, rule.reference)
                )
                continue
            try:
                outcome = CHECKS[rule.check].check(subject, rule.options)
            except Exception as exc:  # noqa: BLE001 - a defect in one check is that finding's error
                findings.append(
                    Finding(
                        rule.id, FindingStatus.ERROR, level, f"check {rule.check} failed: {exc}", p.id, rule.reference
                    )
                )
                continue
            message = outcome.message
            if rule.applies_from and subject.today < rule.applies_from:
                message = f"[in force from {rule.applies_from.isoformat()}] {message}"
            findings.append(Finding(rule.id, outcome.status, level, message, p.id, rule.reference, outcome.remediation))
    return tuple(findings)


def fails(finding: Finding, fail_on: str) -> bool:
    """A failed finding counts against the item when its level reaches `fail_on` (info never does)."""
    return (
        finding.status is FindingStatus.FAIL
        and finding.level != "info"
        and LEVEL_RANK[finding.level] >= LEVEL_RANK[fail_on]
    )

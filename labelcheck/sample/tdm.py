"""Whether a host reserves text and data mining (TDM), and where a file's own training terms disagree with it.

The DSM Directive's TDM exception (Directive (EU) 2019/790 Art. 4) applies only where the rightholder has not reserved
the use "in an appropriate manner, such as machine-readable means in the case of content made publicly available
online" (Art. 4(3), https://eur-lex.europa.eu/eli/dir/2019/790/oj); the AI Act (Regulation (EU) 2024/1689 Art.
53(1)(c)) obliges general-purpose AI model providers to identify and comply with such reservations. Two ways are read:

- robots.txt (RFC 9309, https://www.rfc-editor.org/rfc/rfc9309) is the common practice. It governs crawling, not use,
  but AI operators publish tokens for training (crawlers.yaml, each with its operator's documentation), and the
  General-Purpose AI Code of Practice (copyright chapter, 10 July 2025) commits its signatories to crawlers that follow
  robots.txt as RFC 9309 specifies. Read as Google reads it: the first 500 KiB (512,000 bytes; the rest is ignored;
  RFC 9309 2.5 asks crawlers to parse at least that much), as UTF-8, rules and groups by protego.
- TDMRep (W3C Community Group Final Report, 10 May 2024, https://www.w3.org/community/reports/tdmrep/CG-FINAL-tdmrep-
  20240510/) is the protocol made for Art. 4(3) ("a technical answer to the constraints set by the Article 4"):
  `tdm-reservation` 1 reserves, 0 does not (other values: unset), `tdm-policy` says where a licence may be had; in
  /.well-known/tdmrep.json (rules: the first whose `location` matches a path applies; locations match as robots.txt
  paths do: a prefix, `*` any run, a final `$` the end), in HTTP response headers and in HTML meta tags (headers
  supersede the file, meta tags the headers).

Pure: no network, no file but crawlers.yaml (read once, validated against schemas/ai-crawlers.schema.json); no input
makes a function here raise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from protego import Protego

from .. import resources
from .types import AgentRule, HostTdm

CRAWLERS = Path(__file__).with_name("crawlers.yaml")
ROBOTS_MAX_BYTES = 500 * 1024  # Google's limit: https://developers.google.com/crawling/docs/robots-txt/robots-txt-spec
TDMREP_MAX_BYTES = 500 * 1024  # labelcheck's: a rule file is small; a larger one is not read
TDMREP_MAX_RULES = 200  # the spec's examples have one to three
MAX_FIELDS = 1000  # header or meta pairs considered per host
ALLOW_PROBES = 64  # Allow paths tried to tell "everything disallowed" from "all but some paths"
TDM_NAMES = ("tdm-reservation", "tdm-policy")
TRAINING = "training"
_WHERE = ("tdmrep.json", "HTTP response headers", "meta tags")  # TDMRep's three places
ITEM_FIELD = "the file's C2PA/CAWG or IPTC PLUS training field"

Rule = tuple[str, str, str]  # (location pattern, tdm-reservation "1" | "0" | "" when unset, tdm-policy or "")
Pairs = Iterable[tuple[str, str]]  # (name, value) of HTTP response headers or meta tags


@dataclass(frozen=True)
class Crawler:
    token: str
    operator: str
    purpose: str  # training | search | assistant | mixed
    kind: str  # crawler | fetcher | control
    source: str
    operator_documented: bool
    note: str = ""


@cache
def crawler_list() -> dict[str, Any]:
    """crawlers.yaml (version, date, crawlers); read once. A file other than the bundled one (resources.bundled)
    is validated first: ValueError if it does not validate."""
    data = resources.read_yaml(CRAWLERS)
    if not resources.bundled(CRAWLERS) and (error := resources.schema_error("ai-crawlers", data)):
        raise ValueError(f"crawlers.yaml: {error}")
    tokens = [c["token"].lower() for c in data["crawlers"]]
    if twice := sorted({t for t in tokens if tokens.count(t) > 1}):
        raise ValueError(f"crawlers.yaml: token(s) listed twice: {', '.join(twice)}")
    return data


@cache
def crawlers() -> tuple[Crawler, ...]:
    return tuple(Crawler(**c) for c in crawler_list()["crawlers"])


def _bytes(body: object) -> bytes | None:
    if isinstance(body, str):
        return body.encode("utf-8", "replace")
    return bytes(body) if isinstance(body, bytes | bytearray | memoryview) else None


def _listing(names: list[str], limit: int = 40) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


# ---------------------------------------------------------------- robots.txt

_UA_LINE = re.compile(r"\s*user[\s_-]?agent(?:\s*:|\s)\s*(?P<v>.*?)\s*$", re.IGNORECASE)
_ALLOW_LINE = re.compile(r"\s*allow(?:\s*:|\s)\s*(?P<v>\S*)", re.IGNORECASE)
_BASE_PROBES = ("/", "/index.html", "/x", "/images/x.jpg")


def _named_agents(text: str) -> frozenset[str]:
    """The agents User-agent lines name, lower case, `*` dropped as protego drops it (reading lines, not rules)."""
    found = (m["v"].lower() for line in text.splitlines() if (m := _UA_LINE.match(line.split("#", 1)[0])))
    return frozenset(v.replace("*", "").strip() for v in found if v and v != "*")


def _sample_path(pattern: str) -> str:
    """A path a robots.txt or TDMRep pattern matches: `*` as "x", the end anchor dropped."""
    path = pattern.removesuffix("$").replace("*", "x")
    return path if path.startswith("/") else f"/{path}"


def _probes(text: str) -> tuple[str, ...]:
    """Paths whose refusal, all of them, means everything is disallowed: typical ones and each Allow rule's."""
    allowed: dict[str, None] = {}
    for line in text.splitlines():
        if (m := _ALLOW_LINE.match(line.split("#", 1)[0])) and m["v"] and len(allowed) < ALLOW_PROBES:
            allowed[_sample_path(m["v"])] = None
    return tuple(p for p in dict.fromkeys((*_BASE_PROBES, *allowed)) if p != "/robots.txt")


def _agent_rule(parser: Protego, crawler: Crawler, named: frozenset[str], probes: tuple[str, ...]) -> AgentRule:
    token = crawler.token
    root = parser.can_fetch("/", token)
    everything = not root and not any(parser.can_fetch(p, token) for p in probes)
    return AgentRule(token, crawler.purpose, root, everything, token.lower() in named)


def agent_rules(robots_txt: str | bytes) -> tuple[AgentRule, ...]:
    """What robots.txt says to each crawler of crawlers.yaml: may it fetch "/", is every path disallowed to it, does
    a group name it. Only the first 500 KiB count. () if protego fails on the text (host_tdm notes it)."""
    raw, listed = _bytes(robots_txt) or b"", crawlers()  # a broken crawlers.yaml raises: a packaging fault
    text = raw[:ROBOTS_MAX_BYTES].decode("utf-8", "replace").lstrip("\ufeff")
    try:
        parser = Protego.parse(text)
        named, probes = _named_agents(text), _probes(text)
        return tuple(_agent_rule(parser, c, named, probes) for c in listed)
    except Exception:  # noqa: BLE001 - never raise on input
        return ()


# ---------------------------------------------------------------- TDMRep


def _reservation(value: object, where: str) -> tuple[str, str | None]:
    """("1" | "0", None), or ("", the protocol error). Integers as the spec has them; "0"/"1" text as headers do."""
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return str(value), None
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return value.strip(), None
    shown = "missing" if value is None else repr(value)[:40]
    return "", f"{where}: tdm-reservation {shown} is neither 0 nor 1 (a protocol error: unset)"


def _tdmrep_rule(item: object, n: int) -> tuple[Rule | None, str | None]:
    where = f"tdmrep.json rule {n}"
    if not isinstance(item, dict):
        return None, f"{where} is not an object: ignored"
    keys = {str(k).strip().lower(): v for k, v in item.items()}
    location, policy = keys.get("location"), keys.get("tdm-policy")
    if not isinstance(location, str) or not location.strip():
        return None, f"{where} has no location: ignored"
    reservation, problem = _reservation(keys.get("tdm-reservation"), where)
    return (location.strip(), reservation, policy.strip() if isinstance(policy, str) else ""), problem


def _read_tdmrep(body: object) -> tuple[tuple[Rule, ...], tuple[str, ...]]:
    """The rules of a tdmrep.json and what is wrong with it."""
    raw = _bytes(body)
    if raw is None or len(raw) > TDMREP_MAX_BYTES:
        size = "no bytes" if raw is None else f"{len(raw)} bytes, over {TDMREP_MAX_BYTES}"
        return (), (f"tdmrep.json: {size}: not read",)
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return (), (f"tdmrep.json is not JSON ({type(exc).__name__}): no rule read",)
    if not isinstance(doc, list):
        return (), ("tdmrep.json is not the JSON array of rules TDMRep specifies: not read",)
    read = [_tdmrep_rule(item, n) for n, item in enumerate(doc[:TDMREP_MAX_RULES], 1)]
    problems = [p for _, p in read if p]
    if len(doc) > TDMREP_MAX_RULES:
        problems.append(f"tdmrep.json has {len(doc)} rules: only the first {TDMREP_MAX_RULES} read")
    return tuple(r for r, _ in read if r), tuple(problems)


def parse_tdmrep(body: bytes) -> tuple[Rule, ...]:
    """/.well-known/tdmrep.json as (location, tdm-reservation, tdm-policy) rules, in order; () if not a JSON array.
    Rules without a location are left out; a tdm-reservation not 0 or 1 is kept as "" (unset): it still shadows."""
    return _read_tdmrep(body)[0]


_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SAFE = "/%!&'()+,;=:@?[]"  # left as they are; `*` and `$` are special in patterns, so escaped in paths


@lru_cache(maxsize=4096)
def _normal(text: str, pattern: bool) -> str:
    """TDMRep's comparison form: escapes of unreserved characters decoded, other escapes in upper case, characters
    outside URIs escaped; in a path `*` and `$` escaped, in a pattern kept (a `$` only at the end)."""
    text = _ESCAPE.sub(lambda m: chr(int(m[1], 16)) if chr(int(m[1], 16)) in _UNRESERVED else f"%{m[1].upper()}", text)
    if not pattern:
        return quote(text, safe=_SAFE)
    return quote(text.removesuffix("$"), safe=_SAFE + "*") + ("$" if text.endswith("$") else "")


def _matches(pattern: str, path: str) -> bool:
    """robots.txt matching (TDMRep re-uses it): `pattern` a prefix of `path`, `*` any run, a final `$` the end.
    A left-most search for each part in turn: linear, whatever the number of `*`."""
    anchored = pattern.endswith("$")
    first, *parts = re.sub(r"\*+", "*", pattern.removesuffix("$")).split("*")
    if not path.startswith(first) or (anchored and not parts and path != first):
        return False
    pos = len(first)
    for part in parts[:-1]:
        if (found := path.find(part, pos)) < 0:
            return False
        pos = found + len(part)
    last = parts[-1] if parts else ""
    return len(path) - len(last) >= pos and path.endswith(last) if anchored else path.find(last, pos) >= 0


def _url_path(path: str) -> str:
    """The path (and query) of a path or URL, as TDMRep compares it."""
    parts = urlsplit(str(path))
    text = parts.path + (f"?{parts.query}" if parts.query else "")
    return _normal(text if text.startswith("/") else f"/{text}", pattern=False)


def tdmrep_applies(rules: Iterable[Rule], path: str) -> tuple[str, str] | None:
    """(tdm-reservation, tdm-policy) of the first rule whose location matches `path` (a path or URL), case-sensitive
    as TDMRep advises; None when none matches (tdm-reservation unset). A reservation "" is a protocol error: unset."""
    try:
        target = _url_path(path)
        for rule in rules:
            if len(rule) == 3 and all(isinstance(x, str) for x in rule) and _matches(_normal(rule[0], True), target):
                return rule[1], rule[2]
    except (TypeError, ValueError):
        return None
    return None


# ---------------------------------------------------------------- a host's stance


def _tdm_fields(pairs: object) -> tuple[tuple[str, str], ...]:
    """The tdm-reservation / tdm-policy (name, value) pairs of headers or meta tags, names in lower case."""
    found = pairs if isinstance(pairs, Iterable) and not isinstance(pairs, str | bytes) else ()
    ok = (p for p in found if isinstance(p, tuple | list) and len(p) == 2 and all(isinstance(x, str) for x in p))
    named = ((n.strip().lower(), v.strip()) for n, v in ok)
    return tuple(dict.fromkeys(islice((f for f in named if f[0] in TDM_NAMES), MAX_FIELDS)))


def _robots_stance(agents: tuple[AgentRule, ...], found: bool) -> str:
    """reserved (every training crawler disallowed at "/"), partial, allowed (none; or no robots.txt), none."""
    if not found:
        return "allowed"  # RFC 9309 2.3.1.3: no robots.txt, every path may be crawled
    blocked = [not a.allowed_root for a in agents if a.purpose == TRAINING]
    return "none" if not blocked else "reserved" if all(blocked) else "partial" if any(blocked) else "allowed"


def _reserved_locations(rules: tuple[Rule, ...]) -> list[str]:
    """Locations reserved by a rule that no earlier rule shadows (the first match applies)."""
    return [r[0] for r in rules if r[1] == "1" and (tdmrep_applies(rules, _sample_path(r[0])) or ("",))[0] == "1"]


def _tdmrep_stance(rules: tuple[Rule, ...]) -> str:
    """reserved (tdm-reservation 1 for "/"), partial (for some paths), not_reserved (0 for "/"), unset."""
    root = (tdmrep_applies(rules, "/") or ("", ""))[0]
    if root == "1":
        return "reserved"
    return "partial" if _reserved_locations(rules) else "not_reserved" if root == "0" else "unset"


def _fields_stance(fields: tuple[tuple[str, str], ...]) -> str:
    values = "".join(sorted({v for n, v in fields if n == "tdm-reservation" and v in ("0", "1")}))
    return {"1": "reserved", "0": "not_reserved", "01": "partial"}.get(values, "unset")


def _stances(host: HostTdm) -> dict[str, str]:
    tdm = (_tdmrep_stance(host.tdmrep), _fields_stance(host.headers), _fields_stance(host.meta))
    return {"robots.txt": _robots_stance(host.agents, host.robots_found), **dict(zip(_WHERE, tdm, strict=True))}


def _decide(stances: dict[str, str]) -> str:
    """TDMRep's places that disagree (headers and meta tags supersede the file on their pages only): partial."""
    said = {stances[w] for w in _WHERE} - {"unset"}
    tdm, robots = said.pop() if len(said) == 1 else "partial" if said else "unset", stances["robots.txt"]
    if "reserved" in (tdm, robots) or "partial" in (tdm, robots):
        return "reserved" if "reserved" in (tdm, robots) else "partial"
    return "not_reserved" if tdm == "not_reserved" and robots == "allowed" else "unspecified"


def _basis(stances: dict[str, str], robots_found: bool, stance: str) -> str:
    """The signals that take `stance` (reserved or not_reserved), named."""
    value = "1" if stance == "reserved" else "0"
    said = [f"tdm-reservation {value} in {w}" + " for /" * (w == _WHERE[0]) for w in _WHERE if stances[w] == stance]
    if stance == "reserved" and stances["robots.txt"] == "reserved":
        said.append("robots.txt disallows every AI training crawler at /")
    elif stance == "not_reserved" and stances["robots.txt"] == "allowed":
        said.append("robots.txt allows the AI training crawlers" if robots_found else "no robots.txt")
    return "; ".join(said)


def _robots_notes(size: int | None, agents: tuple[AgentRule, ...]) -> list[str]:
    if size is None:
        return ["no robots.txt: every path may be crawled (RFC 9309 2.3.1.3)"]
    over = f"robots.txt is {size} bytes: only its first {ROBOTS_MAX_BYTES} read, as Google reads it"
    notes = [over] if size > ROBOTS_MAX_BYTES else []
    if not agents:
        return [*notes, "robots.txt could not be read"]
    training = [a for a in agents if a.purpose == TRAINING]
    blocked, allowed = [a.agent for a in training if not a.allowed_root], [a.agent for a in training if a.allowed_root]
    if blocked and allowed:
        notes.append(f"robots.txt disallows {_listing(blocked)}; allows {_listing(allowed)} (AI training crawlers, /)")
    else:
        said = "disallows" if blocked else "allows"
        notes.append(f"robots.txt {said} every AI training crawler at / ({_listing(blocked or allowed)})")
    if others := [a.agent for a in agents if a.purpose != TRAINING and not a.allowed_root]:
        notes.append(f"robots.txt also disallows other AI crawlers at /: {_listing(others)}")
    if all(a.disallowed_everything and not a.own_group for a in agents):
        notes.append("robots.txt disallows the whole site to every crawler without naming any (User-agent: *)")
    return notes


def _tdmrep_notes(found: bool, rules: tuple[Rule, ...], problems: tuple[str, ...]) -> list[str]:
    if not found:
        return ["no /.well-known/tdmrep.json"]
    root = tdmrep_applies(rules, "/")
    if root is None:
        said = "tdmrep.json has no rule for /" if rules else "tdmrep.json has no rules"
    elif root[0]:
        said = f"tdmrep.json: tdm-reservation {root[0]} for /" + (f" (tdm-policy {root[1]})" if root[1] else "")
    else:
        said = "tdmrep.json: the rule for / has no valid tdm-reservation (unset)"
    partly = [] if root and root[0] == "1" else [loc for loc in _reserved_locations(rules) if loc != "/"]
    return [*problems, said] + ([f"tdmrep.json reserves {_listing(partly)}"] if partly else [])


def _field_notes(where: str, fields: tuple[tuple[str, str], ...]) -> list[str]:
    said = ((n, v, _reservation(v, where)[1] if n == "tdm-reservation" else None) for n, v in fields)
    return [problem or f"{where}: {name} {value}" for name, value, problem in said if value or problem]


def host_tdm(
    host: str, robots_txt: bytes | None, tdmrep_json: bytes | None, headers: Pairs = (), meta: Pairs = ()
) -> HostTdm:
    """How `host` reserves TDM, from its robots.txt and tdmrep.json bodies (None: not found) and the tdm-* response
    headers and meta tags seen on it. reserved: tdm-reservation 1 for "/" (tdmrep.json, headers or meta), or every AI
    training crawler disallowed at "/"; partial: some of them, some paths, or pages that differ; not_reserved:
    tdm-reservation 0 said explicitly and robots.txt allows the training crawlers; else unspecified."""
    try:
        raw = _bytes(robots_txt)
        agents = agent_rules(raw) if raw is not None else ()
        rules, problems = _read_tdmrep(tdmrep_json) if tdmrep_json is not None else ((), ())
        record = HostTdm(str(host), robots_txt is not None, agents, rules, _tdm_fields(headers), _tdm_fields(meta))
        size = None if robots_txt is None else len(raw or b"")
        notes = (*_robots_notes(size, agents), *_tdmrep_notes(tdmrep_json is not None, rules, problems))
        notes += (*_field_notes("HTTP response headers", record.headers), *_field_notes("meta tags", record.meta))
        return replace(record, reserved=_decide(_stances(record)), notes=notes)
    except Exception as exc:  # noqa: BLE001 - never raise on input: the record says what could not be read
        return HostTdm(str(host), robots_txt is not None, notes=(f"TDM reservation not assessed ({exc!r:.80})",))


# ---------------------------------------------------------------- the site and the file


def _site_stance(host: HostTdm, item_url: str) -> tuple[str, str]:
    """The site's stance on the item and its basis; a partial site is judged by the tdmrep.json rule for its path."""
    if host.reserved in ("reserved", "not_reserved"):
        return host.reserved, _basis(_stances(host), host.robots_found, host.reserved)
    rule = tdmrep_applies(host.tdmrep, item_url) if host.reserved == "partial" else None
    if rule and rule[0]:
        stance = "reserved" if rule[0] == "1" else "not_reserved"
        return stance, f"tdmrep.json: tdm-reservation {rule[0]} for {_url_path(item_url)}"
    return host.reserved, ""


_FINDINGS = {
    ("allowed", "reserved"): "reserves text and data mining ({basis}), but {field} says allowed",
    ("not_allowed", "not_reserved"): "does not reserve text and data mining ({basis}), but {field} says not_allowed",
    ("not_allowed", "unspecified"): "reserves no text and data mining (neither robots.txt nor TDMRep reserves it), "
    "but {field} says not_allowed: only the file carries the reservation",
}


def conflicts(host: HostTdm, item_training: str, item_url: str) -> tuple[str, ...]:
    """Where the site and the file disagree: the site does not reserve TDM and the file's training terms say
    not_allowed, or the site reserves and the file says allowed. `item_training` is model.Training or its value."""
    try:
        training = str(getattr(item_training, "value", item_training)).strip().lower()
        stance, basis = _site_stance(host, item_url) if training in ("allowed", "not_allowed") else ("", "")
    except Exception:  # noqa: BLE001 - never raise on input
        return ()
    found = _FINDINGS.get((training, stance))
    return (f"{item_url}: the site {found.format(basis=basis, field=ITEM_FIELD)}",) if found else ()

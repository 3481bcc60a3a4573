"""labelcheck/sample/tdm.py: how a host reserves text and data mining (robots.txt for AI crawlers, TDMRep), and where
the site and a file's own training terms disagree. Real robots.txt and tdmrep.json texts, exact expectations."""

from __future__ import annotations

import copy
import json
import random
import time

import pytest

from labelcheck import resources
from labelcheck.model import Training
from labelcheck.sample import tdm
from labelcheck.sample.types import AgentRule, HostTdm

TRAINING = [
    "GPTBot",
    "ClaudeBot",
    "anthropic-ai",
    "Google-Extended",
    "CCBot",
    "Bytespider",
    "Applebot-Extended",
    "meta-externalagent",
    "FacebookBot",
    "cohere-training-data-crawler",
    "MistralAI-Training",
    "AI2Bot",
    "Timpibot",
]
FIELD = "the file's C2PA/CAWG or IPTC PLUS training field"


def agent(host_or_rules: HostTdm | tuple[AgentRule, ...], token: str) -> AgentRule:
    rules = host_or_rules.agents if isinstance(host_or_rules, HostTdm) else host_or_rules
    return next(a for a in rules if a.agent == token)


# ---------------------------------------------------------------- the crawler list


def test_the_crawler_list_validates_against_its_schema_and_names_the_known_tokens():
    data = tdm.crawler_list()
    assert list(resources.validator("ai-crawlers").iter_errors(data)) == []
    assert data["version"] == "2026.12.07" and data["date"] == "2026-12-07"
    tokens = [c.token for c in tdm.crawlers()]
    assert len(tokens) == 31 == len({t.lower() for t in tokens})
    required = {
        "GPTBot", "OAI-SearchBot", "ChatGPT-User", "ClaudeBot", "Claude-User", "Claude-SearchBot", "anthropic-ai",
        "Google-Extended", "GoogleOther", "CCBot", "Bytespider", "PerplexityBot", "Perplexity-User",
        "Applebot-Extended", "meta-externalagent", "meta-externalfetcher", "FacebookBot", "Amazonbot", "cohere-ai",
        "cohere-training-data-crawler", "Diffbot", "ImagesiftBot", "Omgilibot", "YouBot", "DuckAssistBot",
        "MistralAI-User", "AI2Bot", "Timpibot",
    }  # fmt: skip
    assert required <= set(tokens)
    assert [c.token for c in tdm.crawlers() if c.purpose == "training"] == TRAINING
    assert {c.token for c in tdm.crawlers() if c.kind == "control"} == {"Google-Extended", "Applebot-Extended"}
    assert all(c.source.startswith("https://") for c in tdm.crawlers())
    undocumented = {c.token for c in tdm.crawlers() if not c.operator_documented}
    assert undocumented == {"anthropic-ai", "Bytespider", "cohere-ai", "cohere-training-data-crawler", "Timpibot"}
    assert all(c.note for c in tdm.crawlers() if not c.operator_documented)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["crawlers"][0].update(purpose="scraping"),
        lambda d: d["crawlers"][0].update(source="http://example.com/"),
        lambda d: d["crawlers"][0].pop("operator"),
        lambda d: (d["crawlers"][1].pop("note"), d["crawlers"][1].update(operator_documented=False)),
        lambda d: d.update(date="7 December 2026"),
        lambda d: d["crawlers"][0].update(token="GPT Bot"),
    ],
)
def test_the_schema_refuses_a_broken_list(change):
    data = copy.deepcopy(tdm.crawler_list())
    change(data)
    assert list(resources.validator("ai-crawlers").iter_errors(data))


def test_a_token_listed_twice_is_refused(tmp_path, monkeypatch):
    doc = tdm.CRAWLERS.read_text(encoding="utf-8") + "  - {token: gptbot, operator: x, purpose: search, kind: crawler,"
    (tmp_path / "crawlers.yaml").write_text(doc + " source: 'https://x.example/', operator_documented: true}\n")
    monkeypatch.setattr(tdm, "CRAWLERS", tmp_path / "crawlers.yaml")
    tdm.crawler_list.cache_clear()
    try:
        with pytest.raises(ValueError, match="listed twice: gptbot"):
            tdm.crawler_list()
    finally:
        tdm.crawler_list.cache_clear()


# ---------------------------------------------------------------- robots.txt

NEWS_SITE = b"""# robots.txt of a news site that keeps two AI crawlers out
User-agent: GPTBot
Disallow: /

User-agent: CCBot
Disallow: /

User-agent: *
Disallow: /search
Disallow: /account/
Allow: /

Sitemap: https://news.example/sitemap.xml
"""

CLOSED = b"User-agent: *\nDisallow: /\n"

WILDCARDS = b"""User-agent: *
Disallow: /*.pdf$
Disallow: /private/
Allow: /private/press/

user-agent: Google-Extended
User-Agent: Applebot-Extended
Disallow: /
Allow: /public/*.html$

User-agent: ClaudeBot
Disallow: /$
Allow: /articles/

User-agent: GPTBot
Disallow: /
Allow: /

User-agent: Meta-ExternalAgent
Disallow: /
"""


def test_a_site_blocking_gptbot_and_ccbot_only():
    rules = tdm.agent_rules(NEWS_SITE)
    assert [a.agent for a in rules] == [c.token for c in tdm.crawlers()]
    assert agent(rules, "GPTBot") == AgentRule("GPTBot", "training", False, True, True)
    assert agent(rules, "CCBot") == AgentRule("CCBot", "training", False, True, True)
    assert agent(rules, "ClaudeBot") == AgentRule("ClaudeBot", "training", True, False, False)
    assert agent(rules, "OAI-SearchBot") == AgentRule("OAI-SearchBot", "search", True, False, False)
    assert [a.agent for a in rules if not a.allowed_root] == ["GPTBot", "CCBot"]
    host = tdm.host_tdm("news.example", NEWS_SITE, None)
    assert host.reserved == "partial" and host.robots_found and host.tdmrep == ()
    allowed = ", ".join(t for t in TRAINING if t not in ("GPTBot", "CCBot"))
    assert host.notes == (
        f"robots.txt disallows GPTBot, CCBot; allows {allowed} (AI training crawlers, /)",
        "no /.well-known/tdmrep.json",
    )


def test_a_site_closed_to_every_crawler():
    host = tdm.host_tdm("closed.example", CLOSED, None)
    assert all(not a.allowed_root and a.disallowed_everything and not a.own_group for a in host.agents)
    assert host.reserved == "reserved"
    others = ", ".join(c.token for c in tdm.crawlers() if c.purpose != "training")
    assert host.notes == (
        f"robots.txt disallows every AI training crawler at / ({', '.join(TRAINING)})",
        f"robots.txt also disallows other AI crawlers at /: {others}",
        "robots.txt disallows the whole site to every crawler without naming any (User-agent: *)",
        "no /.well-known/tdmrep.json",
    )


def test_wildcards_and_allow_overrides():
    rules = tdm.agent_rules(WILDCARDS)
    # Disallow: / with Allow: /public/*.html$ keeps part of the site open: not everything is disallowed
    assert agent(rules, "Google-Extended") == AgentRule("Google-Extended", "training", False, False, True)
    assert agent(rules, "Applebot-Extended") == AgentRule("Applebot-Extended", "training", False, False, True)
    # Disallow: /$ closes the home page only
    assert agent(rules, "ClaudeBot") == AgentRule("ClaudeBot", "training", False, False, True)
    # Allow: / and Disallow: / are as long: Allow wins (RFC 9309 2.2.2)
    assert agent(rules, "GPTBot") == AgentRule("GPTBot", "training", True, False, True)
    # a group is named without regard to case
    assert agent(rules, "meta-externalagent") == AgentRule("meta-externalagent", "training", False, True, True)
    # the * group: /*.pdf$ and /private/ are closed, "/" is open
    assert agent(rules, "CCBot") == AgentRule("CCBot", "training", True, False, False)
    host = tdm.host_tdm("wild.example", WILDCARDS, None)
    assert host.reserved == "partial"
    assert host.notes[0].startswith(
        "robots.txt disallows ClaudeBot, Google-Extended, Applebot-Extended, meta-externalagent; allows GPTBot, "
    )


def test_an_empty_robots_txt_allows_everything():
    host = tdm.host_tdm("open.example", b"", None)
    assert host.robots_found and all(a.allowed_root and not a.own_group for a in host.agents)
    assert host.reserved == "unspecified"
    assert host.notes == (
        f"robots.txt allows every AI training crawler at / ({', '.join(TRAINING)})",
        "no /.well-known/tdmrep.json",
    )


def test_no_robots_txt_is_no_reservation():
    host = tdm.host_tdm("none.example", None, None)
    assert (host.robots_found, host.agents, host.reserved) == (False, (), "unspecified")
    assert host.notes == ("no robots.txt: every path may be crawled (RFC 9309 2.3.1.3)", "no /.well-known/tdmrep.json")


@pytest.mark.parametrize(
    "body,reserved",
    [
        (bytes(range(256)) * 40, "unspecified"),
        (random.Random(9309).randbytes(200_000), "unspecified"),
        (b"\xff\xfe" + "User-agent: GPTBot\nDisallow: /\n".encode("utf-16-le"), "unspecified"),  # not UTF-8
        (b"\x00" * 10_000, "unspecified"),
        (b"User-agent: GPTBot\rDisallow: /\r", "partial"),  # classic Mac line ends: still lines
    ],
)
def test_garbage_bytes_never_raise(body, reserved):
    rules = tdm.agent_rules(body)
    assert len(rules) == len(tdm.crawlers())
    host = tdm.host_tdm("garbage.example", body, body, [("tdm-reservation", "\x00")], [("tdm-policy", "\udcff")])
    assert host.reserved == reserved
    assert any(n.startswith("tdmrep.json is not JSON (") and n.endswith("): no rule read") for n in host.notes)
    assert "HTTP response headers: tdm-reservation '\\x00' is neither 0 nor 1 (a protocol error: unset)" in host.notes


def test_a_cr_only_file_is_read_as_lines():
    assert agent(tdm.agent_rules(b"User-agent: GPTBot\rDisallow: /\r"), "GPTBot").allowed_root is False


def test_a_one_megabyte_robots_txt_is_read_to_500_kib_only():
    filler = b"".join(b"Disallow: /archive/%07d/\n" % n for n in range(60_000))
    late = b"User-agent: *\n" + filler + b"\nUser-agent: GPTBot\nDisallow: /\n"
    early = b"User-agent: GPTBot\nDisallow: /\n\n" + b"User-agent: *\n" + filler
    assert len(late) > 1_000_000 and len(early) > 1_000_000
    started = time.monotonic()
    host = tdm.host_tdm("big.example", late, None)
    assert time.monotonic() - started < 10
    # the GPTBot group lies past 512,000 bytes: ignored, as Google ignores it
    assert agent(host, "GPTBot") == AgentRule("GPTBot", "training", True, False, False)
    assert host.notes[0] == f"robots.txt is {len(late)} bytes: only its first 512000 read, as Google reads it"
    assert agent(tdm.host_tdm("big.example", early, None), "GPTBot") == AgentRule(
        "GPTBot", "training", False, True, True
    )


def test_text_and_bytes_read_alike():
    assert tdm.agent_rules(NEWS_SITE.decode()) == tdm.agent_rules(NEWS_SITE)
    assert tdm.agent_rules(b"\xef\xbb\xbf" + NEWS_SITE) == tdm.agent_rules(NEWS_SITE)  # a UTF-8 BOM


# ---------------------------------------------------------------- tdmrep.json

SPEC_OPT_OUT = b"""[
  {
  "location": "/",
  "tdm-reservation": 1
  }
]"""

SPEC_THREE_GROUPS = b"""[
  {
  "location": "/directory-a/",
  "tdm-reservation": 1
  },
  {
  "location": "/directory-b/html/",
  "tdm-reservation": 1,
  "tdm-policy":"https://provider.com/policies/policy.json"
  },
  {
  "location": "/directory-b/images/*.jpg",
  "tdm-reservation": 0
  }
]"""


def test_the_specs_site_wide_opt_out():
    rules = tdm.parse_tdmrep(SPEC_OPT_OUT)
    assert rules == (("/", "1", ""),)
    assert tdm.tdmrep_applies(rules, "/") == ("1", "")
    assert tdm.tdmrep_applies(rules, "/any/file.jpg") == ("1", "")
    host = tdm.host_tdm("provider.com", None, SPEC_OPT_OUT)
    assert host.reserved == "reserved" and host.tdmrep == rules
    assert host.notes == (
        "no robots.txt: every path may be crawled (RFC 9309 2.3.1.3)",
        "tdmrep.json: tdm-reservation 1 for /",
    )


def test_the_specs_three_groups_of_files():
    rules = tdm.parse_tdmrep(SPEC_THREE_GROUPS)
    assert rules == (
        ("/directory-a/", "1", ""),
        ("/directory-b/html/", "1", "https://provider.com/policies/policy.json"),
        ("/directory-b/images/*.jpg", "0", ""),
    )
    assert tdm.tdmrep_applies(rules, "/") is None
    assert tdm.tdmrep_applies(rules, "/directory-a/report.pdf") == ("1", "")
    assert tdm.tdmrep_applies(rules, "/directory-b/html/index.html") == (
        "1",
        "https://provider.com/policies/policy.json",
    )
    assert tdm.tdmrep_applies(rules, "/directory-b/images/2024/cat.jpg") == ("0", "")
    assert tdm.tdmrep_applies(rules, "/directory-b/images/cat.png") is None
    assert tdm.tdmrep_applies(rules, "https://provider.com/directory-a/x?y=1") == ("1", "")
    host = tdm.host_tdm("provider.com", None, SPEC_THREE_GROUPS)
    assert host.reserved == "partial"
    assert host.notes[1:] == ("tdmrep.json has no rule for /", "tdmrep.json reserves /directory-a/, /directory-b/html/")


def test_patterns_match_as_robots_txt_paths_do():
    rules = (("/*.pdf$", "1", ""), ("/docs/", "0", ""), ("/Images/", "1", ""), ("/path/foo-%24", "1", "p"))
    assert tdm.tdmrep_applies(rules, "/a/b.pdf") == ("1", "")
    assert tdm.tdmrep_applies(rules, "/a/b.pdf?download=1") is None  # $ ends the match
    assert tdm.tdmrep_applies(rules, "/docs/x.pdf") == ("1", "")  # the first rule that matches applies
    assert tdm.tdmrep_applies(rules, "/docs/x.html") == ("0", "")
    assert tdm.tdmrep_applies(rules, "/images/x.jpg") is None  # case-sensitive
    assert tdm.tdmrep_applies(rules, "https://provider.com/path/foo-$") == ("1", "p")  # the spec's %24 example
    escaped = (("/%7Euser/caf%c3%a9/", "1", ""),)
    assert tdm.tdmrep_applies(escaped, "/~user/café/menu.html") == ("1", "")  # unreserved unescaped, UTF-8 escaped
    assert tdm.tdmrep_applies((("/a*b*c*d*e*f*g*h*z", "1", ""),), "/" + "ab" * 50_000) is None  # linear, not regex


def test_the_first_rule_shadows_later_ones():
    body = b'[{"location": "/", "tdm-reservation": 0}, {"location": "/img/", "tdm-reservation": 1}]'
    host = tdm.host_tdm("h.example", None, body)
    assert host.reserved == "not_reserved"
    assert host.notes[1:] == ("tdmrep.json: tdm-reservation 0 for /",)
    body = b'[{"location": "/img/", "tdm-reservation": 1}, {"location": "/", "tdm-reservation": 0}]'
    host = tdm.host_tdm("h.example", None, body)
    assert host.reserved == "partial"
    assert host.notes[1:] == ("tdmrep.json: tdm-reservation 0 for /", "tdmrep.json reserves /img/")


NOT_AN_ARRAY = "tdmrep.json is not the JSON array of rules TDMRep specifies: not read"


@pytest.mark.parametrize(
    "body,note",
    [
        (b'[{"location": "/", "tdm-reservation": 1', "tdmrep.json is not JSON (JSONDecodeError): no rule read"),
        (b"<html>Not Found</html>", "tdmrep.json is not JSON (JSONDecodeError): no rule read"),
        (b"\xff\xfe[]", "tdmrep.json is not JSON (UnicodeDecodeError): no rule read"),
        (b"[" * 100_000, "tdmrep.json is not JSON (RecursionError): no rule read"),
        (b'{"location": "/", "tdm-reservation": 1}', NOT_AN_ARRAY),
        (b'"/"', NOT_AN_ARRAY),
        (b"[]", "tdmrep.json has no rules"),
        (b" " * 600_000, "tdmrep.json: 600000 bytes, over 512000: not read"),
    ],
)  # fmt: skip
def test_a_bad_tdmrep_json_reads_as_no_rules_and_says_why(body, note):
    assert tdm.parse_tdmrep(body) == ()
    host = tdm.host_tdm("h.example", None, body)
    assert host.reserved == "unspecified" and note in host.notes


def test_only_the_first_200_rules_are_read():
    body = json.dumps([{"location": f"/d{n}/*.jpg$", "tdm-reservation": n % 2} for n in range(5000)]).encode()
    started = time.monotonic()
    host = tdm.host_tdm("many.example", None, body)
    found = tdm.conflicts(host, "allowed", "https://many.example/d199/x.jpg")
    assert time.monotonic() - started < 10
    assert len(host.tdmrep) == 200 and host.reserved == "partial"
    assert "tdmrep.json has 5000 rules: only the first 200 read" in host.notes
    assert found == (
        "https://many.example/d199/x.jpg: the site reserves text and data mining (tdmrep.json: tdm-reservation 1 "
        f"for /d199/x.jpg), but {FIELD} says allowed",
    )
    assert tdm.conflicts(host, "allowed", "https://many.example/d201/x.jpg") == ()  # rule 202: not read


def test_malformed_rules_are_noted_and_an_invalid_reservation_is_unset():
    body = b"""\xef\xbb\xbf[
      {"location": "/", "tdm-reservation": "yes"},
      {"location": "/a/", "tdm-reservation": true},
      {"tdm-reservation": 1},
      5,
      {"Location": " /b/ ", "TDM-Reservation": "1", "tdm-policy": ["x"]},
      {"location": "/c/"}
    ]"""
    rules = tdm.parse_tdmrep(body)
    assert rules == (("/", "", ""), ("/a/", "", ""), ("/b/", "1", ""), ("/c/", "", ""))
    assert tdm.tdmrep_applies(rules, "/b/x") == ("", "")  # "/" matches first, and is unset
    host = tdm.host_tdm("h.example", None, body)
    assert host.reserved == "unspecified"
    assert host.notes[1:] == (
        "tdmrep.json rule 1: tdm-reservation 'yes' is neither 0 nor 1 (a protocol error: unset)",
        "tdmrep.json rule 2: tdm-reservation True is neither 0 nor 1 (a protocol error: unset)",
        "tdmrep.json rule 3 has no location: ignored",
        "tdmrep.json rule 4 is not an object: ignored",
        "tdmrep.json rule 6: tdm-reservation missing is neither 0 nor 1 (a protocol error: unset)",
        "tdmrep.json: the rule for / has no valid tdm-reservation (unset)",
    )


# ---------------------------------------------------------------- headers and meta tags

OPEN = b"User-agent: *\nAllow: /\n"


@pytest.mark.parametrize(
    "robots,tdmrep,headers,meta,reserved",
    [
        (OPEN, None, [("TDM-Reservation", " 1 "), ("tdm-policy", "https://p.example/")], [], "reserved"),
        (OPEN, None, [], [("tdm-reservation", "1")], "reserved"),
        (OPEN, None, [("tdm-reservation", "0")], [], "not_reserved"),
        (None, None, [], [("tdm-reservation", "0")], "not_reserved"),
        (OPEN, None, [("tdm-reservation", "1")], [("tdm-reservation", "0")], "partial"),  # meta tags supersede
        (OPEN, None, [("tdm-reservation", "2")], [], "unspecified"),  # a protocol error: unset
        (OPEN, None, [("content-type", "image/jpeg"), ("tdm-policy", "https://p.example/")], [], "unspecified"),
        (NEWS_SITE, None, [("tdm-reservation", "0")], [], "partial"),  # robots.txt keeps GPTBot and CCBot out
        (CLOSED, b'[{"location": "/", "tdm-reservation": 0}]', [], [], "reserved"),  # one reservation is enough
        (OPEN, b'[{"location": "/", "tdm-reservation": 0}]', [], [], "not_reserved"),
        (b"", b'[{"location": "/", "tdm-reservation": 0}]', [("tdm-reservation", "1")], [], "partial"),
        (OPEN, None, [], [], "unspecified"),
    ],
)
def test_headers_meta_tdmrep_and_robots_together(robots, tdmrep, headers, meta, reserved):
    assert tdm.host_tdm("h.example", robots, tdmrep, headers, meta).reserved == reserved


def test_header_and_meta_values_are_kept_and_noted():
    host = tdm.host_tdm(
        "h.example",
        OPEN,
        None,
        [("Content-Type", "text/html"), ("TDM-Reservation", " 1 "), ("tdm-policy", "https://p.example/")],
        [("tdm-reservation", "maybe"), ("tdm-policy", "")],
    )
    assert host.headers == (("tdm-reservation", "1"), ("tdm-policy", "https://p.example/"))
    assert host.meta == (("tdm-reservation", "maybe"), ("tdm-policy", ""))  # an empty policy is kept, not noted
    assert host.notes[2:] == (
        "HTTP response headers: tdm-reservation 1",
        "HTTP response headers: tdm-policy https://p.example/",
        "meta tags: tdm-reservation 'maybe' is neither 0 nor 1 (a protocol error: unset)",
    )


def test_odd_inputs_never_raise():
    odd = [None, ("tdm-reservation",), 5, ("tdm-reservation", 1), b"tdm-reservation: 1", ("tdm-policy", None)]
    host = tdm.host_tdm("h.example", OPEN, b"[]", odd, "tdm-reservation")  # type: ignore[arg-type]
    assert (host.headers, host.meta, host.reserved) == ((), (), "unspecified")
    host = tdm.host_tdm(7, 3.5, object(), object(), None)  # type: ignore[arg-type]
    assert isinstance(host, HostTdm) and host.host == "7"
    assert tdm.agent_rules(None) == tdm.agent_rules(b"")  # type: ignore[arg-type]
    assert tdm.parse_tdmrep(None) == ()  # type: ignore[arg-type]
    assert tdm.tdmrep_applies(None, "/") is None  # type: ignore[arg-type]
    assert tdm.tdmrep_applies([("/", 1, None), "xyz"], "/") is None  # type: ignore[list-item]


# ---------------------------------------------------------------- the site and the file


def test_a_site_that_does_not_reserve_and_a_file_that_does():
    host = tdm.host_tdm("h.example", OPEN, b'[{"location": "/", "tdm-reservation": 0}]')
    assert tdm.conflicts(host, "not_allowed", "https://h.example/a.jpg") == (
        "https://h.example/a.jpg: the site does not reserve text and data mining (tdm-reservation 0 in tdmrep.json "
        f"for /; robots.txt allows the AI training crawlers), but {FIELD} says not_allowed",
    )
    assert tdm.conflicts(host, Training.NOT_ALLOWED, "https://h.example/a.jpg") == tdm.conflicts(
        host, "not_allowed", "https://h.example/a.jpg"
    )
    assert tdm.conflicts(host, "allowed", "https://h.example/a.jpg") == ()
    assert tdm.conflicts(host, "constrained", "https://h.example/a.jpg") == ()


def test_a_site_that_reserves_and_a_file_that_allows():
    host = tdm.host_tdm("h.example", CLOSED, None, [("tdm-reservation", "1")])
    assert tdm.conflicts(host, Training.ALLOWED, "https://h.example/v.mp4") == (
        "https://h.example/v.mp4: the site reserves text and data mining (tdm-reservation 1 in HTTP response "
        f"headers; robots.txt disallows every AI training crawler at /), but {FIELD} says allowed",
    )
    assert tdm.conflicts(host, "not_allowed", "https://h.example/v.mp4") == ()
    assert tdm.conflicts(host, "unspecified", "https://h.example/v.mp4") == ()


def test_a_site_silent_on_tdm_and_a_file_that_reserves():
    host = tdm.host_tdm("h.example", OPEN, None)
    assert tdm.conflicts(host, "not_allowed", "https://h.example/a.jpg") == (
        "https://h.example/a.jpg: the site reserves no text and data mining (neither robots.txt nor TDMRep reserves "
        f"it), but {FIELD} says not_allowed: only the file carries the reservation",
    )
    assert tdm.conflicts(host, "allowed", "https://h.example/a.jpg") == ()


def test_a_partly_reserving_site_is_judged_by_the_rule_for_the_items_path():
    host = tdm.host_tdm("provider.com", None, SPEC_THREE_GROUPS)
    assert tdm.conflicts(host, "allowed", "https://provider.com/directory-a/x.jpg") == (
        "https://provider.com/directory-a/x.jpg: the site reserves text and data mining (tdmrep.json: "
        f"tdm-reservation 1 for /directory-a/x.jpg), but {FIELD} says allowed",
    )
    assert tdm.conflicts(host, "not_allowed", "https://provider.com/directory-b/images/x.jpg") == (
        "https://provider.com/directory-b/images/x.jpg: the site does not reserve text and data mining (tdmrep.json: "
        f"tdm-reservation 0 for /directory-b/images/x.jpg), but {FIELD} says not_allowed",
    )
    assert tdm.conflicts(host, "not_allowed", "https://provider.com/other/x.jpg") == ()  # partial, no rule: no verdict
    assert tdm.conflicts(tdm.host_tdm("n.example", NEWS_SITE, None), "not_allowed", "https://n.example/x.jpg") == ()


def test_conflicts_never_raise():
    assert tdm.conflicts(None, "allowed", "https://h.example/") == ()  # type: ignore[arg-type]
    assert tdm.conflicts(HostTdm("h.example", False), None, None) == ()  # type: ignore[arg-type]
    partial = HostTdm("h", False, reserved="partial", tdmrep=(("/", "1", ""),))
    assert tdm.conflicts(partial, "allowed", 5) == (  # type: ignore[arg-type]
        f"5: the site reserves text and data mining (tdmrep.json: tdm-reservation 1 for /5), but {FIELD} says allowed",
    )

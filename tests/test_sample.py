"""`labelcheck sample` end to end on a site the tests serve on loopback (tests/sample_site.py): the crawl finds every
allowed medium, sends nothing under a disallowed path, keeps the pace, backs off a 429, does not follow a redirect off
the host, reads what a page says of a stripped picture, draws the same sample from the same seed, and writes a WACZ
bundle that verifies, re-runs to the same verdicts, and fails on one changed byte."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from conftest import run_cli
from sample_site import SampleSite

from labelcheck.api import EvidenceOptions, Judge
from labelcheck.sample.crawl import CrawlLimits
from labelcheck.sample.http import Politeness
from labelcheck.sample.run import SampleOptions, run

RATE = 20.0  # requests a second per host in these tests (the site's Crawl-delay is 0.05 s: the same pace)
ALLOWED_MEDIA = {
    "/media/ai-c2pa.jpg",
    "/media/ai-xmp.jpg",
    "/media/photo.jpg",
    "/media/photo-2.jpg",
    "/media/aigc.jpg",
    "/media/clip.mp4",
    "/media/voice.mp3",
    "/media/sd.png",
    "/media/stripped.jpg",
    "/media/tampered.jpg",
    "/huge.mp4",
    "/hls/live.m3u8",
}


@pytest.fixture(scope="module")
def census(tmp_path_factory):
    """One census of the site through the CLI (every medium sampled), with a signed bundle."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    d = tmp_path_factory.mktemp("sample")
    key = d / "operator.pem"
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key.write_bytes(pem)
    with SampleSite() as site:
        args = ["sample", f"{site.url}/sitemap.xml", f"{site.url}/feed.xml", "--allow-private-network"]
        args += ["--rate", str(RATE), "--size", "1000", "--seed", "7", "-j", "0", "--contact", "audit@example.org"]
        args += ["--operator", "Test Authority", "--bundle", d / "s.wacz", "--sign-key", key, "-o", d / "r.json"]
        p = run_cli(*args, timeout=300)
        assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
        report = json.loads((d / "r.json").read_text())
        return report, list(site.log), site.url, d / "s.wacz"


def test_the_crawl_finds_every_allowed_medium_and_nothing_disallowed(census):
    report, log, base, _ = census
    assert {it["url"].removeprefix(base) for it in report["items"]} == ALLOWED_MEDIA
    assert report["frame_size"] == len(ALLOWED_MEDIA)
    assert not [p for _, _, p, _ in log if p.startswith("/private/")]  # robots.txt: zero requests there
    assert any("/private/secret.jpg" in f and "robots.txt disallows" in f for f in report["findings"])


def test_the_crawl_is_polite(census):
    _, log, _, _ = census
    ours = [(t, p) for t, host, p, _ in log if host == "127.0.0.1"]
    gaps = [b[0] - a[0] for a, b in zip(ours, ours[1:], strict=False)]
    assert min(gaps) >= 1 / RATE - 0.01, min(gaps)  # one host, one request at a time, at the pace asked
    busy = [t for t, p in ours if p == "/busy.html"]
    assert len(busy) == 2 and busy[1] - busy[0] >= 1.0  # 429 with Retry-After: 1, then again
    assert all("labelcheck/" in ua and "audit@example.org" in ua for *_, ua in log)
    assert [p for _, host, p, _ in log if host == "localhost"] == []  # the redirect off the host is not followed
    assert log[0][2] == "/robots.txt"
    assert [p for _, _, p, _ in log if p.startswith("/hls/") and p.endswith(".ts")]  # segments, through the fetcher


def test_each_item_gets_its_outcome_and_the_page_label_counts(census):
    report, _, base, _ = census
    got = {it["url"].removeprefix(base): it for it in report["items"]}
    assert got["/media/ai-c2pa.jpg"]["outcome"] == "labelled_fully_ai"
    assert got["/media/tampered.jpg"]["outcome"] == "provenance_broken"
    assert got["/media/sd.png"]["outcome"] == "ai_without_standard_label"
    assert got["/media/photo.jpg"]["outcome"] == "no_signal"
    assert got["/huge.mp4"]["outcome"] == "could_not_check" and "larger than" in got["/huge.mp4"]["error"]
    assert got["/hls/live.m3u8"]["outcome"] == "no_signal", got["/hls/live.m3u8"]  # checked as a stream
    stripped = got["/media/stripped.jpg"]  # the file says nothing; its page says trainedAlgorithmicMedia
    assert stripped["outcome"] == "labelled_fully_ai" and "on the web page" in stripped["reasons"]
    assert "json-ld" in stripped["page_labels"]
    overall = {e["outcome"]: e for e in report["prevalence"]["overall"]["estimates"]}
    assert sum(e["count"] for e in overall.values()) == len(ALLOWED_MEDIA)
    low, high = overall["labelled_fully_ai"]["low"], overall["labelled_fully_ai"]["high"]
    assert low <= overall["labelled_fully_ai"]["proportion"] <= high
    (host,) = [h for h in report["hosts"] if h["host"].startswith("127.0.0.1")]
    assert host["reserved"] == "partial" and any("GPTBot" in n for n in host["notes"])


def test_the_bundle_verifies_reproduces_and_one_changed_byte_fails(census, tmp_path):
    _, _, _, wacz = census
    p = run_cli("verify-bundle", wacz, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "OK:" in p.stdout and "signed by" in p.stdout and "REPRODUCED:" in p.stdout
    with zipfile.ZipFile(wacz) as zf:
        assert {"archive/data.warc.gz", "indexes/index.cdx", "datapackage.json", "pages/pages.jsonl"} <= set(
            zf.namelist()
        )
        package = json.loads(zf.read("datapackage.json"))
    assert package["labelcheck"]["operator"] == "Test Authority"
    data = bytearray(wacz.read_bytes())
    data[len(data) // 3] ^= 0x01  # one bit, somewhere in the stored WARC
    bad = tmp_path / "bad.wacz"
    bad.write_bytes(bytes(data))
    p = run_cli("verify-bundle", "--no-rerun", bad, timeout=120)
    assert p.returncode == 1 and "FAILED" in p.stdout and "FAIL " in p.stdout, p.stdout


def _sample(site: SampleSite, store: Path, seed: int, size: int = 4) -> list[str]:
    opts = SampleOptions(
        (f"{site.url}/sitemap.xml",),
        size=size,
        seed=seed,
        limits=CrawlLimits(max_pages=50, max_depth=3, threads=2),
        politeness=Politeness(rate=RATE, allow_private=True),
        tdm_only=False,
    )
    report, _ = run(opts, store, EvidenceOptions(), Judge.of())
    return [it.url for it in report.items]


def test_the_same_seed_draws_the_same_sample(tmp_path):
    with SampleSite() as site:
        first = _sample(site, tmp_path / "a", 3)
        again = _sample(site, tmp_path / "b", 3)
        other = _sample(site, tmp_path / "c", 4)
    assert first == again and len(first) == 4
    assert other != first


def test_tdm_only_reads_the_hosts_without_fetching_media(tmp_path):
    with SampleSite() as site:
        args = ["sample", f"{site.url}/news/0.html", "--tdm-only", "--allow-private-network", "--rate", str(RATE)]
        p = run_cli(*args, "--max-depth", "1", timeout=120)
        log = list(site.log)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["items"] == [] and report["hosts"][0]["tdmrep"]
    assert not [path for _, _, path, _ in log if path.startswith("/media/")]
    assert "/.well-known/tdmrep.json" in [path for _, _, path, _ in log]


def test_an_interrupted_sample_resumes_without_fetching_again(tmp_path):
    """A first run keeps what it fetched in --state; the same sample with --resume sends no request for what is
    stored and draws the same items."""
    state = tmp_path / "state"
    with SampleSite() as site:
        args = ["sample", f"{site.url}/sitemap.xml", "--allow-private-network", "--rate", str(RATE), "--size", "4"]
        args += ["--seed", "5", "-j", "0", "--state", state]
        first = run_cli(*args, timeout=300)
        sent = len(site.log)
        again = run_cli(*args, "--resume", timeout=300)
        resent = site.log[sent:]
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert [it["url"] for it in json.loads(first.stdout)["items"]] == [
        it["url"] for it in json.loads(again.stdout)["items"]
    ]
    assert "resumed:" in again.stderr
    assert resent == []  # nothing sent again: robots.txt, sitemaps, pages and media all came from the state


def test_a_private_address_is_refused_without_the_flag_and_nothing_is_sent(tmp_path):
    """The sample refuses loopback and private addresses as check does: nothing reaches the site, the report says
    why, and there is nothing to sample (exit 6)."""
    with SampleSite() as site:
        p = run_cli("sample", f"{site.url}/sitemap.xml", "--size", "3", "-o", tmp_path / "r.json", timeout=120)
        log = list(site.log)
    assert p.returncode == 6 and log == [], (p.returncode, log)
    assert "refusing a private address" in p.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["frame_size"] == 0 and any("private address" in f for f in report["findings"])

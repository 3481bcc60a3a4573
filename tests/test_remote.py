"""Remote items: a URL that is not a playlist is one media item, fetched by the worker that checks it (locally or
on Dask) and reported under its URL, with the result its file gets locally. A real HTTP server on loopback."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import MEDIA, TEST_CA, Server, eventually, run_cli

from labelcheck.extract.c2pa import C2paSettings
from labelcheck.extract.gather import EvidenceOptions
from labelcheck.inputs.fetch import FetchError, FetchOptions, fetch, pinned
from labelcheck.inputs.scratch import fetch_prefix
from labelcheck.inputs.targets import expand
from labelcheck.policy.judge import Judge
from labelcheck.render.document import result_dict
from labelcheck.scale.runner import RunOptions, run

NAMES = ("xmp_fully_ai.jpg", "c2pa_fully_ai.mp4", "png_comfyui.png", "c2pa_synthetic_voice.mp3")
LOOPBACK = FetchOptions(timeout=5, retries=1, allow_private=True, max_bytes=1 << 20)


@pytest.fixture(scope="module")
def server():
    files = {f"/media/{n}": (MEDIA / n).read_bytes() for n in NAMES}
    files["/live"] = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg0.ts\n"  # a playlist with no extension
    files["/big.jpg"] = (MEDIA / "xmp_fully_ai.jpg").read_bytes() + bytes(2 << 20)  # over LOOPBACK's limit
    files["/dash"] = b'<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"></MPD>\n'
    files["/drawing.svg"] = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>\n'
    with Server(files) as srv:
        yield srv


def _options(**kw):
    return EvidenceOptions(**({"c2pa": C2paSettings(trust_anchors=(str(TEST_CA),)), "fetch": LOOPBACK} | kw))


def _facts(doc):
    keep = ("media_type", "sha256", "status", "size", "findings", "signals", "labels")
    return {k: doc[k] for k in keep} | {"ai": doc["ai"]["status"], "c2pa": doc["c2pa"]["validation_state"]}


def _results(targets, run_options, **kw):
    judge = Judge.of(kw.pop("policies", ()))
    pairs = run(expand(targets), _options(**kw), judge, run_options)
    return {result_dict(r)["target"]: result_dict(r) for _, r in pairs}


def test_a_url_is_checked_as_its_file_is_and_reported_under_its_url(server):
    urls = [f"{server.url}/media/{n}" for n in NAMES]
    remote = _results(urls, RunOptions(workers=2, batch_size=2))
    local = _results([MEDIA / n for n in NAMES], RunOptions(workers=0))
    assert set(remote) == set(urls)
    for name in NAMES:
        got, want = remote[f"{server.url}/media/{name}"], local[str(MEDIA / name)]
        assert got["errors"] == [] and _facts(got) == _facts(want), name
    assert remote[f"{server.url}/media/c2pa_fully_ai.mp4"]["c2pa"]["validation_state"] == "Trusted"


def test_a_url_is_one_whatever_the_case_of_its_scheme_and_a_file_named_like_one_stays_a_file(
    server, tmp_path, monkeypatch
):
    """URL schemes are case-insensitive: HTTP://host/x.jpg is fetched, not looked for on disk as a path. A local
    file whose name merely begins `http:` is a file."""
    url = f"HTTP://{server.url.split('://', 1)[1]}/media/xmp_fully_ai.jpg"
    local = tmp_path / "http:xmp_fully_ai.jpg"
    local.write_bytes((MEDIA / "xmp_fully_ai.jpg").read_bytes())
    monkeypatch.chdir(tmp_path)
    got = _results([url, "http:xmp_fully_ai.jpg"], RunOptions(workers=0))
    assert set(got) == {url, str(local)}
    assert got[url]["errors"] == [] and got[url]["status"] == "pass" and got[url]["sha256"] == got[str(local)]["sha256"]


def test_fetch_failures_are_the_items_errors_and_the_run_goes_on(server):
    urls = [
        f"{server.url}/404/media/xmp_fully_ai.jpg",
        f"{server.url}/loop",
        f"{server.url}/live",
        f"{server.url}/big.jpg",
        f"{server.url}/media/xmp_fully_ai.jpg",
    ]
    got = _results(urls, RunOptions(workers=1, item_timeout=30))
    messages = {u: " ".join(e["message"] for e in got[u]["errors"]) for u in urls}
    assert "HTTP 404" in messages[urls[0]] and "redirects" in messages[urls[1]]
    assert "serves an HLS or DASH playlist" in messages[urls[2]] and "larger than" in messages[urls[3]]
    assert [got[u]["status"] for u in urls] == ["error"] * 4 + ["pass"]
    private = _results(urls[-1:], RunOptions(workers=0), fetch=replace(LOOPBACK, allow_private=False))
    assert "private address" in private[urls[-1]]["errors"][0]["message"]


def test_xml_is_a_playlist_only_when_it_is_a_dash_manifest(server):
    """An SVG begins like a DASH manifest (an XML declaration): it is an image, fetched and checked; a DASH manifest
    served without its extension is refused as a playlist."""
    urls = [f"{server.url}/drawing.svg", f"{server.url}/dash"]
    got = _results(urls, RunOptions(workers=0))
    assert got[urls[0]]["media_type"] == "image/svg+xml"
    assert not any("playlist" in e["message"] for e in got[urls[0]]["errors"]), got[urls[0]]["errors"]
    assert "serves an HLS or DASH playlist" in got[urls[1]]["errors"][0]["message"]


def test_too_many_requests_is_retried_and_gone_is_not(server):
    """A platform sampled by a regulator answers 429 when asked too fast: the fetch waits as long as the server's
    Retry-After says, tries again and gets the file; 410 Gone is final at once."""
    busy, gone = f"{server.url}/busy/media/xmp_fully_ai.jpg", f"{server.url}/gone/media/xmp_fully_ai.jpg"
    assert fetch(busy, LOOPBACK) == (MEDIA / "xmp_fully_ai.jpg").read_bytes()
    asked = [t for t, path in server.times if path == "/busy/media/xmp_fully_ai.jpg"]
    assert len(asked) == 2 and asked[1] - asked[0] >= 0.95  # Retry-After: 1, not the 0.2 s back-off
    with pytest.raises(FetchError, match="HTTP 410$"):  # no "(after 2 attempts)": not retried
        fetch(gone, LOOPBACK)


def test_what_a_remote_items_response_headers_say_counts(tmp_path):
    """TDMRep headers declare a served item's training use, though the file's own TDMRep wins. A Link header's C2PA
    manifest (rel="c2pa-manifest") is a provenance reference: with --allow-network it is fetched and verified
    against the item, which then reads as the manifest declares; without, provenance-intact says it was not fetched."""
    files = {
        "/reserved.jpg": (MEDIA / "xmp_fully_ai.jpg").read_bytes(),
        "/tdm.jpg": (MEDIA / "tdm_reserved.jpg").read_bytes(),
        "/linked.jpg": (MEDIA / "sidecar_fully_ai.jpg").read_bytes(),
        "/manifests/linked.c2pa": (MEDIA / "sidecar_fully_ai.c2pa").read_bytes(),
    }
    link = (
        '<https://example.org/me>; rel="author", </manifests/linked.c2pa>; rel="c2pa-manifest"; type="application/c2pa"'
    )
    headers = {
        "/reserved.jpg": [("TDM-Reservation", "1")],
        "/tdm.jpg": [("tdm-reservation", "0")],  # the file says 1, with a policy: the file wins
        "/linked.jpg": [("Link", link)],
    }
    with Server(files, headers=headers) as srv:
        urls = [srv.url + p for p in ("/reserved.jpg", "/tdm.jpg", "/linked.jpg")]
        offline = _results(urls, RunOptions(workers=0))
        anchors = C2paSettings(trust_anchors=(str(TEST_CA),), allow_network=True)
        online = _results(urls[2:], RunOptions(workers=1), c2pa=anchors)
        gate = run_cli("check", urls[2], "-p", "eu-ai-act-art50", "--allow-private-network", "--format", "json")
    stripped = next(f for f in json.loads(gate.stdout)["results"][0]["findings"] if f["rule"] == "cop-no-stripping")
    assert stripped["status"] == "fail" and f"{srv.url}/manifests/linked.c2pa" in stripped["message"]  # not fetched
    reserved, tdm, linked = (offline[u] for u in urls)
    assert reserved["training"]["status"] == "not_allowed"
    assert [(e["source"], e["key"]) for e in reserved["training"]["evidence"]] == [("http", "tdm-reservation")]
    assert tdm["training"]["status"] == "not_allowed" and {e["source"] for e in tdm["training"]["evidence"]} == {"xmp"}
    assert linked["ai"]["status"] == "unknown" and not linked["c2pa"]["present"]
    ref = f"{srv.url}/manifests/linked.c2pa"
    assert any(s["kind"] == "provenance_ref" and s["value"] == ref for s in linked["signals"])
    verified = online[urls[2]]
    assert verified["errors"] == [] and verified["ai"]["status"] == "fully_ai"
    assert verified["c2pa"]["validation_state"] in ("Valid", "Trusted") and verified["c2pa"]["sidecar"] == ref


def test_an_ai_disclosure_header_is_a_non_standard_claim_that_the_files_own_label_outranks():
    """AI-Disclosure (draft-abaris-aicdh): its mode says how far AI made the response. A plain photo served as
    machine-generated reads fully_ai (non-standard); a C2PA fully-AI file served with mode=none keeps its manifest's
    status, and the header's claim is reported as a conflict."""
    served = (("photo", "plain_camera"), ("ai", "c2pa_fully_ai"))
    files = {f"/{name}.jpg": (MEDIA / f"{fixture}.jpg").read_bytes() for name, fixture in served}
    disclosure = 'mode=machine-generated, model="Image Model 2, turbo", provider="Example AI", date=@1745921400'
    headers = {"/photo.jpg": [("AI-Disclosure", disclosure)], "/ai.jpg": [("ai-disclosure", "mode=none")]}
    with Server(files, headers=headers) as srv:
        urls = [srv.url + p for p in ("/photo.jpg", "/ai.jpg")]
        photo, ai = (_results(urls, RunOptions(workers=1))[u] for u in urls)
    assert (photo["ai"]["status"], photo["ai"]["basis"]) == ("fully_ai", "non_standard")
    (why,) = photo["ai"]["evidence"]
    assert why["source"] == "http" and "machine-generated" in why["reason"] and "Image Model 2, turbo" in why["reason"]
    assert (ai["ai"]["status"], ai["ai"]["basis"]) == ("fully_ai", "standard")
    assert [c["other"]["source"] for c in ai["conflicts"]] == ["http"] and "not_ai" in ai["conflicts"][0]["message"]


def test_an_item_whose_fetch_stalls_is_reported_and_its_worker_leaves_no_files(server):
    before = set(Path(tempfile.gettempdir()).glob("labelcheck-fetch-*"))
    urls = [f"{server.url}/stall", f"{server.url}/media/xmp_fully_ai.jpg"]
    roomy = replace(LOOPBACK, max_bytes=64 << 20)
    got = _results(urls, RunOptions(workers=1, item_timeout=1, startup_grace=0), fetch=roomy)
    assert got[urls[0]]["status"] == "error" and "time limit" in got[urls[0]]["errors"][0]["message"]
    assert got[urls[1]]["status"] == "pass"
    assert set(Path(tempfile.gettempdir()).glob("labelcheck-fetch-*")) <= before


def test_a_fetch_connects_to_the_address_it_checked_and_names_the_host_it_was_given(server):
    """No second DNS answer (which could name a private host) is asked for: the request goes to the checked address,
    with the URL's host in the Host header and as the TLS server name."""
    port = server.url.rsplit(":", 1)[1]
    assert (
        fetch(f"http://localhost:{port}/media/xmp_fully_ai.jpg", LOOPBACK) == (MEDIA / "xmp_fully_ai.jpg").read_bytes()
    )
    assert server.hosts[-1] == f"localhost:{port}" and server.agents[-1].startswith("labelcheck/")
    assert pinned("https://example.org:8443/a?b=1", "93.184.216.34") == (
        "https://93.184.216.34:8443/a?b=1",
        {"Host": "example.org:8443"},
        {"sni_hostname": "example.org"},
    )
    assert pinned("http://example.org/a", "2001:db8::1")[0] == "http://[2001:db8::1]/a"


def test_a_response_that_only_drips_is_cut_off_by_its_whole_time_limit(server):
    """Each byte arrives within the read timeout, so only a limit on the whole response ends it."""
    started = time.monotonic()
    with pytest.raises(FetchError, match="still arriving after 1 s"):
        fetch(f"{server.url}/drip", replace(LOOPBACK, max_seconds=1.0, retries=0))
    assert time.monotonic() - started < 5


def test_compressed_responses_are_decoded_and_a_compression_bomb_is_refused():
    """A CDN that gzips a playlist declares the compressed length: that is not a truncated body. A body that
    decodes to more than a hundred times its size is refused before it fills the disk."""
    import gzip
    import zlib

    playlist = b"#EXTM3U\n" + b"#EXTINF:2,\nseg.ts\n" * 2000
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    bomb = b"".join(packer.compress(bytes(1 << 20)) for _ in range(100)) + packer.flush()  # 100 MB of zeros
    with Server({"/index.m3u8": gzip.compress(playlist), "/bomb.bin": bomb}) as srv:
        assert fetch(f"{srv.url}/gz/index.m3u8", LOOPBACK) == playlist
        with pytest.raises(FetchError, match="compression bomb"):
            fetch(f"{srv.url}/gz/bomb.bin", replace(LOOPBACK, max_bytes=1 << 30))


def test_a_fetch_falls_back_to_the_next_checked_address(server, monkeypatch):
    """A host whose first address refuses the connection (here 127.0.0.2, where nothing listens) is reached at the
    next one, as a plain connect would."""
    import socket

    port = int(server.url.rsplit(":", 1)[1])
    real = socket.getaddrinfo

    def two_addresses(host, *args, **kw):
        if host == "media.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0)) for a in ("127.0.0.2", "127.0.0.1")]
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
    body = fetch(f"http://media.test:{port}/media/xmp_fully_ai.jpg", LOOPBACK)
    assert body == (MEDIA / "xmp_fully_ai.jpg").read_bytes() and server.hosts[-1] == f"media.test:{port}"


def test_a_killed_command_line_leaves_no_fetched_files(server):
    """SIGKILL of labelcheck itself (a CI runner killing the job): its worker, mid-fetch, exits and removes its
    temporary directory on the way."""
    import os
    import signal
    import subprocess
    import sys

    from conftest import descendants, running

    cmd = [sys.executable, "-m", "labelcheck", "check", "--allow-private-network", "-j", "1", f"{server.url}/stall"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def fetched():
        temp = Path(tempfile.gettempdir())
        return [d for pid in descendants(proc.pid) for d in temp.glob(f"labelcheck-fetch-{pid}-*")]

    eventually(fetched, 30, "no fetch started")
    workers, dirs = descendants(proc.pid), fetched()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    eventually(lambda: not any(running(p) for p in workers), 10, "a worker outlived the command line")
    assert not [d for d in dirs if d.exists()]


def test_urls_from_a_list_on_the_command_line_and_on_dask(server, tmp_path):
    urls = [f"{server.url}/media/{n}" for n in NAMES[1:3]]  # a signed MP4 and a ComfyUI PNG
    listed, sarif = tmp_path / "sample.txt", tmp_path / "r.sarif"
    listed.write_text("".join(u + "\n" for u in urls))
    args = ("--allow-private-network", "--trust-anchors", TEST_CA, "-p", "creators-two-labels")
    p = run_cli("check", *args, "--format", "json", "--report", f"sarif={sarif}", "--from-list", listed)
    assert p.returncode == 1, p.stderr  # the PNG is labelled only by its generator's chunks
    cli = {r["target"]: r for r in json.loads(p.stdout)["results"]}
    assert set(cli) == set(urls)
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {urls[1]}
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        dask = _results(urls, RunOptions(scheduler=cl.scheduler_address, batch_size=1), policies=_policies())
    for u in urls:
        assert _facts(dask[u]) == _facts(cli[u]), u


def _policies():
    from labelcheck.policy import load as policy

    return (policy.load("creators-two-labels"),)


def test_on_dask_a_batch_run_again_after_its_worker_died_gets_a_new_time_limit(server):
    """Dask runs a dead worker's task again on another worker. That run needs the whole time limit: counted from the
    first start, the item (a fetch that takes 5 s, limit 6 s) would be cut off and reported."""
    import os
    import signal
    import threading

    distributed = pytest.importorskip("distributed")
    url = f"{server.url}/slow/5/media/xmp_fully_ai.jpg"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        with distributed.Client(cl) as client:
            pids = client.run(os.getpid)
            scratch = {w: Path(d) for w, d in client.run(lambda dask_worker: dask_worker.local_directory).items()}
            got = {}
            run_options = RunOptions(scheduler=cl.scheduler_address, batch_size=1, item_timeout=6, startup_grace=0)
            runner = threading.Thread(target=lambda: got.update(_results([url], run_options)))
            runner.start()
            eventually(lambda: any(client.processing().values()), 30, "no task started")
            busy = next(w for w, keys in client.processing().items() if keys)
            time.sleep(1.0)
            os.kill(pids[busy], signal.SIGKILL)  # its nanny starts a new worker; Dask runs the batch on the other
            runner.join(60)
            # what the killed worker was fetching went with its directory, removed once its successor started
            eventually(lambda: len(client.scheduler_info()["workers"]) == 2, 30, "no worker replaced the killed one")
            fetched = f"{fetch_prefix(pids[busy])}*"
            left = [*scratch[busy].parent.glob(f"*/{fetched}"), *Path(tempfile.gettempdir()).glob(fetched)]
    assert not runner.is_alive()
    assert got[url]["status"] == "pass", got[url]["errors"]
    assert not left


def test_https_to_the_pinned_address_verifies_the_certificate_for_the_host_name(tmp_path, monkeypatch):
    """The connection goes to the checked address, and TLS still verifies the certificate against the URL's host
    name: a certificate for localhost is accepted at https://localhost/ (connected to 127.0.0.1), and refused for
    a name it does not cover (here a second name for the same address)."""
    import socket
    import ssl
    import subprocess
    import threading

    from labelcheck.inputs import fetch as fetch_mod

    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    trusting = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(fetch_mod, "tls_context", lambda: trusting)  # trust our certificate, as a CA bundle would
    monkeypatch.setattr(fetch_mod, "_CLIENTS", threading.local())  # no client kept from an earlier test
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: real("127.0.0.1", *a, **k) if host == "other.test" else real(host, *a, **k),
    )
    body = (MEDIA / "xmp_fully_ai.jpg").read_bytes()
    with Server({"/a.jpg": body}) as srv:
        served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        served.load_cert_chain(str(cert), str(key))
        srv.httpd.socket = served.wrap_socket(srv.httpd.socket, server_side=True)
        port = srv.url.rsplit(":", 1)[1]
        assert fetch(f"https://localhost:{port}/a.jpg", LOOPBACK) == body
        with pytest.raises(FetchError, match="(?i)certificate|hostname"):
            fetch(f"https://other.test:{port}/a.jpg", replace(LOOPBACK, retries=0))

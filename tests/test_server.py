"""The HTTP API as a real uvicorn server on a loopback port: upload, poll, list, metrics, auth, limits, dashboard."""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import httpx
import pytest
from conftest import MEDIA, Server, run_cli

TOKEN = "t0k3n-for-the-tests-only"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(reports, *args, token=None):
    """`labelcheck serve` on a free loopback port, once it answers /readyz: (process, url, client)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "labelcheck.cli",
            "serve",
            "--reports",
            str(reports),
            "--port",
            str(port),
            "--workers",
            "1",
            *(["--token", token] if token else []),
            *args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=30)
    for _ in range(300):
        try:
            if client.get("/readyz").status_code == 200:
                return proc, url, client
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    pytest.fail(proc.stderr.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("srv")
    root = base / "root"
    root.mkdir()
    shutil.copyfile(MEDIA / "png_comfyui.png", root / "gen.png")
    (root / "link-out").symlink_to("/etc/hostname")
    proc, url, client = start_server(base / "reports", "--root", str(root), "--max-upload-mb", "0.05", token=TOKEN)
    yield {"url": url, "client": client, "root": root, "proc": proc}
    proc.terminate()
    assert proc.wait(60) == 0
    client.close()


def wait_done(client: httpx.Client, item_id: int) -> dict:
    for _ in range(300):
        doc = client.get(f"/v1/checks/{item_id}").json()
        if "results" in doc or doc.get("state") == "failed":
            return doc
        time.sleep(0.1)
    raise AssertionError(f"check {item_id} never finished")


def test_upload_poll_report_and_html(server):
    c = server["client"]
    with open(MEDIA / "xmp_fully_ai.jpg", "rb") as fh:
        r = c.post("/v1/checks", files={"file": ("photo.jpg", fh, "image/jpeg")})
    assert r.status_code == 202
    doc = wait_done(c, r.json()["id"])
    assert doc["results"][0]["ai"]["status"] == "fully_ai" and doc["results"][0]["status"] == "pass"
    page = c.get(f"/v1/checks/{r.json()['id']}/report.html")
    assert page.status_code == 200 and "labelcheck report" in page.text


def test_path_submission_confined_to_roots(server):
    c, root = server["client"], server["root"]
    r = c.post("/v1/checks", json={"path": str(root / "gen.png")})
    assert r.status_code == 202
    assert wait_done(c, r.json()["id"])["results"][0]["status"] == "fail"
    assert c.post("/v1/checks", json={"path": "/etc/hostname"}).status_code == 403
    assert c.post("/v1/checks", json={"path": str(root / "link-out")}).status_code == 403  # symlink escape
    assert c.post("/v1/checks", json={"path": str(root / ".." / "root" / "gen.png")}).status_code == 400
    assert c.post("/v1/checks", json={"path": str(root / "missing.png")}).status_code == 404
    assert c.post("/v1/checks", json={"nope": 1}).status_code == 422
    assert c.post("/v1/checks", content=b"not json", headers={"content-type": "application/json"}).status_code == 422


def test_a_submitted_url_is_checked_as_check_checks_a_url_and_listed_under_it(tmp_path):
    """{"url": ...} (only with --fetch-urls): queued at once and fetched by the worker that checks it, as `check`
    does, so the report is the one `check URL` gives: named by the URL, with what the response headers say. What can
    be told before queueing is refused then (a private host without --allow-private-network, a playlist, not http);
    what only the fetch can tell (404, too large, a playlist under a media name) is the item's error."""
    body = (MEDIA / "xmp_fully_ai.jpg").read_bytes()
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg0.ts\n"
    files = {"/media/photo.jpg": body, "/big.jpg": body + bytes(60_000), "/live": playlist}
    headers = {"/media/photo.jpg": [("tdm-reservation", "1")]}
    with Server(files, headers=headers) as media:
        proc, _, c = start_server(tmp_path / "reports", "--fetch-urls", "--max-upload-mb", "0.05")
        try:
            private = c.post("/v1/checks", json={"url": f"{media.url}/media/photo.jpg"})
            assert private.status_code == 403 and "private address" in private.json()["detail"]
        finally:
            proc.terminate()
            proc.wait(60)
        proc, _, c = start_server(
            tmp_path / "reports", "--fetch-urls", "--allow-private-network", "--max-upload-mb", "0.05"
        )
        try:
            url = f"{media.url}/media/photo.jpg"
            r = c.post("/v1/checks", json={"url": url})
            assert r.status_code == 202
            result = wait_done(c, r.json()["id"])["results"][0]
            assert result["target"] == url and result["ai"]["status"] == "fully_ai"
            assert result["sha256"] == hashlib.sha256(body).hexdigest()
            assert result["training"]["status"] == "not_allowed"  # the tdm-reservation header
            listed = c.get("/v1/checks").json()["items"]
            assert [(i["source_url"], i["size"]) for i in listed] == [(url, len(body))]
            audit = [json.loads(x) for f in (tmp_path / "reports").glob("labelcheck-*.jsonl") for x in f.open()]
            assert [(line["path"], line.get("source")) for line in audit] == [(url, url)]
            assert url in c.get("/").text
            refused = {
                f"{media.url}/live.m3u8": (422, "playlists are streams"),
                "ftp://example.org/a.jpg": (422, "http(s) URL"),
                "http://no-such-host.invalid/a.jpg": (422, "host not found"),
            }
            for bad, (code, why) in refused.items():
                got = c.post("/v1/checks", json={"url": bad})
                assert got.status_code == code and why in got.json()["detail"], (bad, got.text)
            assert c.post("/v1/checks", json={"url": url, "path": "/etc/hostname"}).status_code == 422
            failing = {
                f"{media.url}/404/photo.jpg": "HTTP 404",
                f"{media.url}/big.jpg": "larger than",
                f"{media.url}/live": "serves an HLS or DASH playlist",
            }
            for bad, why in failing.items():
                got = c.post("/v1/checks", json={"url": bad})
                assert got.status_code == 202, got.text
                item = wait_done(c, got.json()["id"])["results"][0]
                assert item["status"] == "error" and why in item["errors"][0]["message"], (bad, item["errors"])
            assert not (tmp_path / "reports" / "uploads").exists() or not any(
                (tmp_path / "reports" / "uploads").iterdir()
            )
        finally:
            proc.terminate()
            proc.wait(60)


def test_url_submissions_are_refused_unless_the_server_fetches_urls(server):
    r = server["client"].post("/v1/checks", json={"url": "https://example.org/photo.jpg"})
    assert r.status_code == 403 and "--fetch-urls" in r.json()["detail"]


def test_auth_and_upload_limit(server):
    url = server["url"]
    assert httpx.get(f"{url}/v1/checks").status_code == 401
    assert httpx.get(f"{url}/v1/checks", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(f"{url}/healthz").status_code == 200  # probes need no token
    before = server["client"].get("/v1/checks?limit=500").json()["items"]
    big = b"\xff\xd8\xff" + b"0" * 100_000
    r = server["client"].post("/v1/checks", files={"file": ("big.jpg", big, "image/jpeg")})
    assert r.status_code == 413
    assert server["client"].get("/v1/checks?limit=500").json()["items"] == before  # nothing stored


def test_list_paging_filters_and_metrics(server):
    c = server["client"]
    all_items = c.get("/v1/checks", params={"limit": 1}).json()
    assert len(all_items["items"]) == 1 and all_items["next_offset"] == 1
    fails = c.get("/v1/checks", params={"status": "fail"}).json()["items"]
    assert fails and all(i["status"] == "fail" for i in fails)
    assert c.get("/v1/checks", params={"status": "bogus"}).status_code == 422
    from prometheus_client.parser import text_string_to_metric_families

    families = {f.name: f for f in text_string_to_metric_families(c.get("/metrics").text)}
    assert {
        "labelcheck_items",
        "labelcheck_queue_depth",
        "labelcheck_check_latency_seconds",
        "labelcheck_tool_restarts",
    } <= set(families)
    by_status = {s.labels["status"]: s.value for s in families["labelcheck_items"].samples}
    assert by_status.get("fail", 0) >= 1


def test_metrics_are_exact_parse_and_include_the_process(server):
    """/metrics: prometheus_client's exposition of a registry of the server's own: the service's metrics as they
    were (names, types, labels, help), their values read from the state at the scrape, and the server process's
    own metrics (CPU, memory, open files, start time) and the interpreter's."""
    from prometheus_client.parser import text_string_to_metric_families

    c = server["client"]
    items = c.get("/v1/checks", params={"limit": 500}).json()["items"]
    r = c.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert items == c.get("/v1/checks", params={"limit": 500}).json()["items"]  # nothing changed meanwhile
    families = {f.name: f for f in text_string_to_metric_families(r.text)}  # the whole text parses
    assert all(f.samples for f in families.values())
    own = {
        "labelcheck_items": ("gauge", "Items by result status (pass/fail/error) or queue state."),
        "labelcheck_queue_depth": ("gauge", "Items waiting to be checked."),
        "labelcheck_check_latency_seconds": ("histogram", "From queued to reported."),
        "labelcheck_tool_restarts": (
            "counter",
            "Restarted processes: workers (hang, crash), exiftool (deadline, exit).",
        ),
    }
    for name, (kind, help_text) in own.items():
        assert (families[name].type, families[name].documentation) == (kind, help_text), name

    done = [i for i in items if i["state"] == "done"]
    by_status = {s.labels["status"]: s.value for s in families["labelcheck_items"].samples}
    assert {k: v for k, v in by_status.items() if k in ("pass", "fail", "error")} == {
        status: float(sum(1 for i in done if i["status"] == status))
        for status in {i["status"] for i in done}
    }
    assert families["labelcheck_queue_depth"].samples[0].value == sum(1 for i in items if i["state"] == "queued")
    latency = {(s.name, s.labels.get("le")): s.value for s in families["labelcheck_check_latency_seconds"].samples}
    assert latency[("labelcheck_check_latency_seconds_count", None)] == len(done)
    assert latency[("labelcheck_check_latency_seconds_bucket", "+Inf")] == len(done)
    assert latency[("labelcheck_check_latency_seconds_sum", None)] > 0
    assert {le for name, le in latency if name.endswith("_bucket")} >= {"0.05", "1.0", "300.0", "+Inf"}
    restarts = {(s.name, s.labels["tool"]): s.value for s in families["labelcheck_tool_restarts"].samples}
    assert restarts == {
        ("labelcheck_tool_restarts_total", "worker"): 0,
        ("labelcheck_tool_restarts_total", "exiftool"): 0,
    }

    # the process metrics are the server process's own (its start time, as /proc has it)
    process = ("process_cpu_seconds", "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds")
    assert set(process) <= set(families)
    assert families["process_resident_memory_bytes"].samples[0].value > 10 << 20
    assert families["process_open_fds"].samples[0].value >= 3
    with open(f"/proc/{server['proc'].pid}/stat") as fh:
        start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/stat") as fh:
        boot = next(float(line.split()[1]) for line in fh if line.startswith("btime "))
    started = boot + start_ticks / os.sysconf("SC_CLK_TCK")
    assert abs(families["process_start_time_seconds"].samples[0].value - started) < 1.0
    assert families["python_info"].samples[0].labels["implementation"] == "CPython"


def test_openapi_is_served(server):
    doc = server["client"].get("/openapi.json").json()
    assert {"/v1/checks", "/v1/checks/{item_id}", "/v1/checks/{item_id}/report.html", "/metrics"} <= set(doc["paths"])


def test_refuses_to_bind_beyond_loopback_without_a_token(tmp_path):
    p = run_cli(
        "serve", "--reports", tmp_path, "--host", "0.0.0.0", "--port", "0", timeout=60, env={"PATH": "/usr/bin:/bin"}
    )
    assert p.returncode == 2 and "without --token" in p.stderr


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)")
def test_dashboard_in_headless_chromium_shows_the_api_counts(tmp_path):
    proc, url, c = start_server(tmp_path / "r")  # loopback without a token is allowed
    try:
        ids = []
        for name in ("xmp_fully_ai.jpg", "png_comfyui.png", "bad_empty.png", "png_a1111_parameters.png"):
            with open(MEDIA / name, "rb") as fh:
                ids.append(c.post("/v1/checks", files={"file": (name, fh)}).json()["id"])
        for i in ids:
            wait_done(c, i)
        expected: dict[str, int] = {}
        for item in c.get("/v1/checks").json()["items"]:
            key = item["status"] or item["state"]
            expected[key] = expected.get(key, 0) + 1
        assert expected == {"pass": 1, "fail": 2, "error": 1}
        dom = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--dump-dom",
                url + "/",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        ).stdout
        for key, n in expected.items():
            assert f'data-count="{key}">{n}<' in dom
        assert dom.count("/report.html") == 4
    finally:
        proc.terminate()
        assert proc.wait(60) == 0


def test_schemathesis_finds_no_server_error(server):
    st = shutil.which("st", path=str(__import__("pathlib").Path(sys.executable).parent))
    if st is None:
        pytest.skip("schemathesis is not installed")
    p = subprocess.run(
        [
            st,
            "run",
            server["url"] + "/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "25",
            "--generation-deterministic",
            "--request-timeout",
            "10",
            "-H",
            f"Authorization: Bearer {TOKEN}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert p.returncode == 0, p.stdout[-3000:]
    assert "passed" in p.stdout


def test_a_chunked_upload_over_the_limit_is_refused_while_streaming(server):
    def body():
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n\r\n'
        for _ in range(100):
            yield b"0" * 1024  # 100 KB, over the 50 KB limit, with no Content-Length
        yield b"\r\n--b--\r\n"

    r = server["client"].post("/v1/checks", content=body(), headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413


def test_dashboard_filters_by_policy_and_status(server):
    c = server["client"]
    page = c.get("/", params={"policy": "labelcheck-default"}).text
    assert "gen.png" in page and "photo.jpg" not in page  # only items failing that policy
    assert "data-count" in c.get("/", params={"status": "pass"}).text


def test_a_bad_config_file_is_a_named_usage_error(tmp_path):
    cfg = tmp_path / "labelcheck.toml"
    cfg.write_text('[server]\nport = "eighty"\n')
    p = run_cli("serve", "--config", cfg, "--reports", tmp_path / "r", timeout=60)
    assert p.returncode == 2 and "server/port" in p.stderr and "labelcheck.toml" in p.stderr


def test_config_policies_waivers_and_evidence_dir_apply_to_uploads(tmp_path):
    item = MEDIA / "plain_camera.jpg"  # fails creators-two-labels: no training/data-mining declaration
    sha = hashlib.sha256(item.read_bytes()).hexdigest()
    (tmp_path / "w.yaml").write_text(
        f"waivers:\n  - sha256: {sha}\n    rules: [training-consent-declared]\n    reason: reviewed\n"
    )
    cfg = tmp_path / "labelcheck.toml"
    cfg.write_text(
        f'[check]\npolicies = ["creators-two-labels"]\nwaivers = "{tmp_path / "w.yaml"}"\n'
        f'evidence_dir = "{tmp_path / "evidence"}"\n'
    )
    proc, _, client = start_server(tmp_path / "r", "--config", str(cfg))
    try:
        with open(item, "rb") as fh:
            r = client.post("/v1/checks", files={"file": ("photo.jpg", fh, "image/jpeg")})
        result = wait_done(client, r.json()["id"])["results"][0]
        waived = [f for f in result["findings"] if f["status"] == "waived"]
        assert result["status"] == "pass" and [f["waiver"]["reason"] for f in waived] == ["reviewed"]
        assert (tmp_path / "evidence" / sha[:2] / f"{sha}.json").is_file()
    finally:
        proc.terminate()
        assert proc.wait(60) == 0
        client.close()


def test_the_example_config_is_valid():
    from conftest import ROOT

    from labelcheck.service.server.run import load_config

    conf = load_config(ROOT / "docs" / "examples" / "labelcheck.toml")
    assert conf["watch"]["settle"] == 5.0 and conf["server"]["host"] == "127.0.0.1"

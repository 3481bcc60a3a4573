"""`labelcheck serve`: configuration (TOML, validated, flags on top), the watcher thread, uvicorn."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import tomllib
from pathlib import Path
from typing import Any

from ... import resources
from ...extract.c2pa import C2paSettings
from ...extract.gather import EvidenceOptions, check_tools
from ...policy import load as policy_mod
from ...policy import waivers
from ...policy.judge import Judge
from ...scale.batches import RunOptions
from ..log import log
from ..watch import Watcher, WatchOptions
from .app import ServerConfig, create_app
from .guard import head_deadline


def load_config(path: Path | None) -> dict[str, Any]:
    """The TOML configuration, validated against schemas/config.schema.json (ValueError names the place)."""
    if path is None:
        return {}
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    errors = sorted(resources.validator("config").iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top level)"
        raise ValueError(f"{path}: {where}: {errors[0].message}")
    return doc


MAX_HEAD = 16 * 1024  # bytes of a request's line and headers (h11's own default, stated): more is a 400


def uvicorn_config(app: Any, server: ServerConfig) -> Any:  # a uvicorn.Config
    """How uvicorn serves the API: what a client may hold and for how long. Each request's head must arrive within
    header_timeout seconds (HeadDeadline: uvicorn alone would wait for ever), and be at most MAX_HEAD bytes; an idle
    kept-alive connection is closed after keep_alive seconds; beyond max_connections open connections, requests are
    answered 503 at once; a shutdown waits 10 s for the requests in hand."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=server.host,
        port=server.port,
        http=head_deadline(server.header_timeout),
        h11_max_incomplete_event_size=MAX_HEAD,
        timeout_keep_alive=server.keep_alive,
        limit_concurrency=server.max_connections,
        timeout_graceful_shutdown=10,
        log_level="warning",
        access_log=False,
    )


def serve(flags: dict[str, Any], options: EvidenceOptions, judge: Judge) -> int:
    """`flags` are the command line's (None where not given); they override the TOML configuration."""
    import uvicorn

    conf = load_config(flags["config_file"])
    reports, watch_dirs, settle, workers = flags["reports"], flags["watch_dirs"], flags["settle"], flags["workers"]
    host, port, token, roots, max_upload_mb = (flags[k] for k in ("host", "port", "token", "roots", "max_upload_mb"))
    w, s, c = conf.get("watch", {}), conf.get("server", {}), conf.get("check", {})
    reports_dir = reports or (Path(w["reports"]) if "reports" in w else None)
    if reports_dir is None:
        raise ValueError("--reports (or watch.reports in the config) is required")
    if c and judge.policies == policy_mod.in_force(()):  # no --policy given: the configuration's check section
        try:
            pols = tuple(policy_mod.load(p) for p in c.get("policies", []))
            waived = judge.waivers or (waivers.load(Path(c["waivers"])) if "waivers" in c else ())
        except policy_mod.PolicyError as exc:
            raise ValueError(str(exc)) from exc
        c2 = C2paSettings(
            allow_network=c.get("allow_network", False),
            trust_anchors=tuple(c.get("trust_anchors", ())) + options.c2pa.trust_anchors,
        )
        fail_on = c.get("fail_on", judge.fail_on)
        kept = options.evidence_dir or (Path(c["evidence_dir"]).resolve() if "evidence_dir" in c else None)
        options = dataclasses.replace(options, c2pa=c2, evidence_dir=kept)
        judge = Judge.of(pols, fail_on, judge.as_of, waived)
    check_tools(options)
    server = ServerConfig(
        host=host or s.get("host", "127.0.0.1"),
        port=port if port is not None else s.get("port", 8765),
        token=token or s.get("token"),
        roots=roots or tuple(Path(r) for r in s.get("roots", ())),
        max_upload=int((max_upload_mb or s.get("max_upload_mb", 2048)) * 1024 * 1024),
        fetch_urls=bool(flags["fetch_urls"] or s.get("fetch_urls", False)),
        allow_private_network=bool(flags["allow_private_network"] or s.get("allow_private_network", False)),
    )
    server.check()
    # submitted URLs are fetched by the workers, within the upload limit and the server's private-address rule
    fetching = dataclasses.replace(
        options.fetch, max_bytes=server.max_upload, allow_private=server.allow_private_network
    )
    options = dataclasses.replace(options, fetch=fetching)
    opts = WatchOptions(
        dirs=tuple(d.resolve() for d in watch_dirs or [Path(x) for x in w.get("dirs", ())]),
        reports=reports_dir.resolve(),
        settle=settle if settle is not None else w.get("settle", 2.0),
        poll=w.get("poll", False),
        rescan=w.get("rescan", 30.0),
        pass_dir=Path(w["pass_dir"]).resolve() if "pass_dir" in w else None,
        quarantine_dir=Path(w["quarantine_dir"]).resolve() if "quarantine_dir" in w else None,
        max_attempts=w.get("max_attempts", 3),
    )
    run = RunOptions(workers=workers or w.get("workers", os.cpu_count() or 1), item_timeout=w.get("item_timeout", 60.0))
    watcher = Watcher(opts, options, judge, run)

    def check_forever() -> None:
        try:
            watcher.serve()
        except Exception as exc:  # noqa: BLE001 - reported by /readyz and the log; the API stays up
            watcher.crashed = f"{type(exc).__name__}: {exc}"
            log("checker-crashed", error=watcher.crashed)

    checker = threading.Thread(target=check_forever, name="labelcheck-watcher", daemon=True)
    checker.start()
    app = create_app(server, watcher)
    log("serve", host=server.host, port=server.port, auth=bool(server.token), roots=[str(r) for r in server.roots])
    config = uvicorn_config(app, server)

    # uvicorn re-raises the signal it caught once it has shut down: let that reach the watcher, not kill us.
    def stop_watcher(signum: int, frame: Any) -> None:
        watcher.stop.set()
        watcher.wake.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop_watcher)
    uvicorn.Server(config).run()  # returns on SIGTERM/SIGINT, after in-flight requests
    log("stopping", action="finishing the items in hand")
    watcher.stop.set()
    watcher.wake.set()
    checker.join(120)
    return 0

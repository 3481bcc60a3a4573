"""A platform to sample, served on loopback by the tests themselves: a sitemap index (one part gzipped, one with image
entries), an RSS feed with an audio enclosure, news pages showing media in every form a page has (img, srcset,
picture, video, audio, og:image, JSON-LD), a section robots.txt disallows (with Crawl-delay), a 429 with Retry-After,
a slow page, a huge medium, a redirect to another host, TDMRep, and generated pages for a crawl at scale. Media are
the project's fixture files (real files made by real tools). Every request is logged: (monotonic time, host, path,
User-Agent)."""

from __future__ import annotations

import gzip
import http.server
import json
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"
FILES = {  # served path -> fixture
    "/media/ai-c2pa.jpg": "c2pa_fully_ai.jpg",
    "/media/ai-xmp.jpg": "xmp_fully_ai.jpg",
    "/media/photo.jpg": "plain_camera.jpg",
    "/media/photo-2.jpg": "xmp_capture.jpg",
    "/media/aigc.jpg": "tc260_aigc.jpg",
    "/media/sd.png": "png_a1111_parameters.png",
    "/media/tampered.jpg": "c2pa_tampered.jpg",
    "/media/voice.mp3": "id3_aigc.mp3",
    "/media/clip.mp4": "plain_video.mp4",
    "/media/stripped.jpg": "plain_camera.jpg",  # labelled on its page only (JSON-LD digitalSourceType)
    "/private/secret.jpg": "c2pa_fully_ai.jpg",
}
ROBOTS = """User-agent: *
Disallow: /private/
Crawl-delay: {delay}

User-agent: GPTBot
Disallow: /

User-agent: CCBot
Disallow: /
"""
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def _page(title: str, body: str, head: str = "") -> bytes:
    return f"<!doctype html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>".encode()


def news(n: int, base: str) -> bytes:
    """News page n: each shows media in another form, links the next page and the private section."""
    forms = [
        '<figure><img src="/media/ai-c2pa.jpg" alt="A lighthouse"><figcaption>AI-generated image</figcaption></figure>',
        '<img srcset="/media/ai-xmp.jpg 1x, /media/photo.jpg 2x" src="/media/photo.jpg" alt="harbour">',
        '<picture><source srcset="/media/aigc.jpg" type="image/jpeg"><img src="/media/photo-2.jpg" alt=""></picture>',
        '<video controls poster="/media/photo.jpg"><source src="/media/clip.mp4" type="video/mp4">'
        '<source src="/hls/live.m3u8" type="application/vnd.apple.mpegurl"></video>',
        '<audio controls src="/media/voice.mp3"></audio><img src="/media/sd.png" alt="made with a diffusion model">',
        '<img src="/media/stripped.jpg" alt="sunset"><img src="/media/tampered.jpg" alt="">',
    ]
    head = ""
    if n == 5:  # the stripped picture is labelled on its page, in schema.org terms
        data = {
            "@context": "https://schema.org",
            "@type": "ImageObject",
            "contentUrl": f"{base}/media/stripped.jpg",
            "digitalSourceType": IPTC + "trainedAlgorithmicMedia",
        }
        head = f'<script type="application/ld+json">{json.dumps(data)}</script>'
    if n == 0:
        head = f'<meta property="og:image" content="{base}/media/ai-c2pa.jpg">'
    links = f'<a href="/news/{n + 1}.html">next</a> <a href="/private/secret.html">members</a>'
    return _page(f"News {n}", forms[n % len(forms)] + links, head)


class SampleSite:
    """The site on 127.0.0.1; 'localhost' (the same server) is another host, where /moved.html leads."""

    def __init__(self, pages: int = 6, generated: int = 0, delay: float = 0.05) -> None:
        self.log: list[tuple[float, str, str, str]] = []  # (monotonic time, Host, path, User-Agent)
        self.hls = Path(tempfile.mkdtemp(prefix="sample-site-hls-"))  # a 2-s HLS stream made by ffmpeg, 1-s segments
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x120:d=2", "-pix_fmt", "yuv420p",
                        "-f", "hls", "-hls_time", "1", "-hls_list_size", "0", str(self.hls / "live.m3u8")],
                       check=True, timeout=60)  # fmt: skip
        self.pages, self.generated, self.delay = pages, generated, delay
        busy: set[str] = set()
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                host = (self.headers.get("Host") or "").split(":")[0]
                site.log.append((time.monotonic(), host, self.path, self.headers.get("User-Agent") or ""))
                path = self.path.split("?")[0]
                if path == "/slow.html":
                    time.sleep(4)
                if path == "/busy.html" and path not in busy:
                    busy.add(path)
                    return self._send(429, b"", "text/plain", [("Retry-After", "1")])
                if path == "/moved.html":
                    return self._send(302, b"", "text/plain", [("Location", f"http://localhost:{site.port}/away.html")])
                if path == "/huge.mp4":
                    return self._send(200, b"", "video/mp4", length=3 << 30)
                found = site.route(host, path)
                if found is None:
                    return self._send(404, b"not found", "text/plain")
                body, ctype, extra = found
                self._send(200, body, ctype, extra)

            def _send(self, status: int, body: bytes, ctype: str, extra=(), length: int | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for k, v in extra:
                    self.send_header(k, v)
                self.end_headers()
                if length is None:
                    self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def route(self, host: str, path: str) -> tuple[bytes, str, list[tuple[str, str]]] | None:
        base = self.url
        if host == "localhost":
            return (
                (_page("Elsewhere", "<img src='/media/photo.jpg'>"), "text/html", []) if path == "/away.html" else None
            )
        if path == "/robots.txt":
            return ROBOTS.format(delay=self.delay).encode(), "text/plain", []
        if path == "/.well-known/tdmrep.json":
            rules = [{"location": "/media/*", "tdm-reservation": 1, "tdm-policy": "https://example.org/tdm-policy"}]
            return json.dumps(rules).encode(), "application/json", []
        if path == "/sitemap.xml":
            parts = "".join(
                f"<sitemap><loc>{base}/{p}</loc></sitemap>" for p in ("sitemap-news.xml.gz", "sitemap-img.xml")
            )
            xml = f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{parts}</sitemapindex>'
            return xml.encode(), "application/xml", []
        if path == "/sitemap-news.xml.gz":
            urls = [f"{base}/news/{n}.html" for n in range(self.pages)] + [f"{base}/private/secret.html"]
            urls += [f"{base}/busy.html", f"{base}/slow.html", f"{base}/moved.html"]
            urls += [f"{base}/gen/{n}.html" for n in range(min(self.generated, 1))]
            locs = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
            xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
            return gzip.compress(xml.encode()), "application/gzip", []
        if path == "/sitemap-img.xml":
            xml = (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">'
                f"<url><loc>{base}/gallery.html</loc><image:image><image:loc>{base}/huge.mp4</image:loc></image:image>"
                f"<image:image><image:loc>{base}/private/secret.jpg</image:loc></image:image></url></urlset>"
            )
            return xml.encode(), "application/xml", []
        if path == "/feed.xml":
            item = (
                f"<item><title>Episode</title><link>{base}/news/0.html</link>"
                f'<enclosure url="{base}/media/voice.mp3" type="audio/mpeg" length="1"/></item>'
            )
            rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{item}</channel></rss>'
            return rss.encode(), "application/rss+xml", []
        if path.startswith("/news/") and path.endswith(".html"):
            n = int(path[6:-5]) if path[6:-5].isdigit() else -1
            return (news(n, base), "text/html", [("tdm-reservation", "1")]) if 0 <= n < self.pages else None
        if path.startswith("/gen/") and path.endswith(".html"):
            n = int(path[5:-5]) if path[5:-5].isdigit() else -1
            if not 0 <= n < self.generated:
                return None
            links = "".join(
                f'<a href="/gen/{m}.html">{m}</a>' for m in range(n * 10 + 1, min(n * 10 + 11, self.generated))
            )
            imgs = f'<img src="/media/photo.jpg?v={n}"><img src="/media/ai-xmp.jpg?v={n}">'
            return _page(f"Gen {n}", imgs + links), "text/html", []
        if path in ("/busy.html", "/slow.html", "/gallery.html"):
            return _page(path, '<img src="/media/photo.jpg">'), "text/html", []
        if path.startswith("/hls/") and (self.hls / path[5:]).is_file() and "/" not in path[5:]:
            ctype = "application/vnd.apple.mpegurl" if path.endswith(".m3u8") else "video/mp2t"
            return (self.hls / path[5:]).read_bytes(), ctype, []
        if path.startswith("/private/"):
            return _page("private", '<img src="/private/secret.jpg">'), "text/html", []
        if path in FILES:
            ctype = {"jpg": "image/jpeg", "png": "image/png", "mp3": "audio/mpeg", "mp4": "video/mp4"}[path[-3:]]
            return (MEDIA / FILES[path]).read_bytes(), ctype, []
        return None

    def hits(self, prefix: str) -> list[str]:
        return [p for _, _, p, _ in self.log if p.startswith(prefix)]

    def __enter__(self) -> SampleSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        shutil.rmtree(self.hls, ignore_errors=True)

"""labelcheck.sample.pages and .discover: real documents in, exact media, links and labels out; never a raise."""

from __future__ import annotations

import gzip

import pytest

from labelcheck.sample import discover
from labelcheck.sample.discover import FeedResult, SitemapResult, parse_feed, parse_sitemap, sniff_seed
from labelcheck.sample.pages import MAX_PARSE, parse_page
from labelcheck.sample.types import MediaRef, Page, PageLabel

PAGE = "https://news.example.org/world/story?id=1"
CDN = "https://cdn.example.org/assets/"
DST = "https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

ARTICLE = b"""<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>A story</title>
<base href="https://cdn.example.org/assets/">
<meta property="og:image" content="https://news.example.org/og/cover.jpg">
<meta property="og:image:secure_url" content="https://news.example.org/og/cover-secure.jpg">
<meta property="og:video" content="https://video.example.org/live/master.m3u8">
<meta name="twitter:image" content="https://news.example.org/tw/card.jpg">
<meta name="tdm-reservation" content="1">
<meta name="tdm-policy" content="https://news.example.org/tdm/policy.json">
<link rel="alternate" type="application/rss+xml" href="https://news.example.org/world/feed.xml">
<link rel="alternate" type="application/atom+xml" href="/atom.xml">
<link rel="stylesheet" href="/site.css">
<script type="application/ld+json">
{"@context": "https://schema.org", "@graph": [
  {"@type": "NewsArticle", "headline": "A story", "url": "https://news.example.org/world/story?id=1"},
  {"@type": "ImageObject", "contentUrl": "https://cdn.example.org/assets/img/robot.jpg",
   "digitalSourceType": "https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
   "creditText": "Image: generated with an AI tool", "thumbnailUrl": "https://cdn.example.org/assets/img/robot-t.jpg"}
]}
</script>
<script type="application/ld+json">{ this is not json </script>
</head><body>
<nav><a href="/">Home</a> <a href="https://news.example.org/world/other#comments">Other</a>
<a href="javascript:alert(1)">js</a> <a href="mailto:desk@example.org">mail</a>
<a href="data:text/html,hi">data</a></nav>
<article>
<figure class="lead">
  <img src="img/robot.jpg" alt="A robot paints" title="Robot"
       srcset="https://img.example.org/c_fill,w_400/robot.jpg 400w,
               https://img.example.org/c_fill,w_800/robot.jpg 800w">
  <figcaption>  The robot,
     painting.  </figcaption>
  <span class="ai-badge">AI-generated image</span>
</figure>
<figure><img src="img/street.jpg" alt="A street"><figcaption>A street at dawn</figcaption></figure>
<div class="gallery">
  <div class="card"><img data-src="/lazy/one.webp" alt="One"><span data-ai-label="true">Made with AI</span></div>
  <div class="card"><img src="/lazy/two.webp" alt="Two" aria-describedby="two-desc"></div>
</div>
<p id="two-desc">Photo by our staff</p>
<picture><source srcset="pic/hero.avif 1x, pic/hero@2x.avif 2x" type="image/avif">
<img src="pic/hero.jpg" alt="Hero"></picture>
<video src="v/clip.mp4" poster="v/poster.jpg" aria-label="Clip of the day">
  <source src="v/clip.webm" type="video/webm">
  <source src="v/clip.mpd" type="application/dash+xml">
  <track src="v/subs.vtt" kind="subtitles">
</video>
<audio src="a/podcast.mp3"><source src="a/podcast.ogg" type="audio/ogg"></audio>
<a href="https://stream.example.org/live/index.m3u8">Watch live</a>
<a href="files/report.mov">Download the video</a>
<img src="data:image/png;base64,iVBORw0KGgo=" alt="pixel">
<img src="javascript:alert(2)">
</article>
</body></html>
"""


def by_url(page: Page) -> dict[str, MediaRef]:
    return {m.url: m for m in page.media}


def test_every_media_form_is_found_with_its_kind_and_place() -> None:
    page = parse_page(PAGE, ARTICLE, "text/html; charset=utf-8")
    assert page.error == ""
    assert {(m.url, m.kind, m.found_in) for m in page.media} == {
        ("https://news.example.org/og/cover.jpg", "image", "og:image"),
        ("https://news.example.org/og/cover-secure.jpg", "image", "og:image"),
        ("https://video.example.org/live/master.m3u8", "stream", "og:video"),
        ("https://news.example.org/tw/card.jpg", "image", "twitter:image"),
        (CDN + "img/robot.jpg", "image", "img"),
        ("https://img.example.org/c_fill,w_400/robot.jpg", "image", "srcset"),
        ("https://img.example.org/c_fill,w_800/robot.jpg", "image", "srcset"),
        (CDN + "img/street.jpg", "image", "img"),
        ("https://cdn.example.org/lazy/one.webp", "image", "img"),
        ("https://cdn.example.org/lazy/two.webp", "image", "img"),
        (CDN + "pic/hero.avif", "image", "picture"),
        (CDN + "pic/hero@2x.avif", "image", "picture"),
        (CDN + "pic/hero.jpg", "image", "img"),
        (CDN + "v/clip.mp4", "video", "video"),
        (CDN + "v/poster.jpg", "image", "video"),
        (CDN + "v/clip.webm", "video", "source"),
        (CDN + "v/clip.mpd", "stream", "source"),
        (CDN + "a/podcast.mp3", "audio", "audio"),
        (CDN + "a/podcast.ogg", "audio", "source"),
        ("https://stream.example.org/live/index.m3u8", "stream", "link"),
        (CDN + "files/report.mov", "video", "link"),
        (CDN + "img/robot-t.jpg", "image", "json-ld"),
    }
    assert {m.page for m in page.media} == {PAGE}
    assert {m.section for m in page.media} == {"world"}


def test_links_feeds_and_tdm() -> None:
    page = parse_page(PAGE, ARTICLE, "text/html")
    assert page.links == (
        "https://news.example.org/world/feed.xml",
        "https://cdn.example.org/atom.xml",
        "https://cdn.example.org/",
        "https://news.example.org/world/other",
    )
    assert page.tdm == (("tdm-reservation", "1"), ("tdm-policy", "https://news.example.org/tdm/policy.json"))


def test_what_the_page_says_about_each_medium() -> None:
    media = by_url(parse_page(PAGE, ARTICLE, "text/html"))
    robot = media[CDN + "img/robot.jpg"].labels
    assert robot == (
        PageLabel("alt", "A robot paints", "img@alt"),
        PageLabel("title", "Robot", "img@title"),
        PageLabel("figcaption", "The robot, painting.", "figcaption"),
        PageLabel("badge", "AI-generated image", "span@class"),
        PageLabel("json-ld", DST, "digitalSourceType"),
        PageLabel("json-ld", "Image: generated with an AI tool", "creditText"),
    )
    # every srcset candidate of that img carries what the page says about the img (not the JSON-LD of another URL)
    assert media["https://img.example.org/c_fill,w_800/robot.jpg"].labels == robot[:4]
    # the badge of the first figure is not the second figure's
    assert media[CDN + "img/street.jpg"].labels == (
        PageLabel("alt", "A street", "img@alt"),
        PageLabel("figcaption", "A street at dawn", "figcaption"),
    )
    # a gallery: the badge in card one belongs to card one's image only
    assert media["https://cdn.example.org/lazy/one.webp"].labels == (
        PageLabel("alt", "One", "img@alt"),
        PageLabel("badge", "Made with AI", "span@data-ai-label"),
    )
    assert media["https://cdn.example.org/lazy/two.webp"].labels == (
        PageLabel("alt", "Two", "img@alt"),
        PageLabel("aria-label", "Photo by our staff", "img@aria-describedby"),
    )
    assert media[CDN + "pic/hero.avif"].labels == (PageLabel("alt", "Hero", "img@alt"),)
    clip = (PageLabel("aria-label", "Clip of the day", "video@aria-label"),)
    assert media[CDN + "v/clip.mpd"].labels == clip and media[CDN + "v/poster.jpg"].labels == clip
    assert media["https://news.example.org/og/cover.jpg"].labels == ()


def test_json_ld_binds_to_the_image_it_names_not_its_neighbour() -> None:
    html = b"""<html><head><script type="application/ld+json">
    [{"@context": "https://schema.org", "@type": "ImageObject", "contentUrl": "/img/second.png",
      "digitalSourceType": {"@id": "https://schema.org/TrainedAlgorithmicMediaDigitalSource"},
      "description": "An illustration"}]
    </script></head><body><img src="/img/first.png"><img src="/img/second.png"></body></html>"""
    media = by_url(parse_page("https://example.org/a", html))
    assert media["https://example.org/img/first.png"].labels == ()
    assert media["https://example.org/img/second.png"].labels == (
        PageLabel("json-ld", "https://schema.org/TrainedAlgorithmicMediaDigitalSource", "digitalSourceType"),
        PageLabel("json-ld", "An illustration", "description"),
    )
    assert media["https://example.org/img/second.png"].found_in == "img"


def test_json_ld_node_references_are_not_media() -> None:
    html = b"""<html><head><script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
      {"@type": "WebPage", "@id": "https://example.org/a#webpage", "image": {"@id": "https://example.org/a#primaryimage"},
       "thumbnailUrl": "https://example.org/img/hero-150.jpg"},
      {"@type": "ImageObject", "@id": "https://example.org/a#primaryimage", "url": "https://example.org/img/hero.jpg",
       "contentUrl": "https://example.org/img/hero.jpg"},
      {"@type": "VideoObject", "url": "https://example.org/a", "embedUrl": "https://player.example.org/1"}]}
    </script></head><body></body></html>"""
    assert [(m.url, m.kind, m.found_in) for m in parse_page("https://example.org/a", html).media] == [
        ("https://example.org/img/hero-150.jpg", "image", "json-ld"),
        ("https://example.org/img/hero.jpg", "image", "json-ld"),
    ]


def test_a_lone_json_ld_object_naming_no_medium_goes_to_the_og_image() -> None:
    html = b"""<html><head><meta property="og:image" content="/main.jpg">
    <script type="application/ld+json">{"@type": "CreativeWork", "url": "https://example.org/post",
     "digitalSourceType": "TrainedAlgorithmicMediaDigitalSource"}</script></head>
    <body><img src="/main.jpg"><img src="/other.jpg"></body></html>"""
    media = by_url(parse_page("https://example.org/post", html))
    label = PageLabel("json-ld", "TrainedAlgorithmicMediaDigitalSource", "digitalSourceType")
    assert media["https://example.org/main.jpg"].labels == (label,)
    assert media["https://example.org/other.jpg"].labels == ()
    assert "https://example.org/post" not in media  # a CreativeWork's url is the page, not a medium


def test_iptc_meta_speaks_for_the_main_medium_or_for_all_when_there_is_none() -> None:
    head = b'<meta name="DigitalSourceType" content="trainedAlgorithmicMedia"><meta name="ai-generated" content="true">'
    labels = (
        PageLabel("meta", "trainedAlgorithmicMedia", "DigitalSourceType"),
        PageLabel("meta", "true", "ai-generated"),
    )
    with_og = b'<html><head><meta property="og:image" content="/og.jpg">' + head + b'</head><body><img src="/b.jpg">'
    media = by_url(parse_page("https://example.org/", with_og))
    assert media["https://example.org/og.jpg"].labels == labels
    assert media["https://example.org/b.jpg"].labels == ()
    without = b"<html><head>" + head + b'</head><body><img src="/a.jpg"><video src="/b.mp4"></video>'
    assert {m.url: m.labels for m in parse_page("https://example.org/", without).media} == {
        "https://example.org/a.jpg": labels,
        "https://example.org/b.mp4": labels,
    }


def test_platform_markers_on_their_own_platform_only() -> None:
    html = b"""<html><head><meta property="og:video" content="https://v.tiktokcdn.com/x.mp4"></head><body>
    <div><span>AI-generated</span></div><button aria-label="Content Credentials"></button>
    <p>An article about AI-generated images in general.</p></body></html>"""
    tiktok = parse_page("https://www.tiktok.com/@someone/video/1", html)
    assert tiktok.media[0].labels == (
        PageLabel("platform", "AI-generated", "tiktok"),
        PageLabel("platform", "Content Credentials", "content-credentials"),
    )
    elsewhere = parse_page("https://blog.example.org/post", html)
    assert elsewhere.media[0].labels == (PageLabel("platform", "Content Credentials", "content-credentials"),)


def test_charset_from_the_header_and_from_meta() -> None:
    body = '<html><body><img src="/a.jpg" alt="caf\u00e9 \u201cAI\u201d"></body></html>'.encode("cp1252")
    assert parse_page("https://e.org/", body, "text/html; charset=windows-1252").media[0].labels[0].text == (
        "caf\u00e9 \u201cAI\u201d"
    )
    meta = b'<html><head><meta charset="iso-8859-2"></head><body><img src="/a.jpg" alt="\xb1"></body></html>'
    assert parse_page("https://e.org/", meta).media[0].labels[0].text == "\u0105"


def test_labels_are_capped_and_whitespace_normalised() -> None:
    html = b'<figure><img src="/a.jpg"><figcaption>' + b"word \n\t " * 400 + b"</figcaption></figure>"
    text = parse_page("https://e.org/", html).media[0].labels[0].text
    assert len(text) == 500 and "  " not in text and "\n" not in text


def test_duplicates_keep_the_first_find_and_merge_labels() -> None:
    html = b"""<html><head><meta property="og:image" content="https://e.org/a.jpg"></head><body>
    <img src="/a.jpg" alt="first"><figure><img src="https://e.org/a.jpg#x" alt="second"></figure>
    <img src="https://e.org/a.jpg" alt="third"></body></html>"""
    media = parse_page("https://e.org/p", html).media
    assert [(m.url, m.found_in) for m in media] == [
        ("https://e.org/a.jpg", "og:image"),
        ("https://e.org/a.jpg#x", "img"),
    ]
    assert [label.text for label in media[0].labels] == ["first", "third"]


@pytest.mark.parametrize(
    "body,error",
    [
        (b"", "empty body"),
        (b"   \n  ", "empty body"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not HTML: no markup"),
        (b"just some text, no markup", "not HTML: no markup"),
    ],
)
def test_not_a_page(body: bytes, error: str) -> None:
    assert parse_page("https://e.org/", body) == Page(url="https://e.org/", error=error)


def test_broken_and_hostile_markup_never_raises() -> None:
    broken = b"<html><body><div><p><img src='/a.jpg' alt='x'<figure><img src=/b.jpg><figcaption>cap</table></p"
    page = parse_page("https://e.org/", broken)
    assert {m.url for m in page.media} == {"https://e.org/a.jpg", "https://e.org/b.jpg"}
    hostile = (
        b'<html><head><base href="javascript:alert(1)"></head><body>'
        b'<img src="vbscript:x"><img srcset=",,, ,"><img src="http://[::1"><a href="file:///etc/passwd">f</a>'
        b'<img src="' + b"a" * 20000 + b'"><video poster="  https://e.org/p.jpg  "></video>'
        b"</body></html>"
    )
    hostile = hostile.replace(
        b"</body>", b'<img src="/d.jpg" aria-describedby="x\x01y \x7f"><p id="x\x01y">described</p>'
    )
    page = parse_page("https://e.org/", hostile)
    assert [m.url for m in page.media] == ["https://e.org/p.jpg", "https://e.org/d.jpg"]
    assert page.media[1].labels == (PageLabel("aria-label", "described", "img@aria-describedby"),)
    assert page.links == () and page.error == ""
    deep = b"<html><body>" + b"<div>" * 5000 + b'<img src="/deep.jpg">' + b"</div>" * 5000 + b"</body></html>"
    page = parse_page("https://e.org/", deep)
    assert page.error == "markup nested too deep: parsed up to the limit"


def test_a_huge_page_is_parsed_up_to_the_cap_and_says_so() -> None:
    head = b'<html><body><img src="/first.jpg">'
    filler = b"<p>" + b"x" * 1000 + b"</p>"
    body = head + filler * 6400 + b'<img src="/after-the-cap.jpg"></body></html>'
    assert len(body) > 6 * 1024 * 1024
    page = parse_page("https://e.org/", body)
    assert [m.url for m in page.media] == ["https://e.org/first.jpg"]
    assert page.error == f"parsed the first {MAX_PARSE} of {len(body)} bytes"


# --- seeds: sitemaps and feeds ---------------------------------------------------------------------------------------

SITEMAP_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://example.org/sitemap-news.xml</loc><lastmod>2026-01-01</lastmod></sitemap>
  <sitemap><loc>https://example.org/sitemap-video.xml.gz</loc></sitemap>
  <sitemap><loc>https://example.org/sitemap-news.xml</loc></sitemap>
</sitemapindex>
"""

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"
        xmlns:video="http://www.google.com/schemas/sitemap-video/1.1">
  <url>
    <loc>https://example.org/news/sunset</loc>
    <image:image>
      <image:loc>https://example.org/img/sunset.jpg</image:loc>
      <image:caption>A sunset, AI-generated</image:caption>
      <image:title>Sunset</image:title>
    </image:image>
    <image:image><image:loc>https://example.org/img/sunset-2.jpg</image:loc></image:image>
  </url>
  <url>
    <loc>https://example.org/video/clip</loc>
    <video:video>
      <video:thumbnail_loc>https://example.org/thumbs/clip.jpg</video:thumbnail_loc>
      <video:title>Clip</video:title>
      <video:description>Made with a video model</video:description>
      <video:content_loc>https://example.org/media/clip.mp4</video:content_loc>
      <video:player_loc>https://example.org/player?clip</video:player_loc>
    </video:video>
  </url>
  <url><loc>https://example.org/about</loc></url>
</urlset>
"""

SITEMAP_MEDIA = (
    MediaRef(
        "https://example.org/img/sunset.jpg",
        "image",
        "sitemap",
        "https://example.org/news/sunset",
        (PageLabel("caption", "A sunset, AI-generated", "image:caption"), PageLabel("title", "Sunset", "image:title")),
        "news",
    ),
    MediaRef("https://example.org/img/sunset-2.jpg", "image", "sitemap", "https://example.org/news/sunset", (), "news"),
    MediaRef(
        "https://example.org/media/clip.mp4",
        "video",
        "sitemap",
        "https://example.org/video/clip",
        (
            PageLabel("title", "Clip", "video:title"),
            PageLabel("caption", "Made with a video model", "video:description"),
        ),
        "video",
    ),
    MediaRef(
        "https://example.org/thumbs/clip.jpg",
        "image",
        "sitemap",
        "https://example.org/video/clip",
        (
            PageLabel("title", "Clip", "video:title"),
            PageLabel("caption", "Made with a video model", "video:description"),
        ),
        "video",
    ),
)
SITEMAP_PAGES = ("https://example.org/news/sunset", "https://example.org/video/clip", "https://example.org/about")

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>Example</title><link>https://example.org/</link><description>News</description>
  <item>
    <title>An AI-generated picture, reviewed</title>
    <link>https://example.org/news/1</link>
    <description>The summary says AI too, but it is not about the medium.</description>
    <enclosure url="https://example.org/audio/1.mp3" length="1234" type="audio/mpeg"/>
    <media:content url="https://example.org/img/1.jpg" medium="image" type="image/jpeg">
      <media:title>Robot painting</media:title>
      <media:description>Image made with an AI tool</media:description>
    </media:content>
    <media:thumbnail url="https://example.org/img/1-thumb.jpg" width="100" height="100"/>
  </item>
  <item>
    <title>Two</title>
    <link>/news/2</link>
    <media:group>
      <media:title>Group title</media:title>
      <media:content url="https://example.org/video/2.mp4" type="video/mp4"/>
      <media:content url="https://example.org/video/2.m3u8" type="application/x-mpegURL"/>
    </media:group>
  </item>
  <item><title>No link</title><enclosure url="javascript:alert(1)" type="audio/mpeg" length="1"/></item>
</channel></rss>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Example</title><id>urn:example</id><updated>2026-01-01T00:00:00Z</updated>
  <entry>
    <title>Entry</title><id>urn:example:1</id><updated>2026-01-01T00:00:00Z</updated>
    <link rel="alternate" href="https://example.org/posts/1"/>
    <link rel="enclosure" type="video/mp4" length="1" href="https://example.org/media/1.mp4"/>
  </entry>
  <entry>
    <title>Second</title><id>urn:example:2</id><updated>2026-01-01T00:00:00Z</updated>
    <link href="https://example.org/posts/2"/>
  </entry>
</feed>
"""


def test_sitemap_index_yields_the_sub_sitemaps_to_fetch() -> None:
    result = parse_sitemap("https://example.org/sitemap.xml", SITEMAP_INDEX)
    assert result == SitemapResult(
        sitemaps=("https://example.org/sitemap-news.xml", "https://example.org/sitemap-video.xml.gz")
    )


def test_urlset_with_image_and_video_extensions() -> None:
    result = parse_sitemap("https://example.org/sitemap-news.xml", URLSET)
    assert result == SitemapResult(pages=SITEMAP_PAGES, media=SITEMAP_MEDIA)


def test_gzipped_sitemap_reads_as_the_same() -> None:
    result = parse_sitemap("https://example.org/sitemap.xml.gz", gzip.compress(URLSET))
    assert result == SitemapResult(pages=SITEMAP_PAGES, media=SITEMAP_MEDIA)


def test_gzip_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover, "MAX_UNZIPPED", 1000)
    result = parse_sitemap("https://example.org/big.xml.gz", gzip.compress(URLSET))
    assert result == SitemapResult(error="gzip decompresses to more than 1000 bytes")


def test_broken_and_truncated_gzip() -> None:
    broken = parse_sitemap("https://example.org/x.gz", b"\x1f\x8b\x00\x00garbage")
    assert broken.error == "broken gzip: Error -3 while decompressing data: unknown compression method"
    truncated = parse_sitemap("https://example.org/x.gz", gzip.compress(URLSET)[:-30])
    assert truncated.error == "truncated gzip: read what it holds"


def test_plain_text_sitemap() -> None:
    body = b"https://example.org/a\n\nhttps://example.org/b\r\n  https://example.org/a\nnot a url\n"
    result = parse_sitemap("https://example.org/sitemap.txt", body)
    assert result == SitemapResult(pages=("https://example.org/a", "https://example.org/b"))


def test_robots_txt_is_an_index_of_its_sitemap_lines() -> None:
    body = b"User-agent: *\nDisallow: /private\nSitemap: https://example.org/sitemap.xml\nsitemap: /relative.xml\n"
    result = parse_sitemap("https://example.org/robots.txt", body)
    assert result == SitemapResult(sitemaps=("https://example.org/sitemap.xml",))


@pytest.mark.parametrize("body", [b"", b"\x00\x01\x02", b"<html><body>not a sitemap</body></html>", b"<urlset"])
def test_not_a_sitemap_is_an_error_not_a_raise(body: bytes) -> None:
    result = parse_sitemap("https://example.org/sitemap.xml", body)
    assert result.pages == () and result.sitemaps == () and result.media == () and result.error


def test_rss_entries_and_their_media_labelled_only_by_their_own_media_text() -> None:
    result = parse_feed("https://example.org/feed.xml", RSS)
    assert result == FeedResult(
        pages=("https://example.org/news/1", "https://example.org/news/2"),
        media=(
            MediaRef("https://example.org/audio/1.mp3", "audio", "enclosure", "https://example.org/news/1", (), "news"),
            MediaRef(
                "https://example.org/img/1.jpg",
                "image",
                "media:content",
                "https://example.org/news/1",
                (
                    PageLabel("caption", "Robot painting", "media:title"),
                    PageLabel("caption", "Image made with an AI tool", "media:description"),
                ),
                "news",
            ),
            MediaRef(
                "https://example.org/img/1-thumb.jpg",
                "image",
                "media:thumbnail",
                "https://example.org/news/1",
                (),
                "news",
            ),
            MediaRef(
                "https://example.org/video/2.mp4",
                "video",
                "media:content",
                "https://example.org/news/2",
                (PageLabel("caption", "Group title", "media:title"),),
                "news",
            ),
            MediaRef(
                "https://example.org/video/2.m3u8",
                "stream",
                "media:content",
                "https://example.org/news/2",
                (PageLabel("caption", "Group title", "media:title"),),
                "news",
            ),
        ),
    )


def test_atom_entries_and_enclosures() -> None:
    result = parse_feed("https://example.org/atom.xml", ATOM)
    assert result == FeedResult(
        pages=("https://example.org/posts/1", "https://example.org/posts/2"),
        media=(
            MediaRef(
                "https://example.org/media/1.mp4", "video", "enclosure", "https://example.org/posts/1", (), "posts"
            ),
        ),
    )


def test_a_feed_with_a_broken_xml_declaration_still_reads() -> None:
    body = RSS.replace(b'encoding="UTF-8"', b'encoding="\x85\x00"')
    assert parse_feed("https://example.org/feed.xml", body) == parse_feed("https://example.org/feed.xml", RSS)


@pytest.mark.parametrize("body", [b"", b"not a feed at all", b"\x1f\x8b\x08\x00broken", b"\xff\xfe\x00\x00<"])
def test_not_a_feed_is_an_error_not_a_raise(body: bytes) -> None:
    result = parse_feed("https://example.org/feed.xml", body)
    assert result.pages == () and result.media == () and result.error


@pytest.mark.parametrize(
    "body,content_type,kind",
    [
        (SITEMAP_INDEX, "application/xml", "sitemap"),
        (URLSET, "", "sitemap"),
        (gzip.compress(URLSET), "application/octet-stream", "sitemap"),
        (gzip.compress(RSS), "application/gzip", "feed"),
        (b"https://example.org/a\nhttps://example.org/b\n", "text/plain", "sitemap"),
        (RSS, "application/rss+xml", "feed"),
        (RSS, "text/xml", "feed"),
        (ATOM, "", "feed"),
        (b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>', "", "feed"),
        (ARTICLE, "text/html", "page"),
        (ARTICLE, "", "page"),
        (b"<!doctype html><title>t</title><p>hi", "", "page"),
        (b"broken <p>markup", "text/html", "page"),
        (b"", "", "unknown"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png", "unknown"),
        (b"\x1f\x8b\x08\x00broken", "", "unknown"),
        (b"hello, world", "text/plain", "unknown"),
    ],
)
def test_sniff_seed(body: bytes, content_type: str, kind: str) -> None:
    assert sniff_seed("https://example.org/seed", body, content_type) == kind

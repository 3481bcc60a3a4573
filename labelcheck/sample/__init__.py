"""`labelcheck sample`: regulators sampling what a platform publishes. Crawl politely from seeds (sitemaps, feeds,
pages), read each page's media and what the page says about them, draw a sound sample, check each sampled item as
`check` does, report prevalence with confidence intervals, and keep every request and response as WACZ evidence.

Modules (each small, one job):
  types.py     the records passed between them (Exchange, MediaRef, PageLabel, Page, HostTdm)
  http.py      the polite fetcher: robots.txt for every request, a rate per host, back-off, caps, recording
  discover.py  seeds to page URLs and media: sitemaps (ultimate-sitemap-parser), feeds (feedparser)
  pages.py     one HTML page: its media (img, srcset, picture, video, audio, og:, JSON-LD, HLS/DASH), its links and
               what it says about each medium (captions, alt, badges, JSON-LD digitalSourceType, IPTC meta)
  tdm.py       whether a host reserves text and data mining: robots.txt rules for AI crawlers (crawlers.yaml),
               TDMRep (/.well-known/tdmrep.json, headers, meta)
  stats.py     sample size (Cochran, finite population), simple and stratified draws, Wilson intervals
  report.py    the sample's report: prevalence per outcome, per stratum and overall, as JSON, CSV and HTML
  bundle.py    WARC records (warcio) packaged as WACZ, a signed manifest, and its verification
  crawl.py     the run: seeds -> pages -> frame -> sample -> fetched items -> checks -> report and bundle
"""

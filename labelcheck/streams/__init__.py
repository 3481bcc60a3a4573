"""Streams: HLS and DASH playlists, their init and media segments, per-segment provenance and label continuity."""

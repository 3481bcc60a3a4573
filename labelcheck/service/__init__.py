"""Long-running services: the hot-folder watcher and its SQLite state, live-stream capture, the JSON log, and the
HTTP API (server/)."""

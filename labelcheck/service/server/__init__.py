"""HTTP API, metrics and dashboard over the watcher's queue."""

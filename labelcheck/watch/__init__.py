"""Hot-folder watcher and its durable state."""

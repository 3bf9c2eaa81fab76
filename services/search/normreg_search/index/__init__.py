"""The search index port and its adapters: embedded SQLite FTS5 and Elasticsearch."""

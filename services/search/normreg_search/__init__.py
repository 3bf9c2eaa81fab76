"""SearchService: the public's view of promulgated rules and open consultations, built from the
registry's events and served from an embedded SQLite FTS5 index or from Elasticsearch."""

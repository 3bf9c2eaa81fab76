"""The review service's own SQLite database."""

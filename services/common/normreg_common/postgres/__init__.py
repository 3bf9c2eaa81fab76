"""PostgreSQL plumbing shared by the services that can keep their data there (registry, review)."""

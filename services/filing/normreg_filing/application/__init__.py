"""Use cases of the filing review service."""

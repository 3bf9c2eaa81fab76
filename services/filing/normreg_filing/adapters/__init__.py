"""Storage of the filing review service."""

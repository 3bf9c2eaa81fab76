"""Use cases of the review service, each one transaction on the service's own database."""

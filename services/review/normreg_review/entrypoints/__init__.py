"""Ways into the review service: the gRPC API and the consumer of the registry's events."""

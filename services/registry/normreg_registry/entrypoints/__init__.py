"""Ways into the registry: gRPC, the review-decision consumer, the scheduler."""

"""How the search service is reached: the gRPC servicer and the consumer of registry events."""

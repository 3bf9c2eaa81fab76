"""Use cases of the registry: load, let the domain decide, save state, history and events together."""

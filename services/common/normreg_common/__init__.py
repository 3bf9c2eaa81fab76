"""Pieces every normreg service shares: events, the event log port, auth, errors, gRPC plumbing."""

"""The registry: system of record for the lifecycle of regulations and normative documents."""

"""The review service: legality review (合法性审查) of drafts, owned by the legal affairs office."""

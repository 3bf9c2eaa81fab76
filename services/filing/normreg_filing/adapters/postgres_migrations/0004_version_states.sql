-- The state of each version of the documents review suggestions may name: this deployment's own,
-- from its registry's stream, and its subordinates', from theirs (signed). With the document's kind.
CREATE TABLE version_states (
    sender text NOT NULL,
    document text NOT NULL,
    version integer NOT NULL,
    state text NOT NULL,
    kind text NOT NULL DEFAULT '',
    PRIMARY KEY (sender, document, version)
);

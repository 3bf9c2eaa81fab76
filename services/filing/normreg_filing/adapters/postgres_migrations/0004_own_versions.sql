-- The state of each version of this deployment's own documents, from its registry's stream: what a
-- review suggestion about one of them is checked against.
CREATE TABLE own_versions (
    document text NOT NULL,
    version integer NOT NULL,
    state text NOT NULL,
    kind text NOT NULL DEFAULT '',
    PRIMARY KEY (document, version)
);

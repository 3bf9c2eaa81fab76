-- The registry's tables, as the SQLite store keeps them (adapters/sqlite_store.py). Timestamps the
-- domain reads back (history, comments) stay ISO text: the hash chain and the API carry them as
-- written, with their UTC offset, which timestamptz would not keep.

CREATE TABLE documents (
    id text PRIMARY KEY,
    kind text NOT NULL,
    issuing_body text NOT NULL,
    drafting_org text NOT NULL,
    state text NOT NULL,
    -- The states of all versions: listings filter on "any version in state S".
    states text[] NOT NULL,
    created_at text NOT NULL,
    body jsonb NOT NULL
);
CREATE INDEX documents_states ON documents USING gin (states);
CREATE INDEX documents_org ON documents (drafting_org);

CREATE TABLE history (
    document text NOT NULL,
    sequence integer NOT NULL,
    version integer NOT NULL,
    action text NOT NULL,
    actor text NOT NULL,
    time text NOT NULL,
    from_state text NOT NULL,
    to_state text NOT NULL,
    reason text NOT NULL,
    previous_hash text NOT NULL,
    hash text NOT NULL,
    PRIMARY KEY (document, sequence)
);

-- A uniform number stays taken after repeal: rows are never deleted.
CREATE TABLE uniform_numbers (
    issuing_body text NOT NULL,
    year integer NOT NULL,
    sequence integer NOT NULL,
    number text NOT NULL,
    document text NOT NULL,
    PRIMARY KEY (issuing_body, year, sequence)
);

CREATE TABLE registration_numbers (
    year integer PRIMARY KEY,
    last integer NOT NULL
);

CREATE TABLE idempotency (
    scope text NOT NULL,
    request_id text NOT NULL,
    resource text NOT NULL,
    PRIMARY KEY (scope, request_id)
);

CREATE TABLE comments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document text NOT NULL,
    version integer NOT NULL,
    text text NOT NULL,
    created_at text NOT NULL,
    reply text NOT NULL DEFAULT ''
);
CREATE INDEX comments_document ON comments (document, id);

CREATE TABLE campaigns (
    id text PRIMARY KEY,
    body jsonb NOT NULL
);

-- The outbox is also the registry's event store (reports are computed from it).
CREATE TABLE outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic text NOT NULL,
    key text NOT NULL,
    value bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
-- The relay checks that no earlier row of the same key is still unsent.
CREATE INDEX outbox_unsent_key ON outbox (key, id) WHERE sent_at IS NULL;

CREATE TABLE event_index (
    outbox_id bigint PRIMARY KEY REFERENCES outbox (id),
    type text NOT NULL,
    document text NOT NULL,
    version integer NOT NULL
);
CREATE INDEX event_index_type ON event_index (type, outbox_id);

CREATE TABLE consumer_positions (
    grp text NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    "offset" bigint NOT NULL,
    PRIMARY KEY (grp, topic, partition)
);

CREATE TABLE inbox_sequences (
    source text NOT NULL,
    subject text NOT NULL,
    sequence bigint NOT NULL,
    PRIMARY KEY (source, subject)
);

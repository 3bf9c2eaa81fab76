-- The filing review service's tables, as the SQLite store keeps them (adapters/sqlite_store.py):
-- aggregates whole as JSON text beside the columns listings filter on, the outbox of the events sent
-- back to senders, the inbox of subordinates' events applied, and the records set aside.

CREATE TABLE received_filings (
    -- Arrival order: listings follow it.
    pos bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE,
    sender text NOT NULL,
    document text NOT NULL,
    recipient text NOT NULL,
    state text NOT NULL,
    body text NOT NULL,
    UNIQUE (sender, document, recipient)
);
CREATE INDEX received_filings_state ON received_filings (state, pos);

CREATE TABLE review_suggestions (
    pos bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE,
    sender text NOT NULL,
    body text NOT NULL
);
CREATE INDEX review_suggestions_sender ON review_suggestions (sender, pos);

CREATE TABLE seen_promulgations (
    sender text NOT NULL,
    document text NOT NULL,
    recipient text NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (sender, document, recipient)
);

CREATE TABLE outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic text NOT NULL,
    key text NOT NULL,
    value bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_unsent_key ON outbox (key, id) WHERE sent_at IS NULL;

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

CREATE TABLE dead_letters (
    grp text NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    "offset" bigint NOT NULL,
    record_key text NOT NULL,
    value bytea NOT NULL,
    stage text NOT NULL,
    error text NOT NULL,
    first_time text NOT NULL,
    last_time text NOT NULL,
    attempts integer NOT NULL,
    PRIMARY KEY (grp, topic, partition, "offset")
);

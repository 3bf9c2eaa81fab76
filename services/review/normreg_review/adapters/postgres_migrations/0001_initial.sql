-- The review service's tables, as the SQLite store keeps them (adapters/sqlite_store.py). Times stay
-- ISO text so that a review reads back exactly as it was written, UTC offset included.

CREATE TABLE reviews (
    -- Arrival order: listings page by it.
    pos bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE,
    document text NOT NULL,
    version_number integer NOT NULL,
    review_round integer NOT NULL,
    revision integer NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    drafting_org text NOT NULL,
    drafters text[] NOT NULL,
    reviewing_office text NOT NULL,
    state text NOT NULL,
    assignee text NOT NULL,
    decision text NOT NULL,
    opinion text NOT NULL,
    problems text[] NOT NULL,
    create_time text NOT NULL,
    due_date date NOT NULL,
    claim_time text,
    decide_time text,
    cancel_reason text NOT NULL,
    update_time text,
    sequence integer NOT NULL
);
CREATE INDEX reviews_document ON reviews (document, state);
CREATE INDEX reviews_state ON reviews (state, pos);
CREATE INDEX reviews_org ON reviews (drafting_org, pos);

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

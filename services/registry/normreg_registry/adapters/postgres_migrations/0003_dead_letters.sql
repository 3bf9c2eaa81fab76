-- Records a consumer could not decode or apply (normreg_common.deadletters; the SQLite table is the same).

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

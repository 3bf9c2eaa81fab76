-- What the clock will do, kept with each save: a scheduler run reads only the documents due and the
-- filing gauges count rows, instead of reading every document. Documents stored before this have no
-- row in clock: the scheduler reads them once and writes theirs.
CREATE TABLE clock (
    document text PRIMARY KEY,
    wake_on date NOT NULL
);
CREATE INDEX clock_wake ON clock (wake_on);
CREATE TABLE unfiled (
    document text NOT NULL,
    version integer NOT NULL,
    recipient text NOT NULL,
    due date NOT NULL,
    PRIMARY KEY (document, version, recipient)
);
CREATE INDEX unfiled_due ON unfiled (due);

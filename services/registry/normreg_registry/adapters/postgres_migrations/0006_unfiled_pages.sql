-- ListDueFilings reads the unmet filing obligations a page at a time, in (due, document, version,
-- recipient) order with names in byte order (as SQLite and Python sort): each page one range of
-- this index, however many are due. It also serves the gauges' counts by due day, as unfiled_due did.
CREATE INDEX unfiled_due_key ON unfiled (due, document COLLATE "C", version, recipient COLLATE "C");
DROP INDEX unfiled_due;

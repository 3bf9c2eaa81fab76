-- A scheduler run reads the documents due a page at a time, in (wake_on, document) order: each page
-- one range of this index, wherever the run is and however many are due.
CREATE INDEX clock_due ON clock (wake_on, document);
DROP INDEX clock_wake;
-- Every save writes the document's schedule; documents stored before schedules were kept get one
-- here, due at once (ports.UNSCHEDULED), so a run no longer looks for them among all documents.
INSERT INTO clock (document, wake_on)
SELECT id, DATE '0001-01-01' FROM documents d WHERE NOT EXISTS (SELECT 1 FROM clock c WHERE c.document = d.id);

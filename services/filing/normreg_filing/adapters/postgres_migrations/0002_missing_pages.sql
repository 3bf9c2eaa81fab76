-- Missed filings are read a page at a time and the yearly report is counted in the database, instead
-- of reading every sighting (a million at the country's size) for each page or report. A sighting
-- gets a position (where a page ended), its promulgation date and deadline as columns, and whether
-- its filing has arrived; the sightings still unfiled are one range of a partial index.
ALTER TABLE seen_promulgations
    ADD COLUMN pos bigint GENERATED ALWAYS AS IDENTITY,
    ADD COLUMN promulgated date,
    ADD COLUMN due date,
    ADD COLUMN filed boolean NOT NULL DEFAULT false;
UPDATE seen_promulgations s SET
    promulgated = (s.body::jsonb ->> 'promulgation_date')::date,
    due = (s.body::jsonb ->> 'due_date')::date,
    filed = EXISTS (
        SELECT 1 FROM received_filings f
        WHERE f.sender = s.sender AND f.document = s.document AND f.recipient = s.recipient
    );
ALTER TABLE seen_promulgations ALTER COLUMN promulgated SET NOT NULL, ALTER COLUMN due SET NOT NULL;

-- A replica of the earlier release (during a rolling upgrade) inserts sightings without the dates:
-- they are taken from the body. Its filings do not set `filed`; a listing checks the filings too.
CREATE FUNCTION seen_promulgation_dates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.promulgated := coalesce(NEW.promulgated, (NEW.body::jsonb ->> 'promulgation_date')::date);
    NEW.due := coalesce(NEW.due, (NEW.body::jsonb ->> 'due_date')::date);
    RETURN NEW;
END
$$;
CREATE TRIGGER seen_promulgation_dates BEFORE INSERT ON seen_promulgations
    FOR EACH ROW EXECUTE FUNCTION seen_promulgation_dates();

CREATE UNIQUE INDEX seen_promulgations_pos ON seen_promulgations (pos);
-- Byte order, as SQLite and Python sort, whatever the database's collation.
CREATE INDEX seen_unfiled ON seen_promulgations (due, sender COLLATE "C", document COLLATE "C", recipient COLLATE "C")
    WHERE NOT filed;
CREATE INDEX seen_unfiled_of ON seen_promulgations (sender, due, document COLLATE "C", recipient COLLATE "C")
    WHERE NOT filed;
CREATE INDEX seen_by_year ON seen_promulgations (sender, promulgated);

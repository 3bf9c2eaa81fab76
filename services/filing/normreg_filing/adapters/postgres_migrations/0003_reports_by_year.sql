-- A sender's yearly report counted the year's filings and suggestions out of every one the sender
-- ever sent. These index them by sender and by the day that places them in a year (the expressions
-- are the reports' own, so the planner takes them).
CREATE INDEX received_filings_by_year ON received_filings (sender, (body::jsonb ->> 'promulgation_date'));
CREATE INDEX review_suggestions_by_day ON review_suggestions (sender, (body::jsonb ->> 'submitted_on'));

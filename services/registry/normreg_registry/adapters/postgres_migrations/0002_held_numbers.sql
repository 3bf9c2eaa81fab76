-- Uniform numbers are unique as printed (a number prefix shared by two issuing bodies is one
-- series), and imported numbers are held like promulgated ones. uniform_numbers is kept for
-- releases that still read it; numbers held from now on are in held_numbers only.
CREATE TABLE held_numbers (
    printed text PRIMARY KEY,
    prefix text NOT NULL,
    year integer NOT NULL,
    sequence integer NOT NULL,
    document text NOT NULL
);
CREATE INDEX held_numbers_series ON held_numbers (prefix, year, sequence);
INSERT INTO held_numbers (printed, prefix, year, sequence, document)
    SELECT number, split_part(number, '〔', 1), year, sequence, document FROM uniform_numbers
    ON CONFLICT (printed) DO NOTHING;

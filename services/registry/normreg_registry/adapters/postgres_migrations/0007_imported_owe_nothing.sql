-- An imported version owes no filing the registry knows of (whether it was filed before it was
-- registered is not known here). Its one obligation to a recipient not recorded was kept in unfiled
-- with an empty recipient, as a version promulgated before obligations were kept per recipient still
-- is: every document holding such a row is due at once, and the scheduler's next run reads it and
-- writes its obligations again (a version promulgated here keeps its row, an imported one loses it).
UPDATE clock SET wake_on = DATE '0001-01-01'
WHERE document IN (SELECT DISTINCT document FROM unfiled WHERE recipient = '');

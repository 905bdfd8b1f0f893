-- smsaudit history, schema 3 (issue 26).

-- issue 26 item 4: locations dropped on purpose from what is expected
-- (`smsaudit history FILE --forget LOCATION`). A location the history has
-- seen is expected in every later run over its roots (A01 when missing)
-- unless it is here and was not seen again after `after_run`.
CREATE TABLE forgotten_locations (
    location TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    forgotten TEXT NOT NULL, -- when `--forget` ran, UTC
    after_run INTEGER NOT NULL -- the latest run when it was forgotten
);

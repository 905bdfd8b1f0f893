-- smsaudit history, schema 3 (issue 26, issue 28 item 8).

-- issue 26 item 4: locations dropped on purpose from what is expected
-- (`smsaudit history FILE --forget LOCATION`). A location the history has
-- seen is expected in every later run over its roots (A01 when missing)
-- unless it is here and was not seen again after `after_run`.
CREATE TABLE forgotten_locations (
    location TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    forgotten TEXT NOT NULL, -- when `--forget` ran, UTC
    after_run INTEGER NOT NULL -- the latest run when it was forgotten
);

-- issue 26 item 7: each run's drift, for `smsaudit history FILE --run N`
-- and the drift column of the run table; written once per recorded run by
-- store::write_drift, removed with its run by pruning. A run recorded
-- without a baseline, or by an smsaudit before schema 3, has no row in
-- run_drift_counts (its drift is unknown, shown empty).
CREATE TABLE IF NOT EXISTS run_drift_counts (
    run INTEGER PRIMARY KEY,      -- runs.id
    changes INTEGER NOT NULL,     -- drift rows of the run, all of them
    kept INTEGER NOT NULL         -- how many of them run_drift holds
);
CREATE TABLE IF NOT EXISTS run_drift (
    run INTEGER NOT NULL,         -- runs.id
    seq INTEGER NOT NULL,         -- the row's place in drift.csv order
    change TEXT NOT NULL,
    location TEXT NOT NULL,
    path TEXT NOT NULL,
    old_path TEXT NOT NULL,
    what TEXT NOT NULL,
    old TEXT NOT NULL,
    new TEXT NOT NULL,
    PRIMARY KEY (run, seq)
) WITHOUT ROWID;

-- issue 28 item 8 (with issue 26 item 9): runs in progress. A run takes a
-- lease before its crawl (store::take_lease) and gives it back when it is
-- recorded or ends; pruning is postponed while another run holds one, so
-- a run's baseline never leaves the history under it. A lease older than
-- store::LEASE_HOURS is a run that died: it no longer holds pruning back.
CREATE TABLE IF NOT EXISTS run_leases (
    id INTEGER PRIMARY KEY,
    taken TEXT NOT NULL           -- RFC 3339 UTC
);

-- issue 26 items 1-3 (drift per location, only a finished run is a
-- baseline): `finished` is 1 when the run's report set was put in place (or
-- it wrote no reports), 0 when the set failed (exit code 2). Only finished
-- runs are baselines: each location is compared with the last finished run
-- that read it (src/history/query.rs, baseline). Before schema 3 a run was
-- recorded with exit code 2 only when its report set failed.
ALTER TABLE runs ADD COLUMN finished INTEGER NOT NULL DEFAULT 1;
UPDATE runs SET finished = 0 WHERE exit_code = 2;
-- The baseline of a location: its states by location.
CREATE INDEX location_states_location ON location_states (location);
CREATE INDEX stamp_states_location ON stamp_states (location);

-- smsaudit history, schema 3.

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

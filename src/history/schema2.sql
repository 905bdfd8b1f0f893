-- smsaudit history, schema 2: drift reads the previous run's files in
-- (location, path) order as a stream (src/history/query.rs, RunFiles), so
-- no run's files are ever held or sorted in memory.
CREATE INDEX file_states_location_path ON file_states (location, path);

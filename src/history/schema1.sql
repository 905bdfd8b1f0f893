-- smsaudit history, schema 1. Every *_states table holds each distinct
-- state once, for the runs first_run..last_run (run ids in order); digest
-- identifies the state (a SHA-256 of its values, src/history/store.rs).
-- A new file is first set to auto_vacuum = INCREMENTAL (src/history/mod.rs).
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started TEXT NOT NULL,
    ended TEXT NOT NULL,
    duration_seconds REAL NOT NULL,
    tool_version TEXT NOT NULL,
    command_line TEXT NOT NULL, -- JSON array of the arguments
    roots TEXT NOT NULL,        -- JSON array
    baseline TEXT,
    exit_code INTEGER NOT NULL,
    locations INTEGER NOT NULL,
    unreadable_locations INTEGER NOT NULL,
    files INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    unreadable_files INTEGER NOT NULL,
    unreadable_folders INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    infos INTEGER NOT NULL,
    mismatched_items INTEGER NOT NULL,
    causes INTEGER NOT NULL
);

CREATE TABLE location_states (
    id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL,
    first_run INTEGER NOT NULL,
    last_run INTEGER NOT NULL,
    location TEXT NOT NULL,
    kind TEXT NOT NULL,
    root TEXT NOT NULL,
    sites TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    files INTEGER NOT NULL,
    bytes INTEGER NOT NULL
);
CREATE INDEX location_states_digest ON location_states (digest);
CREATE INDEX location_states_last_run ON location_states (last_run);

CREATE TABLE file_states (
    id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL,
    first_run INTEGER NOT NULL,
    last_run INTEGER NOT NULL,
    location TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER,
    modified TEXT,
    sha256 TEXT,
    kind TEXT NOT NULL,
    version TEXT,
    version_source TEXT,
    string_version TEXT,
    status TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX file_states_digest ON file_states (digest);
CREATE INDEX file_states_last_run ON file_states (last_run);

CREATE TABLE stamp_states (
    id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL,
    first_run INTEGER NOT NULL,
    last_run INTEGER NOT NULL,
    location TEXT NOT NULL,
    site TEXT,
    component TEXT NOT NULL,
    artifact TEXT NOT NULL,
    detail TEXT NOT NULL,
    value TEXT NOT NULL,
    path TEXT NOT NULL,
    string_version TEXT,
    sha256 TEXT
);
CREATE INDEX stamp_states_digest ON stamp_states (digest);
CREATE INDEX stamp_states_last_run ON stamp_states (last_run);

-- The matrix: one row per item and location (cells that do not apply to
-- a location are left out).
CREATE TABLE cell_states (
    id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL,
    first_run INTEGER NOT NULL,
    last_run INTEGER NOT NULL,
    location TEXT NOT NULL,
    item TEXT NOT NULL,
    component TEXT NOT NULL,
    artifact TEXT NOT NULL,
    detail TEXT NOT NULL,
    state TEXT NOT NULL,
    text TEXT NOT NULL,
    expected TEXT
);
CREATE INDEX cell_states_digest ON cell_states (digest);
CREATE INDEX cell_states_last_run ON cell_states (last_run);

CREATE TABLE finding_states (
    id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL,
    first_run INTEGER NOT NULL,
    last_run INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    severity TEXT NOT NULL,
    code TEXT NOT NULL,
    kb TEXT NOT NULL,
    site TEXT NOT NULL,
    location TEXT NOT NULL,
    path TEXT NOT NULL,
    observed TEXT NOT NULL,
    expected TEXT NOT NULL,
    message TEXT NOT NULL,
    fix TEXT NOT NULL,
    cause_key TEXT NOT NULL
);
CREATE INDEX finding_states_digest ON finding_states (digest);
CREATE INDEX finding_states_last_run ON finding_states (last_run);
CREATE INDEX finding_states_fingerprint ON finding_states (fingerprint);

-- The decision and change logs are written as runs: one row per log per transaction holding the
-- entries it appends (a JSON array, numbered from `first_seq`), instead of one row per entry (an
-- event's lifecycle appends about fifty entries in two transactions; each row cost a b-tree
-- insert in the table and two indexes). `decision_log` and `change_log` stay as views with their
-- old columns, one row per entry (`at` in the form the columns held), so every reader sees the
-- same log. Entries already stored move into runs of one entry each.
CREATE TABLE decision_runs (
    event_id  TEXT NOT NULL REFERENCES events(id),
    first_seq INTEGER NOT NULL CHECK (first_seq >= 1),
    last_seq  INTEGER NOT NULL,
    entries   TEXT NOT NULL,
    PRIMARY KEY (event_id, first_seq),
    CHECK (last_seq >= first_seq)
);
CREATE TABLE change_runs (
    event_id  TEXT NOT NULL REFERENCES events(id),
    first_seq INTEGER NOT NULL CHECK (first_seq >= 1),
    last_seq  INTEGER NOT NULL,
    entries   TEXT NOT NULL,
    PRIMARY KEY (event_id, first_seq),
    CHECK (last_seq >= first_seq)
);
INSERT INTO decision_runs (event_id, first_seq, last_seq, entries)
    SELECT event_id, seq, seq, json_array(json(entry)) FROM decision_log;
INSERT INTO change_runs (event_id, first_seq, last_seq, entries)
    SELECT event_id, seq, seq, json_array(json(entry)) FROM change_log;
DROP TABLE decision_log;
DROP TABLE change_log;

CREATE VIEW decision_log AS
    SELECT r.event_id AS event_id, r.first_seq + e.key AS seq,
           json_extract(e.value, '$.id') AS entry_id,
           replace(json_extract(e.value, '$.at'), 'Z', '+00:00') AS at, e.value AS entry
    FROM decision_runs r, json_each(r.entries) e;
CREATE VIEW change_log AS
    SELECT r.event_id AS event_id, r.first_seq + e.key AS seq,
           json_extract(e.value, '$.id') AS entry_id,
           replace(json_extract(e.value, '$.at'), 'Z', '+00:00') AS at, e.value AS entry
    FROM change_runs r, json_each(r.entries) e;

CREATE TRIGGER decision_runs_no_update BEFORE UPDATE ON decision_runs BEGIN SELECT RAISE(ABORT, 'decision_runs is append-only'); END;
CREATE TRIGGER decision_runs_no_delete BEFORE DELETE ON decision_runs BEGIN SELECT RAISE(ABORT, 'decision_runs is append-only'); END;
CREATE TRIGGER change_runs_no_update BEFORE UPDATE ON change_runs BEGIN SELECT RAISE(ABORT, 'change_runs is append-only'); END;
CREATE TRIGGER change_runs_no_delete BEFORE DELETE ON change_runs BEGIN SELECT RAISE(ABORT, 'change_runs is append-only'); END;

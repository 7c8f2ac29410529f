-- The steps a transaction commits are written as one run (see 0012): one row holding their keys
-- and commit times in order, numbered from `first_seq`, instead of one row per step with two
-- indexes. `steps` stays as a view with its old columns, one row per step (`committed_at` in the
-- form the column held); the keys already stored move into runs of one step each. A key is still
-- committed once per event: a writer holds the database's write lock and looks the batch's keys
-- up first.
CREATE TABLE step_runs (
    event_id  TEXT NOT NULL REFERENCES events(id),
    first_seq INTEGER NOT NULL CHECK (first_seq >= 1),
    last_seq  INTEGER NOT NULL,
    steps     TEXT NOT NULL,
    PRIMARY KEY (event_id, first_seq),
    CHECK (last_seq >= first_seq)
);
INSERT INTO step_runs (event_id, first_seq, last_seq, steps)
    SELECT event_id, seq, seq, json_array(json_object('key', step_key, 'at', committed_at))
    FROM steps;
DROP TABLE steps;

CREATE VIEW steps AS
    SELECT r.event_id AS event_id, json_extract(e.value, '$.key') AS step_key,
           r.first_seq + e.key AS seq, json_extract(e.value, '$.at') AS committed_at
    FROM step_runs r, json_each(r.steps) e;

CREATE TRIGGER step_runs_no_update BEFORE UPDATE ON step_runs BEGIN SELECT RAISE(ABORT, 'step_runs is append-only'); END;
CREATE TRIGGER step_runs_no_delete BEFORE DELETE ON step_runs BEGIN SELECT RAISE(ABORT, 'step_runs is append-only'); END;

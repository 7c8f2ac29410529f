-- The steps a transaction commits are written as one run (see 0012): one row holding their keys
-- and commit times in order, numbered from `first_seq`, instead of one row per step with two
-- indexes. `steps` stays as a view with its old columns, one row per step; the keys already
-- stored move into runs of one step each. A key is still committed once per event: writers of an
-- event are serialised by the lock on its row and look the batch's keys up first, and two
-- writers that read the same counters collide on the run's primary key.
CREATE TABLE step_runs (
    event_id  TEXT NOT NULL REFERENCES events(id),
    first_seq BIGINT NOT NULL CHECK (first_seq >= 1),
    last_seq  BIGINT NOT NULL,
    steps     JSON NOT NULL,
    PRIMARY KEY (event_id, first_seq),
    CHECK (last_seq >= first_seq)
);
INSERT INTO step_runs (event_id, first_seq, last_seq, steps)
    SELECT event_id, seq, seq, json_build_array(json_build_object('key', step_key, 'at', committed_at))
    FROM steps;
DROP TABLE steps;

CREATE VIEW steps AS
    SELECT r.event_id, e.step ->> 'key' AS step_key, r.first_seq + e.n - 1 AS seq,
           (e.step ->> 'at')::timestamptz AS committed_at
    FROM step_runs r CROSS JOIN LATERAL json_array_elements(r.steps) WITH ORDINALITY AS e(step, n);

CREATE TRIGGER step_runs_append_only BEFORE UPDATE OR DELETE ON step_runs FOR EACH ROW EXECUTE FUNCTION eods_append_only();

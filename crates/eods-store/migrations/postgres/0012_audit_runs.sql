-- The decision and change logs are written as runs: one row per log per transaction holding the
-- entries it appends (a JSON array, numbered from `first_seq`), instead of one row per entry. An
-- event's lifecycle appends about fifty entries in two transactions, and each row was a heap
-- tuple, two index entries and WAL records of its own: most of the database's work per event was
-- per row, not per byte. `decision_log` and `change_log` stay as views with their old columns,
-- one row per entry, so every reader sees the same log (`at` is the entry's own, cut to the
-- microseconds the column held). Entries already stored move into runs of
-- one entry each.
CREATE TABLE decision_runs (
    event_id  TEXT NOT NULL REFERENCES events(id),
    first_seq BIGINT NOT NULL CHECK (first_seq >= 1),
    last_seq  BIGINT NOT NULL,
    entries   JSON NOT NULL,
    PRIMARY KEY (event_id, first_seq),
    CHECK (last_seq >= first_seq)
);
CREATE TABLE change_runs (
    event_id  TEXT NOT NULL REFERENCES events(id),
    first_seq BIGINT NOT NULL CHECK (first_seq >= 1),
    last_seq  BIGINT NOT NULL,
    entries   JSON NOT NULL,
    PRIMARY KEY (event_id, first_seq),
    CHECK (last_seq >= first_seq)
);
INSERT INTO decision_runs (event_id, first_seq, last_seq, entries)
    SELECT event_id, seq, seq, json_build_array(entry) FROM decision_log;
INSERT INTO change_runs (event_id, first_seq, last_seq, entries)
    SELECT event_id, seq, seq, json_build_array(entry) FROM change_log;
DROP TABLE decision_log;
DROP TABLE change_log;

CREATE VIEW decision_log AS
    SELECT r.event_id, r.first_seq + e.n - 1 AS seq, e.entry ->> 'id' AS entry_id,
           regexp_replace(e.entry ->> 'at', '(\.[0-9]{6})[0-9]+', '\1')::timestamptz AS at, e.entry
    FROM decision_runs r CROSS JOIN LATERAL json_array_elements(r.entries) WITH ORDINALITY AS e(entry, n);
CREATE VIEW change_log AS
    SELECT r.event_id, r.first_seq + e.n - 1 AS seq, e.entry ->> 'id' AS entry_id,
           regexp_replace(e.entry ->> 'at', '(\.[0-9]{6})[0-9]+', '\1')::timestamptz AS at, e.entry
    FROM change_runs r CROSS JOIN LATERAL json_array_elements(r.entries) WITH ORDINALITY AS e(entry, n);

CREATE TRIGGER decision_runs_append_only BEFORE UPDATE OR DELETE ON decision_runs FOR EACH ROW EXECUTE FUNCTION eods_append_only();
CREATE TRIGGER change_runs_append_only BEFORE UPDATE OR DELETE ON change_runs FOR EACH ROW EXECUTE FUNCTION eods_append_only();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE decision_runs ALTER COLUMN entries SET COMPRESSION lz4;
        ALTER TABLE change_runs ALTER COLUMN entries SET COMPRESSION lz4;
    END IF;
END
$$;

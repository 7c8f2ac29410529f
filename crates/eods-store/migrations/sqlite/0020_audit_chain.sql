-- Audit chain (issue 15, finding 8): each run of the step, decision and change logs carries the
-- hash of the run before it in the same event's log (`prev_hash`, NULL for the first) and its own
-- (`hash`, SHA-256 over the event, the run's numbers, the previous hash and the run's text; see
-- `chain.rs`). A step run lists the digest of every artifact revision its steps committed, so
-- artifacts are covered by the steps' chain. `eods audit verify` recomputes the chains and reports
-- the first broken link. Runs written before this migration have no hash and are reported as
-- predating the chain.
ALTER TABLE step_runs ADD COLUMN prev_hash TEXT;
ALTER TABLE step_runs ADD COLUMN hash TEXT;
ALTER TABLE decision_runs ADD COLUMN prev_hash TEXT;
ALTER TABLE decision_runs ADD COLUMN hash TEXT;
ALTER TABLE change_runs ADD COLUMN prev_hash TEXT;
ALTER TABLE change_runs ADD COLUMN hash TEXT;

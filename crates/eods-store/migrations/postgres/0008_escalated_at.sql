-- When an approval request was escalated (its deadline passed), written by the engine's
-- escalation commit; the service's timer escalates only requests without it. Requests escalated
-- before this column existed are stamped from their escalation step.
ALTER TABLE approvals ADD COLUMN escalated_at TIMESTAMPTZ;
UPDATE approvals SET escalated_at = (
    SELECT s.committed_at FROM steps s
    WHERE s.event_id = approvals.event_id AND s.step_key = 'escalate:' || approvals.id
)
WHERE EXISTS (
    SELECT 1 FROM steps s
    WHERE s.event_id = approvals.event_id AND s.step_key = 'escalate:' || approvals.id
);

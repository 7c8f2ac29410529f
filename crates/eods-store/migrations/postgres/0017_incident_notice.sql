-- Incidents reported on a live event are notified (webhook and e-mail to the owner and the
-- escalation path): `incident` joins the outbox's kinds.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('approval_requested','approval_escalated','run_stopped','task_reminder','task_overdue','incident'));

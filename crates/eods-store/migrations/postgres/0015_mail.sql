-- Notifications people read: task reminders and overdue tasks join the outbox's kinds, and each
-- notification gets a second delivery state, for e-mail, beside the webhook's. mail_status is
-- NULL when the notification names no e-mail recipient; else it moves pending → delivered or
-- dead like the webhook's status, claimed by one instance at a time.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('approval_requested','approval_escalated','run_stopped','task_reminder','task_overdue'));
ALTER TABLE outbox ADD COLUMN mail_status TEXT CHECK (mail_status IN ('pending','delivered','dead'));
ALTER TABLE outbox ADD COLUMN mail_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN mail_next_attempt_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN mail_claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN mail_claimed_until BIGINT;
ALTER TABLE outbox ADD COLUMN mail_delivered_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN mail_last_error TEXT;
CREATE INDEX outbox_mail_due ON outbox (mail_status, mail_next_attempt_ms);

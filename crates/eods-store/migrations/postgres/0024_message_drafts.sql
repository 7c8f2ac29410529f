-- Drafts of the words people send (issue 16): the message_drafts artifact type, and `message`
-- notifications, which carry an approved draft to its recipient (never an unapproved one).
ALTER TABLE artifacts DROP CONSTRAINT artifacts_artifact_type_check;
ALTER TABLE artifacts ADD CONSTRAINT artifacts_artifact_type_check CHECK (artifact_type IN ('event_brief','requirements','stakeholder_map','timeline','task_register','risk_register','communications_plan','venue_criteria','venue_leads','venue_shortlist','venue_scorecard','venue_availability','venue_negotiation_notes','budget_baseline','cost_model','budget_decision','logistics_plan','schedule','resource_roster','contingency_plan','vendor_contracts','change_log','decision_log','agent_trace','runbook','incident_log','postmortem','organiser_data','message_drafts'));
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('approval_requested','approval_escalated','run_stopped','task_reminder','task_overdue','incident','message'));

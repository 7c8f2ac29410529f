-- EODS schema, version 5: the organiser_data artifact (the organiser's venue list, rate cards and
-- quotes for one event, written by Engine::supply) joins the artifact types an artifact row may
-- have.

ALTER TABLE artifacts DROP CONSTRAINT artifacts_artifact_type_check;
ALTER TABLE artifacts ADD CONSTRAINT artifacts_artifact_type_check CHECK (artifact_type IN ('event_brief','requirements','stakeholder_map','timeline','task_register','risk_register','communications_plan','venue_criteria','venue_leads','venue_shortlist','venue_scorecard','venue_availability','venue_negotiation_notes','budget_baseline','cost_model','budget_decision','logistics_plan','schedule','resource_roster','contingency_plan','vendor_contracts','change_log','decision_log','agent_trace','runbook','incident_log','postmortem','organiser_data'));

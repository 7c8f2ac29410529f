//! The artifact envelope, the closed set of artifact types, and the typed payload enum.
//! One macro table below is the single place that maps a type name to its payload struct.

use crate::catalog::{
    audit, brief, budget, execution, logistics, messages, planning, sources, venue,
};
use crate::ids::{ArtifactId, EventId};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A `(type, revision)` pair: what an artifact was derived from, or what a log entry touched.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct ArtifactRef {
    #[serde(rename = "type")]
    pub artifact_type: ArtifactType,
    pub revision: u32,
}

impl fmt::Display for ArtifactRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.artifact_type, self.revision)
    }
}

/// A stored artifact revision: metadata plus the payload as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Envelope {
    pub id: ArtifactId,
    pub event_id: EventId,
    #[serde(rename = "type")]
    pub artifact_type: ArtifactType,
    /// 1, 2, 3… per event and type.
    pub revision: u32,
    /// Semver of the payload schema.
    pub schema_version: String,
    pub created_at: DateTime<Utc>,
    /// `agent:<kind>`, `user:<name>` or `system:<component>`.
    pub created_by: String,
    pub correlation_id: String,
    pub derived_from: Vec<ArtifactRef>,
    pub payload: serde_json::Value,
}

impl Envelope {
    /// This revision as a reference.
    pub fn as_ref(&self) -> ArtifactRef {
        ArtifactRef {
            artifact_type: self.artifact_type,
            revision: self.revision,
        }
    }
}

/// Implemented by every payload struct: ties it to its artifact type.
pub trait CatalogType: Sized {
    /// The artifact type whose payload this is.
    const TYPE: ArtifactType;
    /// Borrows this type out of a payload of the right variant.
    fn from_payload(payload: &Payload) -> Option<&Self>;
    /// Wraps the value as a payload.
    fn into_payload(self) -> Payload;
}

macro_rules! catalog {
    ($($variant:ident => $ty:ty, $name:literal;)*) => {
        /// Every artifact type of the catalog.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ArtifactType { $($variant,)* }

        impl ArtifactType {
            /// Every type, in catalog order.
            pub const ALL: &'static [ArtifactType] = &[$(ArtifactType::$variant,)*];

            /// The snake_case name (`task_register`).
            pub fn as_str(self) -> &'static str {
                match self { $(ArtifactType::$variant => $name,)* }
            }

            /// Parses a snake_case name; the error lists the allowed names.
            pub fn parse(s: &str) -> Result<ArtifactType, String> {
                match s {
                    $($name => Ok(ArtifactType::$variant),)*
                    other => Err(format!(
                        "unknown artifact type `{other}`: allowed values are {}",
                        [$($name),*].join(", ")
                    )),
                }
            }

            /// The JSON Schema of this type's payload.
            pub fn payload_schema(self) -> schemars::Schema {
                match self { $(ArtifactType::$variant => schemars::schema_for!($ty),)* }
            }
        }

        /// A typed payload.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Payload { $($variant($ty),)* }

        impl Payload {
            /// The artifact type of this payload.
            pub fn artifact_type(&self) -> ArtifactType {
                match self { $(Payload::$variant(_) => ArtifactType::$variant,)* }
            }

            /// Deserializes a payload of type `t` from JSON.
            pub fn from_value(t: ArtifactType, value: serde_json::Value) -> Result<Payload, serde_json::Error> {
                Ok(match t { $(ArtifactType::$variant => Payload::$variant(serde_json::from_value(value)?),)* })
            }

            /// Serializes the payload to JSON.
            pub fn to_value(&self) -> serde_json::Value {
                let v = match self { $(Payload::$variant(p) => serde_json::to_value(p),)* };
                // Serializing these plain data structs cannot fail: every map key is a string or a unit enum.
                v.unwrap_or(serde_json::Value::Null)
            }
        }

        $(
            impl CatalogType for $ty {
                const TYPE: ArtifactType = ArtifactType::$variant;
                fn from_payload(payload: &Payload) -> Option<&Self> {
                    match payload { Payload::$variant(p) => Some(p), _ => None }
                }
                fn into_payload(self) -> Payload { Payload::$variant(self) }
            }
        )*
    };
}

catalog! {
    EventBrief => brief::EventBrief, "event_brief";
    Requirements => planning::Requirements, "requirements";
    StakeholderMap => planning::StakeholderMap, "stakeholder_map";
    Timeline => planning::Timeline, "timeline";
    TaskRegister => planning::TaskRegister, "task_register";
    RiskRegister => planning::RiskRegister, "risk_register";
    CommunicationsPlan => planning::CommunicationsPlan, "communications_plan";
    VenueCriteria => venue::VenueCriteria, "venue_criteria";
    VenueLeads => venue::VenueLeads, "venue_leads";
    VenueShortlist => venue::VenueShortlist, "venue_shortlist";
    VenueScorecard => venue::VenueScorecard, "venue_scorecard";
    VenueAvailability => venue::VenueAvailability, "venue_availability";
    VenueNegotiationNotes => venue::VenueNegotiationNotes, "venue_negotiation_notes";
    BudgetBaseline => budget::BudgetBaseline, "budget_baseline";
    CostModel => budget::CostModel, "cost_model";
    BudgetDecision => budget::BudgetDecision, "budget_decision";
    LogisticsPlan => logistics::LogisticsPlan, "logistics_plan";
    Schedule => logistics::Schedule, "schedule";
    ResourceRoster => logistics::ResourceRoster, "resource_roster";
    ContingencyPlan => logistics::ContingencyPlan, "contingency_plan";
    VendorContracts => logistics::VendorContracts, "vendor_contracts";
    ChangeLog => audit::ChangeLog, "change_log";
    DecisionLog => audit::DecisionLog, "decision_log";
    AgentTrace => audit::AgentTrace, "agent_trace";
    Runbook => execution::Runbook, "runbook";
    IncidentLog => execution::IncidentLog, "incident_log";
    Postmortem => execution::Postmortem, "postmortem";
    OrganiserData => sources::OrganiserData, "organiser_data";
    MessageDrafts => messages::MessageDrafts, "message_drafts";
}

impl ArtifactType {
    /// The 23 planning and audit types of DESIGN §3 (everything but traces and Execute outputs).
    pub fn is_core_catalog(self) -> bool {
        !matches!(
            self,
            ArtifactType::AgentTrace
                | ArtifactType::Runbook
                | ArtifactType::IncidentLog
                | ArtifactType::Postmortem
                | ArtifactType::OrganiserData
                | ArtifactType::MessageDrafts
        )
    }

    /// Types whose content is commercially sensitive (DESIGN §9).
    pub fn is_sensitive(self) -> bool {
        matches!(
            self,
            ArtifactType::VendorContracts | ArtifactType::VenueNegotiationNotes
        )
    }

    /// Semver of this type's payload schema.
    pub fn schema_version(self) -> &'static str {
        "1.0.0"
    }
}

impl fmt::Display for ArtifactType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

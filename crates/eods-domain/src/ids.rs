//! Typed identifiers. Database-level ids are UUIDs; ids of items inside an artifact (`task-7`,
//! `venue-3`, `risk-2`) are short strings, newtyped so that a task id can never be passed where a
//! risk id is expected. This module only defines the types; it never generates random values.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Wraps an existing UUID.
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// An event (one brief and everything planned from it).
    EventId
);
uuid_id!(
    /// One stored artifact revision.
    ArtifactId
);
uuid_id!(
    /// One approval request.
    ApprovalId
);

macro_rules! item_id {
    ($($(#[$doc:meta])* $name:ident = $prefix:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The conventional prefix of this id kind, e.g. `task` in `task-7`.
            pub const PREFIX: &'static str = $prefix;

            /// The `n`th id of this kind: `task-7`.
            pub fn nth(n: usize) -> Self {
                Self(format!("{}-{}", $prefix, n))
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    )*};
}

item_id! {
    /// A requirement in `requirements`.
    RequirementId = "req";
    /// A stakeholder in `stakeholder_map`.
    StakeholderId = "stakeholder";
    /// A phase of the timeline.
    PhaseId = "phase";
    /// A milestone of the timeline.
    MilestoneId = "milestone";
    /// A task in `task_register`.
    TaskId = "task";
    /// A risk in `risk_register`.
    RiskId = "risk";
    /// A venue in the venue catalog.
    VenueRef = "venue";
    /// A lead in `venue_leads`.
    LeadId = "lead";
    /// A shortlisted candidate.
    CandidateId = "candidate";
    /// A cost model line item.
    LineItemId = "item";
    /// A budget option in `budget_decision`.
    OptionId = "option";
    /// A logistics workflow.
    WorkflowId = "workflow";
    /// A scheduled session.
    SessionId = "session";
    /// A room in the schedule.
    RoomId = "room";
    /// A roster resource (person, equipment or space).
    ResourceId = "resource";
    /// A contingency scenario.
    ScenarioId = "scenario";
    /// A vendor in `vendor_contracts`.
    VendorId = "vendor";
    /// A communications plan entry.
    CommId = "comm";
    /// An incident during Execute.
    IncidentId = "incident";
    /// A DecisionLog entry.
    DecisionId = "decision";
    /// A ChangeLog entry.
    ChangeId = "change";
}

/// Who wrote something: a person (`user:NAME`), an agent (`agent:NAME`) or the system
/// (`system:NAME`). Stored as that text (`created_by`, `owner`, `actor`, `decided_by`); read
/// through this type, so a check of who acted never depends on a string prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Actor {
    User(String),
    Agent(String),
    System(String),
}

impl Actor {
    /// Reads `user:NAME`, `agent:NAME` or `system:NAME` (NAME not empty).
    pub fn parse(s: &str) -> Result<Actor, String> {
        let bad = || format!("`{s}` is not an actor: write user:NAME, agent:NAME or system:NAME");
        let (kind, name) = s.split_once(':').ok_or_else(bad)?;
        if name.trim().is_empty() {
            return Err(bad());
        }
        let name = name.to_owned();
        match kind {
            "user" => Ok(Actor::User(name)),
            "agent" => Ok(Actor::Agent(name)),
            "system" => Ok(Actor::System(name)),
            _ => Err(bad()),
        }
    }

    /// Whether `s` names a person.
    pub fn is_user(s: &str) -> bool {
        matches!(Actor::parse(s), Ok(Actor::User(_)))
    }

    /// Whether `s` names an agent.
    pub fn is_agent(s: &str) -> bool {
        matches!(Actor::parse(s), Ok(Actor::Agent(_)))
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User(n) => write!(f, "user:{n}"),
            Actor::Agent(n) => write!(f, "agent:{n}"),
            Actor::System(n) => write!(f, "system:{n}"),
        }
    }
}

#[cfg(test)]
mod actor_tests {
    use super::Actor;

    #[test]
    fn actors_round_trip_and_bad_ones_name_the_form() {
        for s in ["user:alice", "agent:budget_analyst", "system:engine"] {
            assert_eq!(Actor::parse(s).unwrap().to_string(), s);
        }
        assert!(Actor::is_user("user:alice"));
        assert!(!Actor::is_user("users:alice"));
        assert!(!Actor::is_user("agent:user:alice"));
        assert!(Actor::is_agent("agent:venue_researcher"));
        for bad in ["alice", "user:", "robot:x", ""] {
            let e = Actor::parse(bad).unwrap_err();
            assert!(e.contains("user:NAME"), "{e}");
        }
    }
}

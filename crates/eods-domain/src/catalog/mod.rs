//! The artifact catalog: payload types for all 23 artifact types of DESIGN §3, the AgentTrace,
//! and the Execute/Postmortem artifacts. Types only; validation lives in `crate::validate`.

pub mod audit;
pub mod brief;
pub mod budget;
pub mod execution;
pub mod logistics;
pub mod messages;
pub mod planning;
pub mod sources;
pub mod venue;

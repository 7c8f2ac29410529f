//! EODS domain: the artifact catalog, its JSON Schemas and semantic validation, the lifecycle
//! with its gates, and the metric formulas. Pure: no async, no I/O, no clock reads — every time
//! is passed in.

pub mod access;
pub mod artifact;
pub mod blackboard;
pub mod catalog;
pub mod constraints;
pub mod directive;
pub mod graph;
pub mod grounding;
pub mod hours;
pub mod ids;
pub mod instruction;
pub mod intake;
pub mod lifecycle;
pub mod metrics;
pub mod model;
pub mod money;
pub mod progress;
pub mod run;
pub mod schema;
pub mod validate;

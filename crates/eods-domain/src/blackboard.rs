//! The blackboard: the current revision of every artifact of one event, typed. Gates, validation
//! across artifacts and the planners all read from it. It holds data only; loading it is the
//! store's job.

use crate::artifact::{ArtifactRef, ArtifactType, CatalogType, Payload};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The current revision of one artifact type.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    pub revision: u32,
    pub created_by: String,
    pub derived_from: Vec<ArtifactRef>,
    pub payload: Payload,
}

impl Current {
    /// This revision as a reference.
    pub fn as_ref(&self) -> ArtifactRef {
        ArtifactRef {
            artifact_type: self.payload.artifact_type(),
            revision: self.revision,
        }
    }
}

/// Current artifacts of one event, by type. Revisions are shared, so a clone (the engine
/// validates a step's outputs on a copy of the blackboard as it would be after the step) copies
/// no payload.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Blackboard {
    items: BTreeMap<ArtifactType, Arc<Entry>>,
}

/// A revision and, once asked for, what [`crate::validate::validate_payload`] finds in it (a
/// payload's own checks depend on nothing else, and each transition asks again).
#[derive(Debug)]
struct Entry {
    current: Current,
    findings: std::sync::OnceLock<Vec<crate::validate::Violation>>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.current == other.current
    }
}

impl std::ops::Deref for Entry {
    type Target = Current;
    fn deref(&self) -> &Current {
        &self.current
    }
}

impl Blackboard {
    /// An empty blackboard.
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts (or replaces) the current revision of a type.
    pub fn insert(&mut self, current: Current) {
        self.items.insert(
            current.payload.artifact_type(),
            Arc::new(Entry {
                current,
                findings: std::sync::OnceLock::new(),
            }),
        );
    }

    /// The typed payload of `T`, if present.
    pub fn get<T: CatalogType>(&self) -> Option<&T> {
        self.items
            .get(&T::TYPE)
            .and_then(|c| T::from_payload(&c.payload))
    }

    /// The current revision of a type, if present.
    pub fn current(&self, t: ArtifactType) -> Option<&Current> {
        self.items.get(&t).map(|c| &c.current)
    }

    /// Current revision number of a type.
    pub fn revision(&self, t: ArtifactType) -> Option<u32> {
        self.items.get(&t).map(|c| c.revision)
    }

    /// Reference to the current revision of a type.
    pub fn reference(&self, t: ArtifactType) -> Option<ArtifactRef> {
        self.items.get(&t).map(|c| Current::as_ref(c))
    }

    /// Types present.
    pub fn types(&self) -> impl Iterator<Item = ArtifactType> + '_ {
        self.items.keys().copied()
    }

    /// Every current artifact.
    pub fn iter(&self) -> impl Iterator<Item = &Current> {
        self.items.values().map(|c| &c.current)
    }

    /// What [`crate::validate::validate_payload`] finds in the current revision of `t` (worked
    /// out once per revision; empty when there is none).
    pub fn payload_findings(&self, t: ArtifactType) -> &[crate::validate::Violation] {
        self.items.get(&t).map_or(&[], |e| {
            e.findings
                .get_or_init(|| crate::validate::validate_payload(&e.current.payload))
        })
    }

    /// Puts `t`'s current revision of `other` here, shared (nothing is copied); `false` when
    /// `other` has no revision `revision` of `t`.
    pub fn share(&mut self, other: &Blackboard, t: ArtifactType, revision: u32) -> bool {
        match other.items.get(&t) {
            Some(c) if c.revision == revision => {
                self.items.insert(t, Arc::clone(c));
                true
            }
            _ => false,
        }
    }

    /// Artifacts derived from a revision that is no longer current, each with the outdated input.
    /// A reference to the artifact's own type (an approval stamp on an earlier revision) is not
    /// staleness.
    pub fn stale(&self) -> Vec<(ArtifactType, ArtifactRef)> {
        let mut out = Vec::new();
        for (t, c) in &self.items {
            for input in &c.derived_from {
                if input.artifact_type == *t {
                    continue;
                }
                if let Some(rev) = self.revision(input.artifact_type)
                    && rev != input.revision
                {
                    out.push((*t, *input));
                }
            }
        }
        out
    }
}

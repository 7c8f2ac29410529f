//! Who may do what: the four roles of DESIGN §9 and the permissions each grants. Pure data; the
//! HTTP edge checks them on every route and page.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A role an API token carries.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including tokens.
    Admin,
    /// Creates events, edits artifacts, starts and stops runs, reports incidents.
    Planner,
    /// Decides approvals.
    Approver,
    /// Reads.
    Viewer,
}

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read events, artifacts, logs and approvals.
    Read,
    /// Create events, edit artifacts, run actions, report incidents.
    Plan,
    /// Decide approvals.
    Approve,
    /// Manage tokens and operate the service.
    Administer,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Planner, Role::Approver, Role::Viewer];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Planner => "planner",
            Role::Approver => "approver",
            Role::Viewer => "viewer",
        }
    }

    /// Parses a snake_case name.
    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role grants `p`.
    pub fn grants(self, p: Permission) -> bool {
        match p {
            Permission::Read => true,
            Permission::Plan => matches!(self, Role::Admin | Role::Planner),
            Permission::Approve => matches!(self, Role::Admin | Role::Approver),
            Permission::Administer => self == Role::Admin,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_what_design_section_9_says() {
        let table = [
            (Role::Admin, [true, true, true, true]),
            (Role::Planner, [true, true, false, false]),
            (Role::Approver, [true, false, true, false]),
            (Role::Viewer, [true, false, false, false]),
        ];
        let perms = [
            Permission::Read,
            Permission::Plan,
            Permission::Approve,
            Permission::Administer,
        ];
        for (role, expect) in table {
            for (p, e) in perms.iter().zip(expect) {
                assert_eq!(role.grants(*p), e, "{role} {p:?}");
            }
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}

use serde::{Deserialize, Serialize};

use crate::named::named_values;

named_values! {
    /// What a user may do. What each role may do, and where, is decided by `Principal::authorize`
    /// (`policy.rs`).
    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    Role {
        Admin => "admin",
        Manager => "manager",
        Clerk => "clerk",
        Viewer => "viewer",
        Integration => "integration",
    }
}

impl Role {
    /// Whether a user of this role acts within one unit's subtree, and so has a scope unit: every
    /// role but admin does.
    pub fn needs_scope_unit(self) -> bool {
        self != Role::Admin
    }

    /// Whether a user of this role may create (or manage) a user of `other`: nobody hands out more
    /// rights than they hold, and only an admin creates managers, admins and service accounts.
    pub fn may_create(self, other: Role) -> bool {
        match self {
            Role::Admin => true,
            Role::Manager => matches!(other, Role::Clerk | Role::Viewer),
            Role::Clerk | Role::Viewer | Role::Integration => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips_every_role() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn managers_create_only_desk_staff_and_viewers() {
        assert!(Role::Manager.may_create(Role::Clerk));
        assert!(Role::Manager.may_create(Role::Viewer));
        assert!(!Role::Manager.may_create(Role::Manager));
        assert!(!Role::Manager.may_create(Role::Admin));
        assert!(!Role::Manager.may_create(Role::Integration));
        assert!(!Role::Clerk.may_create(Role::Clerk));
    }
}

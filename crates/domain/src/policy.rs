//! Who may do what, and where: the one place where authorization is decided.
//!
//! Handlers describe the attempt (principal, action, the target's unit path) and obey the answer;
//! list queries take the principal's [`Scope`] and filter by it in SQL.

use uuid::Uuid;

use crate::{Role, UnitPath};

/// The part of the tree a user works in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole system (an admin).
    All,
    /// A unit and everything below it.
    Subtree(UnitPath),
}

impl Scope {
    pub fn contains(&self, path: &UnitPath) -> bool {
        match self {
            Scope::All => true,
            Scope::Subtree(root) => path.is_within(root),
        }
    }
}

/// The authenticated caller, as the database holds it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    pub unit_id: Option<Uuid>,
    /// A clerk's official: the desk official in whose name the clerk records.
    pub official_id: Option<Uuid>,
    pub scope: Scope,
}

/// Something a caller attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ReadUnit,
    ManageUnits,
    ReadUser,
    /// Creating or changing a user of the given role.
    ManageUser(Role),
    /// Clearing a user's login lockout: the Service Center's part.
    UnlockUser,
    ReadAudit,
    ReadOfficial,
    ManageOfficials,
    /// Seeing an official's personal numbers unmasked.
    RevealOfficial,
    /// Accepting or returning a submitted roster: the Service Center's decision.
    DecideRoster,
    ReadGrant,
    /// Granting or revoking a portal function: the Service Center's decision.
    ManageGrants,
    ReadDirective,
    ManageDirectives,
    /// Opening, reading and commenting on a unit's support requests.
    UseSupport,
    /// Moving a support request's status: the Service Center's part.
    ManageSupport,
    /// Recording a citizen-account attempt, at a desk or from the portal.
    RecordCitizenAccount,
    /// Reading citizen-account records (a clerk reads only its own).
    ReadCitizenAccount,
    /// Voiding a record with a reason.
    VoidCitizenAccount,
    /// Seeing a record's personal numbers unmasked, for a stated reason.
    RevealCitizenAccount,
    /// Reading the aggregated reports and the frozen monthly snapshots.
    ReadReport,
    /// Freezing a monthly report: the Service Center's report to the province.
    FreezeReport,
    /// Reading the change feed of the caller's subtree.
    ReadEvents,
    /// Registering webhooks and redelivering their deliveries: the Service Center's configuration.
    ManageWebhooks,
}

/// Why an attempt is refused. The two are told apart on purpose: a role that may never act gets
/// 403, while a role that may act but not on this object gets 404, so that nobody learns what exists
/// outside their scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    RoleNotAllowed,
    OutOfScope,
}

impl Principal {
    /// Decides whether this principal may perform `action` on an object that lives at `target`
    /// (`None` for an action on no particular unit, such as listing).
    pub fn authorize(&self, action: Action, target: Option<&UnitPath>) -> Result<(), Denied> {
        if !self.role_allows(action) {
            return Err(Denied::RoleNotAllowed);
        }
        match target {
            Some(path) if !self.scope.contains(path) => Err(Denied::OutOfScope),
            _ => Ok(()),
        }
    }

    /// Like [`authorize`](Self::authorize) for an object outside the tree (an admin without a scope
    /// unit): only a principal whose scope is everything may reach it.
    pub fn authorize_unscoped(&self, action: Action) -> Result<(), Denied> {
        self.authorize(action, None)?;
        match self.scope {
            Scope::All => Ok(()),
            Scope::Subtree(_) => Err(Denied::OutOfScope),
        }
    }

    fn role_allows(&self, action: Action) -> bool {
        match (self.role, action) {
            (Role::Admin, _) => true,
            (_, Action::ReadUnit | Action::ReadDirective | Action::ReadReport) => true,
            (Role::Manager | Role::Clerk | Role::Viewer, Action::UseSupport) => true,
            (Role::Manager, Action::ReadUser) => true,
            (Role::Manager, Action::ManageUser(target)) => Role::Manager.may_create(target),
            (
                Role::Manager,
                Action::ReadOfficial | Action::ManageOfficials | Action::RevealOfficial | Action::ReadGrant,
            ) => true,
            (Role::Manager, Action::ReadCitizenAccount | Action::VoidCitizenAccount) => true,
            (Role::Clerk, Action::RecordCitizenAccount | Action::ReadCitizenAccount) => true,
            (Role::Integration, Action::ReadOfficial | Action::RecordCitizenAccount) => true,
            (Role::Manager | Role::Integration, Action::ReadEvents) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, scope: Scope) -> Principal {
        Principal { user_id: Uuid::now_v7(), username: "someone".into(), role, unit_id: None, official_id: None, scope }
    }

    #[test]
    fn admin_may_do_everything_everywhere() {
        let admin = principal(Role::Admin, Scope::All);
        let anywhere = UnitPath::root(Uuid::now_v7());
        assert_eq!(admin.authorize(Action::ManageUnits, Some(&anywhere)), Ok(()));
        assert_eq!(admin.authorize(Action::ReadAudit, None), Ok(()));
        assert_eq!(admin.authorize(Action::ManageUser(Role::Admin), None), Ok(()));
    }

    #[test]
    fn manager_acts_in_its_subtree_only() {
        let district = UnitPath::root(Uuid::now_v7()).child(Uuid::now_v7());
        let commune = district.child(Uuid::now_v7());
        let sibling = UnitPath::root(Uuid::now_v7()).child(Uuid::now_v7());
        let manager = principal(Role::Manager, Scope::Subtree(district));
        assert_eq!(manager.authorize(Action::ReadUnit, Some(&commune)), Ok(()));
        assert_eq!(manager.authorize(Action::ReadUnit, Some(&sibling)), Err(Denied::OutOfScope));
        assert_eq!(manager.authorize(Action::ManageUser(Role::Clerk), Some(&commune)), Ok(()));
        assert_eq!(manager.authorize(Action::ManageUser(Role::Manager), Some(&commune)), Err(Denied::RoleNotAllowed));
        assert_eq!(manager.authorize(Action::ManageUnits, Some(&commune)), Err(Denied::RoleNotAllowed));
        assert_eq!(manager.authorize(Action::ReadAudit, None), Err(Denied::RoleNotAllowed));
    }

    #[test]
    fn officials_are_managed_by_managers_and_read_by_service_accounts() {
        let district = UnitPath::root(Uuid::now_v7());
        let manager = principal(Role::Manager, Scope::Subtree(district.clone()));
        let service = principal(Role::Integration, Scope::Subtree(district.clone()));
        let viewer = principal(Role::Viewer, Scope::Subtree(district.clone()));
        assert_eq!(manager.authorize(Action::ManageOfficials, Some(&district)), Ok(()));
        assert_eq!(service.authorize(Action::ReadOfficial, Some(&district)), Ok(()));
        assert_eq!(service.authorize(Action::RevealOfficial, Some(&district)), Err(Denied::RoleNotAllowed));
        assert_eq!(service.authorize(Action::ManageOfficials, Some(&district)), Err(Denied::RoleNotAllowed));
        assert_eq!(viewer.authorize(Action::ReadOfficial, Some(&district)), Err(Denied::RoleNotAllowed));
    }

    #[test]
    fn objects_outside_the_tree_are_for_the_whole_scope_only() {
        let district = UnitPath::root(Uuid::now_v7());
        let manager = principal(Role::Manager, Scope::Subtree(district));
        assert_eq!(manager.authorize_unscoped(Action::ReadUser), Err(Denied::OutOfScope));
        let admin = principal(Role::Admin, Scope::All);
        assert_eq!(admin.authorize_unscoped(Action::ReadUser), Ok(()));
    }

    #[test]
    fn citizen_accounts_are_recorded_at_desks_and_by_the_portal_and_revealed_by_admins_only() {
        let unit = UnitPath::root(Uuid::now_v7());
        let may =
            |role: Role, action: Action| principal(role, Scope::Subtree(unit.clone())).authorize(action, Some(&unit));
        assert_eq!(may(Role::Clerk, Action::RecordCitizenAccount), Ok(()));
        assert_eq!(may(Role::Integration, Action::RecordCitizenAccount), Ok(()));
        assert_eq!(may(Role::Manager, Action::RecordCitizenAccount), Err(Denied::RoleNotAllowed));
        assert_eq!(may(Role::Viewer, Action::ReadCitizenAccount), Err(Denied::RoleNotAllowed));
        assert_eq!(may(Role::Manager, Action::VoidCitizenAccount), Ok(()));
        assert_eq!(may(Role::Clerk, Action::VoidCitizenAccount), Err(Denied::RoleNotAllowed));
        assert_eq!(may(Role::Manager, Action::RevealCitizenAccount), Err(Denied::RoleNotAllowed));
    }

    #[test]
    fn the_feed_is_read_by_managers_and_service_accounts_and_webhooks_are_the_admins() {
        let unit = UnitPath::root(Uuid::now_v7());
        let may =
            |role: Role, action: Action| principal(role, Scope::Subtree(unit.clone())).authorize(action, Some(&unit));
        assert_eq!(may(Role::Manager, Action::ReadEvents), Ok(()));
        assert_eq!(may(Role::Integration, Action::ReadEvents), Ok(()));
        assert_eq!(may(Role::Clerk, Action::ReadEvents), Err(Denied::RoleNotAllowed));
        assert_eq!(may(Role::Viewer, Action::ReadEvents), Err(Denied::RoleNotAllowed));
        assert_eq!(may(Role::Manager, Action::ManageWebhooks), Err(Denied::RoleNotAllowed));
    }

    #[test]
    fn desk_roles_read_units_but_manage_nothing() {
        let unit = UnitPath::root(Uuid::now_v7());
        for role in [Role::Clerk, Role::Viewer, Role::Integration] {
            let user = principal(role, Scope::Subtree(unit.clone()));
            assert_eq!(user.authorize(Action::ReadUnit, Some(&unit)), Ok(()));
            assert_eq!(user.authorize(Action::ReadUser, None), Err(Denied::RoleNotAllowed));
            assert_eq!(user.authorize(Action::ManageUser(Role::Viewer), None), Err(Denied::RoleNotAllowed));
        }
    }
}

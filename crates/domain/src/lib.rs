//! Types and rules of the drive, free of any framework, database or IO.
//!
//! Every newtype here has a private field and a `parse` constructor, so a value that exists is a valid
//! one: the layers above never re-check what the type already guarantees.

pub mod citizen;
pub mod directive;
pub mod error;
pub mod feed;
pub mod grant;
mod named;
pub mod official;
pub mod person;
pub mod policy;
pub mod reorganisation;
pub mod report;
pub mod role;
pub mod roster;
mod roster_order;
pub mod standing;
pub mod support;
pub mod text;
pub mod time;
pub mod unit;
pub mod user;

pub use citizen::{AccountKind, CitizenAccount, FailureReason, NewCitizenAccount, Outcome, RecordSource};
pub use directive::{Directive, DirectiveChanges, Milestone, MilestoneKey, NewDirective};
pub use error::ParseError;
pub use grant::{Grant, GrantFunction, GrantPeriod, GrantRefusal, NewGrant, RosterGrants, SkipReason, SkippedRow};
pub use official::{Email, NewOfficial, Official, OfficialChanges, PortalAccount};
pub use person::{IdNumber, PersonName, PhoneNumber};
pub use policy::{Action, Denied, Principal, Scope};
pub use role::Role;
pub use roster::{
    MAX_ROSTER_ENTRIES, NameMatch, RawEntry, Roster, RosterEntry, RosterSource, RosterStatus, RosterUnits, RowError,
    ValidEntry,
};
pub use support::{SupportChanges, SupportComment, SupportRequest, SupportStatus};
pub use time::Period;
pub use unit::{ListedUnit, NewUnit, Unit, UnitChanges, UnitCode, UnitKind, UnitName, UnitPath, Validity};
pub use user::{DisplayName, NewUser, Password, User, UserChanges, Username};

//! Scope checks shared by handlers that take a unit in a request body.

use dvc_domain::{Action, Principal, UnitPath};
use dvc_store::{Connection, StoreError, units};
use uuid::Uuid;

use crate::error::ApiError;

/// The path of a unit named in a request body, when the caller may act there with `action`. A unit
/// outside the caller's scope is answered like a unit that does not exist: 422 at `pointer`.
pub async fn unit_in_scope(
    db: &impl Connection,
    principal: &Principal,
    action: Action,
    unit_id: Uuid,
    pointer: &str,
) -> Result<UnitPath, ApiError> {
    let unknown = || ApiError::invalid(pointer, "unknown_unit", "no such unit in your scope");
    let path = match units::path_of(db, unit_id).await {
        Ok(path) => path,
        Err(StoreError::NotFound) => return Err(unknown()),
        Err(other) => return Err(other.into()),
    };
    principal.authorize(action, Some(&path)).map_err(|_| unknown())?;
    Ok(path)
}

//! The request and response shapes of rosters.

use chrono::{DateTime, Utc};
use dvc_domain::{RawEntry, Roster, RosterEntry, RosterStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::mirror::mirror_enum;

mirror_enum! {
    RosterStatusDto as RosterStatus mirrors RosterStatus { Draft, Submitted, Accepted, Returned }
}

/// What is wrong with one field of a row.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowErrorResponse {
    /// `full_name`, `unit`, `id_number` or `phone`.
    pub column: String,
    #[schema(example = "invalid_id_number")]
    pub code: String,
    pub detail: String,
}

/// One row of a roster. Personal numbers are masked unless the caller manages officials.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryResponse {
    pub row: u32,
    pub full_name: String,
    /// The unit the row was matched to, when it was.
    #[schema(required = true)]
    pub unit_id: Option<Uuid>,
    /// The unit as the row names it.
    pub unit_name: String,
    pub id_number: String,
    pub phone: String,
    /// Empty for a valid row.
    pub errors: Vec<RowErrorResponse>,
}

impl EntryResponse {
    fn new(entry: RosterEntry, reveal: bool) -> Self {
        // A row in error is shown as written, so that it can be corrected; a valid one is masked
        // for callers who may not see personal numbers.
        let masked =
            if reveal { None } else { entry.valid().map(|valid| (valid.id_number.masked(), valid.phone.masked())) };
        let (id_number, phone) = masked.unwrap_or((entry.id_number, entry.phone));
        Self {
            row: entry.row,
            full_name: entry.full_name,
            unit_id: entry.unit_id,
            unit_name: entry.unit_name,
            id_number,
            phone,
            errors: entry
                .errors
                .into_iter()
                .map(|error| RowErrorResponse { column: error.column, code: error.code, detail: error.detail })
                .collect(),
        }
    }
}

/// A roster of one-stop desk officials.
#[derive(Debug, Serialize, ToSchema)]
pub struct RosterResponse {
    pub id: Uuid,
    /// The providing unit.
    pub unit_id: Uuid,
    pub status: RosterStatusDto,
    /// `json`, `csv` or `xlsx`.
    pub source: String,
    pub entry_count: i32,
    /// Rows with errors; a roster with any cannot be submitted.
    pub error_count: i32,
    #[schema(required = true)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub decided_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub return_reason: Option<String>,
    /// The rows, when one roster is read (lists leave them out).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub entries: Option<Vec<EntryResponse>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RosterResponse {
    pub(super) fn new(roster: Roster, reveal: bool) -> Self {
        Self {
            id: roster.id,
            unit_id: roster.unit_id,
            status: roster.status.into(),
            source: roster.source.as_str().to_owned(),
            entry_count: roster.entry_count,
            error_count: roster.error_count,
            submitted_at: roster.submitted_at,
            decided_at: roster.decided_at,
            return_reason: roster.return_reason,
            entries: roster
                .entries
                .map(|entries| entries.into_iter().map(|entry| EntryResponse::new(entry, reveal)).collect()),
            created_at: roster.created_at,
            updated_at: roster.updated_at,
        }
    }
}

/// One row of a roster sent as JSON: the unit by `unit_id` or by `unit_name`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryRequest {
    /// The row number (`STT`); defaults to the position in the list.
    pub row: Option<u32>,
    pub full_name: String,
    pub unit_id: Option<Uuid>,
    #[schema(example = "BPMC xã An Hưng")]
    pub unit_name: Option<String>,
    pub id_number: String,
    pub phone: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoster {
    /// The providing unit (a district); every row's unit must lie under it.
    pub unit_id: Uuid,
    pub entries: Vec<EntryRequest>,
}

/// The writable part of a roster: its rows, replaced as a whole while it is a draft or returned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchRoster {
    pub entries: Vec<EntryRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRoster {
    /// What the district must correct.
    pub reason: String,
}

/// A roster decision's effect on the officials.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptResponse {
    #[serde(flatten)]
    pub roster: RosterResponse,
    /// Officials recorded from rows with an ID number not yet known.
    pub officials_created: usize,
    /// Known officials whose name, unit or phone the roster changed.
    pub officials_updated: usize,
    pub officials_unchanged: usize,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RosterQuery {
    pub unit_id: Option<Uuid>,
    pub status: Option<RosterStatusDto>,
}

/// The rows of a JSON roster as written; a row without a number takes its position.
pub(super) fn raw_entries(entries: Vec<EntryRequest>) -> Vec<RawEntry> {
    entries
        .into_iter()
        .zip(1..)
        .map(|(entry, position)| RawEntry {
            row: entry.row.unwrap_or(position),
            full_name: entry.full_name,
            unit_id: entry.unit_id,
            unit_name: entry.unit_name.unwrap_or_default(),
            id_number: entry.id_number,
            phone: entry.phone,
        })
        .collect()
}

//! Rosters (R2): the lists of one-stop desk officials a district sends, row by row, and the way
//! their rows are checked before the Service Center accepts them.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::named::named_values;
use crate::text::{fold, normalize, truncate};
use crate::{IdNumber, ParseError, PersonName, PhoneNumber};

/// The most officials a roster may list. No district has anywhere near this many, so a longer one
/// is a mistake (or an attack), and readers stop as soon as it is passed.
pub const MAX_ROSTER_ENTRIES: usize = 10_000;

named_values! {
    /// Where a roster is in its workflow: a district drafts and submits it; the Service Center accepts
    /// it (its officials are then recorded) or returns it with a reason, after which it can be
    /// corrected and submitted again.
    RosterStatus {
        Draft => "draft",
        Submitted => "submitted",
        Accepted => "accepted",
        Returned => "returned",
    }
}

impl RosterStatus {
    /// Whether the district may (re)submit the roster.
    pub fn may_submit(self) -> bool {
        matches!(self, RosterStatus::Draft | RosterStatus::Returned)
    }

    /// Whether the Service Center may accept or return the roster.
    pub fn may_decide(self) -> bool {
        self == RosterStatus::Submitted
    }
}

named_values! {
    /// How a roster arrived.
    RosterSource {
        Json => "json",
        Csv => "csv",
        Xlsx => "xlsx",
    }
}

/// A problem with one field of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The field: `full_name`, `unit`, `id_number` or `phone`.
    pub column: String,
    pub code: String,
    pub detail: String,
}

impl RowError {
    fn new(column: &str, error: ParseError) -> Self {
        Self { column: column.to_owned(), code: error.code.to_owned(), detail: error.detail }
    }
}

/// A row as written, before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawEntry {
    pub row: u32,
    pub full_name: String,
    /// The unit by id (JSON rosters)…
    pub unit_id: Option<Uuid>,
    /// …or by name, as the form's `Đơn vị` column writes it.
    pub unit_name: String,
    pub id_number: String,
    pub phone: String,
}

/// A checked row. A valid row holds its values in normal form; an invalid one keeps what was written
/// and says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterEntry {
    pub row: u32,
    pub full_name: String,
    pub unit_id: Option<Uuid>,
    pub unit_name: String,
    pub id_number: String,
    pub phone: String,
    pub errors: Vec<RowError>,
}

/// The values of a valid row, as an official is recorded from them.
#[derive(Debug, Clone)]
pub struct ValidEntry {
    pub full_name: PersonName,
    pub unit_id: Uuid,
    pub id_number: IdNumber,
    pub phone: PhoneNumber,
}

impl RosterEntry {
    /// The row's values, when it has no errors.
    pub fn valid(&self) -> Option<ValidEntry> {
        if !self.errors.is_empty() {
            return None;
        }
        Some(ValidEntry {
            full_name: PersonName::parse(&self.full_name).ok()?,
            unit_id: self.unit_id?,
            id_number: IdNumber::parse(&self.id_number).ok()?,
            phone: PhoneNumber::parse(&self.phone).ok()?,
        })
    }
}

/// A roster as stored.
#[derive(Debug, Clone)]
pub struct Roster {
    pub id: Uuid,
    /// The providing unit (a district, or since 2025 any unit that sends a list).
    pub unit_id: Uuid,
    pub status: RosterStatus,
    pub source: RosterSource,
    pub entry_count: i32,
    pub error_count: i32,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub return_reason: Option<String>,
    /// The rows, when read one roster at a time (lists leave them out).
    pub entries: Option<Vec<RosterEntry>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Words that name a desk or an office rather than the unit itself (`BPMC xã An Hưng`, `UBND xã
/// An Hưng`), folded.
const DESK_PREFIXES: [&str; 3] = ["bo phan mot cua", "bpmc", "ubnd"];
/// Words that name a kind of unit (`Xã An Hưng`), folded, longest first.
const KIND_PREFIXES: [&str; 8] = ["thanh pho", "thi tran", "thi xa", "phuong", "huyen", "quan", "tp", "xa"];

fn strip_word<'a>(text: &'a str, words: &[&str]) -> Option<&'a str> {
    let text = text.trim_start();
    words.iter().find_map(|word| text.strip_prefix(word).filter(|after| after.is_empty() || after.starts_with(' ')))
}

/// A unit name folded (case, diacritics, đ/d) and without the words that name a desk or an office
/// (`BPMC`, `UBND`), but still with the word that names its kind: `UBND huyện An Lão` and `Huyện An
/// Lão` both read `huyen an lao`, which `Thị trấn An Lão` does not.
fn unit_name_key(name: &str) -> String {
    let folded = fold(name);
    let mut rest = folded.as_str();
    while let Some(after) = strip_word(rest, &DESK_PREFIXES) {
        rest = after;
    }
    rest.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The looser key a unit name is matched by when its kind is not written as stored: also without
/// one word that names the kind of unit, so that `BPMC xã An Hưng`, `UBND xã An Hưng`, `Xã An Hưng`
/// and `An Hưng` all name the same commune (and `Xã Xa Loan` keeps its own `Xa`).
pub fn unit_match_key(name: &str) -> String {
    let named = unit_name_key(name);
    strip_word(&named, &KIND_PREFIXES).unwrap_or(&named).trim_start().to_owned()
}

/// What a unit name written in a roster designates among a set of units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameMatch {
    One(Uuid),
    /// Several units answer to the name, even with its kind.
    Ambiguous,
    None,
}

/// Units a roster's names are matched against, by id and by name.
#[derive(Debug, Default)]
pub struct RosterUnits {
    ids: HashSet<Uuid>,
    by_name: HashMap<String, Vec<Uuid>>,
    by_key: HashMap<String, Vec<Uuid>>,
}

impl RosterUnits {
    pub fn new(units: impl IntoIterator<Item = (Uuid, String)>) -> Self {
        let mut known = Self::default();
        for (id, name) in units {
            known.ids.insert(id);
            known.by_name.entry(unit_name_key(&name)).or_default().push(id);
            known.by_key.entry(unit_match_key(&name)).or_default().push(id);
        }
        known
    }

    /// The unit a name designates. A name written with its kind (`Thị trấn An Lão`) is matched with
    /// it first, so that a district and its seat of the same name (`Huyện An Lão`, `Thị trấn An
    /// Lão`) are told apart; otherwise the kind is ignored.
    pub fn find(&self, name: &str) -> NameMatch {
        let exact = self.by_name.get(&unit_name_key(name));
        match exact.or_else(|| self.by_key.get(&unit_match_key(name))).map(Vec::as_slice) {
            Some([id]) => NameMatch::One(*id),
            Some([_, _, ..]) => NameMatch::Ambiguous,
            _ => NameMatch::None,
        }
    }

    fn resolve(&self, raw: &RawEntry) -> Result<Uuid, ParseError> {
        if let Some(id) = raw.unit_id {
            return if self.ids.contains(&id) {
                Ok(id)
            } else {
                Err(ParseError::new("unknown_unit", "the unit is not under the providing unit"))
            };
        }
        if raw.unit_name.trim().is_empty() {
            return Err(ParseError::new("unit_required", "every row names its unit"));
        }
        match self.find(&raw.unit_name) {
            NameMatch::One(id) => Ok(id),
            NameMatch::Ambiguous => {
                Err(ParseError::new("ambiguous_unit", "several units under the providing unit have this name"))
            }
            NameMatch::None => Err(ParseError::new("unknown_unit", "no unit under the providing unit has this name")),
        }
    }
}

/// How much of a rejected value a row keeps: enough to correct it, never an unbounded amount.
const WRITTEN_MAX: usize = 200;

/// Checks every row of a roster: each field on its own, the unit against the providing unit's
/// subtree, and an ID number against the rows before it (a person is listed once).
pub fn check_entries(raw: Vec<RawEntry>, units: &RosterUnits) -> Vec<RosterEntry> {
    let mut seen = HashSet::new();
    raw.into_iter()
        .map(|raw| {
            let mut errors = Vec::new();
            let mut keep = |column: &str, parsed: Result<String, ParseError>, written: &str| match parsed {
                Ok(value) => value,
                Err(error) => {
                    errors.push(RowError::new(column, error));
                    truncate(&normalize(written), WRITTEN_MAX)
                }
            };
            let full_name =
                keep("full_name", PersonName::parse(&raw.full_name).map(|n| n.as_str().to_owned()), &raw.full_name);
            let id_number =
                keep("id_number", IdNumber::parse(&raw.id_number).map(|n| n.as_str().to_owned()), &raw.id_number);
            let phone = keep("phone", PhoneNumber::parse(&raw.phone).map(|n| n.as_str().to_owned()), &raw.phone);
            let unit_id = units.resolve(&raw).map_err(|error| errors.push(RowError::new("unit", error))).ok();
            if errors.iter().all(|error| error.column != "id_number") && !seen.insert(id_number.clone()) {
                errors.push(RowError::new(
                    "id_number",
                    ParseError::new("duplicate_in_roster", "an earlier row lists the same ID number"),
                ));
            }
            RosterEntry {
                row: raw.row,
                full_name,
                unit_id,
                unit_name: normalize(&raw.unit_name),
                id_number,
                phone,
                errors,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(row: u32, name: &str, unit: &str, id_number: &str, phone: &str) -> RawEntry {
        RawEntry {
            row,
            full_name: name.to_owned(),
            unit_id: None,
            unit_name: unit.to_owned(),
            id_number: id_number.to_owned(),
            phone: phone.to_owned(),
        }
    }

    #[test]
    fn unit_names_match_without_prefixes_case_or_diacritics() {
        assert_eq!(unit_match_key("BPMC xã An Hưng"), "an hung");
        assert_eq!(unit_match_key("Xã An Hưng"), "an hung");
        assert_eq!(unit_match_key("UBND  XÃ AN HƯNG"), "an hung");
        assert_eq!(unit_match_key("Bộ phận một cửa huyện An Lão"), "an lao");
        assert_eq!(unit_match_key("Thị trấn Tăng Bạt Hổ"), "tang bat ho");
        assert_eq!(unit_match_key("Xã Xuân Lãnh"), "xuan lanh");
        assert_eq!(unit_match_key("BPMC xã Xa Loan"), "xa loan");
    }

    #[test]
    fn rows_are_checked_field_by_field() {
        let commune = Uuid::now_v7();
        let units = RosterUnits::new([(commune, "Xã An Hưng".to_owned())]);
        let checked = check_entries(
            vec![
                raw(1, "Nguyễn Văn An", "BPMC xã An Hưng", "052090001245", "0972.123.588"),
                raw(2, "B", "Xã Không Có", "123", "0243123456"),
                raw(3, "Trần Thị Ánh", "xa an hung", "052090001245", "0972123589"),
            ],
            &units,
        );
        assert!(checked[0].errors.is_empty());
        assert_eq!(checked[0].unit_id, Some(commune));
        assert_eq!(checked[0].phone, "0972123588");
        assert!(checked[0].valid().is_some());
        let columns: Vec<_> = checked[1].errors.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(columns, vec!["full_name", "id_number", "phone", "unit"]);
        assert!(checked[1].valid().is_none());
        assert_eq!(checked[2].errors[0].code, "duplicate_in_roster");
    }

    #[test]
    fn ambiguous_and_foreign_units_are_row_errors() {
        let units = RosterUnits::new([
            (Uuid::now_v7(), "Xã An Hưng".to_owned()),
            (Uuid::now_v7(), "Phường An Hưng".to_owned()),
        ]);
        let checked = check_entries(vec![raw(1, "Nguyễn Văn An", "An Hưng", "052090001245", "0972123588")], &units);
        assert_eq!(checked[0].errors[0].code, "ambiguous_unit");
        let foreign =
            RawEntry { unit_id: Some(Uuid::now_v7()), ..raw(1, "Nguyễn Văn An", "", "052090001245", "0972123588") };
        assert_eq!(check_entries(vec![foreign], &units)[0].errors[0].code, "unknown_unit");
    }

    #[test]
    fn a_name_written_with_its_kind_tells_a_district_from_its_seat() {
        let (district, town) = (Uuid::now_v7(), Uuid::now_v7());
        let units = RosterUnits::new([(district, "Huyện An Lão".to_owned()), (town, "Thị trấn An Lão".to_owned())]);
        assert_eq!(units.find("Thị trấn An Lão"), NameMatch::One(town));
        assert_eq!(units.find("UBND huyện An Lão"), NameMatch::One(district));
        assert_eq!(units.find("BPMC thị trấn an lao"), NameMatch::One(town));
        assert_eq!(units.find("An Lão"), NameMatch::Ambiguous);
        assert_eq!(units.find("Xã An Lão"), NameMatch::Ambiguous);
        assert_eq!(units.find("Xã An Hưng"), NameMatch::None);
    }

    #[test]
    fn only_draft_or_returned_rosters_are_submitted() {
        assert!(RosterStatus::Draft.may_submit());
        assert!(RosterStatus::Returned.may_submit());
        assert!(!RosterStatus::Submitted.may_submit());
        assert!(!RosterStatus::Accepted.may_submit());
        assert!(RosterStatus::Submitted.may_decide());
        assert!(!RosterStatus::Returned.may_decide());
    }
}

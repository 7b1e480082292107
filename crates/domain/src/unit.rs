//! The administrative tree: provinces, their agencies and Service Center, districts and communes.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::ParseError;
use crate::named::named_values;
use crate::text::{check_length, normalize};

named_values! {
    UnitKind {
        Province => "province",
        Agency => "agency",
        ServiceCenter => "service_center",
        District => "district",
        Commune => "commune",
    }
}

impl UnitKind {
    /// Where a unit of this kind may stand in the tree. A province is a root; agencies, the Service
    /// Center and districts sit under a province; a commune sits under a district, or directly under
    /// a province since the district level was abolished on 1/7/2025.
    pub fn may_sit_under(self, parent: Option<UnitKind>) -> bool {
        matches!(
            (self, parent),
            (UnitKind::Province, None)
                | (UnitKind::Agency | UnitKind::ServiceCenter | UnitKind::District, Some(UnitKind::Province))
                | (UnitKind::Commune, Some(UnitKind::District | UnitKind::Province))
        )
    }
}

/// A unit's code: the statistics office's code (`01`, `001`, `00001`) or one the province gives its
/// own agencies. Codes are reused over time, so a code names a unit only together with its validity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitCode(String);

impl UnitCode {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let code = raw.trim();
        let well_formed = !code.is_empty()
            && code.len() <= 32
            && code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !well_formed {
            return Err(ParseError::new(
                "invalid_unit_code",
                "a unit code is 1 to 32 ASCII letters, digits, dots, dashes or underscores",
            ));
        }
        Ok(Self(code.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A unit's official name, such as `Phường Phúc Xá`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitName(String);

impl UnitName {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let name = normalize(raw);
        check_length(&name, 1, 200)
            .map_err(|why| ParseError::new("invalid_unit_name", format!("a unit name {why}")))?;
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A unit category as the official lists spell it (`Tỉnh`, `Huyện`, `Thị xã`, `Xã`, `Phường`…).
pub fn parse_category(raw: &str) -> Result<String, ParseError> {
    let category = normalize(raw);
    check_length(&category, 1, 50)
        .map_err(|why| ParseError::new("invalid_unit_category", format!("a unit category {why}")))?;
    Ok(category)
}

/// The materialised path of a unit: the ids of its ancestors and itself, `/a/b/c/`.
///
/// A subtree is then the range of paths that start with the unit's path, which both SQLite and
/// PostgreSQL answer from one ordinary index (the column compares bytes, see the migration).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitPath(String);

impl UnitPath {
    /// The length of a root's path (`/`, 32 hex digits, `/`): every path below a root starts with
    /// that many bytes of the root's own.
    pub const ROOT_LEN: usize = 34;

    pub fn root(id: Uuid) -> Self {
        Self(format!("/{}/", id.simple()))
    }

    pub fn child(&self, id: Uuid) -> Self {
        Self(format!("{}{}/", self.0, id.simple()))
    }

    /// Rebuilds a path read back from storage; only paths this type wrote are accepted.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let segments_ok = raw.len() > 2
            && raw.starts_with('/')
            && raw.ends_with('/')
            && raw[1..raw.len() - 1].split('/').all(|segment| Uuid::try_parse(segment).is_ok());
        if !segments_ok {
            return Err(ParseError::new("invalid_unit_path", "a unit path is /id/…/id/"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Depth in the tree, 1 for a root.
    pub fn level(&self) -> i32 {
        i32::try_from(self.0.matches('/').count() - 1).unwrap_or(i32::MAX)
    }

    /// The ids of the unit's ancestors and itself, from the root down.
    pub fn ids(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.0.split('/').filter_map(|segment| Uuid::try_parse(segment).ok())
    }

    /// The id of the tree's root this path starts from: a unit's province.
    pub fn root_id(&self) -> Option<Uuid> {
        self.ids().next()
    }

    /// Whether this path is `ancestor` itself or lies below it.
    pub fn is_within(&self, ancestor: &UnitPath) -> bool {
        self.0.starts_with(&ancestor.0)
    }

    /// The first path past this subtree: every descendant's path `p` has `self <= p < upper_bound`.
    /// `0` is the byte right after `/`, which ends every path.
    pub fn upper_bound(&self) -> String {
        format!("{}0", &self.0[..self.0.len() - 1])
    }

    /// The same subtree moved from under `old_prefix` to under `new_prefix`.
    pub fn rebase(&self, old_prefix: &UnitPath, new_prefix: &UnitPath) -> Option<UnitPath> {
        self.0.strip_prefix(&old_prefix.0).map(|rest| UnitPath(format!("{}{rest}", new_prefix.0)))
    }
}

/// A unit of the administrative tree as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub id: Uuid,
    pub code: UnitCode,
    pub name: UnitName,
    pub kind: UnitKind,
    pub category: Option<String>,
    pub parent_id: Option<Uuid>,
    /// The parent's name, so that two units of the same name can be told apart.
    pub parent_name: Option<String>,
    /// The name of the province the unit lies in; `None` for a province.
    pub province_name: Option<String>,
    pub path: UnitPath,
    pub validity: Validity,
    pub successor_ids: Vec<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a caller supplies to create a unit.
#[derive(Debug, Clone)]
pub struct NewUnit {
    pub code: UnitCode,
    pub name: UnitName,
    pub kind: UnitKind,
    pub category: Option<String>,
    pub parent_id: Option<Uuid>,
    pub validity: Validity,
    pub successor_ids: Vec<Uuid>,
}

/// A change to a unit; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UnitChanges {
    pub code: Option<UnitCode>,
    pub name: Option<UnitName>,
    pub category: Option<Option<String>>,
    pub parent_id: Option<Option<Uuid>>,
    pub valid_from: Option<Option<NaiveDate>>,
    pub valid_to: Option<Option<NaiveDate>>,
    pub successor_ids: Option<Vec<Uuid>>,
}

/// When a unit exists: from `from` (inclusive) until `to` (exclusive); an open end is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Validity {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl Validity {
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Self, ParseError> {
        if let (Some(from), Some(to)) = (from, to)
            && from >= to
        {
            return Err(ParseError::new("invalid_validity", "valid_to must be later than valid_from"));
        }
        Ok(Self { from, to })
    }

    pub fn from(&self) -> Option<NaiveDate> {
        self.from
    }

    pub fn to(&self) -> Option<NaiveDate> {
        self.to
    }

    pub fn overlaps(&self, other: &Validity) -> bool {
        let starts_before_other_ends = match (self.from, other.to) {
            (Some(from), Some(to)) => from < to,
            _ => true,
        };
        let ends_after_other_starts = match (self.to, other.from) {
            (Some(to), Some(from)) => to > from,
            _ => true,
        };
        starts_before_other_ends && ends_after_other_starts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(raw: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()
    }

    #[test]
    fn codes_accept_official_and_own_codes() {
        assert_eq!(UnitCode::parse(" 00001 ").map(|c| c.0), Ok("00001".to_owned()));
        assert!(UnitCode::parse("TTPVHCC-52").is_ok());
        assert!(UnitCode::parse("").is_err());
        assert!(UnitCode::parse("01 02").is_err());
        assert!(UnitCode::parse(&"9".repeat(33)).is_err());
    }

    #[test]
    fn names_are_normalised_and_bounded() {
        assert_eq!(UnitName::parse("  Xã   Phước Sơn ").map(|n| n.0), Ok("Xã Phước Sơn".to_owned()));
        assert!(UnitName::parse("   ").is_err());
        assert!(UnitName::parse(&"a".repeat(201)).is_err());
    }

    #[test]
    fn tree_shape_follows_the_administrative_levels() {
        assert!(UnitKind::Province.may_sit_under(None));
        assert!(!UnitKind::Province.may_sit_under(Some(UnitKind::Province)));
        assert!(UnitKind::District.may_sit_under(Some(UnitKind::Province)));
        assert!(!UnitKind::District.may_sit_under(None));
        assert!(UnitKind::Commune.may_sit_under(Some(UnitKind::District)));
        assert!(UnitKind::Commune.may_sit_under(Some(UnitKind::Province)));
        assert!(!UnitKind::Commune.may_sit_under(Some(UnitKind::Commune)));
        assert!(!UnitKind::Agency.may_sit_under(Some(UnitKind::District)));
    }

    #[test]
    fn paths_nest_and_bound_their_subtree() {
        let province = UnitPath::root(Uuid::now_v7());
        let district = province.child(Uuid::now_v7());
        let commune = district.child(Uuid::now_v7());
        assert_eq!(province.level(), 1);
        assert_eq!(commune.level(), 3);
        assert!(commune.is_within(&province));
        assert!(!province.is_within(&commune));
        assert!(commune.as_str() < province.upper_bound().as_str());
        assert!(district.as_str() >= province.as_str());
        assert_eq!(province.as_str().len(), UnitPath::ROOT_LEN);
        assert_eq!(&commune.as_str()[..UnitPath::ROOT_LEN], province.as_str());
        assert_eq!(UnitPath::parse(commune.as_str()), Ok(commune.clone()));
        assert!(UnitPath::parse("/x/").is_err());
    }

    #[test]
    fn rebase_moves_a_subtree() {
        let old_parent = UnitPath::root(Uuid::now_v7());
        let new_parent = UnitPath::root(Uuid::now_v7());
        let unit = old_parent.child(Uuid::now_v7());
        let moved = unit.rebase(&old_parent, &new_parent).expect("unit lies under old parent");
        assert!(moved.is_within(&new_parent));
        assert_eq!(moved.level(), 2);
    }

    #[test]
    fn validity_rejects_empty_periods_and_detects_overlap() {
        assert!(Validity::new(date("2025-07-01"), date("2025-07-01")).is_err());
        let before = Validity::new(None, date("2025-07-01")).expect("valid");
        let after = Validity::new(date("2025-07-01"), None).expect("valid");
        let always = Validity::default();
        assert!(!before.overlaps(&after));
        assert!(!after.overlaps(&before));
        assert!(always.overlaps(&before));
        assert!(always.overlaps(&after));
    }
}

/// A unit as an official list names it, before it has an id: parents come before their children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedUnit {
    pub code: UnitCode,
    pub name: UnitName,
    pub kind: UnitKind,
    pub category: String,
    pub parent_code: Option<UnitCode>,
}

//! Who a citizen is: identification number, mobile number and name, as the drive records them.
//!
//! All three are personal data. Errors never repeat a rejected value, and the `Debug` of the two
//! numbers shows only a masked form, so that a value logged by accident does not leak.

use chrono::{Datelike, NaiveDate};

use crate::ParseError;
use crate::text::{check_length, normalize};

/// Codes that may open a 12-digit identification number: the 63 distinct values of the column
/// `Mã TP` of `data/dvhc/units-2025-01-04.csv` (the provinces before the 2025 merger), each with a
/// leading `0` as the number spells them. The number encodes the province where the birth was
/// registered, so a code outside this list cannot belong to a real person.
const BIRTH_PROVINCE_CODES: [&str; 63] = [
    "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017", "019", "020", "022", "024", "025",
    "026", "027", "030", "031", "033", "034", "035", "036", "037", "038", "040", "042", "044", "045", "046", "048",
    "049", "051", "052", "054", "056", "058", "060", "062", "064", "066", "067", "068", "070", "072", "074", "075",
    "077", "079", "080", "082", "083", "084", "086", "087", "089", "091", "092", "093", "094", "095", "096",
];

/// A Vietnamese personal identification number: the 12 digits of a citizen identity card (căn
/// cước công dân), or the 9 digits of an old identity card (CMND) that some citizens still carry.
///
/// Its `Debug` shows only the masked form, because the number identifies a person on its own.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

impl IdNumber {
    /// Parses a number as of today in Vietnam: a birth year is in the future only once it is after
    /// the current year there, whatever the server's time zone.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        Self::parse_on(raw, crate::time::today_in_vietnam())
    }

    /// Parses a number as of `today`, so that the birth-year rule does not depend on the clock.
    pub fn parse_on(raw: &str, today: NaiveDate) -> Result<Self, ParseError> {
        let number = raw.trim();
        if !number.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(invalid_id_number());
        }
        match number.len() {
            9 => {}
            12 => check_citizen_identity_number(number, today)?,
            _ => return Err(invalid_id_number()),
        }
        Ok(Self(number.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 3 and last 2 digits with the rest hidden (`052*******45`), enough for a person to
    /// recognise their own number on a screen or in a log without revealing it.
    pub fn masked(&self) -> String {
        mask(&self.0, 3, 2)
    }
}

impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

fn invalid_id_number() -> ParseError {
    ParseError::new("invalid_id_number", "an identification number is 12 digits, or 9 digits for an old identity card")
}

/// Checks what a 12-digit number encodes: the birth province in digits 1-3, the century and sex in
/// digit 4 (0/1 for 1900–1999, 2/3 for 2000–2099 and so on, even for men, odd for women) and the
/// last two digits of the birth year in digits 5-6. The last 6 digits are a serial and free.
fn check_citizen_identity_number(number: &str, today: NaiveDate) -> Result<(), ParseError> {
    if !BIRTH_PROVINCE_CODES.contains(&&number[..3]) {
        return Err(ParseError::new(
            "invalid_id_number",
            "the first three digits of an identification number must be the code of a province",
        ));
    }
    let digit = |index: usize| i32::from(number.as_bytes()[index] - b'0');
    let birth_year = 1900 + 100 * (digit(3) / 2) + 10 * digit(4) + digit(5);
    if birth_year > today.year() {
        return Err(ParseError::new(
            "invalid_id_number",
            "the birth year encoded in an identification number must not be in the future",
        ));
    }
    Ok(())
}

/// Mobile prefixes in use since the 2018 move from 11 to 10 digits, network by network: Viettel
/// (032–039, 086, 096–098), Vinaphone (081–085, 088, 091, 094), MobiFone (070, 076–079, 089, 090,
/// 093), Vietnamobile (052, 056, 058, 092), Gmobile (059, 099), Itelecom (087) and Reddi (055). A
/// number with any other prefix is a landline or no number at all, and the portal's one-time codes
/// cannot reach it.
const MOBILE_PREFIXES: [&str; 36] = [
    "032", "033", "034", "035", "036", "037", "038", "039", "086", "096", "097", "098", "081", "082", "083", "084",
    "085", "088", "091", "094", "070", "076", "077", "078", "079", "089", "090", "093", "052", "056", "058", "092",
    "059", "099", "087", "055",
];

/// A Vietnamese mobile number in its national form, `0` and 9 digits, however it was typed.
///
/// Its `Debug` shows only the masked form, because the number identifies a person on its own.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts `+84…`, `84…` (followed by 9 digits) and `0…`, with spaces, dots, dashes and
    /// parentheses anywhere, as people copy numbers from cards, forms and contact lists.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let compact: String =
            raw.chars().filter(|c| !(c.is_whitespace() || matches!(c, '.' | '-' | '(' | ')'))).collect();
        let national = if let Some(subscriber) = compact.strip_prefix("+84") {
            format!("0{subscriber}")
        } else if compact.len() == 11
            && let Some(subscriber) = compact.strip_prefix("84")
        {
            format!("0{subscriber}")
        } else {
            compact
        };
        let valid = national.len() == 10
            && national.bytes().all(|byte| byte.is_ascii_digit())
            && MOBILE_PREFIXES.contains(&&national[..3]);
        if !valid {
            return Err(ParseError::new(
                "invalid_phone_number",
                "a phone number is a Vietnamese mobile number: 0 or +84 followed by 9 digits of a mobile network",
            ));
        }
        Ok(Self(national))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 4 and last 3 digits with the rest hidden (`0972***588`), enough for a person to
    /// recognise their own number without revealing it.
    pub fn masked(&self) -> String {
        mask(&self.0, 4, 3)
    }
}

impl std::fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

/// Keeps the first `head` and last `tail` characters of an ASCII string and stars the rest.
fn mask(digits: &str, head: usize, tail: usize) -> String {
    let hidden = digits.len().saturating_sub(head + tail);
    format!("{}{}{}", &digits[..head], "*".repeat(hidden), &digits[digits.len() - tail..])
}

/// A person's full name as written on their identity card, such as `Nguyễn Thị Đào` or `H'Hen Niê`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let name = normalize(raw);
        check_length(&name, 2, 100)
            .map_err(|why| ParseError::new("invalid_person_name", format!("a person's name {why}")))?;
        let letters_only = name.chars().all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\''));
        if !letters_only || !name.chars().any(char::is_alphabetic) {
            return Err(ParseError::new(
                "invalid_person_name",
                "a person's name is made of letters, with spaces, hyphens or apostrophes between them",
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The given name, the last word: Vietnamese names put the family name first, and offices call
    /// and sort people by their given name.
    pub fn given_name(&self) -> &str {
        match self.0.rfind(' ') {
            Some(space) => &self.0[space + 1..],
            None => &self.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(raw: &str) -> NaiveDate {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").expect("valid date")
    }

    fn id_on(raw: &str, today: &str) -> Result<IdNumber, ParseError> {
        IdNumber::parse_on(raw, day(today))
    }

    fn name(raw: &str) -> PersonName {
        PersonName::parse(raw).expect("valid name")
    }

    #[test]
    fn province_codes_are_the_63_distinct_provinces() {
        let mut codes = BIRTH_PROVINCE_CODES.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 63);
        assert!(codes.iter().all(|code| code.len() == 3 && code.starts_with('0')));
    }

    #[test]
    fn id_numbers_of_twelve_digits_are_accepted_and_trimmed() {
        let number = id_on(" 052090001245\t", "2025-06-01").expect("valid");
        assert_eq!(number.as_str(), "052090001245");
        assert!(id_on("001305012345", "2025-06-01").is_ok());
        assert!(id_on("096199999999", "2025-06-01").is_ok());
    }

    #[test]
    fn id_numbers_of_nine_digits_are_old_identity_cards() {
        assert_eq!(id_on("123456789", "2025-06-01").map(|n| n.0), Ok("123456789".to_owned()));
        assert!(id_on("000000000", "2025-06-01").is_ok());
    }

    #[test]
    fn id_numbers_need_a_known_birth_province() {
        assert!(id_on("003090001245", "2025-06-01").is_err());
        assert!(id_on("000090001245", "2025-06-01").is_err());
        assert!(id_on("097090001245", "2025-06-01").is_err());
        assert!(id_on("152090001245", "2025-06-01").is_err());
    }

    #[test]
    fn id_numbers_encode_a_birth_year_that_is_not_in_the_future() {
        assert!(id_on("001225000001", "2025-01-01").is_ok());
        assert!(id_on("001325000001", "2025-01-01").is_ok());
        assert!(id_on("001226000001", "2025-12-31").is_err());
        assert!(id_on("001400000001", "2025-06-01").is_err());
        assert!(id_on("001900000001", "2025-06-01").is_err());
        assert!(id_on("001400000001", "2100-01-01").is_ok());
        assert!(id_on("001199000001", "2025-06-01").is_ok());
    }

    #[test]
    fn id_numbers_reject_other_shapes() {
        for raw in ["", "12345678", "1234567890", "12345678901", "0520900012450", "05209000124a", "052 090 001 245"] {
            let error = id_on(raw, "2025-06-01").expect_err("invalid");
            assert_eq!(error.code, "invalid_id_number");
        }
        assert!(id_on("０５２０９０００１２４５", "2025-06-01").is_err());
    }

    #[test]
    fn id_number_errors_do_not_repeat_the_value() {
        for raw in ["05209000124", "003090001245", "001226000001"] {
            let error = id_on(raw, "2025-06-01").expect_err("invalid");
            assert!(!error.detail.contains(raw));
            assert!(!error.detail.contains("0900"));
        }
    }

    #[test]
    fn id_numbers_parse_against_the_current_date() {
        assert!(IdNumber::parse("052090001245").is_ok());
        assert!(IdNumber::parse("001999000001").is_err());
    }

    #[test]
    fn id_numbers_are_masked_and_hidden_from_debug() {
        let card = id_on("052090001245", "2025-06-01").expect("valid");
        assert_eq!(card.masked(), "052*******45");
        assert_eq!(format!("{card:?}"), "IdNumber(052*******45)");
        let old = id_on("123456789", "2025-06-01").expect("valid");
        assert_eq!(old.masked(), "123****89");
        assert!(!format!("{old:?}").contains("123456789"));
    }

    #[test]
    fn phone_numbers_accept_every_usual_spelling() {
        for raw in [
            "0972123588",
            "+84972123588",
            "84972123588",
            "+84 972 123 588",
            "0972.123.588",
            "0972-123-588",
            "(0972) 123 588",
            "(+84) 972-123.588",
            " 0972 123 588 ",
        ] {
            assert_eq!(PhoneNumber::parse(raw).map(|p| p.0), Ok("0972123588".to_owned()), "{raw}");
        }
    }

    #[test]
    fn phone_numbers_accept_every_network_prefix() {
        for prefix in MOBILE_PREFIXES {
            assert!(PhoneNumber::parse(&format!("{prefix}1234567")).is_ok(), "{prefix}");
        }
        assert!(PhoneNumber::parse("0551234567").is_ok());
        assert!(PhoneNumber::parse("0871234567").is_ok());
    }

    #[test]
    fn phone_numbers_reject_landlines_old_numbers_and_garbage() {
        for raw in [
            "024 3826 1234",
            "0243826123",
            "0201234567",
            "0801234567",
            "0311234567",
            "0951234567",
            "01681234567",
            "0168 123 4567",
            "+841681234567",
            "+840972123588",
            "8409721235",
            "0972abc588",
            "097212358",
            "09721235881",
            "972123588",
            "1972123588",
            "+85972123588",
            "",
        ] {
            let error = PhoneNumber::parse(raw).expect_err(raw);
            assert_eq!(error.code, "invalid_phone_number");
            assert!(raw.is_empty() || !error.detail.contains(raw));
        }
    }

    #[test]
    fn phone_numbers_are_masked_and_hidden_from_debug() {
        let phone = PhoneNumber::parse("+84 972 123 588").expect("valid");
        assert_eq!(phone.masked(), "0972***588");
        assert_eq!(format!("{phone:?}"), "PhoneNumber(0972***588)");
    }

    #[test]
    fn person_names_are_normalised() {
        assert_eq!(name("  Nguyễn   Thị \t Đào ").as_str(), "Nguyễn Thị Đào");
        assert_eq!(name("Nguye\u{302}\u{303}n Va\u{306}n An").as_str(), "Nguyễn Văn An");
        assert_eq!(name("H'Hen Niê").as_str(), "H'Hen Niê");
        assert_eq!(name("Y-Moan Enuôl").as_str(), "Y-Moan Enuôl");
        assert_eq!(name("Mạ").as_str(), "Mạ");
    }

    #[test]
    fn person_names_are_letters_within_bounds() {
        let invalid =
            ["", " ", "A", "Nguyễn Văn 2", "Trần_Thị", "Lê. Văn", "--", "' -", "Nguyễn\u{20dd}", "Lê \u{301}An"];
        for raw in invalid {
            let error = PersonName::parse(raw).expect_err(raw);
            assert_eq!(error.code, "invalid_person_name");
        }
        assert!(PersonName::parse(&"a".repeat(100)).is_ok());
        assert!(PersonName::parse(&"a".repeat(101)).is_err());
    }

    #[test]
    fn given_name_is_the_last_word() {
        assert_eq!(name("Nguyễn Thị Minh Khai").given_name(), "Khai");
        assert_eq!(name("H'Hen Niê").given_name(), "Niê");
        assert_eq!(name("Khai").given_name(), "Khai");
    }
}

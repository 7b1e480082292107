//! People who look real: Vietnamese names as they are spread, 12-digit identification numbers that
//! encode the birth province, century, sex and year as the domain's parser checks them (and never
//! repeat within a run), and mobile numbers of the networks in use.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use dvc_domain::{IdNumber, PersonName, PhoneNumber};
use rand::Rng;
use rand::rngs::SmallRng;

/// Picks one of `choices` with the given weights.
pub(crate) fn pick<'a, T>(rng: &mut SmallRng, choices: &'a [(T, u32)]) -> &'a T {
    let total: u32 = choices.iter().map(|(_, weight)| weight).sum();
    let mut ticket = rng.random_range(0..total);
    for (choice, weight) in choices {
        if ticket < *weight {
            return choice;
        }
        ticket -= weight;
    }
    &choices[choices.len() - 1].0
}

/// Family names with their approximate share of the population (per mille).
const FAMILY_NAMES: [(&str, u32); 16] = [
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 70),
    ("Huỳnh", 40),
    ("Hoàng", 30),
    ("Phan", 45),
    ("Võ", 40),
    ("Vũ", 20),
    ("Đặng", 20),
    ("Bùi", 20),
    ("Đỗ", 15),
    ("Hồ", 15),
    ("Ngô", 15),
    ("Dương", 10),
    ("Lý", 5),
];

const MALE_MIDDLE: [&str; 8] = ["Văn", "Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công"];
const FEMALE_MIDDLE: [&str; 8] = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Kim", "Thanh", "Mỹ"];
const MALE_GIVEN: [&str; 24] = [
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Huy", "Khoa", "Long", "Minh", "Nam", "Phong", "Phúc",
    "Quang", "Sơn", "Tâm", "Thắng", "Thành", "Toàn", "Trung", "Tuấn", "Việt", "Vinh",
];
const FEMALE_GIVEN: [&str; 24] = [
    "Anh", "Bích", "Chi", "Diệp", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga",
    "Ngân", "Nhung", "Oanh", "Phương", "Quyên", "Thảo", "Trang", "Vân", "Yến",
];

/// Mobile prefixes in use, the larger networks first and more often.
const MOBILE_PREFIXES: [(&str, u32); 20] = [
    ("086", 6),
    ("096", 8),
    ("097", 10),
    ("098", 10),
    ("032", 5),
    ("033", 5),
    ("034", 5),
    ("035", 5),
    ("036", 5),
    ("037", 5),
    ("038", 5),
    ("039", 5),
    ("091", 6),
    ("094", 5),
    ("088", 3),
    ("083", 3),
    ("090", 6),
    ("093", 5),
    ("077", 3),
    ("070", 3),
];

/// A person's sex, as the identification number encodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Sex {
    Male,
    Female,
}

impl Sex {
    pub(crate) fn any(rng: &mut SmallRng) -> Self {
        if rng.random_bool(0.5) { Sex::Male } else { Sex::Female }
    }
}

/// A full name: family name, one or two middle names, given name.
pub(crate) fn name(rng: &mut SmallRng, sex: Sex) -> PersonName {
    let family = pick(rng, &FAMILY_NAMES);
    let (middles, givens) = match sex {
        Sex::Male => (&MALE_MIDDLE, &MALE_GIVEN),
        Sex::Female => (&FEMALE_MIDDLE, &FEMALE_GIVEN),
    };
    let middle = middles[rng.random_range(0..middles.len())];
    let given = givens[rng.random_range(0..givens.len())];
    let raw = if rng.random_bool(0.25) {
        let second = givens[rng.random_range(0..givens.len())];
        format!("{family} {middle} {second} {given}")
    } else {
        format!("{family} {middle} {given}")
    };
    PersonName::parse(&raw).unwrap_or_else(|_| unreachable!("generated names are letters and spaces: {raw}"))
}

/// A mobile number of one of the networks.
pub(crate) fn phone(rng: &mut SmallRng) -> PhoneNumber {
    let prefix = pick(rng, &MOBILE_PREFIXES);
    let raw = format!("{prefix}{:07}", rng.random_range(0..10_000_000));
    PhoneNumber::parse(&raw).unwrap_or_else(|_| unreachable!("generated phones use prefixes in use"))
}

/// A day of the year `year`.
pub(crate) fn birth_date(rng: &mut SmallRng, year: i32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
    first + chrono::Days::new(rng.random_range(0..365))
}

/// Gives out identification numbers that never repeat: for each birth province, century-and-sex
/// digit and birth year, the 6-digit serials are handed out in a scrambled order; old 9-digit
/// numbers come from one scrambled sequence.
#[derive(Debug, Default)]
pub(crate) struct IdNumbers {
    serials: HashMap<(u16, u8, u8), u32>,
    old_cards: u64,
}

/// Serials a birth province, sex and year can hold.
const SERIALS: u32 = 1_000_000;
/// Old identity card numbers.
const OLD_CARDS: u64 = 1_000_000_000;

impl IdNumbers {
    /// A citizen identity number for someone born in `birth_year` in the province `province_code`
    /// (its number as the identity number spells it, `52` → `052`).
    pub(crate) fn citizen(&mut self, province_code: u16, sex: Sex, birth_year: i32, today: NaiveDate) -> IdNumber {
        let mut year = birth_year.min(today.year());
        loop {
            let century = u8::try_from((year - 1900) / 100).unwrap_or(0);
            let digit = century * 2 + u8::from(sex == Sex::Female);
            let yy = u8::try_from(year.rem_euclid(100)).unwrap_or(0);
            let next = self.serials.entry((province_code, digit, yy)).or_insert(0);
            if *next < SERIALS {
                // Multiplying by a number prime to 10^6 visits every serial once, in a scrambled order.
                let serial = (u64::from(*next) * 7_919 + 104_729) % u64::from(SERIALS);
                *next += 1;
                let raw = format!("{province_code:03}{digit}{yy:02}{serial:06}");
                return IdNumber::parse_on(&raw, today)
                    .unwrap_or_else(|_| unreachable!("generated numbers encode a province and a past year"));
            }
            // Every serial of that year is taken: the person was born a year earlier.
            year -= 1;
        }
    }

    /// An old 9-digit identity card number.
    pub(crate) fn old_card(&mut self, today: NaiveDate) -> IdNumber {
        let number = (self.old_cards * 387_420_489 + 123_456_789) % OLD_CARDS;
        self.old_cards += 1;
        IdNumber::parse_on(&format!("{number:09}"), today).unwrap_or_else(|_| unreachable!("9 digits"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rand::SeedableRng;

    use super::*;

    #[test]
    fn identification_numbers_never_repeat_and_parse() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a day");
        let mut numbers = IdNumbers::default();
        let mut seen = HashSet::new();
        for index in 0..50_000 {
            let sex = if index % 2 == 0 { Sex::Male } else { Sex::Female };
            let number = numbers.citizen(52, sex, 1990 + index % 3, today);
            assert!(number.as_str().starts_with("052"));
            assert!(seen.insert(number.as_str().to_owned()));
            assert!(seen.insert(numbers.old_card(today).as_str().to_owned()));
        }
    }

    #[test]
    fn names_and_phones_parse() {
        let mut rng = SmallRng::seed_from_u64(7);
        for _ in 0..1_000 {
            let sex = Sex::any(&mut rng);
            assert!(name(&mut rng, sex).as_str().split(' ').count() >= 3);
            assert_eq!(phone(&mut rng).as_str().len(), 10);
        }
    }
}

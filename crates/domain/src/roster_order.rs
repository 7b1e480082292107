//! The Vietnamese roster order of people's names, as a key that sorts by its bytes.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::PersonName;

impl PersonName {
    /// A key whose plain byte order is the Vietnamese roster order, so that it can be stored in a
    /// column with a binary collation and used in `ORDER BY`; no database collation sorts Vietnamese
    /// this way, and the given name must come first.
    ///
    /// The roster compares the given name, then the whole name from the first word on, letter by
    /// letter in the Vietnamese alphabet (`a ă â b c d đ e ê … o ô ơ … u ư v x y`, with `f j w z` in
    /// their Latin places) without regard to case; only names with the same letters are then told
    /// apart by their tones, in the order none, huyền, hỏi, ngã, sắc, nặng.
    ///
    /// The key is therefore a primary part (a 2-digit rank per letter, the words of the given name
    /// and of the whole name closed by separators that sort below every letter), a separator, and a
    /// secondary part (one tone digit per letter, in the same order). Letters outside the Latin
    /// alphabet rank after `z` by code point, and marks that are neither Vietnamese tones nor vowel
    /// shapes are spelled out in the secondary part. Hyphens and apostrophes do not affect the order
    /// but are recorded at the very end, so that equal keys mean names equal up to case.
    pub fn sort_key(&self) -> String {
        let mut primary = String::new();
        let mut secondary = String::new();
        push_word_keys(self.given_name(), &mut primary, &mut secondary);
        primary.push_str(END_OF_GIVEN_NAME);
        for (index, word) in self.as_str().split(' ').enumerate() {
            if index > 0 {
                primary.push_str(END_OF_WORD);
            }
            push_word_keys(word, &mut primary, &mut secondary);
        }
        primary.push_str(END_OF_PRIMARY);
        primary.push_str(&secondary);

        let mut punctuation = self.as_str().chars().enumerate().filter_map(|(position, c)| match c {
            '-' => Some(format!("{position:03}1")),
            '\'' => Some(format!("{position:03}2")),
            _ => None,
        });
        if let Some(first) = punctuation.next() {
            primary.push(START_OF_PUNCTUATION);
            primary.push_str(&first);
            punctuation.for_each(|entry| primary.push_str(&entry));
        }
        primary
    }
}

/// Closes the primary part; it sorts below every other code, so that a name whose letters are a
/// prefix of another's sorts first.
const END_OF_PRIMARY: &str = "00";
/// Closes the given name in the primary part; it sorts below [`END_OF_WORD`], and both sort below
/// every letter, so that `An` comes before `Anh`.
const END_OF_GIVEN_NAME: &str = "01";
/// Closes a word of the whole name in the primary part.
const END_OF_WORD: &str = "02";
/// Rank codes of the alphabet start here, above the separators.
const FIRST_LETTER_RANK: usize = 10;
/// Opens the positions of hyphens and apostrophes, which break ties only; it sorts below every
/// digit, so that a name without them comes first.
const START_OF_PUNCTUATION: char = '.';

/// The Vietnamese alphabet, with the Latin letters it lacks (`f j w z`) in their usual places.
const ALPHABET: [char; 33] = [
    'a', 'ă', 'â', 'b', 'c', 'd', 'đ', 'e', 'ê', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'ô', 'ơ', 'p', 'q',
    'r', 's', 't', 'u', 'ư', 'v', 'w', 'x', 'y', 'z',
];

const BREVE: char = '\u{306}';
const CIRCUMFLEX: char = '\u{302}';
const HORN: char = '\u{31b}';

/// The tone marks in roster order: huyền, hỏi, ngã, sắc, nặng; no mark ranks before all of them.
const TONES: [char; 5] = ['\u{300}', '\u{309}', '\u{303}', '\u{301}', '\u{323}'];

/// Appends the primary and secondary codes of one word's letters; hyphens and apostrophes add none.
fn push_word_keys(word: &str, primary: &mut String, secondary: &mut String) {
    let decomposed: Vec<char> = word.to_lowercase().nfd().collect();
    let mut start = 0;
    while start < decomposed.len() {
        let marks = decomposed[start + 1..].iter().take_while(|c| is_combining_mark(**c)).count();
        let base = decomposed[start];
        if !matches!(base, '-' | '\'') {
            push_letter_keys(base, &decomposed[start + 1..start + 1 + marks], primary, secondary);
        }
        start += 1 + marks;
    }
}

/// Appends the codes of one letter: its base letter, with a vowel-shape mark folded in, to the
/// primary part; its tone, and any other mark, to the secondary part.
fn push_letter_keys(base: char, marks: &[char], primary: &mut String, secondary: &mut String) {
    let mut shape = None;
    let mut tone = 0;
    let mut other_marks = Vec::new();
    for &mark in marks {
        let shapes_base =
            matches!((base, mark), ('a', BREVE | CIRCUMFLEX) | ('e' | 'o', CIRCUMFLEX) | ('o' | 'u', HORN));
        let tone_rank = TONES.iter().position(|&t| t == mark);
        match tone_rank {
            _ if shapes_base && shape.is_none() => shape = Some(mark),
            Some(rank) if tone == 0 => tone = rank + 1,
            _ => other_marks.push(mark),
        }
    }
    let letter = match (base, shape) {
        ('a', Some(BREVE)) => 'ă',
        ('a', Some(_)) => 'â',
        ('e', Some(_)) => 'ê',
        ('o', Some(CIRCUMFLEX)) => 'ô',
        ('o', Some(_)) => 'ơ',
        ('u', Some(_)) => 'ư',
        (plain, _) => plain,
    };
    match ALPHABET.iter().position(|&c| c == letter) {
        Some(rank) => primary.push_str(&format!("{:02}", FIRST_LETTER_RANK + rank)),
        // A letter from another script: `9` sorts after every rank, and 6 hex digits hold any code point.
        None => primary.push_str(&format!("9{:06X}", u32::from(letter))),
    }
    if other_marks.is_empty() {
        secondary.push_str(&tone.to_string());
    } else {
        // `6` sorts after every tone digit; `;` ends the list, so no code is a prefix of another.
        secondary.push_str(&format!("6{tone}"));
        other_marks.iter().for_each(|&mark| secondary.push_str(&format!("{:06X}", u32::from(mark))));
        secondary.push(';');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(raw: &str) -> PersonName {
        PersonName::parse(raw).expect("valid name")
    }

    /// Sorts names by their keys, as a database would, and returns them as stored.
    fn roster(names: &[&str]) -> Vec<String> {
        let mut parsed: Vec<PersonName> = names.iter().map(|raw| name(raw)).collect();
        parsed.sort_by_key(PersonName::sort_key);
        parsed.into_iter().map(|person| person.as_str().to_owned()).collect()
    }

    #[test]
    fn sort_keys_are_ascii() {
        for raw in ["Nguyễn Văn An", "Đặng Thị Ưng", "H'Hen Niê", "Zoë Müller", "Σοφία Παππά"] {
            assert!(name(raw).sort_key().is_ascii(), "{raw}");
        }
    }

    #[test]
    fn roster_sorts_by_given_name_then_the_whole_name() {
        let sorted = roster(&[
            "Hoàng Văn Ơn",
            "Trần Thị Ánh",
            "Nguyễn Văn Hùng",
            "Nguyễn Thị Đào",
            "Trần Văn Ôn",
            "Nguyễn Văn An",
            "Lê Văn Hùng",
            "Phạm Văn Dũng",
            "Lê Thị Đào",
            "Lê Văn Bình",
        ]);
        assert_eq!(
            sorted,
            [
                "Nguyễn Văn An",
                "Trần Thị Ánh",
                "Lê Văn Bình",
                "Phạm Văn Dũng",
                "Lê Thị Đào",
                "Nguyễn Thị Đào",
                "Lê Văn Hùng",
                "Nguyễn Văn Hùng",
                "Trần Văn Ôn",
                "Hoàng Văn Ơn",
            ]
        );
    }

    #[test]
    fn roster_follows_the_vietnamese_alphabet() {
        let sorted =
            roster(&["Lê Y", "Lê Ư", "Lê Ơ", "Lê Ô", "Lê Ê", "Lê Đa", "Lê Â", "Lê Ă", "Lê A", "Lê Da", "Lê Ba"]);
        assert_eq!(sorted, ["Lê A", "Lê Ă", "Lê Â", "Lê Ba", "Lê Da", "Lê Đa", "Lê Ê", "Lê Ô", "Lê Ơ", "Lê Ư", "Lê Y"]);
    }

    #[test]
    fn roster_places_other_latin_letters_where_latin_does() {
        let sorted = roster(&["Za", "Xa", "Wa", "Va", "Ka", "Ja", "Ia", "Ga", "Fa", "Êa"]);
        assert_eq!(sorted, ["Êa", "Fa", "Ga", "Ia", "Ja", "Ka", "Va", "Wa", "Xa", "Za"]);
    }

    #[test]
    fn roster_compares_tones_only_between_equal_letters() {
        let sorted = roster(&["Mạ", "Má", "Mã", "Mả", "Mà", "Ma"]);
        assert_eq!(sorted, ["Ma", "Mà", "Mả", "Mã", "Má", "Mạ"]);
        assert!(name("Nguyễn Văn An").sort_key() < name("Trần Thị Ánh").sort_key());
        assert!(name("Trần Ánh").sort_key() < name("Trần Ăn").sort_key());
        assert!(name("Lê Văn Án").sort_key() < name("Nguyễn Văn An").sort_key());
        assert!(name("Nguyễn Văn Án").sort_key() < name("Nguyễn Văn Ăn").sort_key());
        assert!(name("Nguyen Van An").sort_key() < name("Nguyễn Văn An").sort_key());
    }

    #[test]
    fn roster_puts_a_shorter_word_first() {
        let sorted = roster(&["Trần Anh", "Trần An Bình", "Trần Anh Bình", "Lê An"]);
        assert_eq!(sorted, ["Lê An", "Trần Anh", "Trần An Bình", "Trần Anh Bình"]);
        assert!(name("An An").sort_key() < name("An An An").sort_key());
        assert!(name("Lê An").sort_key() < name("Lê Anh").sort_key());
    }

    #[test]
    fn roster_ignores_case() {
        assert_eq!(name("nguyễn văn an").sort_key(), name("Nguyễn Văn An").sort_key());
        assert_eq!(name("NGUYỄN VĂN AN").sort_key(), name("Nguyễn Văn An").sort_key());
        assert_eq!(name("ĐẶNG ĐỨC").sort_key(), name("đặng đức").sort_key());
    }

    #[test]
    fn roster_tells_apart_every_other_difference() {
        let keys = ["Hoà An", "Hòa An", "HHen Niê", "H'Hen Niê", "H-Hen Niê", "Muller Hans", "Müller Hans"]
            .map(|raw| name(raw).sort_key());
        for (index, key) in keys.iter().enumerate() {
            assert!(keys[index + 1..].iter().all(|other| other != key), "{index}");
        }
        assert!(name("HHen Niê").sort_key() < name("H'Hen Niê").sort_key());
    }

    #[test]
    fn roster_puts_letters_of_other_scripts_after_latin() {
        let sorted = roster(&["Lê Σοφία", "Lê Zoë", "Lê Zoe", "Lê Ünal", "Lê Uyên"]);
        assert_eq!(sorted, ["Lê Ünal", "Lê Uyên", "Lê Zoe", "Lê Zoë", "Lê Σοφία"]);
    }
}

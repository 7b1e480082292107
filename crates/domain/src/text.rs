//! Text rules shared by every name the system stores.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// Stored form of free text: NFC, trimmed, control characters removed, and runs of white space
/// folded into one space, so that two spellings a person cannot tell apart are stored the same (and
/// a NUL byte, which PostgreSQL cannot store in text, never reaches the database).
pub fn normalize(raw: &str) -> String {
    if is_normalized(raw) {
        return raw.to_owned();
    }
    let nfc: String = raw.nfc().filter(|c| c.is_whitespace() || !c.is_control()).collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether a text is already in the stored form, as every name read back from the database is:
/// the check is one pass over the characters, where normalising decomposes and recomposes each.
fn is_normalized(text: &str) -> bool {
    is_nfc_quick(text.chars()) == IsNormalized::Yes
        && !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.contains("  ")
        && text.chars().all(|c| c == ' ' || !(c.is_whitespace() || c.is_control()))
}

/// Multi-line text (a message): NFC, trimmed, control characters other than line breaks and tabs
/// removed.
pub fn normalize_lines(raw: &str) -> String {
    raw.trim().nfc().filter(|c| matches!(c, '\n' | '\t') || !c.is_control()).collect()
}

/// The first `max` characters of a text, for keeping what a person wrote in a rejected field
/// without keeping an unbounded amount of it.
pub fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Search key of a text: lower case, without diacritics, `đ` read as `d`, so that `nguyen van a`
/// finds `Nguyễn Văn A` as Vietnamese users type it on keyboards without tones.
pub fn fold(raw: &str) -> String {
    normalize(raw)
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Checks a normalised text's length in characters (not bytes: Vietnamese letters take several).
pub(crate) fn check_length(text: &str, min: usize, max: usize) -> Result<(), String> {
    let length = text.chars().count();
    if length < min || length > max {
        return Err(format!("must be {min} to {max} characters long"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_trims_and_folds_inner_space() {
        assert_eq!(normalize("  Phường \t Phúc   Xá "), "Phường Phúc Xá");
    }

    #[test]
    fn normalize_composes_decomposed_letters() {
        let decomposed = "Nguye\u{302}\u{303}n";
        assert_eq!(normalize(decomposed), "Nguyễn");
    }

    #[test]
    fn a_normalized_text_is_its_own_normal_form() {
        for raw in
            ["Phường Phúc Xá", " Xã", "Xã ", "Xã  An", "Xã\u{a0}An", "Xã\tAn", "Nguye\u{302}\u{303}n", "", "a\u{7}"]
        {
            let once = normalize(raw);
            assert_eq!(normalize(&once), once, "{raw:?}");
            assert!(is_normalized(&once), "{raw:?}");
            assert_eq!(is_normalized(raw), once == raw, "{raw:?}");
        }
    }

    #[test]
    fn control_characters_are_dropped() {
        assert_eq!(normalize("Xã\u{0}An\u{7}  Hưng"), "XãAn Hưng");
        assert_eq!(normalize_lines(" dòng 1\r\ndòng\u{0} 2 "), "dòng 1\ndòng 2");
        assert_eq!(truncate("Nguyễn Văn", 6), "Nguyễn");
    }

    #[test]
    fn fold_ignores_case_diacritics_and_d_stroke() {
        assert_eq!(fold("Nguyễn Văn Đức"), "nguyen van duc");
        assert_eq!(fold("ĐÀ NẴNG"), "da nang");
    }
}

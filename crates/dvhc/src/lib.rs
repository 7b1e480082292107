//! Reads the official lists of Vietnam's administrative units published by the statistics office
//! (the layout of `data/dvhc/units-2025-01-04.csv`): one row a commune, with its district and province.

mod conversion;

use std::collections::HashSet;
use std::io::Read;

use dvc_domain::{ListedUnit, UnitCode, UnitKind, UnitName};

pub use conversion::read_conversion;

/// The columns the official list starts with, in order.
const HEADER: [&str; 7] = ["Tỉnh Thành Phố", "Mã TP", "Quận Huyện", "Mã QH", "Phường Xã", "Mã PX", "Cấp"];

/// District-level categories, as the names begin.
const DISTRICT_CATEGORIES: [&str; 4] = ["Thành phố", "Thị xã", "Quận", "Huyện"];
const PROVINCE_CATEGORIES: [&str; 2] = ["Thành phố", "Tỉnh"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ListError {
    #[error("the file is not an official unit list: {0}")]
    Layout(String),
    #[error("line {line}: {reason}")]
    Row { line: u64, reason: String },
}

/// Reads a list into units, each once, parents before children. With `province`, only that
/// province and what lies below it.
pub fn read_units(input: impl Read, province: Option<&UnitCode>) -> Result<Vec<ListedUnit>, ListError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let header = reader.headers().map_err(|error| ListError::Layout(error.to_string()))?;
    let header_ok = header.len() >= HEADER.len()
        && HEADER
            .iter()
            .zip(header.iter())
            .all(|(expected, found)| found.trim_start_matches('\u{feff}').trim() == *expected);
    if !header_ok {
        return Err(ListError::Layout(format!("expected the columns {}", HEADER.join(", "))));
    }

    let mut units = Vec::new();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let record = record.map_err(|error| ListError::Layout(error.to_string()))?;
        let line = record.position().map_or(0, |position| position.line());
        let row_error = |reason: String| ListError::Row { line, reason };
        let field = |index: usize| record.get(index).unwrap_or("").trim();
        if record.iter().all(|value| value.trim().is_empty()) {
            continue;
        }
        let province_code = UnitCode::parse(field(1)).map_err(|e| row_error(format!("Mã TP: {e}")))?;
        if province.is_some_and(|wanted| *wanted != province_code) {
            continue;
        }
        let rows = listed_row(&record, province_code).map_err(row_error)?;
        for unit in rows {
            if seen.insert((unit.kind, unit.code.clone())) {
                units.push(unit);
            }
        }
    }
    if units.is_empty() {
        return Err(ListError::Layout("no units in the list (or none of the province asked for)".to_owned()));
    }
    Ok(units)
}

/// The province, district and commune one row names (the commune left out on the island districts
/// that have none, whose rows repeat the district).
fn listed_row(record: &csv::StringRecord, province_code: UnitCode) -> Result<Vec<ListedUnit>, String> {
    let field = |index: usize| record.get(index).unwrap_or("").trim();
    let name = |index: usize, column: &str| UnitName::parse(field(index)).map_err(|e| format!("{column}: {e}"));
    let code = |index: usize, column: &str| UnitCode::parse(field(index)).map_err(|e| format!("{column}: {e}"));

    let province_name = name(0, "Tỉnh Thành Phố")?;
    let district_name = name(2, "Quận Huyện")?;
    let district_code = code(3, "Mã QH")?;
    let mut units = vec![
        ListedUnit {
            category: category_of(province_name.as_str(), &PROVINCE_CATEGORIES)?,
            code: province_code.clone(),
            name: province_name,
            kind: UnitKind::Province,
            parent_code: None,
        },
        ListedUnit {
            category: category_of(district_name.as_str(), &DISTRICT_CATEGORIES)?,
            code: district_code.clone(),
            name: district_name,
            kind: UnitKind::District,
            parent_code: Some(province_code),
        },
    ];
    let level = field(6);
    if level != "Huyện" {
        if level.is_empty() {
            return Err("Cấp: the commune kind is missing".to_owned());
        }
        units.push(ListedUnit {
            code: code(5, "Mã PX")?,
            name: name(4, "Phường Xã")?,
            kind: UnitKind::Commune,
            category: level.to_owned(),
            parent_code: Some(district_code),
        });
    }
    Ok(units)
}

/// The category a name begins with, as the list spells it in most rows: a few rows write
/// `Thành Phố` or `Thị Xã`, which mean the same.
fn category_of(name: &str, categories: &[&str]) -> Result<String, String> {
    let name = name.to_lowercase();
    categories
        .iter()
        .find(|category| name.starts_with(&category.to_lowercase()))
        .map(|category| (*category).to_owned())
        .ok_or_else(|| format!("{name} does not start with one of {}", categories.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Tỉnh Thành Phố,Mã TP,Quận Huyện,Mã QH,Phường Xã,Mã PX,Cấp,Tên Tiếng Anh
Thành phố Hà Nội,01,Quận Ba Đình,001,Phường Phúc Xá,00001,Phường,
Thành phố Hà Nội,01,Quận Ba Đình,001,Phường Trúc Bạch,00004,Phường,
Tỉnh Bình Định,52,Huyện An Lão,540,Xã An Hưng,21610,Xã,
Tỉnh Quảng Trị,45,Huyện Cồn Cỏ,472,Huyện Cồn Cỏ,472,Huyện,
Tỉnh Bắc Kạn,06,Thành Phố Bắc Kạn,058,Phường Nguyễn Thị Minh Khai,01834,Phường,
";

    fn kinds(units: &[ListedUnit]) -> Vec<(UnitKind, &str)> {
        units.iter().map(|unit| (unit.kind, unit.code.as_str())).collect()
    }

    #[test]
    fn reads_each_unit_once_parents_first() {
        let units = read_units(SAMPLE.as_bytes(), None).expect("sample parses");
        assert_eq!(
            kinds(&units),
            vec![
                (UnitKind::Province, "01"),
                (UnitKind::District, "001"),
                (UnitKind::Commune, "00001"),
                (UnitKind::Commune, "00004"),
                (UnitKind::Province, "52"),
                (UnitKind::District, "540"),
                (UnitKind::Commune, "21610"),
                (UnitKind::Province, "45"),
                (UnitKind::District, "472"),
                (UnitKind::Province, "06"),
                (UnitKind::District, "058"),
                (UnitKind::Commune, "01834"),
            ]
        );
        assert_eq!(units[0].category, "Thành phố");
        assert_eq!(units[1].category, "Quận");
        assert_eq!(units[2].category, "Phường");
        assert_eq!(units[2].parent_code.as_ref().map(UnitCode::as_str), Some("001"));
        assert_eq!(units[10].category, "Thành phố");
    }

    #[test]
    fn filters_one_province() {
        let wanted = UnitCode::parse("52").expect("valid code");
        let units = read_units(SAMPLE.as_bytes(), Some(&wanted)).expect("sample parses");
        assert_eq!(
            kinds(&units),
            vec![(UnitKind::Province, "52"), (UnitKind::District, "540"), (UnitKind::Commune, "21610")]
        );
    }

    #[test]
    fn rejects_another_layout_and_bad_rows() {
        assert!(matches!(read_units("a,b,c\n1,2,3\n".as_bytes(), None), Err(ListError::Layout(_))));
        let bad = SAMPLE.replace("00004", "00 04");
        assert!(matches!(read_units(bad.as_bytes(), None), Err(ListError::Row { line: 3, .. })));
    }
}

//! Reads the official list of the 2025 reform (`conversion-2025-07-01.csv`): one row per pair of a
//! new commune and an old commune merged into it, with province title rows between the groups.

use std::io::Read;

use dvc_domain::reorganisation::{ConversionRow, OldUnit};
use dvc_domain::text::{fold, normalize};
use dvc_domain::{UnitCode, UnitName};

use crate::ListError;

/// The new communes' categories, as their names begin.
const COMMUNE_CATEGORIES: [&str; 3] = ["Phường", "Xã", "Đặc khu"];

/// `Tỉnh Gia Lai (52)` → the name and the code; the province and district columns are written so.
fn named_code(raw: &str) -> Option<(String, String)> {
    let raw = normalize(raw);
    let (name, rest) = raw.rsplit_once('(')?;
    let code = rest.strip_suffix(')')?.trim();
    Some((name.trim().to_owned(), code.to_owned()))
}

/// Reads the list; with `province`, only the rows of that new province (its code after the reform).
pub fn read_conversion(input: impl Read, province: Option<&UnitCode>) -> Result<Vec<ConversionRow>, ListError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(false).from_reader(input);
    let mut rows = Vec::new();
    let mut saw_heading = false;
    for record in reader.records() {
        let record = record.map_err(|error| ListError::Layout(error.to_string()))?;
        let line = record.position().map_or(0, |position| position.line());
        let field = |index: usize| normalize(record.get(index).unwrap_or(""));
        if field(1) == "Tên Xã mới" {
            saw_heading = true;
            continue;
        }
        // Title rows (a province's name alone) and the first heading row carry no commune.
        if !saw_heading || field(2).is_empty() {
            continue;
        }
        let row_error = |reason: String| ListError::Row { line, reason };
        let (province_name, province_code) =
            named_code(&field(0)).ok_or_else(|| row_error("the new province is not written `Name (code)`".into()))?;
        let new_province_code = UnitCode::parse(&province_code).map_err(|e| row_error(format!("new province: {e}")))?;
        if province.is_some_and(|wanted| *wanted != new_province_code) {
            continue;
        }
        let commune_name = field(1);
        // Compared folded: a few rows lose their diacritics (`Xa Ea Kly`).
        let category = COMMUNE_CATEGORIES
            .iter()
            .find(|category| fold(&commune_name).starts_with(&fold(category)))
            .ok_or_else(|| row_error(format!("{commune_name}: not a Phường, Xã or Đặc khu")))?;
        let district = named_code(&field(6));
        let old = if !field(4).is_empty() {
            Some(OldUnit::Commune(UnitCode::parse(&field(4)).map_err(|e| row_error(format!("old commune: {e}")))?))
        } else if let Some((_, code)) = district.as_ref().filter(|_| field(5).contains("huyện")) {
            // An island district without communes became a special zone: the district itself goes.
            Some(OldUnit::District(UnitCode::parse(code).map_err(|e| row_error(format!("old district: {e}")))?))
        } else {
            None
        };
        rows.push(ConversionRow {
            new_province_name: UnitName::parse(&province_name).map_err(|e| row_error(format!("new province: {e}")))?,
            new_province_code,
            new_commune_name: UnitName::parse(&commune_name).map_err(|e| row_error(format!("new commune: {e}")))?,
            new_commune_code: UnitCode::parse(&field(2)).map_err(|e| row_error(format!("new commune: {e}")))?,
            new_commune_category: (*category).to_owned(),
            old,
            old_district_code: district
                .map(|(_, code)| UnitCode::parse(&code))
                .transpose()
                .map_err(|e| row_error(format!("old district: {e}")))?,
            old_province_code: named_code(&field(7))
                .map(|(_, code)| UnitCode::parse(&code))
                .transpose()
                .map_err(|e| row_error(format!("old province: {e}")))?,
        });
    }
    if !saw_heading {
        return Err(ListError::Layout("expected the heading row of the 2025 conversion list".to_owned()));
    }
    if rows.is_empty() {
        return Err(ListError::Layout("no rows in the list (or none of the province asked for)".to_owned()));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Đơn vị hành chính từ ngày 01/7/2025,,,Đơn vị hành chính trước ngày 01/7/2025,,,,,
\"Tỉnh, thành phố\",Tên Xã mới,Mã Xã mới,Tên Xã cũ,Mã Xã cũ,Ghi chú,Quận/huyện,Tỉnh cũ,
GIA LAI,,,,,,,,
Tỉnh Gia Lai (52),Xã An Lão,21609,Thị trấn An Lão,21609,Nhập toàn bộ,Huyện An Lão (542),Tỉnh Bình Định (52),
Tỉnh Gia Lai (52),Xã An Lão,21609,Xã An Tân,21621,Nhập một phần,Huyện An Lão (542),Tỉnh Bình Định (52),
Thành phố Hải Phòng (31),Đặc khu Bạch Long Vĩ,11948,,,Sắp xếp toàn bộ huyện Bạch Long Vĩ thành đặc khu Bạch Long Vĩ,Huyện Bạch Long Vĩ (318),Thành phố Hải Phòng (31),
";

    #[test]
    fn reads_pairs_of_new_and_old_units() {
        let rows = read_conversion(SAMPLE.as_bytes(), None).expect("parses");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].new_province_name.as_str(), "Tỉnh Gia Lai");
        assert_eq!(rows[0].new_commune_code.as_str(), "21609");
        assert_eq!(rows[0].new_commune_category, "Xã");
        assert_eq!(rows[1].old, Some(OldUnit::Commune(UnitCode::parse("21621").expect("code"))));
        assert_eq!(rows[1].old_province_code.as_ref().map(UnitCode::as_str), Some("52"));
        assert_eq!(rows[2].old, Some(OldUnit::District(UnitCode::parse("318").expect("code"))));
        let gia_lai = UnitCode::parse("52").expect("code");
        assert_eq!(read_conversion(SAMPLE.as_bytes(), Some(&gia_lai)).expect("parses").len(), 2);
        assert!(read_conversion("a,b\n1,2\n".as_bytes(), None).is_err());
    }
}

#[cfg(test)]
mod official_list {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_official_list_names_34_provinces_and_3321_communes() {
        let file =
            std::fs::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/dvhc/conversion-2025-07-01.csv"))
                .expect("the list is in data/dvhc");
        let rows = read_conversion(file, None).expect("the official list parses");
        let provinces: HashSet<&str> = rows.iter().map(|row| row.new_province_code.as_str()).collect();
        let communes: HashSet<&str> = rows.iter().map(|row| row.new_commune_code.as_str()).collect();
        assert_eq!(provinces.len(), 34);
        assert_eq!(communes.len(), 3321);
    }
}

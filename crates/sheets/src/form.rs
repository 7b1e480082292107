//! The form's layout, shared by its readers and its writer, and the reading of its rows, whatever the
//! file they come from.

use dvc_domain::text::fold;

use crate::{MAX_ROWS, Sheet, SheetError, SheetRow};

/// The name of the worksheet this crate writes, as the letter titles the form.
pub(crate) const SHEET_NAME: &str = "Phụ lục 2";
pub(crate) const FORM_TITLE: &str = "DANH SÁCH CÁN BỘ, CÔNG CHỨC LÀM VIỆC TẠI BỘ PHẬN MỘT CỬA";
/// The label of the line naming the providing district; the reader looks for it folded.
pub(crate) const PROVIDER_LABEL: &str = "Đơn vị cung cấp";
/// What the empty form shows where the district's name goes.
pub(crate) const PROVIDER_PLACEHOLDER: &str = "UBND huyện ……";
/// The column titles as this crate writes them, in the form's order.
pub(crate) const HEADER: [&str; 5] = ["STT", "Họ và tên", "Đơn vị", "CMND/CCCD", "Số điện thoại"];
/// Column widths in characters, in the order of `HEADER`, wide enough for typical values.
pub(crate) const COLUMN_WIDTHS: [f64; 5] = [6.0, 30.0, 32.0, 18.0, 16.0];
/// The zero-based worksheet rows of the header and of the first official, as the letter lays them out.
pub(crate) const HEADER_ROW: u32 = 4;
pub(crate) const FIRST_DATA_ROW: u32 = HEADER_ROW + 1;
/// Zero-based columns of the ID number and the phone, which must be text to keep their leading zeros.
pub(crate) const ID_COLUMN: u16 = 3;
pub(crate) const PHONE_COLUMN: u16 = 4;

/// Digit counts of a number that lost the leading zero of an ID: a 9-digit CMND or a 12-digit CCCD.
pub(crate) const ID_LENGTHS_WITHOUT_ZERO: [usize; 2] = [8, 11];
/// Digit count of a number that lost the leading zero of a 10-digit phone number.
pub(crate) const PHONE_LENGTHS_WITHOUT_ZERO: [usize; 1] = [9];

/// A cell as a reader found it: its trimmed text, and whether the spreadsheet stored it as a number
/// (and so may have dropped a leading zero).
#[derive(Debug)]
pub(crate) struct Cell {
    pub(crate) text: String,
    pub(crate) numeric: bool,
}

impl Cell {
    pub(crate) fn text(raw: &str) -> Self {
        Cell { text: raw.trim().to_owned(), numeric: false }
    }

    /// The text, with the leading zero a spreadsheet dropped put back when the cell is a number of one
    /// of `lengths` digits. Text is never padded: whoever typed it typed what they meant.
    fn restoring_zero(&self, lengths: &[usize]) -> String {
        let digits = !self.text.is_empty() && self.text.bytes().all(|byte| byte.is_ascii_digit());
        if self.numeric && digits && lengths.contains(&self.text.len()) {
            format!("0{}", self.text)
        } else {
            self.text.clone()
        }
    }
}

/// The form's columns, each found by its title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Row,
    FullName,
    UnitName,
    IdNumber,
    Phone,
}

impl Column {
    /// The column a title names, from the title folded. The ID and phone columns come in many
    /// spellings ("CCCD", "Số CMND/CCCD", "SĐT"), so a word is enough for them.
    pub(crate) fn titled(folded: &str) -> Option<Self> {
        if folded.contains("cmnd") || folded.contains("cccd") {
            Some(Column::IdNumber)
        } else if folded.contains("dien thoai") || folded.contains("sdt") {
            Some(Column::Phone)
        } else if matches!(folded, "stt" | "tt" | "so tt" | "so thu tu") {
            Some(Column::Row)
        } else if folded.contains("ho va ten") || folded == "ho ten" {
            Some(Column::FullName)
        } else if folded.starts_with("don vi") {
            Some(Column::UnitName)
        } else {
            None
        }
    }
}

/// Where each column of the form is, by zero-based cell index.
#[derive(Debug)]
pub(crate) struct Columns {
    row: usize,
    full_name: usize,
    unit_name: usize,
    id_number: usize,
    phone: usize,
}

impl Columns {
    /// The columns, if `cells` is the header: a row with all five titles, in any order, the first cell
    /// with a title winning when two carry it, other cells ignored.
    fn in_header(cells: &[Cell]) -> Option<Self> {
        let mut found: [Option<usize>; 5] = [None; 5];
        for (index, cell) in cells.iter().enumerate() {
            let Some(column) = Column::titled(&fold(&cell.text)) else { continue };
            found[column as usize].get_or_insert(index);
        }
        Some(Columns {
            row: found[Column::Row as usize]?,
            full_name: found[Column::FullName as usize]?,
            unit_name: found[Column::UnitName as usize]?,
            id_number: found[Column::IdNumber as usize]?,
            phone: found[Column::Phone as usize]?,
        })
    }
}

/// Reads the form from its rows, in order: the heading and header, then the officials up to the first
/// blank row. Rows are pulled one by one, so a huge file costs no more than `MAX_ROWS` rows past the
/// header.
pub(crate) fn read_form(rows: impl Iterator<Item = Result<Vec<Cell>, SheetError>>) -> Result<Sheet, SheetError> {
    let mut rows = rows;
    let mut provider: Option<Option<String>> = None;
    let columns = loop {
        let Some(cells) = rows.next() else {
            return Err(SheetError::Layout(format!(
                "no header row was found; the form needs a row with the columns {}",
                HEADER.join(", ")
            )));
        };
        let cells = cells?;
        if let Some(columns) = Columns::in_header(&cells) {
            break columns;
        }
        if provider.is_none() {
            provider = provider_in(&cells);
        }
    };

    let mut sheet_rows = Vec::new();
    for cells in rows {
        let cells = cells?;
        if cells.iter().all(|cell| cell.text.is_empty()) {
            break;
        }
        if sheet_rows.len() == MAX_ROWS {
            return Err(SheetError::TooManyRows { limit: MAX_ROWS });
        }
        let cell = |index: usize| cells.get(index);
        let text = |index: usize| cell(index).map(|cell| cell.text.clone()).unwrap_or_default();
        let position = u32::try_from(sheet_rows.len() + 1).unwrap_or(u32::MAX);
        sheet_rows.push(SheetRow {
            row: cell(columns.row).and_then(|cell| cell.text.parse().ok()).unwrap_or(position),
            full_name: text(columns.full_name),
            unit_name: text(columns.unit_name),
            id_number: cell(columns.id_number)
                .map(|cell| cell.restoring_zero(&ID_LENGTHS_WITHOUT_ZERO))
                .unwrap_or_default(),
            phone: cell(columns.phone).map(|cell| cell.restoring_zero(&PHONE_LENGTHS_WITHOUT_ZERO)).unwrap_or_default(),
        });
    }
    Ok(Sheet { provider: provider.flatten(), rows: sheet_rows })
}

/// The provider named on a heading line, if one of `cells` is the "Đơn vị cung cấp" label: `Some`
/// with the name after the colon (or after the label's four words when the colon was left out), or,
/// when the label cell holds nothing more, in the next non-empty cell of the line, as in a form where
/// the name has a cell of its own; `Some(None)` if the name is missing.
pub(crate) fn provider_in(cells: &[Cell]) -> Option<Option<String>> {
    let label = fold(PROVIDER_LABEL);
    let index = cells.iter().position(|cell| fold(&cell.text).starts_with(&label))?;
    let text = &cells[index].text;
    let after_label = match text.split_once(':') {
        Some((_, rest)) => rest.trim().to_owned(),
        None => text.split_whitespace().skip(4).collect::<Vec<_>>().join(" "),
    };
    if !after_label.is_empty() {
        return Some(Some(after_label));
    }
    let next =
        cells[index + 1..].iter().map(|cell| cell.text.trim_start_matches(':').trim()).find(|text| !text.is_empty());
    Some(next.map(str::to_owned))
}

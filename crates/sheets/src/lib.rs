//! Reads and writes the roster form districts send in: Appendix 2 (“Phụ lục 2”) of the province's 2021
//! letter, which lists the officials of each commune's one-stop desk (bộ phận một cửa) with their ID
//! number and phone.
//!
//! Districts fill the form in whatever spreadsheet program they have, so the reader is lenient about
//! layout (title lines, column order, extra columns, diacritics and case in the titles, `,` or `;` in
//! CSV) and about what spreadsheets do to numbers (a dropped leading zero comes back), but it does not
//! judge the values: each row is returned as written, trimmed, for the caller to validate.

mod csv;
mod form;
mod xlsx;

pub use csv::read_csv;
pub use xlsx::{read_xlsx, template_xlsx, write_xlsx};

/// The most data rows a form may have: as many as a roster may list.
pub const MAX_ROWS: usize = dvc_domain::MAX_ROSTER_ENTRIES;

/// One official's row as written in the form, values trimmed but otherwise untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRow {
    /// The row number (STT) when the cell holds a whole number, else the row's 1-based position among
    /// the data rows, so that a message about the row can point at it either way.
    pub row: u32,
    pub full_name: String,
    pub unit_name: String,
    pub id_number: String,
    pub phone: String,
}

/// A filled-in form: the providing district as the heading names it (text after the colon, e.g.
/// "UBND huyện An Lão"), if there is a heading, and the rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub provider: Option<String>,
    pub rows: Vec<SheetRow>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SheetError {
    /// The file could be read but is not laid out as the form.
    #[error("the file is not the Appendix 2 form: {0}")]
    Layout(String),
    /// The form has more data rows than `MAX_ROWS`.
    #[error("the form has more than {limit} rows; split it into several files")]
    TooManyRows { limit: usize },
    /// The bytes are not a CSV or XLSX file this crate can read, or (when writing) the workbook could
    /// not be produced.
    #[error("the spreadsheet cannot be processed: {0}")]
    Unreadable(String),
}

#[cfg(test)]
mod tests;

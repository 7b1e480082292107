//! Reads and writes the roster form districts send in: Appendix 2 (“Phụ lục 2”) of the province's 2021
//! letter, which lists the officials of each commune's one-stop desk (bộ phận một cửa) with their ID
//! number and phone.
//!
//! Districts fill the form in whatever spreadsheet program they have, so the reader is lenient about
//! layout (title lines, column order, extra columns, diacritics and case in the titles, `,` or `;` in
//! CSV) and about what spreadsheets do to numbers (a dropped leading zero comes back), but it does not
//! judge the values: each row is returned as written, trimmed, for the caller to validate.

use std::io::Cursor;

use calamine::{Data, Reader as _, Xlsx};
use dvc_domain::text::fold;
use rust_xlsxwriter::{Format, FormatBorder, Workbook, Worksheet, XlsxError};

/// The most data rows a form may have: as many as a roster may list.
pub const MAX_ROWS: usize = dvc_domain::MAX_ROSTER_ENTRIES;

/// The largest XLSX file read. An XLSX is a zip, which can inflate a thousandfold, so the compressed
/// size is capped before anything is unpacked; a real form is a few tens of kilobytes.
const MAX_XLSX_BYTES: usize = 20 * 1024 * 1024;

/// The name of the worksheet this crate writes, as the letter titles the form.
const SHEET_NAME: &str = "Phụ lục 2";
const FORM_TITLE: &str = "DANH SÁCH CÁN BỘ, CÔNG CHỨC LÀM VIỆC TẠI BỘ PHẬN MỘT CỬA";
/// The label of the line naming the providing district; the reader looks for it folded.
const PROVIDER_LABEL: &str = "Đơn vị cung cấp";
/// What the empty form shows where the district's name goes.
const PROVIDER_PLACEHOLDER: &str = "UBND huyện ……";
/// The column titles as this crate writes them, in the form's order.
const HEADER: [&str; 5] = ["STT", "Họ và tên", "Đơn vị", "CMND/CCCD", "Số điện thoại"];
/// Column widths in characters, in the order of `HEADER`, wide enough for typical values.
const COLUMN_WIDTHS: [f64; 5] = [6.0, 30.0, 32.0, 18.0, 16.0];
/// The zero-based worksheet rows of the header and of the first official, as the letter lays them out.
const HEADER_ROW: u32 = 4;
const FIRST_DATA_ROW: u32 = HEADER_ROW + 1;
/// Zero-based columns of the ID number and the phone, which must be text to keep their leading zeros.
const ID_COLUMN: u16 = 3;
const PHONE_COLUMN: u16 = 4;

/// Digit counts of a number that lost the leading zero of an ID: a 9-digit CMND or a 12-digit CCCD.
const ID_LENGTHS_WITHOUT_ZERO: [usize; 2] = [8, 11];
/// Digit count of a number that lost the leading zero of a 10-digit phone number.
const PHONE_LENGTHS_WITHOUT_ZERO: [usize; 1] = [9];

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

/// Reads a form saved as CSV: UTF-8 with or without a byte order mark, separated by commas or, as
/// Excel saves it in a Vietnamese locale, by semicolons.
pub fn read_csv(bytes: &[u8]) -> Result<Sheet, SheetError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(guess_delimiter(bytes))
        .from_reader(bytes);
    read_form(CsvRows { bytes, reader, record: csv::StringRecord::new(), pending: None, last_span_end: None })
}

/// Reads a form saved as XLSX, from its first worksheet.
pub fn read_xlsx(bytes: &[u8]) -> Result<Sheet, SheetError> {
    if bytes.len() > MAX_XLSX_BYTES {
        return Err(SheetError::Unreadable(format!(
            "the file is larger than {} MiB, far more than any form",
            MAX_XLSX_BYTES / (1024 * 1024)
        )));
    }
    check_unzipped_size(bytes)?;
    let unreadable = |error: calamine::XlsxError| SheetError::Unreadable(format!("not a readable xlsx file ({error})"));
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(unreadable)?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| SheetError::Unreadable("the workbook has no worksheet".to_owned()))?
        .map_err(unreadable)?;
    read_form(range.rows().map(|cells| Ok(cells.iter().map(Cell::from_data).collect())))
}

/// The most an xlsx may unpack to. A form of `MAX_ROWS` rows unpacks to a few MiB; a small file that
/// claims far more is a zip bomb, refused before anything is inflated.
const MAX_UNZIPPED_BYTES: u64 = 64 * 1024 * 1024;

fn check_unzipped_size(bytes: &[u8]) -> Result<(), SheetError> {
    let unreadable =
        |error: zip::result::ZipError| SheetError::Unreadable(format!("not a readable xlsx file ({error})"));
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        total = total.saturating_add(archive.by_index_raw(index).map_err(unreadable)?.size());
        if total > MAX_UNZIPPED_BYTES {
            return Err(SheetError::Unreadable(format!(
                "the file unpacks to more than {} MiB, far more than any form",
                MAX_UNZIPPED_BYTES / (1024 * 1024)
            )));
        }
    }
    Ok(())
}

/// The empty form, ready to fill in: what a district downloads to send its roster back.
pub fn template_xlsx() -> Result<Vec<u8>, SheetError> {
    write_xlsx(&Sheet { provider: None, rows: Vec::new() })
}

/// The form filled with `sheet`, laid out as the template. Without a provider the heading keeps the
/// template's placeholder, so only a sheet with a provider reads back exactly as written.
pub fn write_xlsx(sheet: &Sheet) -> Result<Vec<u8>, SheetError> {
    // A longer form could not be read back, so it is refused here rather than handed out.
    if sheet.rows.len() > MAX_ROWS {
        return Err(SheetError::TooManyRows { limit: MAX_ROWS });
    }
    let mut workbook = Workbook::new();
    let worksheet = workbook.add_worksheet();
    lay_out_form(worksheet, sheet.provider.as_deref()).map_err(write_error)?;

    let cell = Format::new().set_border(FormatBorder::Thin);
    let text_cell = Format::new().set_border(FormatBorder::Thin).set_num_format("@");
    for (line, row) in (FIRST_DATA_ROW..).zip(&sheet.rows) {
        worksheet.write_number_with_format(line, 0, f64::from(row.row), &cell).map_err(write_error)?;
        worksheet.write_string_with_format(line, 1, &row.full_name, &cell).map_err(write_error)?;
        worksheet.write_string_with_format(line, 2, &row.unit_name, &cell).map_err(write_error)?;
        worksheet.write_string_with_format(line, ID_COLUMN, &row.id_number, &text_cell).map_err(write_error)?;
        worksheet.write_string_with_format(line, PHONE_COLUMN, &row.phone, &text_cell).map_err(write_error)?;
    }
    workbook.save_to_buffer().map_err(write_error)
}

/// Writes the headings, the header and the column layout shared by the template and a filled form.
fn lay_out_form(worksheet: &mut Worksheet, provider: Option<&str>) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let header = Format::new().set_bold().set_border(FormatBorder::Thin);
    // The whole ID and phone columns are text, so that numbers typed in keep their leading zeros.
    let text = Format::new().set_num_format("@");

    worksheet.set_name(SHEET_NAME)?;
    for (column, width) in (0..).zip(COLUMN_WIDTHS) {
        worksheet.set_column_width(column, width)?;
    }
    worksheet.set_column_format(ID_COLUMN, &text)?;
    worksheet.set_column_format(PHONE_COLUMN, &text)?;
    worksheet.write_string_with_format(0, 0, SHEET_NAME, &bold)?;
    worksheet.write_string_with_format(1, 0, FORM_TITLE, &bold)?;
    let provider = provider.unwrap_or(PROVIDER_PLACEHOLDER);
    worksheet.write_string(2, 0, format!("{PROVIDER_LABEL}: {provider}"))?;
    for (column, title) in (0..).zip(HEADER) {
        worksheet.write_string_with_format(HEADER_ROW, column, title, &header)?;
    }
    Ok(())
}

fn write_error(error: XlsxError) -> SheetError {
    SheetError::Unreadable(format!("the workbook could not be written ({error})"))
}

/// A cell as a reader found it: its trimmed text, and whether the spreadsheet stored it as a number
/// (and so may have dropped a leading zero).
#[derive(Debug)]
struct Cell {
    text: String,
    numeric: bool,
}

impl Cell {
    fn text(raw: &str) -> Self {
        Cell { text: raw.trim().to_owned(), numeric: false }
    }

    /// Numbers become their shortest decimal form, which for a whole number has neither a fraction nor
    /// an exponent (`f64`'s `Display` never writes one), so 912345678.0 reads "912345678".
    fn from_data(data: &Data) -> Self {
        match data {
            Data::Int(_) | Data::Float(_) => Cell { text: data.to_string(), numeric: true },
            Data::String(text) => Cell::text(text),
            other => Cell::text(&other.to_string()),
        }
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
enum Column {
    Row,
    FullName,
    UnitName,
    IdNumber,
    Phone,
}

impl Column {
    /// The column a title names, from the title folded. The ID and phone columns come in many
    /// spellings ("CCCD", "Số CMND/CCCD", "SĐT"), so a word is enough for them.
    fn titled(folded: &str) -> Option<Self> {
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
struct Columns {
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
fn read_form(rows: impl Iterator<Item = Result<Vec<Cell>, SheetError>>) -> Result<Sheet, SheetError> {
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
fn provider_in(cells: &[Cell]) -> Option<Option<String>> {
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

/// The separator of a CSV file: `;` when it appears more often than `,` in the first five lines (as in
/// files Excel saves in a Vietnamese locale), else `,`.
fn guess_delimiter(bytes: &[u8]) -> u8 {
    let mut commas = 0_usize;
    let mut semicolons = 0_usize;
    for byte in bytes.split(|byte| *byte == b'\n').take(5).flatten() {
        match byte {
            b',' => commas += 1,
            b';' => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

/// The rows of a CSV file, read one at a time.
///
/// The csv crate skips empty lines, but in the form an empty line ends the data, so each empty line is
/// noticed from the bytes the reader consumed and yielded as a blank row.
struct CsvRows<'a> {
    bytes: &'a [u8],
    reader: csv::Reader<&'a [u8]>,
    record: csv::StringRecord,
    /// A row read while noticing the empty line before it, yielded next.
    pending: Option<Vec<Cell>>,
    /// The last byte the previous record consumed, to tell its own line end from an empty line.
    last_span_end: Option<u8>,
}

impl Iterator for CsvRows<'_> {
    type Item = Result<Vec<Cell>, SheetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(cells) = self.pending.take() {
            return Some(Ok(cells));
        }
        let start = usize::try_from(self.reader.position().byte()).unwrap_or(usize::MAX);
        match self.reader.read_record(&mut self.record) {
            Ok(false) => None,
            Err(error) => Some(Err(SheetError::Unreadable(format!("{error} (the form must be CSV in UTF-8)")))),
            Ok(true) => {
                let end = usize::try_from(self.reader.position().byte()).unwrap_or(usize::MAX);
                let span = self.bytes.get(start..end).unwrap_or_default();
                let after_empty_line = follows_empty_line(span, self.last_span_end);
                self.last_span_end = span.last().copied().or(self.last_span_end);
                let cells = self.record.iter().map(Cell::text).collect();
                if after_empty_line {
                    self.pending = Some(cells);
                    Some(Ok(Vec::new()))
                } else {
                    Some(Ok(cells))
                }
            }
        }
    }
}

/// Whether the bytes one record consumed begin with an empty line. The reader stops a record after the
/// `\r` of a `\r\n`, so the `\n` that opens the next span is the previous line's end, not a line; any
/// other line break before the record's first field is an empty line. At the start of the file there
/// is no previous line, so any line break is one.
fn follows_empty_line(span: &[u8], previous_end: Option<u8>) -> bool {
    let leading = span.iter().take_while(|byte| matches!(byte, b'\r' | b'\n')).count();
    let breaks = &span[..leading];
    let breaks = match (previous_end, breaks.first()) {
        (Some(b'\r'), Some(b'\n')) => &breaks[1..],
        _ => breaks,
    };
    !breaks.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADING: &str = "Phụ lục 2\nDANH SÁCH CÁN BỘ, CÔNG CHỨC LÀM VIỆC TẠI BỘ PHẬN MỘT CỬA\n";

    /// A small zip that unpacks to more than the limit: zeros compress a thousandfold.
    fn zip_bomb() -> Vec<u8> {
        use std::io::Write;
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        writer.start_file("xl/worksheets/sheet1.xml", options).expect("a file");
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..(MAX_UNZIPPED_BYTES / (1024 * 1024) + 1) {
            writer.write_all(&zeros).expect("written");
        }
        writer.finish().expect("finished").into_inner()
    }

    #[test]
    fn zip_bombs_are_refused_before_inflating() {
        let bomb = zip_bomb();
        assert!(bomb.len() < 1024 * 1024, "the bomb is small: {} bytes", bomb.len());
        assert!(matches!(read_xlsx(&bomb), Err(SheetError::Unreadable(reason)) if reason.contains("unpacks")));
    }

    fn row(row: u32, full_name: &str, unit_name: &str, id_number: &str, phone: &str) -> SheetRow {
        SheetRow {
            row,
            full_name: full_name.to_owned(),
            unit_name: unit_name.to_owned(),
            id_number: id_number.to_owned(),
            phone: phone.to_owned(),
        }
    }

    fn expected_rows() -> Vec<SheetRow> {
        vec![
            row(1, "Nguyễn Văn An", "BPMC xã An Hưng", "052090001234", "0912345678"),
            row(2, "Trần Thị Bình", "BPMC thị trấn An Lão", "215123456", ""),
        ]
    }

    #[test]
    fn reads_a_comma_separated_form() {
        let csv = format!(
            "{HEADING}Đơn vị cung cấp: UBND huyện An Lão,,,,\n\
             ,,,,\n\
             STT,Họ và tên,Đơn vị,CMND/CCCD,Số điện thoại\n\
             1, Nguyễn Văn An ,BPMC xã An Hưng,052090001234,0912345678\n\
             2,Trần Thị Bình,BPMC thị trấn An Lão,215123456,\n"
        );
        let sheet = read_csv(csv.as_bytes()).expect("the form reads");
        assert_eq!(sheet, Sheet { provider: Some("UBND huyện An Lão".to_owned()), rows: expected_rows() });
    }

    #[test]
    fn reads_a_semicolon_separated_form_with_bom_and_crlf() {
        let csv = "\u{feff}Phụ lục 2;;;;\r\nĐơn vị cung cấp: UBND huyện An Lão;;;;\r\n\
                   STT;Họ và tên;Đơn vị;CMND/CCCD;Số điện thoại\r\n\
                   1;Nguyễn Văn An;BPMC xã An Hưng;052090001234;0912345678\r\n\
                   2;Trần Thị Bình;BPMC thị trấn An Lão;215123456;\r\n";
        let sheet = read_csv(csv.as_bytes()).expect("the form reads");
        assert_eq!(sheet, Sheet { provider: Some("UBND huyện An Lão".to_owned()), rows: expected_rows() });
    }

    #[test]
    fn finds_columns_in_any_order_and_ignores_extra_ones() {
        let csv = "\u{feff}ĐƠN VỊ CUNG CẤP : UBND huyện Hoài Ân\n\
                   SĐT,  HỌ VÀ TÊN ,Ghi chú,Số CCCD,stt,Đơn vị công tác\n\
                   0987654321,Lê Văn Cường,trưởng bộ phận,052090001234,7,BPMC xã Ân Hảo\n";
        let sheet = read_csv(csv.as_bytes()).expect("the form reads");
        assert_eq!(
            sheet,
            Sheet {
                provider: Some("UBND huyện Hoài Ân".to_owned()),
                rows: vec![row(7, "Lê Văn Cường", "BPMC xã Ân Hảo", "052090001234", "0987654321")],
            }
        );
    }

    #[test]
    fn reads_a_form_without_heading() {
        let csv = "STT,Họ và tên,Đơn vị,CMND,Điện thoại\n1,Nguyễn Văn An,BPMC xã An Hưng,215123456,0912345678\n";
        let sheet = read_csv(csv.as_bytes()).expect("the form reads");
        assert_eq!(sheet.provider, None);
        assert_eq!(sheet.rows, vec![row(1, "Nguyễn Văn An", "BPMC xã An Hưng", "215123456", "0912345678")]);
    }

    #[test]
    fn takes_the_provider_from_the_next_cell_or_without_colon() {
        let split = "Đơn vị cung cấp:,UBND huyện An Lão\nSTT,Họ và tên,Đơn vị,CMND/CCCD,Số điện thoại\n";
        assert_eq!(read_csv(split.as_bytes()).map(|sheet| sheet.provider), Ok(Some("UBND huyện An Lão".to_owned())));
        let no_colon = "Đơn vị cung cấp UBND huyện An Lão\nSTT,Họ và tên,Đơn vị,CMND/CCCD,Số điện thoại\n";
        assert_eq!(read_csv(no_colon.as_bytes()).map(|sheet| sheet.provider), Ok(Some("UBND huyện An Lão".to_owned())));
    }

    #[test]
    fn rejects_a_file_without_header() {
        let csv = "Đơn vị cung cấp: UBND huyện An Lão\nSTT,Họ và tên,Đơn vị,Số điện thoại\n1,A,B,0912345678\n";
        let error = read_csv(csv.as_bytes()).expect_err("no ID column");
        assert!(matches!(&error, SheetError::Layout(message) if message.contains("CMND/CCCD")), "{error}");
        assert!(matches!(read_csv(b""), Err(SheetError::Layout(_))));
    }

    #[test]
    fn a_blank_row_ends_the_data() {
        let header = "STT,Họ và tên,Đơn vị,CMND/CCCD,Số điện thoại\n";
        for blank in [",,,,\n", "\n", " , ,\n", "\r\n"] {
            let csv = format!("{header}1,An,BPMC xã An Hưng,215123456,\n{blank}2,Bình,BPMC xã An Hưng,,\n");
            let sheet = read_csv(csv.as_bytes()).expect("the form reads");
            assert_eq!(sheet.rows, vec![row(1, "An", "BPMC xã An Hưng", "215123456", "")], "blank {blank:?}");
        }
        let crlf = "STT,Họ và tên,Đơn vị,CMND/CCCD,Số điện thoại\r\n1,An,,,\r\n\r\n2,Bình,,,\r\n";
        assert_eq!(read_csv(crlf.as_bytes()).map(|sheet| sheet.rows.len()), Ok(1));
    }

    #[test]
    fn keeps_rows_with_blank_cells_and_short_rows() {
        let csv = "STT,Họ và tên,Đơn vị,CMND/CCCD,Số điện thoại\n1,An\n2,,BPMC xã An Hưng,,\n";
        let sheet = read_csv(csv.as_bytes()).expect("the form reads");
        assert_eq!(sheet.rows, vec![row(1, "An", "", "", ""), row(2, "", "BPMC xã An Hưng", "", "")]);
    }

    #[test]
    fn a_row_number_that_is_not_a_number_gives_the_position() {
        let csv = "STT,Họ và tên,Đơn vị,CMND/CCCD,Số điện thoại\n\
                   a,An,,,\n\
                   ,Bình,,,\n\
                   10,Cường,,,\n\
                   1.5,Dũng,,,\n";
        let sheet = read_csv(csv.as_bytes()).expect("the form reads");
        let numbers: Vec<u32> = sheet.rows.iter().map(|row| row.row).collect();
        assert_eq!(numbers, vec![1, 2, 10, 4]);
    }

    #[test]
    fn keeps_quoted_fields_with_separators_and_line_breaks() {
        let csv = "STT,Họ và tên,Đơn vị,CMND/CCCD,Số điện thoại\n1,\"Nguyễn, An\",\"BPMC\nxã An Hưng\",215123456,\n";
        let sheet = read_csv(csv.as_bytes()).expect("the form reads");
        assert_eq!(sheet.rows, vec![row(1, "Nguyễn, An", "BPMC\nxã An Hưng", "215123456", "")]);
    }

    #[test]
    fn refuses_more_than_max_rows() {
        let header = "STT,Họ và tên,Đơn vị,CMND/CCCD,Số điện thoại\n";
        let lines = |count: usize| -> String {
            (1..=count)
                .map(|number| format!("{number},Cán bộ {number},BPMC xã An Hưng,215123456,0912345678\n"))
                .collect()
        };
        let at_limit = format!("{header}{}", lines(MAX_ROWS));
        assert_eq!(read_csv(at_limit.as_bytes()).map(|sheet| sheet.rows.len()), Ok(MAX_ROWS));
        let over = format!("{header}{}", lines(MAX_ROWS + 1));
        assert_eq!(read_csv(over.as_bytes()), Err(SheetError::TooManyRows { limit: MAX_ROWS }));
    }

    #[test]
    fn rejects_csv_that_is_not_utf8() {
        let mut csv = b"STT,H\xe1,\xd0on vi,CMND,SDT\n".to_vec();
        csv.extend_from_slice(b"1,\xff\xfe,,,\n");
        assert!(matches!(read_csv(&csv), Err(SheetError::Unreadable(_))));
    }

    #[test]
    fn xlsx_round_trip() {
        let sheet = Sheet { provider: Some("UBND huyện An Lão".to_owned()), rows: expected_rows() };
        let bytes = write_xlsx(&sheet).expect("the form writes");
        assert_eq!(read_xlsx(&bytes), Ok(sheet));
    }

    #[test]
    fn the_template_reads_as_an_empty_form() {
        let bytes = template_xlsx().expect("the template writes");
        assert_eq!(read_xlsx(&bytes), Ok(Sheet { provider: Some(PROVIDER_PLACEHOLDER.to_owned()), rows: Vec::new() }));
        let workbook = Xlsx::new(Cursor::new(bytes.as_slice())).expect("the template is an xlsx");
        assert_eq!(workbook.sheet_names(), vec![SHEET_NAME.to_owned()]);
    }

    #[test]
    fn restores_leading_zeros_of_numeric_cells() {
        let mut workbook = Workbook::new();
        let worksheet = workbook.add_worksheet();
        for (column, title) in (0..).zip(["STT", "Họ và tên", "Đơn vị", "CCCD", "SĐT"]) {
            worksheet.write_string(0, column, title).expect("write header");
        }
        let numbers: [(f64, f64); 4] = [
            (52_090_001_234.0, 912_345_678.0),
            (15_123_456.0, 2_563_820_123.0),
            (123_456_789_012.0, 12_345.0),
            (1.5, 0.0),
        ];
        for (line, (id_number, phone)) in (1..).zip(numbers) {
            worksheet.write_number(line, 0, f64::from(line)).expect("write STT");
            worksheet.write_string(line, 1, "Nguyễn Văn An").expect("write name");
            worksheet.write_number(line, 2, 2025.0).expect("write unit");
            worksheet.write_number(line, 3, id_number).expect("write ID");
            worksheet.write_number(line, 4, phone).expect("write phone");
        }
        worksheet.write_number(5, 0, 5.0).expect("write STT");
        worksheet.write_string(5, 3, "52090001234").expect("write ID as text");
        worksheet.write_string(5, 4, "912345678").expect("write phone as text");
        let bytes = workbook.save_to_buffer().expect("the workbook writes");

        let sheet = read_xlsx(&bytes).expect("the form reads");
        assert_eq!(sheet.provider, None);
        assert_eq!(
            sheet.rows,
            vec![
                row(1, "Nguyễn Văn An", "2025", "052090001234", "0912345678"),
                row(2, "Nguyễn Văn An", "2025", "015123456", "2563820123"),
                row(3, "Nguyễn Văn An", "2025", "123456789012", "12345"),
                row(4, "Nguyễn Văn An", "2025", "1.5", "0"),
                row(5, "", "", "52090001234", "912345678"),
            ]
        );
    }

    #[test]
    fn rejects_what_is_not_an_xlsx() {
        assert!(matches!(read_xlsx(b"this is not a workbook"), Err(SheetError::Unreadable(_))));
        assert!(matches!(read_xlsx(b"PK\x03\x04garbage"), Err(SheetError::Unreadable(_))));
        assert!(matches!(read_xlsx(&vec![0; MAX_XLSX_BYTES + 1]), Err(SheetError::Unreadable(_))));
    }

    #[test]
    fn write_refuses_more_than_max_rows() {
        let sheet = Sheet { provider: None, rows: vec![row(1, "An", "", "", ""); MAX_ROWS + 1] };
        assert_eq!(write_xlsx(&sheet), Err(SheetError::TooManyRows { limit: MAX_ROWS }));
    }

    #[test]
    fn fold_ignores_case_diacritics_and_spacing() {
        assert_eq!(fold("  ĐƠN VỊ   cung cấp "), "don vi cung cap");
        assert_eq!(fold("Số điện thoại"), "so dien thoai");
        assert_eq!(Column::titled(&fold("Số CMND/CCCD")), Some(Column::IdNumber));
        assert_eq!(Column::titled(&fold("SĐT")), Some(Column::Phone));
    }
}

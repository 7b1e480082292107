//! The form as an XLSX workbook: read from its first worksheet, and written, empty or filled.

use std::io::Cursor;

use calamine::{Data, Reader as _, Xlsx};
use rust_xlsxwriter::{Format, FormatBorder, Workbook, Worksheet, XlsxError};

use crate::form::{
    COLUMN_WIDTHS, Cell, FIRST_DATA_ROW, FORM_TITLE, HEADER, HEADER_ROW, ID_COLUMN, PHONE_COLUMN, PROVIDER_LABEL,
    PROVIDER_PLACEHOLDER, SHEET_NAME, read_form,
};
use crate::{MAX_ROWS, Sheet, SheetError};

/// The largest XLSX file read. An XLSX is a zip, which can inflate a thousandfold, so the compressed
/// size is capped before anything is unpacked; a real form is a few tens of kilobytes.
pub(crate) const MAX_XLSX_BYTES: usize = 20 * 1024 * 1024;

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
pub(crate) const MAX_UNZIPPED_BYTES: u64 = 64 * 1024 * 1024;

pub(crate) fn check_unzipped_size(bytes: &[u8]) -> Result<(), SheetError> {
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

impl Cell {
    /// Numbers become their shortest decimal form, which for a whole number has neither a fraction nor
    /// an exponent (`f64`'s `Display` never writes one), so 912345678.0 reads "912345678".
    fn from_data(data: &Data) -> Self {
        match data {
            Data::Int(_) | Data::Float(_) => Cell { text: data.to_string(), numeric: true },
            Data::String(text) => Cell::text(text),
            other => Cell::text(&other.to_string()),
        }
    }
}

//! Report tables as people open them: CSV that Excel reads as UTF-8, XLSX with a title, a totals
//! row and a bar chart, and an SVG bar chart a web page can embed as it is.
//!
//! The crate knows tables, not the drive: callers describe each column and fill the rows.

mod svg;

use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, XlsxError};

pub use svg::{Bars, bar_chart};

/// A column of a report: the key machines read (CSV) and the heading people read (XLSX).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub key: &'static str,
    pub heading: &'static str,
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(i64),
    /// A share from 0 to 1, shown as a percentage in XLSX.
    Ratio(f64),
    Empty,
}

/// A report as a table: a title naming the unit and the period, columns, rows, optionally a totals
/// row (in bold, after the rows: a report's totals are its unit's own figures, which the caller
/// knows, not a sum that would count nested units twice), and optionally a chart of some numeric
/// columns against a label column.
#[derive(Debug, Clone)]
pub struct Table {
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    pub totals: Option<Vec<Cell>>,
    pub chart: Option<ChartSpec>,
}

/// Which columns a chart shows, over which rows.
#[derive(Debug, Clone)]
pub struct ChartSpec {
    pub title: String,
    /// The column naming each bar group.
    pub label: usize,
    /// The columns drawn as series.
    pub series: Vec<usize>,
    /// The rows charted (the first row of a report is often the parent unit, left out).
    pub rows: std::ops::Range<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("xlsx: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// The byte order mark that makes Excel read a CSV file as UTF-8, so that Vietnamese shows.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Number(number) => number.to_string(),
            Cell::Ratio(ratio) => format!("{ratio:.4}"),
            Cell::Empty => String::new(),
        }
    }
}

/// The table as CSV: a BOM, the column keys, then the rows and the totals row.
pub fn csv(table: &Table) -> Result<Vec<u8>, RenderError> {
    let mut writer = csv::Writer::from_writer(UTF8_BOM.to_vec());
    writer.write_record(table.columns.iter().map(|column| column.key))?;
    for row in table.rows.iter().chain(table.totals.iter()) {
        writer.write_record(row.iter().map(Cell::text))?;
    }
    writer.into_inner().map_err(|error| RenderError::Io(error.into_error()))
}

/// The table as a workbook: the title in the first row, the headings, the rows, the totals row in
/// bold, and the chart beside the table.
pub fn xlsx(table: &Table) -> Result<Vec<u8>, RenderError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Báo cáo")?;
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    sheet.write_string_with_format(0, 0, &table.title, &bold.clone().set_font_size(14))?;
    const HEADING_ROW: u32 = 2;
    for (index, column) in table.columns.iter().enumerate() {
        let col = u16::try_from(index).unwrap_or(u16::MAX);
        sheet.write_string_with_format(HEADING_ROW, col, column.heading, &bold)?;
        sheet.set_column_width(col, if index == 0 { 32 } else { 14 })?;
    }
    let first_data_row = HEADING_ROW + 1;
    let plain = Format::new();
    let rows = table.rows.iter().map(|row| (row, &plain)).chain(table.totals.iter().map(|row| (row, &bold)));
    for (offset, (row, format)) in rows.enumerate() {
        let excel_row = first_data_row + u32::try_from(offset).unwrap_or(u32::MAX);
        for (index, cell) in row.iter().enumerate() {
            let col = u16::try_from(index).unwrap_or(u16::MAX);
            match cell {
                Cell::Text(text) => sheet.write_string_with_format(excel_row, col, text, format)?,
                Cell::Number(number) => sheet.write_number_with_format(excel_row, col, *number as f64, format)?,
                Cell::Ratio(ratio) => sheet.write_number_with_format(excel_row, col, *ratio, &percent)?,
                Cell::Empty => sheet,
            };
        }
    }
    if let Some(spec) = table.chart.as_ref().filter(|spec| !spec.rows.is_empty()) {
        let mut chart = Chart::new(ChartType::Column);
        chart.title().set_name(&spec.title);
        let first = first_data_row + u32::try_from(spec.rows.start).unwrap_or(0);
        let last = first_data_row + u32::try_from(spec.rows.end).unwrap_or(0) - 1;
        let label = u16::try_from(spec.label).unwrap_or(0);
        for series in &spec.series {
            let col = u16::try_from(*series).unwrap_or(0);
            chart
                .add_series()
                .set_name(("Báo cáo", HEADING_ROW, col))
                .set_categories(("Báo cáo", first, label, last, label))
                .set_values(("Báo cáo", first, col, last, col));
        }
        let chart_col = u16::try_from(table.columns.len() + 1).unwrap_or(u16::MAX);
        sheet.insert_chart(HEADING_ROW, chart_col, &chart)?;
    }
    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use calamine::{Data, Reader, Xlsx};

    use super::*;

    fn table() -> Table {
        Table {
            title: "Báo cáo tháng 07/2021 — Tỉnh Bình Định".to_owned(),
            columns: vec![
                Column { key: "unit_name", heading: "Đơn vị" },
                Column { key: "created", heading: "Tạo thành công" },
            ],
            rows: vec![
                vec![Cell::Text("Huyện An Lão".to_owned()), Cell::Number(3)],
                vec![Cell::Text("Huyện Hoài Nhơn".to_owned()), Cell::Number(4)],
            ],
            totals: Some(vec![Cell::Text("Tổng cộng".to_owned()), Cell::Number(7)]),
            chart: Some(ChartSpec { title: "Tài khoản".to_owned(), label: 0, series: vec![1], rows: 0..2 }),
        }
    }

    #[test]
    fn csv_starts_with_a_bom_and_keeps_vietnamese() {
        let bytes = csv(&table()).expect("renders");
        assert!(bytes.starts_with(UTF8_BOM));
        let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
        assert_eq!(text, "unit_name,created\nHuyện An Lão,3\nHuyện Hoài Nhơn,4\nTổng cộng,7\n");
    }

    #[test]
    fn xlsx_has_title_headings_rows_and_totals() {
        let bytes = xlsx(&table()).expect("renders");
        let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("opens");
        let range = workbook.worksheet_range("Báo cáo").expect("the sheet");
        assert_eq!(range.get_value((0, 0)), Some(&Data::String("Báo cáo tháng 07/2021 — Tỉnh Bình Định".into())));
        assert_eq!(range.get_value((2, 0)), Some(&Data::String("Đơn vị".into())));
        assert_eq!(range.get_value((3, 1)), Some(&Data::Float(3.0)));
        assert_eq!(range.get_value((5, 0)), Some(&Data::String("Tổng cộng".into())));
        assert_eq!(range.get_value((5, 1)), Some(&Data::Float(7.0)));
    }
}

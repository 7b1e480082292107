//! The form saved as CSV.

use crate::form::{Cell, read_form};
use crate::{Sheet, SheetError};

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

//! The schemas of files sent and received as they are, so that generated clients read and send them
//! as text or bytes rather than as arrays of numbers.
#![allow(dead_code, reason = "the types are never built; only their schemas are used")]

use utoipa::ToSchema;

/// A spreadsheet (XLSX), as its bytes.
#[derive(ToSchema)]
#[schema(
    value_type = String,
    format = Binary,
    content_media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)]
pub struct Spreadsheet(Vec<u8>);

/// A CSV file (UTF-8), as its text.
#[derive(ToSchema)]
#[schema(value_type = String, content_media_type = "text/csv")]
pub struct CsvFile(String);

/// An SVG image, as its text.
#[derive(ToSchema)]
#[schema(value_type = String, content_media_type = "image/svg+xml")]
pub struct SvgImage(String);

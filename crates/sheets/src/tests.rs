use std::io::Cursor;

use calamine::{Reader as _, Xlsx};
use rust_xlsxwriter::Workbook;

use crate::form::{Column, PROVIDER_PLACEHOLDER, SHEET_NAME};
use crate::xlsx::{MAX_UNZIPPED_BYTES, MAX_XLSX_BYTES};
use crate::*;
use dvc_domain::text::fold;

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
        (1..=count).map(|number| format!("{number},Cán bộ {number},BPMC xã An Hưng,215123456,0912345678\n")).collect()
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
    let numbers: [(f64, f64); 4] =
        [(52_090_001_234.0, 912_345_678.0), (15_123_456.0, 2_563_820_123.0), (123_456_789_012.0, 12_345.0), (1.5, 0.0)];
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

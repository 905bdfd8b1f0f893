//! `audit.xlsx`: one workbook with Summary, Matrix, Findings and Files
//! sheets. Every value read from a share is written as a string cell, so
//! opening the workbook never runs a formula nor re-types a version.

use super::palette::{self, Swatch};
use crate::audit::Audit;
use crate::matrix::KEY_COLUMNS;
use crate::model::{Finding, Severity};
use crate::text::{self, Controls};
use anyhow::Result;
use rust_xlsxwriter::{Color, DocProperties, ExcelDateTime, Format, FormatBorder, Workbook, Worksheet, XlsxError};
use std::collections::HashMap;

/// Excel's limits: characters in a cell, rows and columns in a sheet.
const MAX_CELL_CHARS: usize = 32_767;
const MAX_ROWS: usize = 1_048_576;
const MAX_COLUMNS: usize = 16_384;
/// Locations one Matrix sheet holds beside the key columns; a wider
/// estate continues on sheets "Matrix 2", "Matrix 3"...
const LOCATIONS_PER_SHEET: usize = MAX_COLUMNS - KEY_COLUMNS.len();
/// Widest column we set, in characters.
const MAX_WIDTH: usize = 60;

pub fn audit(audit: &Audit) -> Result<Vec<u8>> {
    let mut workbook = Workbook::new();
    // A fixed creation time keeps the output byte-identical across runs.
    let created = ExcelDateTime::from_ymd(2000, 1, 1)?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title("smsaudit report")
            .set_creation_datetime(&created),
    );
    let styles = Styles::new();
    let matrix_parts = matrix_parts(audit.matrix.columns.len());
    summary_sheet(workbook.add_worksheet(), audit, &styles, matrix_parts.len())?;
    for (part, columns) in matrix_parts.into_iter().enumerate() {
        let name = match part {
            0 => "Matrix".to_string(),
            _ => format!("Matrix {}", part + 1),
        };
        matrix_sheet(workbook.add_worksheet(), audit, &styles, &name, columns)?;
    }
    findings_sheet(workbook.add_worksheet(), audit, &styles)?;
    // One row per file can be a million rows: this sheet streams its rows
    // to a temporary file instead of holding them in memory.
    files_sheet(workbook.add_worksheet_with_constant_memory(), audit, &styles)?;
    Ok(workbook.save_to_buffer()?)
}

struct Styles {
    header: Format,
    title: Format,
    text: Format,
    number: Format,
    swatches: HashMap<&'static str, Format>,
    severity: HashMap<&'static str, Format>,
}

impl Styles {
    fn new() -> Styles {
        let text = Format::new().set_num_format("@");
        let header = Format::new()
            .set_bold()
            .set_num_format("@")
            .set_background_color(Color::RGB(0x1F3A5F))
            .set_font_color(Color::White)
            .set_border_bottom(FormatBorder::Thin);
        let swatches = palette::legend()
            .into_iter()
            .map(|s| (s.key.as_ref(), swatch_format(s)))
            .collect();
        let severity = Severity::ALL
            .into_iter()
            .map(|severity| {
                let (fill, ink) = palette::severity(severity);
                (
                    severity.as_str(),
                    Format::new()
                        .set_num_format("@")
                        .set_background_color(Color::RGB(fill))
                        .set_font_color(Color::RGB(ink)),
                )
            })
            .collect();
        Styles {
            header,
            title: Format::new().set_bold().set_font_size(14).set_num_format("@"),
            text,
            number: Format::new().set_num_format("#,##0"),
            swatches,
            severity,
        }
    }

    fn swatch(&self, s: &Swatch) -> &Format {
        &self.swatches[s.key.as_ref()]
    }
}

fn swatch_format(s: &Swatch) -> Format {
    Format::new()
        .set_num_format("@")
        .set_background_color(Color::RGB(s.fill))
        .set_font_color(Color::RGB(s.ink))
        .set_border(FormatBorder::Hair)
        .set_border_color(Color::RGB(0xBFBFBF))
}

/// Writes a string cell (never a formula, never a guessed type), and keeps
/// track of the column's width.
struct Sheet<'a> {
    ws: &'a mut Worksheet,
    widths: Vec<usize>,
}

impl<'a> Sheet<'a> {
    fn new(ws: &'a mut Worksheet, name: &str) -> Result<Sheet<'a>, XlsxError> {
        ws.set_name(name)?;
        Ok(Sheet { ws, widths: Vec::new() })
    }

    fn text(&mut self, row: usize, col: usize, value: &str, format: &Format) -> Result<(), XlsxError> {
        // A workbook is read by people: bidi and invisible characters are
        // named, as in report.html and the spreadsheet CSV.
        let value = text::visible(value, Controls::Keep);
        let value = clip(&value);
        self.measure(col, value.chars().count());
        self.ws
            .write_string_with_format(row as u32, col as u16, value, format)?;
        Ok(())
    }

    fn number(&mut self, row: usize, col: usize, value: f64, format: &Format) -> Result<(), XlsxError> {
        self.measure(col, 14);
        self.ws
            .write_number_with_format(row as u32, col as u16, value, format)?;
        Ok(())
    }

    fn measure(&mut self, col: usize, chars: usize) {
        if self.widths.len() <= col {
            self.widths.resize(col + 1, 0);
        }
        self.widths[col] = self.widths[col].max(chars);
    }

    /// Sets every column to fit its content (plus room for the filter
    /// button), capped at [`MAX_WIDTH`].
    fn fit_columns(&mut self) -> Result<(), XlsxError> {
        for (col, &chars) in self.widths.iter().enumerate().take(MAX_COLUMNS) {
            let width = (chars + 3).clamp(8, MAX_WIDTH);
            self.ws.set_column_width(col as u16, width as f64)?;
        }
        Ok(())
    }

    /// Header row at `row`, bold, frozen with the first column, with an
    /// autofilter over `rows` data rows below it.
    fn table_header(&mut self, row: usize, headers: &[&str], rows: usize, styles: &Styles) -> Result<(), XlsxError> {
        for (col, header) in headers.iter().enumerate() {
            self.text(row, col, header, &styles.header)?;
        }
        self.ws.set_freeze_panes(row as u32 + 1, 1)?;
        let last_row = (row + rows).min(MAX_ROWS - 1);
        self.ws
            .autofilter(row as u32, 0, last_row as u32, headers.len().saturating_sub(1) as u16)?;
        Ok(())
    }
}

/// Cuts a value to what one cell can hold.
fn clip(value: &str) -> &str {
    match value.char_indices().nth(MAX_CELL_CHARS) {
        Some((at, _)) => &value[..at],
        None => value,
    }
}

/// How many data rows fit below a header at row 0; the rest is cut and a
/// note says so.
fn room(rows: usize) -> usize {
    rows.min(MAX_ROWS - 2)
}

/// The matrix's location columns, split into the ranges each Matrix sheet
/// holds: one range unless the estate is wider than a sheet.
fn matrix_parts(locations: usize) -> Vec<std::ops::Range<usize>> {
    if locations == 0 {
        return std::iter::once(0..0).collect();
    }
    (0..locations)
        .step_by(LOCATIONS_PER_SHEET)
        .map(|start| start..(start + LOCATIONS_PER_SHEET).min(locations))
        .collect()
}

/// Below the last row Excel holds: how many rows of `what` were cut.
fn note_cut_rows(
    sheet: &mut Sheet,
    total: usize,
    shown: usize,
    what: &str,
    see: &str,
    styles: &Styles,
) -> Result<(), XlsxError> {
    if total > shown {
        let note = format!(
            "{} more {what} not shown: Excel holds at most {MAX_ROWS} rows; see {see}",
            total - shown
        );
        sheet.text(shown + 1, 1, &note, &styles.text)?;
    }
    Ok(())
}

fn summary_sheet(ws: &mut Worksheet, audit: &Audit, styles: &Styles, matrix_sheets: usize) -> Result<(), XlsxError> {
    let mut sheet = Sheet::new(ws, "Summary")?;
    let s = &audit.summary;
    sheet.text(0, 0, "SMS 2.0 share audit", &styles.title)?;
    sheet.text(1, 0, &format!("{} {}", audit.tool, audit.version), &styles.text)?;
    let mut row = 3;
    sheet.text(row, 0, "Roots audited", &styles.header)?;
    sheet.text(row, 1, "", &styles.header)?;
    for root in &audit.roots {
        row += 1;
        sheet.text(row, 0, root, &styles.text)?;
    }
    row += 2;
    sheet.text(row, 0, "Count", &styles.header)?;
    sheet.text(row, 1, "Value", &styles.header)?;
    let counts: [(&str, u64); 10] = [
        ("Locations (shares)", s.locations as u64),
        ("Unreadable locations", s.unreadable_locations as u64),
        ("Files", s.files),
        ("Bytes", s.bytes),
        ("Unreadable files", s.unreadable_files),
        ("Unreadable folders", s.unreadable_folders),
        ("Mismatched matrix rows", s.mismatched_items as u64),
        ("Findings: error", s.errors as u64),
        ("Findings: warning", s.warnings as u64),
        ("Findings: info", s.infos as u64),
    ];
    for (label, value) in counts {
        row += 1;
        sheet.text(row, 0, label, &styles.text)?;
        sheet.number(row, 1, value as f64, &styles.number)?;
    }
    row += 2;
    sheet.text(row, 0, "Matrix colour", &styles.header)?;
    sheet.text(row, 1, "Meaning", &styles.header)?;
    for swatch in palette::legend() {
        row += 1;
        sheet.text(row, 0, &swatch.label, styles.swatch(swatch))?;
        sheet.text(row, 1, &swatch.meaning, &styles.text)?;
    }
    row += 2;
    sheet.text(
        row,
        0,
        "Cells starting with !! disagree with the value in (expected ...). Every value from the shares is stored as text.",
        &styles.text,
    )?;
    if matrix_sheets > 1 {
        row += 1;
        let note = format!(
            "The matrix has {} locations, more than one sheet's {MAX_COLUMNS} columns hold: it is split over sheets Matrix to Matrix {matrix_sheets}, {LOCATIONS_PER_SHEET} locations each, every sheet with the item columns.",
            audit.matrix.columns.len()
        );
        sheet.text(row, 0, &note, &styles.text)?;
    }
    // The note is long: do not let it widen column A.
    sheet.widths[0] = 28;
    sheet.fit_columns()
}

/// One Matrix sheet: the key columns and the location columns `columns`.
fn matrix_sheet(
    ws: &mut Worksheet,
    audit: &Audit,
    styles: &Styles,
    name: &str,
    columns: std::ops::Range<usize>,
) -> Result<(), XlsxError> {
    let mut sheet = Sheet::new(ws, name)?;
    let matrix = &audit.matrix;
    let mut headers = KEY_COLUMNS.to_vec();
    headers.extend(matrix.columns[columns.clone()].iter().map(|c| c.header.as_str()));
    let rows = room(matrix.rows.len());
    sheet.table_header(0, &headers, rows, styles)?;
    for (r, row) in matrix.rows.iter().take(rows).enumerate() {
        let at = r + 1;
        let mark = if row.mismatch {
            styles.swatch(&palette::MISMATCH)
        } else {
            &styles.text
        };
        // The item and the mismatch flag carry the row's colour.
        for (c, value) in row.key_cells().into_iter().enumerate() {
            let format = if c == 0 || c == KEY_COLUMNS.len() - 1 {
                mark
            } else {
                &styles.text
            };
            sheet.text(at, c, value, format)?;
        }
        for (c, cell) in row.cells[columns.clone()].iter().enumerate() {
            sheet.text(
                at,
                KEY_COLUMNS.len() + c,
                &cell.text,
                styles.swatch(palette::swatch(cell)),
            )?;
        }
    }
    note_cut_rows(&mut sheet, matrix.rows.len(), rows, "items", "matrix.csv", styles)?;
    sheet.fit_columns()
}

fn findings_sheet(ws: &mut Worksheet, audit: &Audit, styles: &Styles) -> Result<(), XlsxError> {
    let mut sheet = Sheet::new(ws, "Findings")?;
    let rows = room(audit.findings.len());
    sheet.table_header(0, &Finding::COLUMNS, rows, styles)?;
    for (r, f) in audit.findings.iter().take(rows).enumerate() {
        let at = r + 1;
        let severity = styles.severity.get(f.severity.as_str()).unwrap_or(&styles.text);
        for (c, value) in f.cells().into_iter().enumerate() {
            sheet.text(at, c, value, if c == 0 { severity } else { &styles.text })?;
        }
    }
    note_cut_rows(
        &mut sheet,
        audit.findings.len(),
        rows,
        "findings",
        "findings.csv",
        styles,
    )?;
    sheet.fit_columns()
}

fn files_sheet(ws: &mut Worksheet, audit: &Audit, styles: &Styles) -> Result<(), XlsxError> {
    let mut sheet = Sheet::new(ws, "Files")?;
    let rows = room(audit.files.len());
    sheet.table_header(0, &super::FILE_COLUMNS, rows, styles)?;
    for (r, f) in audit.files.iter().take(rows).enumerate() {
        let at = r + 1;
        sheet.text(at, 0, &f.location, &styles.text)?;
        sheet.text(at, 1, &f.path, &styles.text)?;
        // The one numeric column by design: sortable by size.
        if let Some(size) = f.size {
            sheet.number(at, 2, size as f64, &styles.number)?;
        }
        for (c, value) in f.text_cells().into_iter().enumerate() {
            sheet.text(at, c + 3, value, &styles.text)?;
        }
    }
    note_cut_rows(&mut sheet, audit.files.len(), rows, "files", "files.csv", styles)?;
    sheet.fit_columns()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_estate_wider_than_a_sheet_is_split_over_matrix_sheets() {
        let one = |range| std::iter::once(range).collect::<Vec<_>>();
        assert_eq!(matrix_parts(0), one(0..0));
        assert_eq!(matrix_parts(3), one(0..3));
        assert_eq!(matrix_parts(LOCATIONS_PER_SHEET), one(0..LOCATIONS_PER_SHEET));
        let wide = 2 * LOCATIONS_PER_SHEET + 1;
        assert_eq!(
            matrix_parts(wide),
            [
                0..LOCATIONS_PER_SHEET,
                LOCATIONS_PER_SHEET..2 * LOCATIONS_PER_SHEET,
                2 * LOCATIONS_PER_SHEET..wide
            ]
        );
        assert!(KEY_COLUMNS.len() + LOCATIONS_PER_SHEET <= MAX_COLUMNS);
    }
}

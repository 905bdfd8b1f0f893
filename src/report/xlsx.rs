//! `audit.xlsx`: one workbook in the order people need it: Summary (when,
//! verdict, counts, legend), Causes, Sites, Upgrade and Drift when asked
//! for, then Matrix, Findings and Files. Every value read from a share is
//! written as a string cell, so opening the workbook never runs a formula
//! nor re-types a version. Every sheet prints landscape, one page wide,
//! with its header row on every page.

use super::palette::{self, Swatch};
use super::table::{self, Table};
use crate::audit::{Audit, FilesOfInterest};
use crate::clientlogs::Symptoms;
use crate::drift::Change;
use crate::history::HistorySummary;
use crate::matrix::{DisplayOrder, Part, KEY_COLUMNS, PRINT_PART_SHARES};
use crate::model::{FileRecord, Severity};
use crate::text::{self, Controls};
use crate::upgrade::UpgradePlan;
use anyhow::{Context, Result};
use rust_xlsxwriter::{
    Color, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};
use std::collections::{BTreeMap, HashMap};

/// Excel's limits: characters in a cell, rows and columns in a sheet.
const MAX_CELL_CHARS: usize = 32_767;
const MAX_ROWS: usize = 1_048_576;
const MAX_COLUMNS: usize = 16_384;
/// Locations one Matrix sheet holds beside the key columns; a wider
/// estate continues on sheets "Matrix 2", "Matrix 3"...
const LOCATIONS_PER_SHEET: usize = MAX_COLUMNS - KEY_COLUMNS.len();
/// Share cells one Matrix sheet holds at most (beyond its first share's),
/// and all the Matrix sheets together: a sheet a person can scroll, a
/// workbook that opens (rust_xlsxwriter holds a sheet's cells in memory,
/// about 100 bytes each); matrix.csv has every cell. A 1,000-share estate
/// of 200 sites (220 items) fits one sheet.
const MAX_SHEET_CELLS: usize = 250_000;
const MAX_MATRIX_CELLS: usize = 250_000;
/// Widest column we set, in characters.
const MAX_WIDTH: usize = 60;
/// Width of columns that hold prose (Problem, Fix, titles), wrapped.
const PROSE_WIDTH: f64 = 60.0;
/// A4 in Excel's paper codes.
const PAPER_A4: u8 = 9;
/// Bytes as people read them, in the decimal units of
/// [`text::human_size`] up to MB (larger sizes show as thousands of MB);
/// the cell keeps the exact number.
const SIZE_FORMAT: &str = r#"[<1000]0" B";[<1000000]0.0," kB";0.0,," MB""#;

/// The workbook in memory: for tests and small audits; the report set
/// streams it with [`write`].
pub fn audit(audit: &Audit) -> Result<Vec<u8>> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    write(audit, None, &mut bytes)?;
    Ok(bytes.into_inner())
}

/// Writes the workbook into `out`, which its zip seeks back in: only the
/// small sheets are held in memory, the rows of the Matrix, Findings and
/// Files sheets go through an anonymous temporary file (rust_xlsxwriter's
/// constant memory mode, strings inline),
/// created in `staging` (the output folder of the report set: `$TMPDIR`
/// may be small, full or unwritable). Anonymous, it is gone however the
/// run ends; `None` (the in-memory workbook) uses the system's.
pub(crate) fn write(
    audit: &Audit,
    staging: Option<&std::path::Path>,
    out: impl std::io::Write + std::io::Seek + Send,
) -> Result<()> {
    let mut workbook = Workbook::new();
    // Deflate level 3 instead of 6: half the compression time (zlib on the
    // workbook's XML at 100,000 files: 31 -> 16 ms) for a file 13 % larger.
    workbook.set_zip_compression_level(3);
    if let Some(dir) = staging {
        workbook
            .set_tempdir(dir)
            .with_context(|| format!("cannot create the workbook's scratch file in {}", dir.display()))?;
    }
    // A fixed creation time keeps the output byte-identical across runs.
    let created = ExcelDateTime::from_ymd(2000, 1, 1)?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title("smsaudit report")
            .set_creation_datetime(&created),
    );
    let styles = Styles::new();
    let order = audit.matrix.display_order(&audit.findings);
    let matrix_parts = matrix_parts(audit, &order);
    summary_sheet(workbook.add_worksheet(), audit, &styles, &matrix_parts)?;
    causes_sheet(workbook.add_worksheet(), audit, &styles)?;
    sites_sheet(workbook.add_worksheet(), audit, &styles)?;
    if let Some(plan) = &audit.upgrade {
        upgrade_sheet(workbook.add_worksheet(), plan, &styles)?;
    }
    if let Some(since) = &audit.history {
        history_sheet(workbook.add_worksheet(), audit, since, &styles)?;
    }
    if let Some(changes) = &audit.drift {
        drift_sheet(workbook.add_worksheet(), changes, &styles)?;
    }
    if let Some(symptoms) = &audit.symptoms {
        symptoms_sheet(workbook.add_worksheet(), symptoms, &styles)?;
    }
    // The sheets with a row per matrix item, finding or file (250,000
    // cells, 31,590 findings at 10,000 shares; a million files) stream
    // their rows to a temporary file instead of holding them in memory.
    for (at, part) in matrix_parts.iter().enumerate() {
        matrix_sheet(
            workbook.add_worksheet_with_constant_memory()?,
            audit,
            &styles,
            &matrix_sheet_name(at),
            part,
        )?;
    }
    findings_sheet(workbook.add_worksheet_with_constant_memory()?, audit, &styles)?;
    files_sheet(workbook.add_worksheet_with_constant_memory()?, audit, &styles)?;
    workbook.save_to_writer(out)?;
    Ok(())
}

struct Styles {
    header: Format,
    /// A header whose text wraps (the matrix's long location names).
    header_wrap: Format,
    title: Format,
    text: Format,
    /// Prose and lists: wrapped, so nothing is cut.
    wrap: Format,
    number: Format,
    size: Format,
    swatches: HashMap<&'static str, Format>,
    /// The same, wrapped: a matrix cell longer than its column.
    swatches_wrap: HashMap<&'static str, Format>,
    severity: HashMap<&'static str, Format>,
}

impl Styles {
    fn new() -> Styles {
        let text = Format::new().set_num_format("@").set_align(FormatAlign::Top);
        let header = Format::new()
            .set_bold()
            .set_num_format("@")
            .set_align(FormatAlign::Top)
            .set_background_color(Color::RGB(0x1F3A5F))
            .set_font_color(Color::White)
            .set_border_bottom(FormatBorder::Thin);
        let swatches = palette::legend()
            .into_iter()
            .map(|s| (s.key.as_ref(), swatch_format(s)))
            .collect();
        let swatches_wrap = palette::legend()
            .into_iter()
            .map(|s| (s.key.as_ref(), swatch_format(s).set_text_wrap()))
            .collect();
        let severity = Severity::ALL
            .into_iter()
            .map(|severity| {
                let (fill, ink) = palette::severity(severity);
                (
                    severity.as_str(),
                    Format::new()
                        .set_num_format("@")
                        .set_align(FormatAlign::Top)
                        .set_background_color(Color::RGB(fill))
                        .set_font_color(Color::RGB(ink)),
                )
            })
            .collect();
        Styles {
            header_wrap: header.clone().set_text_wrap(),
            header,
            title: Format::new().set_bold().set_font_size(14).set_num_format("@"),
            wrap: text.clone().set_text_wrap(),
            text,
            number: Format::new().set_num_format("#,##0").set_align(FormatAlign::Top),
            size: Format::new().set_num_format(SIZE_FORMAT).set_align(FormatAlign::Top),
            swatches,
            swatches_wrap,
            severity,
        }
    }

    fn swatch(&self, s: &Swatch) -> &Format {
        &self.swatches[s.key.as_ref()]
    }

    fn swatch_wrap(&self, s: &Swatch) -> &Format {
        &self.swatches_wrap[s.key.as_ref()]
    }

    fn severity(&self, severity: Severity) -> &Format {
        self.severity_named(severity.as_str())
    }

    /// The format of a severity cell, by its text.
    fn severity_named(&self, severity: &str) -> &Format {
        self.severity.get(severity).unwrap_or(&self.text)
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
    /// Column widths as set, in characters.
    set_widths: Vec<f64>,
    /// Wrapped cells: row, column and the length of each of its lines, to
    /// make the row tall enough (spreadsheets do not grow rows on opening).
    wrapped: Vec<(usize, usize, Vec<usize>)>,
    /// Rows go out as they are written (constant memory): the columns are
    /// measured and their widths set first, and each row takes its height
    /// as soon as it is written.
    streamed: bool,
    /// Cells are measured, not written: the first pass over a streamed
    /// sheet.
    measuring: bool,
}

impl<'a> Sheet<'a> {
    /// A named sheet that prints landscape on A4, one page wide and as many
    /// long as it takes.
    fn new(ws: &'a mut Worksheet, name: &str) -> Result<Sheet<'a>, XlsxError> {
        ws.set_name(name)?;
        ws.set_landscape();
        ws.set_paper_size(PAPER_A4);
        ws.set_print_fit_to_pages(1, 0);
        ws.set_margins(0.4, 0.4, 0.5, 0.5, 0.3, 0.3);
        ws.set_footer(format!("&L{name}&RPage &P of &N"));
        Ok(Sheet {
            ws,
            widths: Vec::new(),
            set_widths: Vec::new(),
            wrapped: Vec::new(),
            streamed: false,
            measuring: false,
        })
    }

    /// A sheet whose rows go to the workbook's scratch file as they are
    /// written, so that a big table is not held in memory: its widths must
    /// be set before its rows are written ([`Sheet::measured`]).
    fn streamed(ws: &'a mut Worksheet, name: &str) -> Result<Sheet<'a>, XlsxError> {
        let mut sheet = Sheet::new(ws, name)?;
        sheet.streamed = true;
        Ok(sheet)
    }

    fn set_width(&mut self, col: usize, width: f64) -> Result<(), XlsxError> {
        if self.set_widths.len() <= col {
            self.set_widths.resize(col + 1, 8.43);
        }
        self.set_widths[col] = width;
        self.ws.set_column_width(col as u16, width)?;
        Ok(())
    }

    /// A cell whose text wraps within its column.
    fn wrap_text(&mut self, row: usize, col: usize, value: &str, styles: &Styles) -> Result<(), XlsxError> {
        self.wrap_with(row, col, value, &styles.wrap)
    }

    /// A cell whose text wraps within its column, in a wrapping `format`.
    fn wrap_with(&mut self, row: usize, col: usize, value: &str, format: &Format) -> Result<(), XlsxError> {
        if !self.measuring {
            self.wrapped
                .push((row, col, value.lines().map(|l| l.chars().count()).collect()));
        }
        self.text(row, col, value, format)
    }

    /// Makes each row with a wrapped cell tall enough for its lines, once
    /// the column widths are set.
    fn fit_rows(&mut self) -> Result<(), XlsxError> {
        /// Words wrap before the column is full.
        const FILL: f64 = 0.85;
        const LINE_POINTS: f64 = 15.0;
        let mut lines: BTreeMap<usize, usize> = BTreeMap::new();
        for (row, col, lengths) in std::mem::take(&mut self.wrapped) {
            let width = self.set_widths.get(col).copied().unwrap_or(8.43);
            let per_line = ((width - 1.0) * FILL).max(1.0);
            let count: usize = lengths
                .iter()
                .map(|&len| ((len as f64) / per_line).ceil().max(1.0) as usize)
                .sum();
            let entry = lines.entry(row).or_default();
            *entry = (*entry).max(count);
        }
        for (row, count) in lines.into_iter().filter(|&(_, count)| count > 1) {
            self.ws.set_row_height(row as u32, count as f64 * LINE_POINTS)?;
        }
        Ok(())
    }

    /// Prose columns: a fixed width, with their cells wrapped.
    fn prose_columns(&mut self, columns: &[usize], width: f64) -> Result<(), XlsxError> {
        for &col in columns {
            self.set_width(col, width)?;
        }
        Ok(())
    }

    /// Writes `values` as one row; the columns in `wrapped` wrap.
    fn row<S: AsRef<str>>(
        &mut self,
        row: usize,
        values: &[S],
        wrapped: &[usize],
        styles: &Styles,
    ) -> Result<(), XlsxError> {
        for (col, value) in values.iter().enumerate() {
            if wrapped.contains(&col) {
                self.wrap_text(row, col, value.as_ref(), styles)?;
            } else {
                self.text(row, col, value.as_ref(), &styles.text)?;
            }
        }
        Ok(())
    }

    fn text(&mut self, row: usize, col: usize, value: &str, format: &Format) -> Result<(), XlsxError> {
        let value = self.shown(col, value);
        if self.measuring {
            return Ok(());
        }
        self.ws
            .write_string_with_format(row as u32, col as u16, value.as_ref(), format)?;
        Ok(())
    }

    /// A string cell in the format of its column ([`Worksheet::set_column_format`]).
    fn column_text(&mut self, row: usize, col: usize, value: &str) -> Result<(), XlsxError> {
        let value = self.shown(col, value);
        self.ws.write_string(row as u32, col as u16, value.as_ref())?;
        Ok(())
    }

    /// A value as the cell shows it, measured for its column's width.
    fn shown<'v>(&mut self, col: usize, value: &'v str) -> std::borrow::Cow<'v, str> {
        // A workbook is read by people: bidi and invisible characters are
        // named, as in report.html and the spreadsheet CSV.
        let value = match text::visible(value, Controls::Keep) {
            std::borrow::Cow::Borrowed(value) => std::borrow::Cow::Borrowed(clip(value)),
            std::borrow::Cow::Owned(value) => std::borrow::Cow::Owned(clip(&value).to_string()),
        };
        // A wrapped cell is as wide as its longest line.
        let longest = if value.contains('\n') {
            value.lines().map(|l| l.chars().count()).max().unwrap_or(0)
        } else {
            value.chars().count()
        };
        self.measure(col, longest);
        value
    }

    fn number(&mut self, row: usize, col: usize, value: f64, format: &Format) -> Result<(), XlsxError> {
        self.measure(col, 14);
        self.ws
            .write_number_with_format(row as u32, col as u16, value, format)?;
        Ok(())
    }

    /// A number cell in the format of its column.
    fn column_number(&mut self, row: usize, col: usize, value: f64) -> Result<(), XlsxError> {
        self.measure(col, 14);
        self.ws.write_number(row as u32, col as u16, value)?;
        Ok(())
    }

    /// Measures the columns for what `write` writes, without writing it.
    fn measured(&mut self, write: impl FnOnce(&mut Sheet<'a>) -> Result<(), XlsxError>) -> Result<(), XlsxError> {
        self.measuring = true;
        let measured = write(self);
        self.measuring = false;
        measured
    }

    /// Once a row is written: in a streamed sheet, its height.
    fn row_done(&mut self) -> Result<(), XlsxError> {
        if self.streamed && !self.measuring {
            self.fit_rows()?;
        }
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
        for col in 0..self.widths.len().min(MAX_COLUMNS) {
            let width = (self.widths[col] + 3).clamp(8, MAX_WIDTH);
            self.set_width(col, width as f64)?;
        }
        Ok(())
    }

    /// Header row at `row`, bold, frozen with the first column, repeated
    /// on every printed page, with an autofilter over `rows` data rows
    /// below it.
    fn table_header(&mut self, row: usize, headers: &[&str], rows: usize, styles: &Styles) -> Result<(), XlsxError> {
        for (col, header) in headers.iter().enumerate() {
            self.text(row, col, header, &styles.header)?;
        }
        self.ws.set_freeze_panes(row as u32 + 1, 1)?;
        self.ws.set_repeat_rows(row as u32, row as u32)?;
        let last_row = (row + rows).min(MAX_ROWS - 1);
        self.ws
            .autofilter(row as u32, 0, last_row as u32, headers.len().saturating_sub(1) as u16)?;
        Ok(())
    }

    /// `table`'s header at row `at` ([`Sheet::table_header`]), then its
    /// first `rows` rows below it; the columns in `wrapped` wrap, and a
    /// `severity` column takes the colour of its severity.
    fn table(
        &mut self,
        at: usize,
        table: &Table,
        rows: usize,
        wrapped: &[usize],
        styles: &Styles,
    ) -> Result<(), XlsxError> {
        self.table_header(at, table.header, rows, styles)?;
        let severity = table.header.iter().position(|c| *c == "severity");
        for (r, values) in table.rows.iter().take(rows).enumerate() {
            let row = at + 1 + r;
            self.row(row, values, wrapped, styles)?;
            if let Some(col) = severity {
                self.text(row, col, &values[col], styles.severity_named(&values[col]))?;
            }
            self.row_done()?;
        }
        Ok(())
    }
}

/// Cuts a value to what one cell can hold.
fn clip(value: &str) -> &str {
    // Never more characters than bytes.
    if value.len() <= MAX_CELL_CHARS {
        return value;
    }
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

/// The Matrix sheets: the matrix's [`Part`]s of at most
/// [`LOCATIONS_PER_SHEET`] locations and [`MAX_SHEET_CELLS`] cells each,
/// as many as [`MAX_MATRIX_CELLS`] allow (at least one).
fn matrix_parts(audit: &Audit, order: &DisplayOrder) -> Vec<Part> {
    let mut cells = 0;
    let mut parts = Vec::new();
    for part in audit.matrix.parts(order, LOCATIONS_PER_SHEET, MAX_SHEET_CELLS) {
        cells += part.columns.len() * part.rows.len();
        if !parts.is_empty() && cells > MAX_MATRIX_CELLS {
            break;
        }
        parts.push(part);
    }
    parts
}

fn matrix_sheet_name(at: usize) -> String {
    match at {
        0 => "Matrix".to_string(),
        _ => format!("Matrix {}", at + 1),
    }
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

fn summary_sheet(ws: &mut Worksheet, audit: &Audit, styles: &Styles, matrix_parts: &[Part]) -> Result<(), XlsxError> {
    let mut sheet = Sheet::new(ws, "Summary")?;
    // The summary is one printed page.
    sheet.ws.set_print_fit_to_pages(1, 1);
    let s = &audit.summary;
    sheet.text(0, 0, "SMS 2.0 share audit", &styles.title)?;
    let mut row = 2;
    sheet.text(row, 0, "When and what", &styles.header)?;
    sheet.text(row, 1, "", &styles.header)?;
    let run: [(&str, String); 3] = [
        ("Started (UTC)", audit.started.clone()),
        ("Duration (seconds)", format!("{:.1}", audit.duration_seconds)),
        ("Tool", format!("{} {}", audit.tool, audit.version)),
    ];
    for (label, value) in run {
        row += 1;
        sheet.text(row, 0, label, &styles.text)?;
        sheet.text(row, 1, &value, &styles.text)?;
    }
    for (i, root) in audit.roots.iter().enumerate() {
        row += 1;
        sheet.text(row, 0, if i == 0 { "Roots" } else { "" }, &styles.text)?;
        sheet.text(row, 1, root, &styles.text)?;
    }
    if let Some(inventory) = &audit.inventory {
        row += 1;
        sheet.text(row, 0, "Inventory", &styles.text)?;
        sheet.text(row, 1, inventory, &styles.text)?;
    }
    if let Some(baseline) = &audit.baseline {
        row += 1;
        sheet.text(row, 0, "Baseline", &styles.text)?;
        sheet.text(row, 1, baseline, &styles.text)?;
    }
    row += 2;
    let verdict = audit.verdict();
    sheet.text(row, 0, "Verdict", &styles.header)?;
    let level = match verdict.level() {
        "error" => styles.swatch(&palette::MISMATCH),
        "not-checked" => styles.swatch(&palette::UNREADABLE),
        "warning" => styles.severity(Severity::Warning),
        _ => &styles.text,
    };
    sheet.text(row, 1, &verdict.headline(), level)?;
    for line in audit.verdict_lines() {
        row += 1;
        sheet.wrap_text(row, 1, &line, styles)?;
    }
    row += 2;
    sheet.text(row, 0, "Count", &styles.header)?;
    sheet.text(row, 1, "Value", &styles.header)?;
    let counts: [(&str, u64); 10] = [
        ("Causes to fix", s.causes as u64),
        ("Findings: error", s.errors as u64),
        ("Findings: warning", s.warnings as u64),
        ("Findings: info", s.infos as u64),
        ("Mismatched matrix rows", s.mismatched_items as u64),
        ("Locations (shares)", s.locations as u64),
        ("Unreadable locations", s.unreadable_locations as u64),
        ("Files", s.files),
        ("Unreadable files", s.unreadable_files),
        ("Unreadable folders", s.unreadable_folders),
    ];
    for (label, value) in counts {
        row += 1;
        sheet.text(row, 0, label, &styles.text)?;
        sheet.number(row, 1, value as f64, &styles.number)?;
    }
    row += 1;
    sheet.text(row, 0, "Size read", &styles.text)?;
    sheet.number(row, 1, s.bytes as f64, &styles.size)?;
    row += 2;
    sheet.text(row, 0, "Matrix colour", &styles.header)?;
    sheet.text(row, 1, "Meaning", &styles.header)?;
    for swatch in palette::legend() {
        row += 1;
        sheet.text(row, 0, &swatch.label, styles.swatch(swatch))?;
        sheet.wrap_text(row, 1, &swatch.meaning, styles)?;
    }
    row += 2;
    sheet.wrap_text(
        row,
        1,
        "Cells starting with !! disagree with the value in (expected ...). Rows that need attention come first; shares stand by upgrade group (the sites that share logon points), site by site, each logon point beside the sites it serves. Filter the mismatch column to see only mismatches. Every value from the shares is stored as text.",
        styles,
    )?;
    if let Some(note) = matrix_note(audit, matrix_parts) {
        row += 1;
        sheet.wrap_text(row, 1, &note, styles)?;
    }
    sheet.widths[0] = 24;
    sheet.fit_columns()?;
    sheet.prose_columns(&[1], 100.0)?;
    sheet.fit_rows()
}

fn causes_sheet(ws: &mut Worksheet, audit: &Audit, styles: &Styles) -> Result<(), XlsxError> {
    let mut sheet = Sheet::new(ws, "Causes")?;
    let table = table::causes(audit);
    let rows = room(table.rows.len());
    let wrapped = table.columns(&["title", "sites", "locations", "fix"]);
    sheet.table(0, &table, rows, &wrapped, styles)?;
    if audit.causes.is_empty() {
        sheet.text(1, 0, "No cause: nothing to fix.", &styles.text)?;
    }
    note_cut_rows(&mut sheet, audit.causes.len(), rows, "causes", "causes.csv", styles)?;
    sheet.fit_columns()?;
    sheet.prose_columns(&table.columns(&["title", "fix"]), PROSE_WIDTH)?;
    sheet.prose_columns(&table.columns(&["sites", "locations"]), 24.0)?;
    sheet.fit_rows()
}

fn sites_sheet(ws: &mut Worksheet, audit: &Audit, styles: &Styles) -> Result<(), XlsxError> {
    let mut sheet = Sheet::new(ws, "Sites")?;
    let table = table::sites(audit);
    let rows = room(table.rows.len());
    // Every column but the site's and its causes'.
    let wrapped: Vec<usize> = (1..table.header.len())
        .filter(|&i| table.header[i] != "causes")
        .collect();
    sheet.table(0, &table, rows, &wrapped, styles)?;
    note_cut_rows(&mut sheet, audit.sites.len(), rows, "sites", "audit.json", styles)?;
    sheet.fit_columns()?;
    sheet.fit_rows()
}

fn upgrade_sheet(ws: &mut Worksheet, plan: &UpgradePlan, styles: &Styles) -> Result<(), XlsxError> {
    let mut sheet = Sheet::new(ws, "Upgrade")?;
    let headline = crate::upgrade::summary(plan);
    let headline = headline.lines().next().unwrap_or_default();
    let format = match plan.verdict {
        crate::upgrade::PlanVerdict::Safe => &styles.text,
        _ => styles.swatch(&palette::MISMATCH),
    };
    sheet.text(0, 0, headline, format)?;
    let table = table::upgrade(plan);
    let wrapped = table.columns(&[
        "caps",
        "logon_points",
        "prerequisites",
        "steps",
        "advice",
        "findings_remaining",
        "findings_going_away",
    ]);
    sheet.table(2, &table, table.rows.len(), &wrapped, styles)?;
    sheet.widths[0] = sheet.widths[0].min(24);
    sheet.fit_columns()?;
    sheet.prose_columns(&table.columns(&["prerequisites", "steps", "advice"]), PROSE_WIDTH)?;
    sheet.fit_rows()
}

/// What is new since the previous run of the history, then what was
/// resolved.
fn history_sheet(ws: &mut Worksheet, audit: &Audit, since: &HistorySummary, styles: &Styles) -> Result<(), XlsxError> {
    let mut sheet = Sheet::new(ws, "History")?;
    let headline = match &since.previous_run {
        None => format!(
            "The first run in the history {}: nothing to compare with yet.",
            since.file
        ),
        Some(previous) => format!(
            "Compared with the run that started {previous}: {} new, {} resolved.",
            since.new.len(),
            since.resolved.len()
        ),
    };
    sheet.text(0, 0, &headline, &styles.text)?;
    let table = table::history(audit, since);
    let rows = room(table.rows.len());
    let wrapped = table.columns(&["location", "path", "observed"]);
    sheet.table(2, &table, rows, &wrapped, styles)?;
    sheet.fit_columns()?;
    sheet.fit_rows()
}

/// Every symptom line of the client logs and what explains it.
fn symptoms_sheet(ws: &mut Worksheet, symptoms: &Symptoms, styles: &Styles) -> Result<(), XlsxError> {
    let mut sheet = Sheet::new(ws, "Client symptoms")?;
    let c = &symptoms.counts;
    let headline = format!(
        "{} symptom lines ({} kinds, one row each) from {} clients ({} logs): {} explained by a cause, {} not checked, {} unexplained, {} not share-related.{}{}",
        c.symptoms,
        c.rows,
        c.clients,
        c.logs,
        c.explained,
        c.not_checked,
        c.unexplained,
        c.not_share_related,
        match c.before_fix {
            0 => String::new(),
            n => format!(" {n} predate the fix of the finding that explained them (--history)."),
        },
        match c.not_kept {
            0 => String::new(),
            n => format!(
                " {n} lines of kinds beyond the first {} were counted, not kept: see symptoms.csv.",
                crate::clientlogs::MAX_SYMPTOM_ROWS
            ),
        }
    );
    sheet.text(0, 0, &headline, &styles.text)?;
    // The symptom lines: the table's rows of logs not read wholly are
    // symptoms.csv's.
    let table = table::symptoms(symptoms);
    // Below the headline and the header: never past Excel's last row.
    let rows = symptoms.lines.len().min(MAX_ROWS - 4);
    let wrapped = table.columns(&["location", "path", "reason", "example"]);
    sheet.table(2, &table, rows, &wrapped, styles)?;
    if symptoms.lines.is_empty() {
        sheet.text(3, 0, "No symptom in the client logs.", &styles.text)?;
    }
    note_cut_rows(
        &mut sheet,
        symptoms.lines.len(),
        rows,
        "symptom lines",
        "symptoms.csv",
        styles,
    )?;
    for &col in &wrapped {
        if let Some(width) = sheet.widths.get_mut(col) {
            *width = (*width).min(32);
        }
    }
    sheet.fit_columns()?;
    sheet.prose_columns(&table.columns(&["reason", "example"]), PROSE_WIDTH)?;
    sheet.fit_rows()
}

fn drift_sheet(ws: &mut Worksheet, changes: &[Change], styles: &Styles) -> Result<(), XlsxError> {
    let mut sheet = Sheet::new(ws, "Drift")?;
    let table = table::drift(changes);
    let rows = room(table.rows.len());
    sheet.table(0, &table, rows, &[], styles)?;
    if changes.is_empty() {
        sheet.text(1, 0, "No change since the baseline.", &styles.text)?;
    }
    note_cut_rows(&mut sheet, changes.len(), rows, "changes", "drift.csv", styles)?;
    sheet.fit_columns()
}

/// The least width of a location column of the matrix: its header wraps.
const MATRIX_HEADER_WIDTH: usize = 14;
/// The widest a location column of the matrix is, and its item column, in
/// characters: a longer cell (a marked mismatch, `!! found (expected ...)`)
/// wraps, so ten shares print on a page in a readable type.
const MATRIX_SHARE_WIDTH: usize = 18;
/// What the Matrix sheets hold when they do not hold the whole matrix on
/// one sheet: how it is split, and what is left out and where it is.
fn matrix_note(audit: &Audit, parts: &[Part]) -> Option<String> {
    let matrix = &audit.matrix;
    if let [part] = parts {
        if part.is_whole(matrix) {
            return None;
        }
    }
    let locations = matrix.columns.len();
    let shown: usize = parts.iter().map(|p| p.columns.len()).sum();
    let items = matrix.rows.len();
    let limits = format!("at most {LOCATIONS_PER_SHEET} locations and {MAX_SHEET_CELLS} cells a sheet");
    let mut note = match parts {
        [part] => format!(
            "The matrix has {locations} locations and {items} items, more than one sheet holds for reading: sheet Matrix holds the first {} locations in the matrix's order and the {} items that have a cell in them ({limits}).",
            part.columns.len(),
            part.rows.len()
        ),
        _ => format!(
            "The matrix has {locations} locations and {items} items, more than one sheet holds for reading: sheets Matrix to {} each hold a run of locations in the matrix's order with the items that have a cell in them ({limits}), every sheet with the item columns.",
            matrix_sheet_name(parts.len() - 1)
        ),
    };
    let cut: usize = parts.iter().map(|p| p.rows_cut).sum();
    if cut > 0 {
        note.push_str(&format!(" {cut} rows did not fit on their sheet."));
    }
    if shown < locations {
        note.push_str(&format!(
            " The last {} locations are left out of this workbook ({MAX_MATRIX_CELLS} cells at most).",
            locations - shown
        ));
    }
    note.push_str(" matrix.csv has every location and item.");
    Some(note)
}

const MATRIX_ITEM_WIDTH: usize = 32;

/// One Matrix sheet: the key columns and the location columns `part` of
/// the matrix's one column order, rows in display order (problem rows
/// first). It prints in parts of at most ten shares ([`PrintedParts`]).
fn matrix_sheet(ws: &mut Worksheet, audit: &Audit, styles: &Styles, name: &str, part: &Part) -> Result<(), XlsxError> {
    let mut sheet = Sheet::streamed(ws, name)?;
    let matrix = &audit.matrix;
    let mut headers = KEY_COLUMNS.to_vec();
    headers.extend(part.columns.clone().map(|c| matrix.columns[c].header.as_str()));
    let rows = room(part.rows.len());
    // Room for the filter button: a cell of this many characters fits.
    let fits = |width: usize, text: &str| text.chars().count() + 3 <= width;
    let write = |sheet: &mut Sheet| {
        sheet.table_header(0, &headers, rows, styles)?;
        // Location headers wrap: their columns are as wide as their cells.
        for (col, header) in headers.iter().enumerate().skip(KEY_COLUMNS.len()) {
            sheet.text(0, col, header, &styles.header_wrap)?;
            sheet.widths[col] = MATRIX_HEADER_WIDTH;
        }
        // Room for a location header on three lines.
        sheet.ws.set_row_height(0, 45)?;
        for (at, &r) in part.rows.iter().take(rows).enumerate() {
            let at = at + 1;
            let row = &matrix.rows[r];
            let mark = if row.mismatch() {
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
                if c == 0 && !fits(MATRIX_ITEM_WIDTH, value) {
                    let wrapped = if row.mismatch() {
                        styles.swatch_wrap(&palette::MISMATCH)
                    } else {
                        &styles.wrap
                    };
                    sheet.wrap_with(at, c, value, wrapped)?;
                } else {
                    sheet.text(at, c, value, format)?;
                }
            }
            for (c, (_, cell)) in matrix.cells_in(row, part.columns.clone()).enumerate() {
                let swatch = palette::swatch(cell);
                let col = KEY_COLUMNS.len() + c;
                if fits(MATRIX_SHARE_WIDTH, &cell.text) {
                    sheet.text(at, col, &cell.text, styles.swatch(swatch))?;
                } else {
                    sheet.wrap_with(at, col, &cell.text, styles.swatch_wrap(swatch))?;
                }
            }
            sheet.row_done()?;
        }
        note_cut_rows(sheet, part.rows.len(), rows, "items", "matrix.csv", styles)
    };
    sheet.measured(write)?;
    sheet.widths[0] = sheet.widths[0].min(MATRIX_ITEM_WIDTH - 3);
    for width in sheet.widths.iter_mut().skip(KEY_COLUMNS.len()) {
        *width = (*width).min(MATRIX_SHARE_WIDTH - 3);
    }
    sheet.fit_columns()?;
    write(&mut sheet)?;
    sheet.fit_rows()?;
    let printed = PrintedParts::of(&sheet.set_widths, KEY_COLUMNS.len());
    sheet.ws.set_repeat_columns(0, 0)?;
    sheet.ws.set_vertical_page_breaks(&printed.breaks)?;
    // A scale, not one page wide: the parts are the page widths.
    sheet.ws.set_print_scale(printed.scale);
    Ok(())
}

/// How the Matrix sheet prints: the key columns on the first pages, then
/// the share columns in parts of at most [`PRINT_PART_SHARES`] (fewer when
/// wide cells would need too small a type), each page with the item column
/// and the header row; one scale that fits the widest part on a landscape
/// A4 page.
#[derive(Debug, PartialEq, Eq)]
struct PrintedParts {
    /// The columns that start a new page width (a page break to their left).
    breaks: Vec<u32>,
    /// The print scale, in percent.
    scale: u16,
}

impl PrintedParts {
    /// Printable width of a landscape A4 page inside [`Sheet::new`]'s
    /// margins (11.69 in less 0.8 in, at 96 pixels per inch), less a little
    /// for the spreadsheet's rounding.
    const PAGE_PIXELS: f64 = (11.69 - 0.8) * 96.0 * 0.95;
    /// The smallest scale a part is packed for: below it the type is too
    /// small to read, so a part holds fewer shares instead.
    const LEAST_SCALE: f64 = 0.5;
    /// Pixels per character of column width. Excel with Calibri draws 7; a
    /// spreadsheet that stands in a wider font (LibreOffice without Carlito
    /// uses DejaVu Sans) draws about 9: counting 9 keeps every part on its
    /// page width in both, so no share column moves onto a page of its own.
    const CHAR_PIXELS: f64 = 9.0;
    const MAX_BREAKS: usize = 1_023;

    /// `widths`: the sheet's column widths in characters; the columns
    /// before `keys` are the key columns, the first one the item.
    fn of(widths: &[f64], keys: usize) -> PrintedParts {
        // A column's width in pixels, as spreadsheets draw it (Calibri 11).
        let pixels = |width: f64| width * Self::CHAR_PIXELS + 5.0;
        let item = widths.first().map_or(0.0, |&w| pixels(w));
        let room = Self::PAGE_PIXELS / Self::LEAST_SCALE;
        let mut breaks = Vec::new();
        let mut widest = widths.iter().take(keys).map(|&w| pixels(w)).sum::<f64>();
        let (mut part, mut shares) = (item, 0);
        for (col, &width) in widths.iter().enumerate().skip(keys) {
            let width = pixels(width);
            if shares == 0 || shares == PRINT_PART_SHARES || part + width > room {
                breaks.push(col as u32);
                (part, shares) = (item, 0);
            }
            part += width;
            shares += 1;
            widest = widest.max(part);
        }
        // Excel holds at most 1,023 manual breaks a sheet; past them the
        // spreadsheet breaks pages itself, at the same scale.
        breaks.truncate(Self::MAX_BREAKS);
        let scale = (Self::PAGE_PIXELS * 100.0 / widest.max(1.0)).floor().clamp(10.0, 100.0);
        PrintedParts {
            breaks,
            scale: scale as u16,
        }
    }
}

fn findings_sheet(ws: &mut Worksheet, audit: &Audit, styles: &Styles) -> Result<(), XlsxError> {
    let mut sheet = Sheet::streamed(ws, "Findings")?;
    let table = table::findings(audit);
    let rows = room(table.rows.len());
    let prose = table.columns(&["message", "fix"]);
    let wrapped = table.columns(&["location", "path", "observed", "expected", "message", "fix"]);
    let write = |sheet: &mut Sheet| {
        sheet.table(0, &table, rows, &wrapped, styles)?;
        note_cut_rows(sheet, audit.findings.len(), rows, "findings", "findings.csv", styles)
    };
    sheet.measured(write)?;
    for &col in &wrapped {
        if let Some(width) = sheet.widths.get_mut(col) {
            *width = (*width).min(32);
        }
    }
    sheet.fit_columns()?;
    sheet.prose_columns(&prose, PROSE_WIDTH)?;
    write(&mut sheet)?;
    sheet.fit_rows()
}

fn files_sheet(ws: &mut Worksheet, audit: &Audit, styles: &Styles) -> Result<(), XlsxError> {
    let mut sheet = Sheet::new(ws, "Files")?;
    let interest = FilesOfInterest::new(audit);
    // One row fewer than other tables: room for the count of the others
    // and the note of rows cut.
    let room = room(usize::try_from(audit.files.len()).unwrap_or(usize::MAX)).min(MAX_ROWS - 3);
    // The one numeric column by design: sortable by size, shown in kB and
    // MB, exact in the cell.
    const SIZE_COLUMN: usize = 2;
    // Each column carries its format and the cells take it from there:
    // a format given per cell is looked up by hashing it, a third of the
    // time a sheet of a million rows takes. An empty value is no cell.
    sheet.table_header(0, &FileRecord::COLUMNS, room, styles)?;
    for col in 0..FileRecord::COLUMNS.len() {
        let format = if col == SIZE_COLUMN { &styles.size } else { &styles.text };
        sheet.ws.set_column_format(col as u16, format)?;
    }
    // Only the files of interest are rows; the others are counted.
    let (mut shown, mut cut) = (0usize, 0usize);
    let others = interest.visit(&audit.files, XlsxError::IoError, |f| {
        if shown == room {
            cut += 1;
            return Ok(());
        }
        shown += 1;
        sheet.column_text(shown, 0, &f.location)?;
        sheet.column_text(shown, 1, &f.path)?;
        if let Some(size) = f.size {
            sheet.column_number(shown, SIZE_COLUMN, size as f64)?;
        }
        let mut hash = None;
        for (c, value) in f.text_cells(&mut hash).into_iter().enumerate() {
            sheet.column_text(shown, c + 3, value)?;
        }
        Ok(())
    })?;
    // The filter covers the rows written, now that they are known.
    sheet
        .ws
        .autofilter(0, 0, shown as u32, (FileRecord::COLUMNS.len() - 1) as u16)?;
    let mut at = shown + 1;
    if others > 0 {
        sheet.text(at, 1, &FilesOfInterest::others_note(others), &styles.text)?;
        at += 1;
    }
    note_cut_rows(&mut sheet, at - 1 + cut, at - 1, "files", "files.csv", styles)?;
    sheet.fit_columns()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 32 item 1: the Matrix sheet prints the key columns first, then
    /// parts of at most ten shares, fewer when the cells are wide, at one
    /// scale that fits the widest part.
    #[test]
    fn the_matrix_prints_in_parts_of_at_most_ten_shares() {
        let item = MATRIX_ITEM_WIDTH as f64;
        let keys = [item, 10.0, 14.0, 20.0, 9.0];
        let with = |shares: &[f64]| [&keys[..], shares].concat();
        // 38 shares as wide as they get: the keys, then 10, 10, 10 and 8.
        let share = MATRIX_SHARE_WIDTH as f64;
        let printed = PrintedParts::of(&with(&[share; 38]), 5);
        assert_eq!(printed.breaks, [5, 15, 25, 35]);
        let pixels = |width: f64| width * PrintedParts::CHAR_PIXELS + 5.0;
        let part = pixels(item) + 10.0 * pixels(share);
        assert_eq!(printed.scale, (PrintedParts::PAGE_PIXELS * 100.0 / part).floor() as u16);
        assert!(printed.scale >= 50, "{printed:?}");
        // Wide cells (marked mismatches): fewer shares a part, never below
        // the least scale.
        let printed = PrintedParts::of(&with(&[46.0; 12]), 5);
        assert_eq!(printed.breaks, [5, 9, 13]);
        assert!(printed.scale >= 50, "{printed:?}");
        // A narrow matrix: one part, full size.
        let printed = PrintedParts::of(&with(&[8.0; 3]), 5);
        assert_eq!(
            printed,
            PrintedParts {
                breaks: vec![5],
                scale: 100
            }
        );
        // The widest columns: three a part.
        let printed = PrintedParts::of(&with(&[60.0; 4]), 5);
        assert_eq!(printed.breaks, [5, 8]);
        // A share wider than the room still gets its part.
        let printed = PrintedParts::of(&with(&[300.0; 2]), 5);
        assert_eq!(printed.breaks, [5, 6]);
        // As many breaks as a sheet holds, however wide.
        let printed = PrintedParts::of(&with(&[share; 16_000]), 5);
        assert_eq!(printed.breaks.len(), PrintedParts::MAX_BREAKS);
    }

    /// How a matrix is cut into parts is `matrix::Parts`' (tested there);
    /// a sheet's part fits beside the key columns.
    #[test]
    fn a_matrix_sheet_fits_excel() {
        assert!(KEY_COLUMNS.len() + LOCATIONS_PER_SHEET <= MAX_COLUMNS);
        const { assert!(MAX_SHEET_CELLS <= MAX_MATRIX_CELLS) };
    }
}

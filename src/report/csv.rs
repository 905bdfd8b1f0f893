//! The CSV reports, in either CSV flavour: `matrix.csv` and `files.csv`
//! from the audit, the others from their [`table`]s.

use super::{table, CsvDialect, CsvFlavor};
use crate::audit::Audit;
use crate::matrix::KEY_COLUMNS;
use crate::model::FileRecord;
use crate::text::{self, Controls};
use anyhow::Result;

/// Neutralises a cell a spreadsheet would run as a formula (CWE-1236):
/// `=`, `+`, `-`, `@`, tab, CR, LF or NUL first get a leading apostrophe.
/// A CSV cell's apostrophe is shown as it is (it hides only when typed
/// into a cell), so a plain version (digits and dots: `698.0012`,
/// `2.00.1239.0000`) never gets one and reads the same in every column of
/// a row; a spreadsheet may show a version that looks like a decimal as a
/// number (`1.10` as 1.1), and audit.xlsx keeps every value as text.
/// Identifiers a spreadsheet would mangle beyond recognition get the
/// apostrophe: digits with a leading zero (`007` as 7), more than 15
/// digits, exponent forms (a fingerprint `1234e56...` as 1.2E+59). Plain
/// integers (file sizes) stay numbers, so they still sort as numbers.
///
/// Excel in most European locales splits a CSV at `;`, and a tab splits it
/// in others, so `K;=21*2` opens as `K` and a formula: every segment that
/// follows a `,`, `;`, tab or line break (and spaces) gets the apostrophe
/// too, whatever separator the file is opened with.
pub(crate) fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let whole_cell = match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n' | '\0') => true,
        _ => would_be_mangled(cell),
    };
    // A segment starts only after a separator, and every separator is one
    // ASCII byte (never part of another character's UTF-8): a cell without
    // one, as most are, needs no scan character by character.
    let separated = cell
        .bytes()
        .fold(false, |seen, b| seen | matches!(b, b',' | b';' | b'\t' | b'\r' | b'\n'));
    if !separated {
        return if whole_cell {
            format!("'{cell}").into()
        } else {
            cell.into()
        };
    }
    let mut segments = Vec::new();
    let mut after_separator = false;
    let mut look_at = |at: usize, c: char| {
        if after_separator && starts_formula(c) {
            segments.push(at);
        }
        after_separator = is_separator(c) || (after_separator && c == ' ');
    };
    // Most cells are ASCII: byte by byte, each byte is its character.
    if cell.is_ascii() {
        cell.bytes().enumerate().for_each(|(at, b)| look_at(at, char::from(b)));
    } else {
        cell.char_indices().for_each(|(at, c)| look_at(at, c));
    }
    if !whole_cell && segments.is_empty() {
        return cell.into();
    }
    let mut out = String::with_capacity(cell.len() + segments.len() + 1);
    if whole_cell {
        out.push('\'');
    }
    let mut from = 0;
    for at in segments {
        out.push_str(&cell[from..at]);
        out.push('\'');
        from = at;
    }
    out.push_str(&cell[from..]);
    out.into()
}

/// A value a spreadsheet would re-type as a number that no longer shows
/// it; never a plain version (digits and dots).
fn would_be_mangled(cell: &str) -> bool {
    if cell.is_empty() || is_plain_version(cell) {
        return false;
    }
    if cell.bytes().all(|b| b.is_ascii_digit()) {
        return cell.len() > 15 || (cell.len() > 1 && cell.starts_with('0'));
    }
    // Exponents (`1e5`, `12E34`); `inf`/`nan` are words.
    cell.parse::<f64>().is_ok() && cell.bytes().any(|b| b.is_ascii_digit())
}

/// `698.0012`, `2.00.1239.0000`: a version as SMS and Windows write them.
fn is_plain_version(cell: &str) -> bool {
    cell.starts_with(|c: char| c.is_ascii_digit())
        && cell.contains('.')
        && cell.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// What a spreadsheet reads as the start of a formula, fullwidth forms
/// included.
fn starts_formula(c: char) -> bool {
    matches!(
        c,
        '=' | '+' | '-' | '@' | '\u{FF1D}' | '\u{FF0B}' | '\u{FF0D}' | '\u{FF20}'
    )
}

/// Where a spreadsheet may start a new cell or row, whatever separator it
/// was told to use.
fn is_separator(c: char) -> bool {
    matches!(c, ',' | ';' | '\t' | '\r' | '\n')
}

struct Csv<W: std::io::Write = Vec<u8>> {
    flavor: CsvFlavor,
    writer: csv::Writer<W>,
}

impl Csv<Vec<u8>> {
    fn new(dialect: CsvDialect) -> Csv<Vec<u8>> {
        Csv::to(dialect, Vec::new()).unwrap_or_else(|_| unreachable!("writing to memory cannot fail"))
    }
}

impl<W: std::io::Write> Csv<W> {
    fn to(dialect: CsvDialect, mut out: W) -> Result<Csv<W>> {
        let flavor = dialect.flavor;
        if flavor == CsvFlavor::Spreadsheet {
            out.write_all(b"\xEF\xBB\xBF")?;
        }
        let writer = csv::WriterBuilder::new()
            .delimiter(dialect.separator.byte())
            .terminator(csv::Terminator::CRLF)
            .buffer_capacity(64 * 1024)
            .from_writer(out);
        Ok(Csv { flavor, writer })
    }

    fn row<I, S>(&mut self, cells: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        // Cell by cell, so a cell that needs no change is never copied.
        for cell in cells {
            let cell = cell.as_ref();
            match self.flavor {
                CsvFlavor::Spreadsheet => {
                    let visible = text::visible(cell, Controls::Keep);
                    self.writer.write_field(spreadsheet_safe(&visible).as_bytes())?;
                }
                CsvFlavor::Machine => self.writer.write_field(cell)?,
            }
        }
        // Ends the record.
        self.writer.write_record(std::iter::empty::<&[u8]>())?;
        Ok(())
    }

    fn finish(self) -> Result<W> {
        self.writer.into_inner().map_err(|e| anyhow::anyhow!("{}", e.error()))
    }
}

/// `matrix.csv` in memory: for tests, `--stdout matrix` and small audits;
/// the report set streams it with [`matrix_to`].
pub fn matrix(audit: &Audit, csv: impl Into<CsvDialect>) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    matrix_to(audit, csv, &mut bytes)?;
    Ok(bytes)
}

/// `matrix.csv`, streamed into `out`: every row has a cell for every
/// share, and a cell the row does not hold (its column's other cell: an
/// item that does not apply there is an empty string) is written as it
/// goes, so the dense grid is never in memory.
pub(crate) fn matrix_to(audit: &Audit, csv: impl Into<CsvDialect>, out: &mut dyn std::io::Write) -> Result<()> {
    let matrix = &audit.matrix;
    let mut table = Csv::to(csv.into(), out)?;
    let headers = matrix.columns.iter().map(|c| c.header.as_str());
    table.row(KEY_COLUMNS.into_iter().chain(headers))?;
    for row in &matrix.rows {
        let cells = matrix.cells_in(row, 0..matrix.columns.len());
        table.row(row.key_cells().into_iter().chain(cells.map(|(_, c)| c.text.as_str())))?;
    }
    table.finish()?.flush()?;
    Ok(())
}

/// [`files`], streamed into `out`: one row per file can be many MiB.
pub(crate) fn files_to(audit: &Audit, csv: impl Into<CsvDialect>, out: &mut dyn std::io::Write) -> Result<()> {
    let mut table = Csv::to(csv.into(), out)?;
    table.row(FileRecord::COLUMNS)?;
    let mut size = String::new();
    audit.files.visit(anyhow::Error::from, |f| {
        size.clear();
        if let Some(bytes) = f.size {
            use std::fmt::Write;
            let _ = write!(size, "{bytes}");
        }
        let head = [f.location.as_str(), &f.path, &size];
        let mut hash = None;
        table.row(head.into_iter().chain(f.text_cells(&mut hash)))
    })?;
    table.finish()?.flush()?;
    Ok(())
}

pub fn findings(audit: &Audit, csv: impl Into<CsvDialect>) -> Result<Vec<u8>> {
    write_table(&table::findings(audit), csv.into())
}

/// `causes.csv`: one row per cause, worst first; the fix steps numbered
/// in one cell.
pub(crate) fn causes(audit: &Audit, csv: impl Into<CsvDialect>) -> Result<Vec<u8>> {
    write_table(&table::causes(audit), csv.into())
}

/// `symptoms.csv`: one row per client log line that shows a symptom, by
/// client, log and line, then one per log that could not be read wholly.
pub(crate) fn symptoms(symptoms: &crate::clientlogs::Symptoms, csv: impl Into<CsvDialect>) -> Result<Vec<u8>> {
    write_table(&table::symptoms(symptoms), csv.into())
}

/// `upgrade.csv`: one row per site of every group the pre-upgrade check
/// names.
pub(crate) fn upgrade(plan: &crate::upgrade::UpgradePlan, csv: impl Into<CsvDialect>) -> Result<Vec<u8>> {
    write_table(&table::upgrade(plan), csv.into())
}

/// `drift.csv`: one row per change since the baseline.
pub(crate) fn drift(changes: &[crate::drift::Change], csv: impl Into<CsvDialect>) -> Result<Vec<u8>> {
    write_table(&table::drift(changes), csv.into())
}

/// A table section whole: its header row, then its rows.
fn write_table(table: &table::Table, csv: impl Into<CsvDialect>) -> Result<Vec<u8>> {
    let mut csv = Csv::new(csv.into());
    csv.row(table.header)?;
    for row in &table.rows {
        csv.row(row)?;
    }
    csv.finish()
}

/// Any table (`smsaudit history`): a header row, then the rows.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>], csv: impl Into<CsvDialect>) -> Result<Vec<u8>> {
    let mut table = Csv::new(csv.into());
    table.row(headers)?;
    for row in rows {
        table.row(row)?;
    }
    table.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralises_formula_starts() {
        for risky in ["=HYPERLINK(\"x\")", "+1", "-1", "@x", "\tx", "\rx"] {
            assert!(spreadsheet_safe(risky).starts_with('\''), "{risky:?}");
        }
        // Identifiers a spreadsheet would mangle keep their text.
        for mangled in ["007", "1e5", "1234e5678901234", "123456789012345678"] {
            assert_eq!(spreadsheet_safe(mangled), format!("'{mangled}"), "{mangled}");
        }
        // Versions are neither formulas nor mangled: no visible apostrophe.
        for kept in [
            "2.00.1239.0000",
            "698.0012",
            "1.10",
            "67",
            "0",
            "3221225472",
            "698.0012x",
            "inf",
            "SP1",
        ] {
            assert_eq!(spreadsheet_safe(kept), kept, "{kept}");
        }
        assert_eq!(spreadsheet_safe("Café"), "Café");
        assert_eq!(spreadsheet_safe(""), "");
    }

    /// Opened with `;` or tab as the separator, each segment is a cell.
    #[test]
    fn neutralises_formula_starts_after_any_separator() {
        assert_eq!(spreadsheet_safe("K;=21*2"), "K;'=21*2");
        assert_eq!(spreadsheet_safe("K\t=21*2\tx"), "K\t'=21*2\tx");
        assert_eq!(spreadsheet_safe("a, -1; @b"), "a, '-1; '@b");
        assert_eq!(spreadsheet_safe("a\r\n+1"), "a\r\n'+1");
        assert_eq!(spreadsheet_safe("=1;=2"), "'=1;'=2");
        assert_eq!(spreadsheet_safe("x;\u{FF1D}1"), "x;'\u{FF1D}1");
        for kept in [
            "a-b",
            "x=1",
            "2.00.1239.0000 (expected 2.00.1380.1000)",
            "a; b",
            "Q1; Q2",
        ] {
            assert_eq!(spreadsheet_safe(kept), kept, "{kept}");
        }
    }
}

//! The CSV reports, in either CSV flavour: `matrix.csv` and `files.csv`
//! from the audit, the others from their [`table`]s.

use super::{table, CsvFlavor};
use crate::audit::Audit;
use crate::matrix::KEY_COLUMNS;
use crate::model::FileRecord;
use crate::text::{self, Controls};
use anyhow::Result;

/// Neutralises a cell a spreadsheet would run as a formula (CWE-1236):
/// `=`, `+`, `-`, `@`, tab, CR, LF or NUL first get a leading apostrophe.
/// Cells a spreadsheet would re-type as a number it cannot show as written
/// (`1.10` as 1.1, `007` as 7, a 20-digit string as 1.2E+19) get the same
/// apostrophe. Plain integers that survive the round trip (file sizes) stay
/// numbers, so they still sort as numbers.
///
/// Excel in most European locales splits a CSV at `;`, and a tab splits it
/// in others, so `K;=21*2` opens as `K` and a formula: every segment that
/// follows a `,`, `;`, tab or line break (and spaces) gets the apostrophe
/// too, whatever separator the file is opened with.
pub(crate) fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let whole_cell = match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n' | '\0') => true,
        _ => would_be_retyped(cell),
    };
    let mut segments = Vec::new();
    let mut after_separator = false;
    for (at, c) in cell.char_indices() {
        if after_separator && starts_formula(c) {
            segments.push(at);
        }
        after_separator = is_separator(c) || (after_separator && c == ' ');
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

fn would_be_retyped(cell: &str) -> bool {
    if cell.is_empty() {
        return false;
    }
    if cell.bytes().all(|b| b.is_ascii_digit()) {
        return cell.len() > 15 || (cell.len() > 1 && cell.starts_with('0'));
    }
    // Decimals and exponents (`1.10`, `1e5`, `.5`); `inf`/`nan` are words.
    cell.parse::<f64>().is_ok() && cell.bytes().any(|b| b.is_ascii_digit())
}

struct Csv<W: std::io::Write = Vec<u8>> {
    flavor: CsvFlavor,
    writer: csv::Writer<W>,
}

impl Csv<Vec<u8>> {
    fn new(flavor: CsvFlavor) -> Csv<Vec<u8>> {
        Csv::to(flavor, Vec::new()).unwrap_or_else(|_| unreachable!("writing to memory cannot fail"))
    }
}

impl<W: std::io::Write> Csv<W> {
    fn to(flavor: CsvFlavor, mut out: W) -> Result<Csv<W>> {
        if flavor == CsvFlavor::Spreadsheet {
            out.write_all(b"\xEF\xBB\xBF")?;
        }
        let writer = csv::WriterBuilder::new()
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

pub fn matrix(audit: &Audit, flavor: CsvFlavor) -> Result<Vec<u8>> {
    let mut table = Csv::new(flavor);
    let headers = audit.matrix.columns.iter().map(|c| c.header.as_str());
    table.row(KEY_COLUMNS.into_iter().chain(headers))?;
    for row in &audit.matrix.rows {
        table.row(
            row.key_cells()
                .into_iter()
                .chain(row.cells.iter().map(|c| c.text.as_str())),
        )?;
    }
    table.finish()
}

/// [`files`], streamed into `out`: one row per file can be many MiB.
pub(crate) fn files_to(audit: &Audit, flavor: CsvFlavor, out: &mut dyn std::io::Write) -> Result<()> {
    let mut table = Csv::to(flavor, out)?;
    table.row(FileRecord::COLUMNS)?;
    for f in audit.files.iter() {
        let f = f?;
        let size = f.size.map(|s| s.to_string()).unwrap_or_default();
        let head = [f.location.as_str(), &f.path, &size];
        table.row(head.into_iter().chain(f.text_cells()))?;
    }
    table.finish()?.flush()?;
    Ok(())
}

pub fn findings(audit: &Audit, flavor: CsvFlavor) -> Result<Vec<u8>> {
    write_table(&table::findings(audit), flavor)
}

/// `causes.csv`: one row per cause, worst first; the fix steps numbered
/// in one cell.
pub(crate) fn causes(audit: &Audit, flavor: CsvFlavor) -> Result<Vec<u8>> {
    write_table(&table::causes(audit), flavor)
}

/// `symptoms.csv`: one row per client log line that shows a symptom, by
/// client, log and line, then one per log that could not be read wholly.
pub(crate) fn symptoms(symptoms: &crate::clientlogs::Symptoms, flavor: CsvFlavor) -> Result<Vec<u8>> {
    write_table(&table::symptoms(symptoms), flavor)
}

/// `upgrade.csv`: one row per site of every group the pre-upgrade check
/// names.
pub(crate) fn upgrade(plan: &crate::upgrade::UpgradePlan, flavor: CsvFlavor) -> Result<Vec<u8>> {
    write_table(&table::upgrade(plan), flavor)
}

/// `drift.csv`: one row per change since the baseline.
pub(crate) fn drift(changes: &[crate::drift::Change], flavor: CsvFlavor) -> Result<Vec<u8>> {
    write_table(&table::drift(changes), flavor)
}

/// A table section whole: its header row, then its rows.
fn write_table(table: &table::Table, flavor: CsvFlavor) -> Result<Vec<u8>> {
    let mut csv = Csv::new(flavor);
    csv.row(table.header)?;
    for row in &table.rows {
        csv.row(row)?;
    }
    csv.finish()
}

/// Any table (`smsaudit history`): a header row, then the rows.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>], flavor: CsvFlavor) -> Result<Vec<u8>> {
    let mut table = Csv::new(flavor);
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
        assert_eq!(spreadsheet_safe("2.00.1239.0000"), "2.00.1239.0000");
        for retyped in ["1.10", "007", "1e5", ".5", "123456789012345678"] {
            assert_eq!(spreadsheet_safe(retyped), format!("'{retyped}"), "{retyped}");
        }
        for kept in ["67", "0", "3221225472", "698.0012x", "inf", "SP1"] {
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

//! `matrix.csv`, `files.csv` and `findings.csv`, in either CSV flavour.

use super::CsvFlavor;
use crate::audit::Audit;
use crate::matrix::KEY_COLUMNS;
use crate::model::Finding;
use anyhow::Result;

/// Neutralises a cell a spreadsheet would run as a formula (CWE-1236):
/// `=`, `+`, `-`, `@`, tab, CR, LF or NUL first get a leading apostrophe.
/// Cells a spreadsheet would re-type as a number it cannot show as written
/// (`1.10` as 1.1, `007` as 7, a 20-digit string as 1.2E+19) get the same
/// apostrophe. Plain integers that survive the round trip (file sizes) stay
/// numbers, so they still sort as numbers.
pub(crate) fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n' | '\0') => format!("'{cell}").into(),
        _ if would_be_retyped(cell) => format!("'{cell}").into(),
        _ => cell.into(),
    }
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

struct Table<W: std::io::Write = Vec<u8>> {
    flavor: CsvFlavor,
    writer: csv::Writer<W>,
}

impl Table<Vec<u8>> {
    fn new(flavor: CsvFlavor) -> Table<Vec<u8>> {
        Table::to(flavor, Vec::new()).unwrap_or_else(|_| unreachable!("writing to memory cannot fail"))
    }
}

impl<W: std::io::Write> Table<W> {
    fn to(flavor: CsvFlavor, mut out: W) -> Result<Table<W>> {
        if flavor == CsvFlavor::Spreadsheet {
            out.write_all(b"\xEF\xBB\xBF")?;
        }
        let writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        Ok(Table { flavor, writer })
    }

    fn row<I, S>(&mut self, cells: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let flavor = self.flavor;
        self.writer.write_record(cells.into_iter().map(|c| match flavor {
            CsvFlavor::Spreadsheet => spreadsheet_safe(c.as_ref()).into_owned(),
            CsvFlavor::Machine => c.as_ref().to_string(),
        }))?;
        Ok(())
    }

    fn finish(self) -> Result<W> {
        self.writer.into_inner().map_err(|e| anyhow::anyhow!("{}", e.error()))
    }
}

pub fn matrix(audit: &Audit, flavor: CsvFlavor) -> Result<Vec<u8>> {
    let mut table = Table::new(flavor);
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
    let mut table = Table::to(flavor, out)?;
    table.row(super::FILE_COLUMNS)?;
    for f in &audit.files {
        let size = f.size.map(|s| s.to_string()).unwrap_or_default();
        let head = [f.location.as_str(), &f.path, &size];
        table.row(head.into_iter().chain(f.text_cells()))?;
    }
    table.finish()?.flush()?;
    Ok(())
}

pub fn findings(audit: &Audit, flavor: CsvFlavor) -> Result<Vec<u8>> {
    let mut table = Table::new(flavor);
    table.row(Finding::COLUMNS)?;
    for f in &audit.findings {
        table.row(f.cells())?;
    }
    table.finish()
}

/// `upgrade.csv`: one row per site of every group the pre-upgrade check
/// names.
pub(crate) fn upgrade(plan: &crate::upgrade::UpgradePlan, flavor: CsvFlavor) -> Result<Vec<u8>> {
    let mut table = Table::new(flavor);
    table.row([
        "group",
        "site",
        "role",
        "current",
        "behind",
        "caps",
        "logon_points",
        "kbs",
        "advice",
    ])?;
    for group in &plan.groups {
        let name = group.sites.join(" ");
        let lps = group.logon_points.join(" ");
        for site in &group.upgrading {
            table.row([name.as_str(), site, "upgrading", "", "", "", &lps, "", &group.advice])?;
        }
        for left in &group.left_behind {
            table.row([
                name.as_str(),
                &left.site,
                "left behind",
                &left.current,
                if left.behind { "yes" } else { "no" },
                &left.caps.join(" "),
                &lps,
                &left.kbs.join(" "),
                &group.advice,
            ])?;
        }
    }
    table.finish()
}

/// `drift.csv`: one row per change since the baseline.
pub(crate) fn drift(changes: &[crate::drift::Change], flavor: CsvFlavor) -> Result<Vec<u8>> {
    let mut table = Table::new(flavor);
    table.row(["change", "location", "path", "old_path", "what", "old", "new"])?;
    for c in changes {
        table.row([
            c.change.as_str(),
            &c.location,
            &c.path,
            &c.old_path,
            &c.what,
            &c.old,
            &c.new,
        ])?;
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
}

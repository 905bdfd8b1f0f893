//! The items x locations matrix: one row per component artifact, one column
//! per location, each cell the version found there. It judges nothing
//! itself: a cell is red when a finding marks it, with the value that is
//! right.

use crate::estate::{under_any, EstateView};
use crate::model::{Artifact, Finding, Judged, Location, LocationKind, RowKey, Severity, Status};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use std::collections::{BTreeMap, BTreeSet};

/// The state of one cell. A red cell is one state, [`CellState::Mismatch`]:
/// what it holds and the value that is right.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum CellState {
    Ok,
    /// A finding marks the cell: it disagrees with what it must match.
    Mismatch {
        /// What the cell holds: a version, none, or no file at all.
        found: Found,
        /// What it should hold; when it disagrees with more than one
        /// thing, each once, joined by `; `.
        expected: String,
    },
    /// The file is there but carries no version.
    Empty,
    /// The location should have this item and does not.
    Missing,
    /// The location, the file or a folder above it could not be read.
    Unreadable,
    /// The file, or a folder above it, was left out by `--exclude` or the
    /// inventory: not read on purpose.
    Excluded,
    /// The path has spellings that differ only in case (A07): which one
    /// Windows opens is not known.
    Ambiguous,
    /// The item does not apply to this kind of location.
    NotApplicable,
}

/// What a cell a finding marks holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Found {
    /// A version (the cell was [`CellState::Ok`]).
    Value,
    /// A file without a version ([`CellState::Empty`]).
    Empty,
    /// No file where one should be ([`CellState::Missing`]).
    Missing,
}

impl CellState {
    /// The state's name in audit.json and the history: a marked cell is
    /// named by what it holds (`mismatch` for a version, `empty`,
    /// `missing`), as when the mark was a flag beside the state.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            CellState::Ok => "ok",
            CellState::Mismatch {
                found: Found::Value, ..
            } => "mismatch",
            CellState::Mismatch {
                found: Found::Empty, ..
            }
            | CellState::Empty => "empty",
            CellState::Mismatch {
                found: Found::Missing, ..
            }
            | CellState::Missing => "missing",
            CellState::Unreadable => "unreadable",
            CellState::Excluded => "excluded",
            CellState::Ambiguous => "ambiguous",
            CellState::NotApplicable => "not_applicable",
        }
    }

    /// Whether a finding marks the cell (it is red).
    pub fn is_mismatch(&self) -> bool {
        matches!(self, CellState::Mismatch { .. })
    }

    /// What a marked cell should hold.
    pub fn expected(&self) -> Option<&str> {
        match self {
            CellState::Mismatch { expected, .. } => Some(expected),
            _ => None,
        }
    }
}

impl Serialize for CellState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

#[derive(Debug, Clone)]
pub struct Cell {
    pub value: String,
    pub state: CellState,
    /// The text the CSV shows.
    pub text: String,
    /// For binaries: the string FileVersion beside the fixed one.
    pub string_version: Option<String>,
}

/// audit.json's cell: `expected` and `mismatch` are written from the state,
/// field for field as when they were fields of their own.
impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = if self.string_version.is_some() { 6 } else { 5 };
        let mut cell = serializer.serialize_struct("Cell", fields)?;
        cell.serialize_field("value", &self.value)?;
        cell.serialize_field("state", &self.state)?;
        cell.serialize_field("expected", &self.state.expected())?;
        cell.serialize_field("mismatch", &self.state.is_mismatch())?;
        cell.serialize_field("text", &self.text)?;
        match &self.string_version {
            Some(string_version) => cell.serialize_field("string_version", string_version)?,
            None => cell.skip_field("string_version")?,
        }
        cell.end()
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Column {
    pub location: String,
    pub kind: LocationKind,
    pub sites: Vec<String>,
    /// `\\SERVER1\CAP_MS1 (CAP MS1)`.
    pub header: String,
}

/// Share columns in one printed part of the matrix, on the page and in the
/// workbook: a wider matrix prints as several parts, each with the item
/// column, so the type stays readable.
pub(crate) const PRINT_PART_SHARES: usize = 10;

/// The columns before the locations' in matrix.csv and the Matrix sheet.
pub(crate) const KEY_COLUMNS: [&str; 5] = ["item", "component", "artifact", "detail", "mismatch"];

#[derive(Debug, Clone)]
pub struct Row {
    pub key: RowKey,
    pub item: String,
    pub cells: Vec<Cell>,
}

impl Row {
    /// Whether a finding marks a cell of the row.
    pub fn mismatch(&self) -> bool {
        self.cells.iter().any(|c| c.state.is_mismatch())
    }

    /// The row's values in [`KEY_COLUMNS`] order.
    pub(crate) fn key_cells(&self) -> [&str; 5] {
        [
            &self.item,
            &self.key.component,
            self.key.artifact.as_str(),
            &self.key.detail,
            if self.mismatch() { "yes" } else { "no" },
        ]
    }
}

/// audit.json's row, with `mismatch` written from its cells.
impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut row = serializer.serialize_struct("Row", 4)?;
        row.serialize_field("key", &self.key)?;
        row.serialize_field("item", &self.item)?;
        row.serialize_field("mismatch", &self.mismatch())?;
        row.serialize_field("cells", &self.cells)?;
        row.end()
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Matrix {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

/// Marker texts, chosen so no spreadsheet reads them as a formula.
pub(crate) const EMPTY_MARK: &str = crate::sms::version::EMPTY_VERSION;
pub(crate) const MISSING_MARK: &str = "(missing)";
pub(crate) const UNREADABLE_MARK: &str = "(unreadable)";
pub(crate) const EXCLUDED_MARK: &str = "(excluded)";
pub(crate) const AMBIGUOUS_MARK: &str = "(ambiguous)";
/// A binary without a version resource (`smsboot1.exe` has none).
pub(crate) const NO_VERSION_MARK: &str = "(no version)";
pub(crate) const MISMATCH_MARK: &str = "!!";

pub(crate) fn build(view: &EstateView, findings: &[Finding]) -> Matrix {
    let estate = view.estate;
    let columns = columns(view, &estate.locations);
    let mut values: BTreeMap<RowKey, BTreeMap<String, Source>> = BTreeMap::new();
    for stamp in &estate.stamps {
        if stamp.artifact == Artifact::CopylogSource && !stamp.detail.ends_with("\\clicore.exe") {
            continue;
        }
        // References, not versions: the rules use them, the matrix does not.
        if matches!(stamp.artifact, Artifact::OfferRef | Artifact::SeniorSite) {
            continue;
        }
        let key = RowKey::new(&stamp.component, stamp.artifact, &stamp.detail);
        values.entry(key).or_default().insert(
            stamp.location.clone(),
            Source {
                value: stamp.value.clone(),
                string_version: stamp.string_version.clone(),
            },
        );
    }
    for lp in view.locations(LocationKind::LogonPoint) {
        let value = view.logon_base(lp).map(|b| b.version.text).unwrap_or_default();
        values
            .entry(RowKey::new("base", Artifact::LogonBase, ""))
            .or_default()
            .insert(
                lp.name.clone(),
                Source {
                    value,
                    ..Source::default()
                },
            );
    }
    let locations: BTreeMap<&str, &Location> = estate.locations.iter().map(|l| (l.name.as_str(), l)).collect();
    let why_not_read = WhyNotRead::new(view);
    // Only findings turn a cell red, so every red cell is explained by the
    // finding that marks it, with the value that is right.
    let mut marks: BTreeMap<(&RowKey, &str), String> = BTreeMap::new();
    for finding in findings {
        for mark in &finding.marks {
            let expected = marks.entry((&mark.row, mark.location.as_str())).or_default();
            add_expected(expected, &mark.expected);
        }
    }
    let rows: Vec<Row> = values
        .into_iter()
        .map(|(key, by_location)| {
            let cells = columns
                .iter()
                .map(|column| {
                    let location = locations[column.location.as_str()];
                    let unread = key
                        .path_at(location.kind)
                        .filter(|p| view.not_read(&location.name, p))
                        .map(|p| why_not_read.state(&location.name, &p));
                    let expected = marks.get(&(&key, column.location.as_str())).cloned();
                    make_cell(&key, location, by_location.get(&column.location), unread, expected)
                })
                .collect();
            Row {
                item: key.label(),
                key,
                cells,
            }
        })
        .collect();
    Matrix { columns, rows }
}

/// Adds `expected` to what a cell should hold: a cell can disagree with
/// more than one thing, each is said once.
fn add_expected(all: &mut String, expected: &str) {
    if all.is_empty() {
        all.push_str(expected);
    } else if !all.split("; ").any(|e| e == expected) {
        all.push_str("; ");
        all.push_str(expected);
    }
}

/// The one column order of the matrix, in matrix.csv, the Matrix sheet and
/// the page alike: by upgrade group (the sites that share logon points,
/// [`EstateView::sharing_groups`], or a site alone), groups in site code
/// order; within a group site by site, each site's site servers then its
/// CAPs; each logon point right after the last site of the group it serves,
/// so a site's shares stand beside the logon points they share; shares of
/// no site (unreadable roots) last.
fn column_order<'a>(view: &EstateView, locations: &'a [Location]) -> Vec<&'a Location> {
    let sites_of = |location: &Location| -> Vec<String> {
        match location.kind {
            LocationKind::LogonPoint => view.participants(location),
            _ => location.sites.clone(),
        }
    };
    let mut groups = view.sharing_groups();
    for location in locations {
        for site in sites_of(location) {
            if !groups.iter().any(|g| g.contains(&site)) {
                groups.push(vec![site]);
            }
        }
    }
    groups.sort();
    // (group, site within the group) of a site.
    let place = |site: &String| -> Option<(usize, usize)> {
        groups
            .iter()
            .enumerate()
            .find_map(|(g, group)| group.iter().position(|s| s == site).map(|at| (g, at)))
    };
    let mut sorted: Vec<&Location> = locations.iter().collect();
    sorted.sort_by_cached_key(|l| {
        let places = sites_of(l).iter().filter_map(place).collect::<Vec<_>>();
        let (group, site) = match l.kind {
            LocationKind::LogonPoint => places.iter().max().copied(),
            _ => places.iter().min().copied(),
        }
        .unwrap_or((usize::MAX, 0));
        (group, site, l.kind, l.name.clone())
    });
    sorted
}

/// The matrix's columns, in [`column_order`].
fn columns(view: &EstateView, locations: &[Location]) -> Vec<Column> {
    column_order(view, locations)
        .into_iter()
        .map(|l| {
            let header = match l.kind {
                LocationKind::Unknown => format!("{} (unreadable)", l.name),
                LocationKind::LogonPoint => format!("{} (logon point {})", l.name, l.sites.join(" ")),
                kind => format!("{} ({} {})", l.name, kind.as_str(), l.sites.join(" ")),
            };
            Column {
                location: l.name.clone(),
                kind: l.kind,
                sites: l.sites.clone(),
                header: header.replace(" )", ")"),
            }
        })
        .collect()
}

/// The order people read the matrix's rows in (matrix.csv keeps the built
/// order): rows that need attention first. The columns keep their one
/// order ([`column_order`]) in every report; the columns that need
/// attention are marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DisplayOrder {
    /// Indexes into [`Matrix::rows`].
    pub rows: Vec<usize>,
    /// Per column index: whether it needs attention.
    pub problem_columns: Vec<bool>,
    /// Per row index: whether it needs attention.
    pub problem_rows: Vec<bool>,
}

impl CellState {
    /// Whether the cell's value could not be checked.
    pub(crate) fn not_checked(&self) -> bool {
        matches!(self, CellState::Unreadable | CellState::Ambiguous)
    }
}

impl Matrix {
    /// Problem rows (a marked or unchecked cell) first, each part in built
    /// order. A problem column has a marked or unchecked cell, could not be
    /// read, or is named by a finding that is not a mere note.
    pub(crate) fn display_order(&self, findings: &[Judged]) -> DisplayOrder {
        let named: BTreeSet<&str> = findings
            .iter()
            .filter(|f| f.severity > Severity::Info || f.code.means_not_checked())
            .map(|f| f.location.as_str())
            .collect();
        let problem_columns: Vec<bool> = self
            .columns
            .iter()
            .enumerate()
            .map(|(index, column)| {
                column.kind == LocationKind::Unknown
                    || named.contains(column.location.as_str())
                    || self.rows.iter().any(|r| {
                        let cell = &r.cells[index];
                        cell.state.is_mismatch() || cell.state.not_checked()
                    })
            })
            .collect();
        let problem_rows: Vec<bool> = self
            .rows
            .iter()
            .map(|r| r.mismatch() || r.cells.iter().any(|c| c.state.not_checked()))
            .collect();
        let (mut rows, rest): (Vec<usize>, Vec<usize>) = (0..self.rows.len()).partition(|&r| problem_rows[r]);
        rows.extend(rest);
        DisplayOrder {
            rows,
            problem_columns,
            problem_rows,
        }
    }
}

/// Whether a location should hold the item: a per-site compver only on the
/// logon points that site uses.
fn applies(key: &RowKey, location: &Location) -> bool {
    let kind = location.kind;
    match key.artifact {
        Artifact::Compver => matches!(kind, LocationKind::Cap | LocationKind::SiteServer),
        Artifact::Cfg => kind == LocationKind::Cap,
        Artifact::CompverVariant | Artifact::OfferRef => false,
        Artifact::SeniorSite => kind == LocationKind::LogonPoint,
        Artifact::LogonBinary | Artifact::CopylogSource | Artifact::LogonBase => kind == LocationKind::LogonPoint,
        Artifact::LogonSiteCompver => kind == LocationKind::LogonPoint && location.sites.contains(&key.detail),
    }
}

/// What a cell is built from: the stamp's value and, for binaries, the
/// string version and hash beside it.
#[derive(Debug, Clone, Default)]
struct Source {
    value: String,
    string_version: Option<String>,
}

/// Why a file the matrix needs was not read: excluded, ambiguous (A07) or
/// unreadable; the index only says that it was not.
struct WhyNotRead<'a> {
    /// Lower-case paths excluded on purpose, by location.
    excluded: BTreeMap<&'a str, BTreeSet<String>>,
    /// Lower-case paths with spellings that differ only in case.
    twins: BTreeMap<&'a str, BTreeSet<String>>,
}

impl<'a> WhyNotRead<'a> {
    fn new(view: &EstateView<'a>) -> WhyNotRead<'a> {
        let mut excluded: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for record in view.estate.files.iter().filter(|f| f.status == Status::Excluded) {
            excluded
                .entry(record.location.as_str())
                .or_default()
                .insert(record.path.to_ascii_lowercase());
        }
        let mut twins: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for twin in &view.estate.case_twins {
            twins
                .entry(twin.location.as_str())
                .or_default()
                .insert(twin.lower.clone());
        }
        WhyNotRead { excluded, twins }
    }

    /// The state of a cell whose file at `path` was not read.
    fn state(&self, location: &str, path: &str) -> CellState {
        let lower = path.to_ascii_lowercase();
        let under = |paths: Option<&BTreeSet<String>>| paths.is_some_and(|p| under_any(&lower, p));
        if under(self.twins.get(location)) {
            CellState::Ambiguous
        } else if under(self.excluded.get(location)) {
            CellState::Excluded
        } else {
            CellState::Unreadable
        }
    }
}

/// A cell from the stamp found there, if any. `unread`: the file it reads,
/// or a folder above it, exists but was not read, and why. `expected`:
/// what the findings that mark the cell say it should hold.
fn make_cell(
    key: &RowKey,
    location: &Location,
    source: Option<&Source>,
    unread: Option<CellState>,
    expected: Option<String>,
) -> Cell {
    let found = match (source, unread) {
        _ if location.status != Status::Ok => CellState::Unreadable,
        (None, Some(why)) => why,
        (Some(s), _) if s.value.trim().is_empty() => CellState::Empty,
        (Some(_), _) => CellState::Ok,
        (None, None) if applies(key, location) => CellState::Missing,
        (None, None) => CellState::NotApplicable,
    };
    // A mark on a cell whose value was not checked, or that does not
    // apply, leaves it as it is.
    let state = match (found, expected) {
        (CellState::Ok, Some(expected)) => mismatch(Found::Value, expected),
        (CellState::Empty, Some(expected)) => mismatch(Found::Empty, expected),
        (CellState::Missing, Some(expected)) => mismatch(Found::Missing, expected),
        (found, _) => found,
    };
    let source = source.cloned().unwrap_or_default();
    Cell {
        text: cell_text(key, &state, &source.value),
        value: source.value,
        state,
        string_version: source.string_version,
    }
}

fn mismatch(found: Found, expected: String) -> CellState {
    CellState::Mismatch { found, expected }
}

fn cell_text(key: &RowKey, state: &CellState, value: &str) -> String {
    let found = match state {
        CellState::Mismatch {
            found: Found::Value, ..
        } => &CellState::Ok,
        CellState::Mismatch {
            found: Found::Empty, ..
        } => &CellState::Empty,
        CellState::Mismatch {
            found: Found::Missing, ..
        } => &CellState::Missing,
        state => state,
    };
    let shown = match found {
        CellState::Ok | CellState::Mismatch { .. } => value.to_string(),
        CellState::Empty if key.artifact == Artifact::LogonBinary => NO_VERSION_MARK.to_string(),
        CellState::Empty if key.artifact == Artifact::LogonBase => "(unknown)".to_string(),
        CellState::Empty => EMPTY_MARK.to_string(),
        CellState::Missing => MISSING_MARK.to_string(),
        CellState::Unreadable => UNREADABLE_MARK.to_string(),
        CellState::Excluded => EXCLUDED_MARK.to_string(),
        CellState::Ambiguous => AMBIGUOUS_MARK.to_string(),
        CellState::NotApplicable => String::new(),
    };
    match state.expected() {
        Some(expected) => format!("{MISMATCH_MARK} {shown} (expected {expected})"),
        None => shown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(location: &str, kind: LocationKind, sites: &[&str]) -> Column {
        Column {
            location: location.into(),
            kind,
            sites: sites.iter().map(|s| s.to_string()).collect(),
            header: location.into(),
        }
    }

    fn plain_cell(state: CellState) -> Cell {
        Cell {
            value: String::new(),
            state,
            text: String::new(),
            string_version: None,
        }
    }

    #[test]
    fn problem_rows_come_first_and_columns_keep_their_order() {
        use LocationKind::{Cap, LogonPoint, SiteServer};
        let columns = vec![
            column(r"\\S\SMS_AAA", SiteServer, &["AAA"]),
            column(r"\\S\CAP_AAA", Cap, &["AAA"]),
            column(r"\\S\CAP_BBB", Cap, &["BBB"]),
            column(r"\\S\CAP_CCC", Cap, &["CCC"]),
            column(r"\\DC1\SMSLOGON", LogonPoint, &["BBB", "CCC"]),
        ];
        let ok = || plain_cell(CellState::Ok);
        let rows = vec![
            Row {
                key: RowKey::new("base", Artifact::Compver, ""),
                item: "base compver.ini".into(),
                cells: vec![ok(), ok(), ok(), ok(), plain_cell(CellState::NotApplicable)],
            },
            Row {
                key: RowKey::new("sinv", Artifact::Cfg, ""),
                item: "sinv.CFG version".into(),
                cells: vec![ok(), plain_cell(mismatch(Found::Empty, "2".into())), ok(), ok(), ok()],
            },
        ];
        let matrix = Matrix { columns, rows };
        let order = matrix.display_order(&[]);
        assert_eq!(order.rows, [1, 0]);
        assert_eq!(order.problem_columns, [false, true, false, false, false]);
        assert_eq!(order.problem_rows, [false, true]);
    }

    #[test]
    fn mismatch_text_is_formula_safe() {
        let key = RowKey::new("smsapm32", Artifact::Cfg, "");
        assert_eq!(cell_text(&key, &CellState::Empty, ""), "(empty)");
        let marked = mismatch(Found::Empty, "2.00.1239.0000".into());
        assert_eq!(cell_text(&key, &marked, ""), "!! (empty) (expected 2.00.1239.0000)");
    }

    /// Marks apply only where a value was checked; each expected value
    /// is said once.
    #[test]
    fn a_mark_reddens_a_checked_cell_once_per_expected_value() {
        let mut expected = String::new();
        for value in ["2.00.1239.0000", "2.00.1380.1000", "2.00.1239.0000"] {
            add_expected(&mut expected, value);
        }
        assert_eq!(expected, "2.00.1239.0000; 2.00.1380.1000");
        let marked = mismatch(Found::Missing, expected.clone());
        assert_eq!(marked.name(), "missing");
        assert!(marked.is_mismatch());
        assert_eq!(marked.expected(), Some(expected.as_str()));
        let json = serde_json::to_value(plain_cell(marked)).unwrap();
        assert_eq!(json["state"], "missing");
        assert_eq!(json["mismatch"], true);
        assert_eq!(json["expected"], expected.as_str());
        let json = serde_json::to_value(plain_cell(CellState::Excluded)).unwrap();
        assert_eq!(json["expected"], serde_json::Value::Null);
        assert_eq!(json["mismatch"], false);
        assert_eq!(
            json.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["expected", "mismatch", "state", "text", "value"]
        );
    }
}

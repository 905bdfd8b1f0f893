//! The items x locations matrix: one row per component artifact, one column
//! per location, each cell the version found there. It judges nothing
//! itself: a cell is red when a finding marks it, with the value that is
//! right.

use crate::estate::{under_any, EstateView};
use crate::model::{Artifact, CompactString, Finding, Judged, Location, LocationKind, RowKey, Severity, Status};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

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
        self.serialize_at(None, serializer)
    }
}

impl Cell {
    /// The cell's fields, after `column` when it is given (a row's held
    /// cell in audit.json).
    fn serialize_at<S: Serializer>(&self, column: Option<usize>, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = 5 + usize::from(self.string_version.is_some()) + usize::from(column.is_some());
        let mut cell = serializer.serialize_struct("Cell", fields)?;
        if let Some(column) = column {
            cell.serialize_field("column", &column)?;
        }
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

    /// Whether the cell is its column's other cell (`other`, with no value
    /// and the text every such cell has): a row need not hold it.
    fn is_other(&self, other: &CellState) -> bool {
        &self.state == other
            && self.value.is_empty()
            && self.string_version.is_none()
            && self.text == other_cell(other).text
    }
}

/// A cell no row holds: not applicable, or unreadable in the column of a
/// location that could not be read.
static NOT_APPLICABLE_CELL: Cell = Cell {
    value: String::new(),
    state: CellState::NotApplicable,
    text: String::new(),
    string_version: None,
};
static UNREADABLE_CELL: LazyLock<Cell> = LazyLock::new(|| Cell {
    value: String::new(),
    state: CellState::Unreadable,
    text: UNREADABLE_MARK.to_string(),
    string_version: None,
});

/// The cell a column shows where a row holds none ([`Column::other_cells`]).
fn other_cell(state: &CellState) -> &'static Cell {
    match state {
        CellState::Unreadable => &UNREADABLE_CELL,
        _ => &NOT_APPLICABLE_CELL,
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Column {
    pub location: String,
    pub kind: LocationKind,
    pub sites: Vec<String>,
    /// `\\SERVER1\CAP_MS1 (CAP MS1)`.
    pub header: String,
    /// The state of every cell of the column that no row holds
    /// ([`Row::cells`]): `Unreadable` when the location could not be read
    /// (every item is unknown there), else `NotApplicable`.
    pub other_cells: CellState,
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
    /// The cells the row holds, each with its column index, in column
    /// order: where the item applies, a value was found, or the file it
    /// reads was not read. Every other cell of the row is its column's
    /// [`Column::other_cells`] ([`Matrix::cell`]), so a row of one site's
    /// item costs nothing on the other sites' shares.
    pub cells: Vec<(usize, Cell)>,
}

impl Row {
    /// Whether a finding marks a cell of the row.
    pub fn mismatch(&self) -> bool {
        self.cells.iter().any(|(_, c)| c.state.is_mismatch())
    }

    /// The cell the row holds in column `column`, if any.
    pub fn held(&self, column: usize) -> Option<&Cell> {
        self.cells
            .binary_search_by_key(&column, |(c, _)| *c)
            .ok()
            .map(|at| &self.cells[at].1)
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

/// audit.json's row, with `mismatch` written from its cells and only the
/// cells it holds, each with its `column`.
impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Held<'a>(&'a [(usize, Cell)]);
        struct At<'a>(usize, &'a Cell);
        impl Serialize for Held<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().map(|(column, cell)| At(*column, cell)))
            }
        }
        impl Serialize for At<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.1.serialize_at(Some(self.0), serializer)
            }
        }
        let mut row = serializer.serialize_struct("Row", 4)?;
        row.serialize_field("key", &self.key)?;
        row.serialize_field("item", &self.item)?;
        row.serialize_field("mismatch", &self.mismatch())?;
        row.serialize_field("cells", &Held(&self.cells))?;
        row.end()
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Matrix {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

impl Matrix {
    /// The cell of `row` in column `column`: the one the row holds, else
    /// the column's other cell.
    pub fn cell<'m>(&'m self, row: &'m Row, column: usize) -> &'m Cell {
        row.held(column)
            .unwrap_or_else(|| other_cell(&self.columns[column].other_cells))
    }

    /// The cells of `row` in `columns`, held or not, in column order: what
    /// a grid shows, streamed, never held whole.
    pub fn cells_in<'m>(&'m self, row: &'m Row, columns: Range<usize>) -> impl Iterator<Item = (usize, &'m Cell)> + 'm {
        let mut held = row.cells.partition_point(|(c, _)| *c < columns.start);
        columns.map(move |column| match row.cells.get(held) {
            Some((c, cell)) if *c == column => {
                held += 1;
                (column, cell)
            }
            _ => (column, other_cell(&self.columns[column].other_cells)),
        })
    }

    /// The cells of `row` that are not "not applicable", in column order:
    /// those it holds and the other cells of the `unread` columns
    /// ([`Matrix::unread_columns`]).
    pub(crate) fn applicable_cells<'m>(
        &'m self,
        row: &'m Row,
        unread: &'m [usize],
    ) -> impl Iterator<Item = (usize, &'m Cell)> + 'm {
        let held = row
            .cells
            .iter()
            .filter(|(_, cell)| cell.state != CellState::NotApplicable)
            .map(|(c, cell)| (*c, cell));
        let others = unread
            .iter()
            .filter(|&&c| row.held(c).is_none())
            .map(|&c| (c, other_cell(&self.columns[c].other_cells)));
        let mut all: Vec<(usize, &Cell)> = held.chain(others).collect();
        all.sort_by_key(|(c, _)| *c);
        all.into_iter()
    }

    /// The columns whose other cells are unreadable.
    pub(crate) fn unread_columns(&self) -> Vec<usize> {
        (0..self.columns.len())
            .filter(|&c| self.columns[c].other_cells != CellState::NotApplicable)
            .collect()
    }
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
    let ordered = column_order(view, &estate.locations);
    let columns = columns(&ordered);
    let mut values: BTreeMap<RowKey, BTreeMap<CompactString, Source>> = BTreeMap::new();
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
                lp.name.as_str().into(),
                Source {
                    value: value.into(),
                    ..Source::default()
                },
            );
    }
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
    let values: Vec<(RowKey, BTreeMap<CompactString, Source>)> = values.into_iter().collect();
    let held = HeldColumns::new(view, &ordered, &values);
    let rows: Vec<Row> = values
        .into_iter()
        .enumerate()
        .map(|(at, (key, by_location))| {
            let cells = held
                .of(at, &key, &by_location)
                .into_iter()
                .filter_map(|c| {
                    let location = ordered[c];
                    let unread = key
                        .path_at(location.kind)
                        .filter(|p| view.not_read(&location.name, p))
                        .map(|p| why_not_read.state(&location.name, &p));
                    let expected = marks.get(&(&key, location.name.as_str())).cloned();
                    let cell = make_cell(
                        &key,
                        location,
                        by_location.get(location.name.as_str()),
                        unread,
                        expected,
                    );
                    (!cell.is_other(&columns[c].other_cells)).then_some((c, cell))
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

/// Where each row may hold a cell that differs from its column's other
/// cell, found without visiting every column for every row: the columns
/// the item applies to ([`applies`]), those with a value, and those whose
/// file of the item lies at or below an entry that was not read.
struct HeldColumns<'a> {
    /// Column index of each location name.
    index: HashMap<&'a str, usize>,
    /// Readable columns of each kind.
    of_kind: HashMap<LocationKind, Vec<usize>>,
    /// Readable logon point columns of each site they name.
    logon_points_of: HashMap<&'a str, Vec<usize>>,
    /// Per row, the readable columns where its file may not have been read.
    unread: Vec<Vec<usize>>,
}

impl<'a> HeldColumns<'a> {
    fn new(
        view: &EstateView<'a>,
        ordered: &[&'a Location],
        rows: &[(RowKey, BTreeMap<CompactString, Source>)],
    ) -> Self {
        let mut held = HeldColumns {
            index: HashMap::new(),
            of_kind: HashMap::new(),
            logon_points_of: HashMap::new(),
            unread: vec![Vec::new(); rows.len()],
        };
        for (c, location) in ordered.iter().enumerate() {
            held.index.entry(location.name.as_str()).or_insert(c);
            if location.status != Status::Ok {
                continue;
            }
            held.of_kind.entry(location.kind).or_default().push(c);
            if location.kind == LocationKind::LogonPoint {
                for site in &location.sites {
                    held.logon_points_of.entry(site.as_str()).or_default().push(c);
                }
            }
        }
        // The rows' files by kind of location, lower case, to find the rows
        // under each entry that was not read.
        let mut paths: HashMap<LocationKind, BTreeMap<String, Vec<usize>>> = HashMap::new();
        for &kind in held.of_kind.keys() {
            for (at, (key, _)) in rows.iter().enumerate() {
                if let Some(path) = key.path_at(kind) {
                    paths
                        .entry(kind)
                        .or_default()
                        .entry(path.to_ascii_lowercase())
                        .or_default()
                        .push(at);
                }
            }
        }
        let not_read = view
            .estate
            .files
            .iter()
            .filter(|f| matches!(f.status, Status::Unreadable | Status::Skipped | Status::Excluded))
            .map(|f| (f.location.as_str(), f.path.as_str().to_ascii_lowercase()))
            .chain(
                view.estate
                    .case_twins
                    .iter()
                    .map(|t| (t.location.as_str(), t.lower.clone())),
            );
        for (location, top) in not_read {
            let Some(&c) = held.index.get(location) else {
                continue;
            };
            if ordered[c].status != Status::Ok {
                continue;
            }
            let Some(paths) = paths.get(&ordered[c].kind) else {
                continue;
            };
            let below = paths
                .range(top.clone()..)
                .take_while(|(p, _)| p.starts_with(top.as_str()))
                .filter(|(p, _)| p.len() == top.len() || p.as_bytes()[top.len()] == b'\\');
            for (_, at) in below {
                for &row in at {
                    held.unread[row].push(c);
                }
            }
        }
        held
    }

    /// The columns row `at` may hold a cell in, in column order.
    fn of(&self, at: usize, key: &RowKey, by_location: &BTreeMap<CompactString, Source>) -> Vec<usize> {
        let kinds: &[LocationKind] = match key.artifact {
            Artifact::Compver => &[LocationKind::Cap, LocationKind::SiteServer],
            Artifact::Cfg => &[LocationKind::Cap],
            Artifact::SeniorSite | Artifact::LogonBinary | Artifact::CopylogSource | Artifact::LogonBase => {
                &[LocationKind::LogonPoint]
            }
            Artifact::LogonSiteCompver | Artifact::CompverVariant | Artifact::OfferRef => &[],
        };
        let mut columns: Vec<usize> = kinds
            .iter()
            .flat_map(|kind| self.of_kind.get(kind).into_iter().flatten().copied())
            .chain(
                by_location
                    .keys()
                    .filter_map(|name| self.index.get(name.as_str()).copied()),
            )
            .chain(self.unread[at].iter().copied())
            .collect();
        if key.artifact == Artifact::LogonSiteCompver {
            columns.extend(
                self.logon_points_of
                    .get(key.detail.as_str())
                    .into_iter()
                    .flatten()
                    .copied(),
            );
        }
        columns.sort_unstable();
        columns.dedup();
        columns
    }
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
    let mut grouped: HashSet<String> = groups.iter().flatten().cloned().collect();
    for location in locations {
        for site in sites_of(location) {
            if grouped.insert(site.clone()) {
                groups.push(vec![site]);
            }
        }
    }
    groups.sort();
    // (group, site within the group) of a site: the first group naming it.
    let mut places: HashMap<&str, (usize, usize)> = HashMap::new();
    for (g, group) in groups.iter().enumerate() {
        for (at, site) in group.iter().enumerate() {
            places.entry(site.as_str()).or_insert((g, at));
        }
    }
    let mut sorted: Vec<&Location> = locations.iter().collect();
    sorted.sort_by_cached_key(|l| {
        let places = sites_of(l)
            .iter()
            .filter_map(|s| places.get(s.as_str()).copied())
            .collect::<Vec<_>>();
        let (group, site) = match l.kind {
            LocationKind::LogonPoint => places.iter().max().copied(),
            _ => places.iter().min().copied(),
        }
        .unwrap_or((usize::MAX, 0));
        (group, site, l.kind, l.name.clone())
    });
    sorted
}

/// The matrix's columns, of the locations in [`column_order`].
fn columns(ordered: &[&Location]) -> Vec<Column> {
    ordered
        .iter()
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
                other_cells: if l.status == Status::Ok {
                    CellState::NotApplicable
                } else {
                    CellState::Unreadable
                },
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
        let problem_cell = |cell: &Cell| cell.state.is_mismatch() || cell.state.not_checked();
        let mut problem_columns: Vec<bool> = self
            .columns
            .iter()
            .map(|column| {
                column.kind == LocationKind::Unknown
                    || named.contains(column.location.as_str())
                    || (!self.rows.is_empty() && problem_cell(other_cell(&column.other_cells)))
            })
            .collect();
        for row in &self.rows {
            for (c, cell) in &row.cells {
                if problem_cell(cell) {
                    problem_columns[*c] = true;
                }
            }
        }
        // A column's other cells could not be checked: every row has one
        // there unless it holds that cell itself.
        let unread = self.unread_columns();
        let problem_rows: Vec<bool> = self
            .rows
            .iter()
            .map(|r| {
                r.cells.iter().any(|(_, c)| problem_cell(c)) || unread.iter().any(|&c| problem_cell(self.cell(r, c)))
            })
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

/// A part of the matrix that one page or sheet shows: a run of columns in
/// the one column order, and the rows shown with them, in display order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub columns: Range<usize>,
    /// Indexes into [`Matrix::rows`], in display order.
    pub rows: Vec<usize>,
    /// Rows that hold a cell in these columns but did not fit.
    pub rows_cut: usize,
}

impl Part {
    /// Whether the part shows the whole matrix.
    pub(crate) fn is_whole(&self, matrix: &Matrix) -> bool {
        self.columns == (0..matrix.columns.len()) && self.rows.len() == matrix.rows.len()
    }
}

/// The matrix cut into [`Part`]s, from its first column on: each part has
/// at most `max_columns` columns and, beyond its first column, at most
/// `max_cells` cells. A part of every column shows every row; a part of
/// fewer shows only the rows that hold a cell in its columns (a row of
/// one site's item is empty on the other sites' shares, and a share that
/// could not be read is the same in every row), so the cells a wide estate
/// shows grow with its shares, not with its shares times its sites.
pub(crate) struct Parts<'m> {
    matrix: &'m Matrix,
    order: &'m DisplayOrder,
    max_columns: usize,
    max_cells: usize,
    /// The rows that hold a cell, per column.
    by_column: Vec<Vec<usize>>,
    /// Per row, the first column of the last part it was counted in.
    seen: Vec<usize>,
    start: usize,
}

impl Matrix {
    pub(crate) fn parts<'m>(&'m self, order: &'m DisplayOrder, max_columns: usize, max_cells: usize) -> Parts<'m> {
        let mut by_column = vec![Vec::new(); self.columns.len()];
        for (r, row) in self.rows.iter().enumerate() {
            for (c, _) in &row.cells {
                by_column[*c].push(r);
            }
        }
        Parts {
            matrix: self,
            order,
            max_columns: max_columns.max(1),
            max_cells: max_cells.max(1),
            by_column,
            seen: vec![usize::MAX; self.rows.len()],
            start: 0,
        }
    }
}

impl Iterator for Parts<'_> {
    type Item = Part;

    fn next(&mut self) -> Option<Part> {
        let columns = self.matrix.columns.len();
        let start = self.start;
        if start >= columns && !(start == 0 && columns == 0) {
            return None;
        }
        let (mut end, mut touched) = (start, 0);
        while end < columns && end - start < self.max_columns {
            let new = self.by_column[end].iter().filter(|&&r| self.seen[r] != start).count();
            if end > start && (touched + new) * (end - start + 1) > self.max_cells {
                break;
            }
            for &r in &self.by_column[end] {
                if self.seen[r] != start {
                    self.seen[r] = start;
                    touched += 1;
                }
            }
            end += 1;
        }
        let whole = start == 0 && end == columns;
        let mut rows: Vec<usize> = (self.order.rows.iter().copied())
            .filter(|&r| whole || self.seen[r] == start)
            .collect();
        let fit = (self.max_cells / (end - start).max(1)).max(1);
        let rows_cut = rows.len().saturating_sub(fit);
        rows.truncate(fit);
        // An empty matrix is one empty part.
        self.start = end.max(start + 1);
        Some(Part {
            columns: start..end,
            rows,
            rows_cut,
        })
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
    value: CompactString,
    string_version: Option<CompactString>,
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
                .insert(record.path.as_str().to_ascii_lowercase());
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
        value: source.value.into(),
        state,
        string_version: source.string_version.map(String::from),
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
            other_cells: CellState::NotApplicable,
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

    fn row(item: &str, cells: Vec<(usize, Cell)>) -> Row {
        Row {
            key: RowKey::new(item, Artifact::Compver, ""),
            item: item.into(),
            cells,
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
                cells: vec![(0, ok()), (1, ok()), (2, ok()), (3, ok())],
            },
            Row {
                key: RowKey::new("sinv", Artifact::Cfg, ""),
                item: "sinv.CFG version".into(),
                cells: vec![
                    (0, ok()),
                    (1, plain_cell(mismatch(Found::Empty, "2".into()))),
                    (2, ok()),
                    (3, ok()),
                    (4, ok()),
                ],
            },
        ];
        let matrix = Matrix { columns, rows };
        let order = matrix.display_order(&[]);
        assert_eq!(order.rows, [1, 0]);
        assert_eq!(order.problem_columns, [false, true, false, false, false]);
        assert_eq!(order.problem_rows, [false, true]);
        // A column whose location could not be read makes every row a
        // problem, and its column, through the cells no row holds.
        let mut matrix = matrix;
        matrix.columns[3].other_cells = CellState::Unreadable;
        matrix.rows[0].cells.pop();
        let order = matrix.display_order(&[]);
        assert_eq!(order.problem_columns, [false, true, false, true, false]);
        assert_eq!(order.problem_rows, [true, true]);
    }

    /// A row holds only its cells; the others are its columns' other
    /// cells, in every view of the row, and audit.json lists only the held
    /// ones, each with its column.
    #[test]
    fn a_row_holds_only_its_cells() {
        use LocationKind::{Cap, LogonPoint};
        let mut columns = vec![
            column(r"\\S\CAP_AAA", Cap, &["AAA"]),
            column(r"\\S\CAP_BBB", Cap, &["BBB"]),
            column(r"\\DC1\SMSLOGON", LogonPoint, &["AAA"]),
        ];
        columns[1].other_cells = CellState::Unreadable;
        let mut held = plain_cell(CellState::Ok);
        held.value = "2.00.1493.1000".into();
        held.text = held.value.clone();
        let matrix = Matrix {
            columns,
            rows: vec![row("AAA only", vec![(2, held)])],
        };
        let r = &matrix.rows[0];
        assert!(r.held(0).is_none() && r.held(2).is_some());
        assert_eq!(matrix.cell(r, 0).state, CellState::NotApplicable);
        assert_eq!(matrix.cell(r, 1).state, CellState::Unreadable);
        assert_eq!(matrix.cell(r, 1).text, UNREADABLE_MARK);
        assert_eq!(matrix.cell(r, 2).text, "2.00.1493.1000");
        let dense: Vec<(usize, &str)> = matrix
            .cells_in(r, 0..3)
            .map(|(c, cell)| (c, cell.text.as_str()))
            .collect();
        assert_eq!(dense, [(0, ""), (1, UNREADABLE_MARK), (2, "2.00.1493.1000")]);
        let tail: Vec<usize> = matrix.cells_in(r, 2..3).map(|(c, _)| c).collect();
        assert_eq!(tail, [2]);
        let unread = matrix.unread_columns();
        assert_eq!(unread, [1]);
        let applicable: Vec<usize> = matrix.applicable_cells(r, &unread).map(|(c, _)| c).collect();
        assert_eq!(applicable, [1, 2]);

        let json = serde_json::to_value(&matrix).unwrap();
        assert_eq!(json["columns"][0]["other_cells"], "not_applicable");
        assert_eq!(json["columns"][1]["other_cells"], "unreadable");
        let cells = json["rows"][0]["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 1);
        assert_eq!(cells[0]["column"], 2);
        assert_eq!(cells[0]["value"], "2.00.1493.1000");
        assert_eq!(cells[0]["state"], "ok");
        // The cell alone keeps its fields (the history and tests read it).
        assert!(serde_json::to_value(&matrix.rows[0].cells[0].1)
            .unwrap()
            .get("column")
            .is_none());
    }

    /// Parts of a wide matrix: a run of columns each, with the rows that
    /// hold a cell there; a part of everything shows every row.
    #[test]
    fn parts_hold_runs_of_columns_and_the_rows_that_apply_there() {
        let ok = || plain_cell(CellState::Ok);
        let columns: Vec<Column> = (0..6)
            .map(|c| column(&format!(r"\\S{c}\CAP_A{c}"), LocationKind::Cap, &[]))
            .collect();
        // A row on every share, then one per pair of shares (a site's).
        let mut rows = vec![row("all", (0..6).map(|c| (c, ok())).collect())];
        for pair in 0..3 {
            rows.push(row(
                &format!("pair {pair}"),
                vec![(2 * pair, ok()), (2 * pair + 1, ok())],
            ));
        }
        rows[2].cells[0].1 = plain_cell(mismatch(Found::Value, "1".into()));
        let matrix = Matrix { columns, rows };
        let order = matrix.display_order(&[]);
        assert_eq!(order.rows, [2, 0, 1, 3]);

        let whole: Vec<Part> = matrix.parts(&order, 10, 100).collect();
        assert_eq!(whole.len(), 1);
        assert!(whole[0].is_whole(&matrix));
        assert_eq!(whole[0].rows, order.rows);

        // Two shares a part: the row on every share and the pair's row.
        let parts: Vec<Part> = matrix.parts(&order, 2, 100).collect();
        let shown: Vec<(Range<usize>, Vec<usize>)> =
            parts.iter().map(|p| (p.columns.clone(), p.rows.clone())).collect();
        assert_eq!(shown, [(0..2, vec![0, 1]), (2..4, vec![2, 0]), (4..6, vec![0, 3])]);
        assert!(!parts[0].is_whole(&matrix));

        // A cap on cells: 2 rows x 2 shares fit 4, a third share would
        // need 3 x 3.
        let parts: Vec<Part> = matrix.parts(&order, 10, 5).collect();
        let shown: Vec<Range<usize>> = parts.iter().map(|p| p.columns.clone()).collect();
        assert_eq!(shown, [0..2, 2..4, 4..6]);
        // One share a part at least; the rows that did not fit are counted.
        let parts: Vec<Part> = matrix.parts(&order, 10, 1).collect();
        assert_eq!(parts.len(), 6);
        assert_eq!((parts[0].rows.len(), parts[0].rows_cut), (1, 1));

        // An empty matrix is one empty part.
        let empty = Matrix::default();
        let order = empty.display_order(&[]);
        let parts: Vec<Part> = empty.parts(&order, 10, 10).collect();
        assert_eq!(parts.len(), 1);
        assert!(parts[0].is_whole(&empty));
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

//! The colours the XLSX and HTML reports share for matrix cells, so both
//! read the same way: one legend, one meaning per colour.

use crate::matrix::{Cell, CellState};
use crate::model::Severity;
use crate::sms::release::{ReleaseInfo, RELEASES};
use crate::sms::version::Version;
use std::borrow::Cow;
use std::sync::LazyLock;

/// How a matrix cell is shown: background, text colour and legend label.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Swatch {
    /// Stable key (also the HTML class name suffix).
    pub key: Cow<'static, str>,
    pub label: Cow<'static, str>,
    pub meaning: Cow<'static, str>,
    /// Background, `0xRRGGBB`.
    pub fill: u32,
    /// Text colour, `0xRRGGBB`.
    pub ink: u32,
}

const fn fixed(key: &'static str, label: &'static str, meaning: &'static str, fill: u32, ink: u32) -> Swatch {
    Swatch {
        key: Cow::Borrowed(key),
        label: Cow::Borrowed(label),
        meaning: Cow::Borrowed(meaning),
        fill,
        ink,
    }
}

pub(crate) static MISMATCH: Swatch = fixed(
    "mismatch",
    "mismatch",
    "disagrees with what it must match (the expected value is shown after it)",
    0xF4A6A6,
    0x7A0000,
);
/// Not a problem by itself: smsboot1.exe has no version resource and RTM
/// CFGs carry no version. Where it matters, a finding marks it red.
pub(crate) static EMPTY: Swatch = fixed(
    "empty",
    "(empty), (no version)",
    "the file is there but carries no version; normal unless red",
    0xFFFFFF,
    0x5B6575,
);
pub(crate) static MISSING: Swatch = fixed(
    "missing",
    "missing",
    "this location should have the item and does not",
    0xD0D0D0,
    0x303030,
);
pub(crate) static UNREADABLE: Swatch = fixed(
    "unreadable",
    "unreadable",
    "the location, the file or a folder above it exists but could not be read",
    0x5F5F5F,
    0xFFFFFF,
);
pub(crate) static EXCLUDED: Swatch = fixed(
    "excluded",
    "(excluded)",
    "left out by --exclude or the inventory: not read, not checked",
    0xE4E4E4,
    0x303030,
);
pub(crate) static AMBIGUOUS: Swatch = fixed(
    "ambiguous",
    "(ambiguous)",
    "names that differ only in case (A07): which one Windows opens is not known",
    0x5F5F5F,
    0xFFFFFF,
);
pub(crate) static NOT_APPLICABLE: Swatch = fixed(
    "na",
    "not applicable",
    "the item does not belong on this kind of share",
    0xFFFFFF,
    0x000000,
);
/// An agreeing value that is not an SMS version with a known release
/// (a site code, a WBEM version...).
pub(crate) static OK_OTHER: Swatch = fixed(
    "ok",
    "ok (other value)",
    "agrees; not a version of a known SMS 2.0 release",
    0xEAF5EA,
    0x1B3D1B,
);

/// (fill, ink) of agreeing values, one per entry of [`RELEASES`]: lighter
/// green is older.
const RELEASE_TINTS: [(u32, u32); 6] = [
    (0xF1F8D8, 0x2E3A00),
    (0xD6EFC4, 0x1F3A00),
    (0xB9E4C9, 0x0B3A1E),
    (0x9ED8C8, 0x06362B),
    (0x86C9D6, 0x032F38),
    (0x74B3E0, 0x032645),
];
const _: () = assert!(RELEASE_TINTS.len() == RELEASES.len());

/// Agreeing values, tinted by release, in [`RELEASES`] order.
static OK_RELEASES: LazyLock<Vec<Swatch>> = LazyLock::new(|| {
    RELEASES
        .iter()
        .zip(RELEASE_TINTS)
        .map(|(release, (fill, ink))| Swatch {
            key: format!("ok-{}", release.label.to_ascii_lowercase()).into(),
            label: format!("ok, {}", release.label).into(),
            meaning: format!("agrees; {}", release.description()).into(),
            fill,
            ink,
        })
        .collect()
});

/// Every swatch, in legend order.
pub(crate) fn legend() -> Vec<&'static Swatch> {
    let mut all: Vec<&'static Swatch> = OK_RELEASES.iter().collect();
    all.extend([
        &OK_OTHER,
        &MISMATCH,
        &EMPTY,
        &MISSING,
        &UNREADABLE,
        &AMBIGUOUS,
        &EXCLUDED,
        &NOT_APPLICABLE,
    ]);
    all
}

/// The swatch of one matrix cell: a marked cell shows red, whether it
/// holds a version, none, or no file.
pub(crate) fn swatch(cell: &Cell) -> &'static Swatch {
    match cell.state {
        CellState::Mismatch { .. } => &MISMATCH,
        CellState::Empty => &EMPTY,
        CellState::Missing => &MISSING,
        CellState::Unreadable => &UNREADABLE,
        CellState::Excluded => &EXCLUDED,
        CellState::Ambiguous => &AMBIGUOUS,
        CellState::NotApplicable => &NOT_APPLICABLE,
        CellState::Ok => release_of(&cell.value)
            .and_then(|info| RELEASES.iter().position(|r| r == info))
            .map(|index| &OK_RELEASES[index])
            .unwrap_or(&OK_OTHER),
    }
}

/// The known SMS 2.0 release a value is a version of, if any.
fn release_of(value: &str) -> Option<&'static ReleaseInfo> {
    Version::parse(value)?.release()?.info()
}

/// (fill, ink) of a finding's severity: errors like mismatches.
pub(crate) fn severity(severity: Severity) -> (u32, u32) {
    match severity {
        Severity::Error => (MISMATCH.fill, MISMATCH.ink),
        Severity::Warning => (0xFFCC80, 0x5A3300),
        Severity::Info => (0xDCE8F5, 0x0B2A4A),
    }
}

/// `#rrggbb` for CSS.
pub(crate) fn css(rgb: u32) -> String {
    format!("#{rgb:06x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Found;

    fn cell(value: &str, state: CellState) -> Cell {
        Cell {
            value: value.into(),
            state,
            text: value.into(),
            string_version: None,
        }
    }

    #[test]
    fn ok_cells_are_tinted_by_release() {
        assert_eq!(swatch(&cell("2.00.1239.0000", CellState::Ok)).key, "ok-rtm");
        assert_eq!(swatch(&cell("2.00.1380.1000", CellState::Ok)).key, "ok-sp1");
        assert_eq!(swatch(&cell("2.00.1493.4000", CellState::Ok)).key, "ok-sp4");
        // SP5 is a release of its own, not "not a known release".
        assert_eq!(swatch(&cell("2.00.1493.5000", CellState::Ok)).key, "ok-sp5");
        assert_eq!(swatch(&cell("MS1", CellState::Ok)).key, "ok");
    }

    #[test]
    fn a_marked_cell_is_red_whatever_it_holds() {
        for found in [Found::Value, Found::Empty, Found::Missing] {
            let marked = CellState::Mismatch {
                found,
                expected: "2.00.1239.0000".into(),
            };
            assert_eq!(swatch(&cell("", marked)), &MISMATCH);
        }
        assert_eq!(swatch(&cell("", CellState::Empty)), &EMPTY);
        assert_eq!(swatch(&cell("x", CellState::Unreadable)), &UNREADABLE);
    }
}

//! The colours the XLSX and HTML reports share for matrix cells, so both
//! read the same way: one legend, one meaning per colour.

use crate::matrix::{Cell, CellState};
use crate::version::Version;

/// How a matrix cell is shown: background, text colour and legend label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Swatch {
    /// Stable key (also the HTML class name suffix).
    pub key: &'static str,
    pub label: &'static str,
    pub meaning: &'static str,
    /// Background, `0xRRGGBB`.
    pub fill: u32,
    /// Text colour, `0xRRGGBB`.
    pub ink: u32,
}

pub const MISMATCH: Swatch = Swatch {
    key: "mismatch",
    label: "mismatch",
    meaning: "disagrees with what it must match (the expected value is shown after it)",
    fill: 0xF4A6A6,
    ink: 0x7A0000,
};
pub const EMPTY: Swatch = Swatch {
    key: "empty",
    label: "empty",
    meaning: "the file is there but carries no version",
    fill: 0xFFCC80,
    ink: 0x5A3300,
};
pub const MISSING: Swatch = Swatch {
    key: "missing",
    label: "missing",
    meaning: "this location should have the item and does not",
    fill: 0xD0D0D0,
    ink: 0x303030,
};
pub const UNREADABLE: Swatch = Swatch {
    key: "unreadable",
    label: "unreadable",
    meaning: "the location could not be read",
    fill: 0x5F5F5F,
    ink: 0xFFFFFF,
};
pub const NOT_APPLICABLE: Swatch = Swatch {
    key: "na",
    label: "not applicable",
    meaning: "the item does not belong on this kind of share",
    fill: 0xFFFFFF,
    ink: 0x000000,
};
/// An agreeing value that is not an SMS version with a known release
/// (a site code, a WBEM version...).
pub const OK_OTHER: Swatch = Swatch {
    key: "ok",
    label: "ok (other value)",
    meaning: "agrees; not a version of a known SMS 2.0 release",
    fill: 0xEAF5EA,
    ink: 0x1B3D1B,
};

/// Agreeing values, tinted by release: lighter green is older.
pub const OK_RELEASES: &[Swatch] = &[
    Swatch {
        key: "ok-rtm",
        label: "ok, RTM",
        meaning: "agrees; SMS 2.0 RTM (build 1239)",
        fill: 0xF1F8D8,
        ink: 0x2E3A00,
    },
    Swatch {
        key: "ok-sp1",
        label: "ok, SP1",
        meaning: "agrees; Service Pack 1 (build 1380)",
        fill: 0xD6EFC4,
        ink: 0x1F3A00,
    },
    Swatch {
        key: "ok-sp2",
        label: "ok, SP2",
        meaning: "agrees; Service Pack 2 (build 1493, x.2xxx)",
        fill: 0xB9E4C9,
        ink: 0x0B3A1E,
    },
    Swatch {
        key: "ok-sp3",
        label: "ok, SP3",
        meaning: "agrees; Service Pack 3 (build 1493, x.3xxx)",
        fill: 0x9ED8C8,
        ink: 0x06362B,
    },
    Swatch {
        key: "ok-sp4",
        label: "ok, SP4",
        meaning: "agrees; Service Pack 4 (build 1493, x.4xxx)",
        fill: 0x86C9D6,
        ink: 0x032F38,
    },
];

/// Every swatch, in legend order.
pub fn legend() -> Vec<Swatch> {
    let mut all = OK_RELEASES.to_vec();
    all.extend([OK_OTHER, MISMATCH, EMPTY, MISSING, UNREADABLE, NOT_APPLICABLE]);
    all
}

/// The release label (`RTM`, `SP1`...) of a value, when it is a version of
/// a known SMS 2.0 release.
pub fn release_label(value: &str) -> Option<&'static str> {
    let release = Version::parse(value)?.release()?;
    crate::catalog::release_for_build(release.build, release.sp).map(|r| r.label)
}

/// The swatch of one matrix cell. The mismatch flag wins over the state,
/// so an empty or missing cell that must match something shows red.
pub fn swatch(cell: &Cell) -> Swatch {
    if cell.mismatch {
        return MISMATCH;
    }
    match cell.state {
        CellState::Mismatch => MISMATCH,
        CellState::Empty => EMPTY,
        CellState::Missing => MISSING,
        CellState::Unreadable => UNREADABLE,
        CellState::NotApplicable => NOT_APPLICABLE,
        CellState::Ok => release_label(&cell.value)
            .and_then(|label| OK_RELEASES.iter().find(|s| s.label.ends_with(label)))
            .copied()
            .unwrap_or(OK_OTHER),
    }
}

/// `#rrggbb` for CSS.
pub fn css(rgb: u32) -> String {
    format!("#{rgb:06x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(value: &str, state: CellState, mismatch: bool) -> Cell {
        Cell {
            value: value.into(),
            state,
            expected: None,
            mismatch,
            text: value.into(),
            identity: String::new(),
            string_version: None,
        }
    }

    #[test]
    fn ok_cells_are_tinted_by_release() {
        assert_eq!(swatch(&cell("2.00.1239.0000", CellState::Ok, false)).key, "ok-rtm");
        assert_eq!(swatch(&cell("2.00.1380.1000", CellState::Ok, false)).key, "ok-sp1");
        assert_eq!(swatch(&cell("2.00.1493.4000", CellState::Ok, false)).key, "ok-sp4");
        assert_eq!(swatch(&cell("MS1", CellState::Ok, false)).key, "ok");
    }

    #[test]
    fn mismatch_flag_wins() {
        assert_eq!(swatch(&cell("", CellState::Empty, true)), MISMATCH);
        assert_eq!(swatch(&cell("", CellState::Empty, false)), EMPTY);
        assert_eq!(swatch(&cell("x", CellState::Unreadable, false)), UNREADABLE);
    }
}

//! Checks that turn the estate into findings. Each check is a function over
//! an [`EstateView`]; the catalogue (codes, KB numbers, fixes) is in
//! [`crate::catalog`].

mod inventory;
mod logon;
mod view;

pub use view::{EstateView, LogonBase};

use crate::catalog::{self, Severity};
use crate::matrix::RowKey;
use crate::model::{Estate, Finding};

/// Checks of the audit against the inventory, and of unreadable locations.
pub fn inventory_checks(estate: &Estate, inventory: Option<&crate::inventory::Inventory>) -> Vec<Finding> {
    let view = EstateView::new(estate);
    let mut findings = Vec::new();
    inventory::check_unreadable_locations(&view, &mut findings);
    if let Some(inventory) = inventory {
        inventory::check_expected_release(&view, inventory, &mut findings);
    }
    findings
}

/// Evaluates every check over the estate.
pub fn evaluate(estate: &Estate) -> Vec<Finding> {
    let view = EstateView::new(estate);
    let mut findings = Vec::new();
    logon::check_logon_base_newer_than_cap(&view, &mut findings);
    logon::check_cfg_versions(&view, &mut findings);
    findings
}

/// A matrix cell that a finding is about, with the value it should hold.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct CellMark {
    pub row: RowKey,
    pub location: String,
    pub expected: String,
}

/// Builds a finding from the catalogue entry `code`.
pub(crate) struct FindingDraft<'a> {
    pub code: &'static str,
    pub severity: Option<Severity>,
    pub site: &'a str,
    pub location: &'a str,
    pub path: &'a str,
    pub observed: String,
    pub expected: String,
    pub message: String,
    pub marks: Vec<CellMark>,
}

impl FindingDraft<'_> {
    pub fn into_finding(self) -> Finding {
        let check = catalog::check(self.code);
        Finding {
            severity: self.severity.unwrap_or(check.severity),
            code: check.code.to_string(),
            kb: check.kb.to_string(),
            site: self.site.to_string(),
            location: self.location.to_string(),
            path: self.path.to_string(),
            observed: self.observed,
            expected: self.expected,
            message: self.message,
            fix: check.fix.to_string(),
            marks: self.marks,
        }
    }
}

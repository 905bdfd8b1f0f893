//! `smsaudit rules` and `smsaudit explain`: the catalogue of checks.

use super::console::print_stdout;
use crate::exit::ExitCode;
use crate::sms::checks::{self, CHECKS};
use anyhow::{bail, Result};

/// Prints the catalogue, one check a line.
pub fn rules() -> Result<ExitCode> {
    let mut out = format!(
        "{:<5} {:<8} {:<9} {:<4} {:<13} TITLE\n",
        "CODE", "SEVERITY", "KB", "[I]", "IMPLEMENTED"
    );
    for check in CHECKS {
        let kb = check.kb.first().copied().unwrap_or("-");
        let implemented = check.implemented_word();
        let not_checked = if check.implemented() {
            String::new()
        } else {
            format!(" (not checked: {})", check.needs)
        };
        out.push_str(&format!(
            "{:<5} {:<8} {:<9} {:<4} {:<13} {}{}\n",
            check.code,
            check.severity.as_str(),
            kb,
            if check.inferred { "yes" } else { "" },
            implemented,
            check.title,
            not_checked
        ));
    }
    print_stdout(out.as_bytes())?;
    Ok(ExitCode::Clean)
}

/// Prints every check matching a code or KB article, with its fix.
pub fn explain(key: &str) -> Result<ExitCode> {
    let checks = checks::find_checks(key);
    if checks.is_empty() {
        bail!("no check has code or KB article {key:?}; `smsaudit rules` lists them");
    }
    let mut out = String::new();
    for check in checks {
        out.push_str(&format!(
            "{} ({}, {}): {}\n",
            check.code,
            check.kb_text(),
            check.severity.as_str(),
            check.title
        ));
        out.push_str(&format!(
            "  KB: {}\n  Condition: {}\n",
            check.kb_text(),
            check.condition
        ));
        if !check.implemented() {
            out.push_str(&format!("  Not checked: {}\n", check.needs));
        } else if check.only_over_smb {
            out.push_str(
                "  Checked only on shares read over SMB (smb:// roots, the smsaudit-smb helper): \
                 a share read from a folder or a mount does not show it, and is not judged.\n",
            );
        }
        if check.inferred {
            out.push_str("  Note: this check rests on an inference from the KB, not on a stated fact.\n");
        }
        out.push_str(&format!("  Fix: {}\n", check.fix));
    }
    print_stdout(out.as_bytes())?;
    Ok(ExitCode::Clean)
}

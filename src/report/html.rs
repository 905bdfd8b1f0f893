//! `report.html`: one self-contained page (inline CSS, no script, no
//! external asset) with the summary, findings, colour-coded matrix and
//! file list. maud escapes every value, and values come from shares anyone
//! can write to, so nothing here is ever emitted with `PreEscaped` except
//! the fixed style sheet.

use super::palette::{self, Swatch};
use crate::audit::Audit;
use crate::model::{FileRecord, Severity, Status};
use crate::text::{self, Controls};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::borrow::Cow;

pub fn audit(audit: &Audit) -> Vec<u8> {
    page(audit).into_string().into_bytes()
}

/// A value from the shares as the page shows it: bidi, invisible and
/// control characters named (`<U+202E>`), so `exe.txt` cannot pass for
/// `txt.exe`. maud then escapes it.
fn visible(value: &str) -> Cow<'_, str> {
    text::visible(value, Controls::Show)
}

const STYLE: &str = r#"
:root { --ink:#1d2430; --muted:#5b6575; --line:#d5dae2; --head:#1f3a5f; --bg:#f6f7f9; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 "DejaVu Sans", "Segoe UI", Arial, sans-serif; color:var(--ink); background:var(--bg); }
header.top { background:var(--head); color:#fff; padding:18px 28px 14px; }
header.top h1 { margin:0 0 4px; font-size:22px; font-weight:600; }
header.top p { margin:0; color:#c9d6e8; }
main { padding:8px 28px 40px; max-width:100%; }
section { background:#fff; border:1px solid var(--line); border-radius:6px; padding:14px 18px; margin:18px 0; }
h2 { font-size:17px; margin:0 0 8px; }
p.lead { color:var(--muted); margin:0 0 10px; max-width:70em; }
.cards { display:flex; flex-wrap:wrap; gap:10px; }
.card { border:1px solid var(--line); border-radius:6px; padding:8px 14px; min-width:120px; background:#fbfcfd; }
.card b { display:block; font-size:22px; }
.card span { color:var(--muted); font-size:12px; }
.card.error b { color:#a00000; } .card.warning b { color:#9a5800; }
.scroll { overflow:auto; max-height:80vh; border:1px solid var(--line); }
table { border-collapse:separate; border-spacing:0; font-size:13px; }
th, td { padding:4px 8px; border-right:1px solid var(--line); border-bottom:1px solid var(--line); vertical-align:top; text-align:left; }
thead th { position:sticky; top:0; background:var(--head); color:#fff; font-weight:600; z-index:2; }
table.grid td { white-space:nowrap; font-family:"DejaVu Sans Mono", Consolas, monospace; font-size:12px; }
table.grid th.item { position:sticky; left:0; background:#eef1f5; color:var(--ink); z-index:1; white-space:nowrap; }
table.grid thead th.item { z-index:3; background:var(--head); color:#fff; }
table.grid thead th small { display:block; font-weight:400; color:#c9d6e8; }
table.list td.wrap { white-space:normal; min-width:14em; max-width:40em; }
table.list td { word-break:break-word; }
table.list td.nw { white-space:nowrap; word-break:normal; }
tr.error td.sev, tr.warning td.sev { font-weight:600; }
code, .mono { font-family:"DejaVu Sans Mono", Consolas, monospace; font-size:12px; }
ul.legend { list-style:none; padding:0; margin:8px 0 12px; display:grid; grid-template-columns:repeat(auto-fill, minmax(430px, 1fr)); gap:5px 16px; }
ul.legend li { display:flex; align-items:center; gap:6px; }
.sw { display:inline-block; min-width:92px; padding:2px 6px; border:1px solid #bfbfbf; border-radius:3px; font-size:12px; }
details summary { cursor:pointer; font-weight:600; font-size:17px; }
footer { color:var(--muted); font-size:12px; padding:0 28px 24px; }
.none { color:var(--muted); font-style:italic; }
"#;

/// The per-swatch and per-severity CSS classes, from the shared palette.
fn swatch_css() -> String {
    let swatches = palette::legend().into_iter().map(|s| {
        format!(
            ".s-{} {{ background:{}; color:{}; }}\n",
            s.key,
            palette::css(s.fill),
            palette::css(s.ink)
        )
    });
    let severities = Severity::ALL.into_iter().map(|severity| {
        let (fill, ink) = palette::severity(severity);
        format!(
            "tr.{} td.sev {{ background:{}; color:{}; }}\n",
            severity.as_str(),
            palette::css(fill),
            palette::css(ink)
        )
    });
    swatches.chain(severities).collect()
}

fn page(audit: &Audit) -> Markup {
    let s = &audit.summary;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // No network, no script: a report may be opened anywhere.
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'";
                title { "SMS 2.0 share audit report" }
                style { (PreEscaped(STYLE)) (PreEscaped(swatch_css())) }
            }
            body {
                header.top {
                    h1 { "SMS 2.0 share audit report" }
                    p {
                        "Version check of Systems Management Server 2.0 client access points (CAP_<site>), "
                        "logon points (SMSLOGON) and site server shares (SMS_<site>). Written by "
                        (audit.tool) " " (audit.version) "."
                    }
                }
                main {
                    (summary(audit))
                    (findings(audit))
                    (matrix(audit))
                    (files(audit))
                }
                footer {
                    "Roots audited: "
                    @for (i, root) in audit.roots.iter().enumerate() {
                        @if i > 0 { ", " }
                        code { (visible(root)) }
                    }
                    ". " (s.files) " files read."
                }
            }
        }
    }
}

fn summary(audit: &Audit) -> Markup {
    let s = &audit.summary;
    html! {
        section #summary {
            h2 { "Summary" }
            p.lead {
                "Clients install SMS components from the shares listed below. When the versions on those shares "
                "disagree, clients upgrade, downgrade or fail (Microsoft KB Q236596 and related articles). "
                "The findings say what is wrong and how to fix it; the matrix shows every version on every share."
            }
            div.cards {
                div.card.error { b { (s.errors) } span { "errors" } }
                div.card.warning { b { (s.warnings) } span { "warnings" } }
                div.card { b { (s.infos) } span { "notes (info)" } }
                div.card { b { (s.mismatched_items) } span { "mismatched matrix rows" } }
                div.card { b { (s.locations) } span { "shares (" (s.unreadable_locations) " unreadable)" } }
                div.card { b { (s.files) } span { "files (" (s.unreadable_files) " unreadable)" } }
                @if s.unreadable_folders > 0 {
                    div.card.warning { b { (s.unreadable_folders) } span { "unreadable folders" } }
                }
                div.card { b { (s.bytes) } span { "bytes" } }
            }
        }
    }
}

fn findings(audit: &Audit) -> Markup {
    html! {
        section #findings {
            h2 { "Findings (" (audit.findings.len()) ")" }
            @if audit.findings.is_empty() {
                p.none { "No findings: every share agrees." }
            } @else {
                p.lead { "Most severe first. KB is the Microsoft Knowledge Base article that describes the problem." }
                div.scroll {
                    table.list {
                        thead { tr {
                            th { "Severity" } th { "Code" } th { "KB" } th { "Site" } th { "Location" } th { "Path" }
                            th { "Observed" } th { "Expected" } th { "Problem" } th { "Fix" }
                        } }
                        tbody {
                            @for f in &audit.findings {
                                tr class=(f.severity.as_str()) {
                                    td.sev { (f.severity.as_str()) }
                                    td.mono.nw { (f.code) }
                                    td.mono.nw { (f.kb) }
                                    td.nw { (visible(&f.site)) }
                                    td.mono.nw { (visible(&f.location)) }
                                    td.mono { (visible(&f.path)) }
                                    td.mono { (visible(&f.observed)) }
                                    td.mono { (visible(&f.expected)) }
                                    td.wrap { (visible(&f.message)) }
                                    td.wrap { (visible(&f.fix)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn legend() -> Markup {
    html! {
        ul.legend {
            @for s in palette::legend() {
                li { span class=(class(s)) { (s.label.as_ref()) } span { (s.meaning.as_ref()) } }
            }
        }
    }
}

fn class(s: &Swatch) -> String {
    format!("sw s-{}", s.key)
}

fn matrix(audit: &Audit) -> Markup {
    let m = &audit.matrix;
    html! {
        section #matrix {
            h2 { "Version matrix" }
            p.lead {
                "One row per component file that carries a version (compver.ini, the component's .CFG, "
                "logon point binaries...), one column per share. Each cell is the version found on that share. "
                "Shares that must agree are compared; a cell that does not is red and shows "
                code { "!! found (expected ...)" } ". Agreeing versions are tinted by SMS 2.0 release."
            }
            (legend())
            @if m.rows.is_empty() {
                p.none { "No versioned files were found." }
            } @else {
                div.scroll {
                    table.grid {
                        thead { tr {
                            th.item { "Item" }
                            @for c in &m.columns {
                                th title=(visible(&c.header)) {
                                    (visible(&c.location))
                                    small { (c.kind.as_str()) @if !c.sites.is_empty() { " " (visible(&c.sites.join(", "))) } }
                                }
                            }
                        } }
                        tbody {
                            @for row in &m.rows {
                                tr {
                                    th.item { (visible(&row.item)) }
                                    @for (cell, column) in row.cells.iter().zip(&m.columns) {
                                        @let sw = palette::swatch(cell);
                                        td class=(format!("s-{}", sw.key)) title=(visible(&format!("{} at {}: {}", row.item, column.location, sw.label))) {
                                            (visible(&cell.text))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// More file rows than this make a page too heavy for a browser.
const MAX_FILE_ROWS: usize = 5_000;

/// The files shown in the report: all of them when they fit; otherwise
/// those with a version, a note or a problem, up to the limit.
fn shown_files(audit: &Audit) -> Vec<&FileRecord> {
    if audit.files.len() <= MAX_FILE_ROWS {
        return audit.files.iter().collect();
    }
    audit
        .files
        .iter()
        .filter(|f| f.status != Status::Ok || f.version.is_some() || !f.reason.is_empty())
        .take(MAX_FILE_ROWS)
        .collect()
}

fn files(audit: &Audit) -> Markup {
    let shown = shown_files(audit);
    let left_out = audit.files.len() - shown.len();
    html! {
        section #files {
            details {
                summary { "All files (" (audit.files.len()) ")" }
                p.lead { "Every file read on every share, with its SHA-256 and the version extracted from it." }
                @if left_out > 0 {
                    p.lead { (left_out) " more files, with no version and no problem, are left out here: files.csv and audit.xlsx have every file." }
                }
                div.scroll {
                    table.list {
                        thead { tr {
                            th { "Location" } th { "Path" } th { "Size" } th { "Modified (UTC)" } th { "SHA-256" }
                            th { "Kind" } th { "Version" } th { "Version from" } th { "String version" } th { "Status" } th { "Reason" }
                        } }
                        tbody {
                            @for f in &shown {
                                tr {
                                    td.mono { (visible(&f.location)) }
                                    td.mono { (visible(&f.path)) }
                                    td { @if let Some(size) = f.size { (size) } }
                                    td { (f.modified.as_deref().unwrap_or("")) }
                                    td.mono { (f.sha256.as_deref().unwrap_or("")) }
                                    td { (f.kind.as_str()) }
                                    td.mono { (visible(f.version.as_deref().unwrap_or(""))) }
                                    td { (visible(f.version_source.as_deref().unwrap_or(""))) }
                                    td.mono { (visible(f.string_version.as_deref().unwrap_or(""))) }
                                    td { (f.status.as_str()) }
                                    td { (visible(&f.reason)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

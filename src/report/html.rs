//! `report.html`: one self-contained page (inline CSS, no script, no
//! external asset) in the order people need it: when the audit ran, the
//! verdict, the causes, the sites, the upgrade plan and drift when asked
//! for, then the colour-coded matrix, the findings and the file list. maud escapes every value, and values come from shares anyone
//! can write to, so nothing here is ever emitted with `PreEscaped` except
//! the fixed style sheet.

use super::palette::{self, Swatch};
use super::table::{self, Cells, Table};
use crate::audit::{Audit, FilesOfInterest};
use crate::clientlogs::Symptoms;
use crate::drift::Change;
use crate::history::HistorySummary;
use crate::matrix::{DisplayOrder, PRINT_PART_SHARES};
use crate::model::{FileRecord, Severity};
use crate::sites::SiteShare;
use crate::text::{self, Controls};
use crate::upgrade::{PlanVerdict, UpgradePlan};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::{self, Write};
use std::ops::Range;

/// The page in memory: for tests and the library's callers; the report set
/// streams it with [`write`]. Fails only when the file records cannot be
/// read back.
pub fn audit(audit: &Audit) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    write(audit, &mut bytes)?;
    Ok(bytes)
}

/// Rows of a long table (cause cards, matrix rows, findings) rendered at
/// once: the page is written a piece at a time, never held whole (58 MB at
/// 10,000 shares).
const ROWS_PER_PIECE: usize = 500;

/// Writes the page into `out` section by section.
pub(crate) fn write(audit: &Audit, out: &mut dyn Write) -> io::Result<()> {
    write_in_pieces(audit, out, ROWS_PER_PIECE)
}

fn write_in_pieces(audit: &Audit, out: &mut dyn Write, rows_per_piece: usize) -> io::Result<()> {
    let shown = shown_files(audit)?;
    let mut page = Page { out, rows_per_piece };
    page.put(html! { (DOCTYPE) })?;
    page.tag(r#"<html lang="en">"#)?;
    page.put(html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            // No network, no script: a report may be opened anywhere.
            meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'";
            title { "SMS 2.0 share audit report" }
            style { (PreEscaped(STYLE)) (PreEscaped(swatch_css())) }
        }
    })?;
    page.tag("<body>")?;
    page.put(html! {
        header.top {
            h1 { "SMS 2.0 share audit report" }
            p {
                "Version check of Systems Management Server 2.0 client access points (CAP_<site>), "
                "logon points (SMSLOGON) and site server shares (SMS_<site>)."
            }
        }
    })?;
    page.tag("<main>")?;
    // Side by side on a wide screen, so the causes start on the first one.
    page.put(html! {
        div.overview {
            (run(audit))
            (verdict(audit))
        }
    })?;
    causes(audit, &mut page)?;
    page.put(sites(audit))?;
    if let Some(plan) = &audit.upgrade {
        page.put(upgrade(plan))?;
    }
    if let Some(since) = &audit.history {
        page.put(history(audit, since))?;
    }
    if let Some(changes) = &audit.drift {
        page.put(drift(audit, changes))?;
    }
    if let Some(symptoms) = &audit.symptoms {
        page.put(client_symptoms(symptoms))?;
    }
    matrix(audit, &audit.matrix.display_order(&audit.findings), &mut page)?;
    findings(audit, &mut page)?;
    page.put(files(audit, &shown))?;
    page.tag("</main>")?;
    page.put(html! {
        footer {
            "Written by " (audit.tool) " " (audit.version) " from the audit started " (audit.started) "."
        }
    })?;
    page.tag("</body></html>")
}

/// Where the page goes: rendered pieces, and the opening and closing tags
/// of the elements whose content comes in several pieces.
struct Page<'w> {
    out: &'w mut dyn Write,
    rows_per_piece: usize,
}

impl Page<'_> {
    fn put(&mut self, markup: Markup) -> io::Result<()> {
        self.out.write_all(markup.into_string().as_bytes())
    }

    /// Tags as maud writes them; never a value.
    fn tag(&mut self, tags: &'static str) -> io::Result<()> {
        self.out.write_all(tags.as_bytes())
    }

    /// `rows` in runs of at most `rows_per_piece`.
    fn pieces<'r, T>(&self, rows: &'r [T]) -> std::slice::Chunks<'r, T> {
        rows.chunks(self.rows_per_piece)
    }

    /// `0..len` in runs of at most `rows_per_piece`.
    fn piece_ranges(&self, len: usize) -> impl Iterator<Item = Range<usize>> + use<> {
        let step = self.rows_per_piece;
        (0..len).step_by(step).map(move |start| start..(start + step).min(len))
    }
}

/// A value from the shares as the page shows it: bidi, invisible and
/// control characters named (`<U+202E>`), so `exe.txt` cannot pass for
/// `txt.exe`. maud then escapes it.
fn visible(value: &str) -> Cow<'_, str> {
    text::visible(value, Controls::Show)
}

/// A path or other value from the shares that may break across lines only
/// after a separator (`x86.bin\<wbr>CLICORE.EXE`), never inside a name
/// nor within the `\\` that starts a UNC path.
fn breakable(value: &str) -> Markup {
    let shown = visible(value);
    html! {
        @for (at, part) in break_points(&shown) {
            (part)
            @if at { wbr; }
        }
    }
}

/// `value` cut after each separator that follows a name and precedes one,
/// each piece with whether a line may break after it.
fn break_points(value: &str) -> Vec<(bool, &str)> {
    let is_separator = |c: char| c == '\\' || c == '/';
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut after_name = false;
    let mut chars = value.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if !is_separator(c) {
            after_name = true;
            continue;
        }
        let before_name = chars.peek().is_some_and(|&(_, next)| !is_separator(next));
        if after_name && before_name {
            let end = at + c.len_utf8();
            pieces.push((true, &value[start..end]));
            start = end;
        }
    }
    pieces.push((false, &value[start..]));
    pieces
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
.overview { display:grid; grid-template-columns:minmax(22em, 1fr) minmax(30em, 2fr); gap:0 18px; }
@media (max-width:1100px) { .overview { display:block; } }
dl.run { display:grid; grid-template-columns:max-content 1fr; gap:2px 14px; margin:0; }
dl.run dt { color:var(--muted); }
dl.run dd { margin:0; }
.verdict { font-size:20px; font-weight:600; padding:8px 14px; border-radius:6px; margin:0 0 10px; }
.verdict.error { background:#f4a6a6; color:#7a0000; }
.verdict.not-checked { background:#5f5f5f; color:#fff; }
.verdict.warning { background:#ffcc80; color:#5a3300; }
.verdict.info, .verdict.clean { background:#d6efc4; color:#1f3a00; }
.cards { display:flex; flex-wrap:wrap; gap:10px; margin-top:10px; }
.card { border:1px solid var(--line); border-radius:6px; padding:8px 14px; min-width:120px; background:#fbfcfd; }
.card b { display:block; font-size:22px; }
.card span { color:var(--muted); font-size:12px; }
.card.error b { color:#a00000; } .card.warning b { color:#9a5800; }
.scroll { overflow:auto; max-height:80vh; border:1px solid var(--line); }
table { border-collapse:separate; border-spacing:0; font-size:13px; }
th, td { padding:4px 8px; border-right:1px solid var(--line); border-bottom:1px solid var(--line); vertical-align:top; text-align:left; }
thead th { position:sticky; top:0; background:var(--head); color:#fff; font-weight:600; z-index:2; }
td, th { word-break:normal; overflow-wrap:normal; }
table.grid td { white-space:nowrap; font-family:"DejaVu Sans Mono", Consolas, monospace; font-size:12px; }
table.grid th.item { position:sticky; left:0; background:#eef1f5; color:var(--ink); z-index:1; white-space:nowrap; }
table.grid thead th.item { z-index:3; background:var(--head); color:#fff; }
table.grid thead th small { display:block; font-weight:400; color:#c9d6e8; }
table.grid thead th.problem { background:#7a0000; }
table.grid tr.problem th.item { background:#f4a6a6; color:#7a0000; }
table.list td.wrap { white-space:normal; min-width:14em; max-width:40em; }
table.list td.nw { white-space:nowrap; }
table.list td ol, table.list td ul { margin:0; padding-left:1.4em; }
tr.error td.sev, tr.warning td.sev { font-weight:600; }
tr:target td { outline:2px solid #1f3a5f; }
code, .mono { font-family:"DejaVu Sans Mono", Consolas, monospace; font-size:12px; }
ul.legend { list-style:none; padding:0; margin:8px 0 12px; display:grid; grid-template-columns:repeat(auto-fill, minmax(430px, 1fr)); gap:5px 16px; }
ul.legend li { display:flex; align-items:center; gap:6px; }
.sw { display:inline-block; min-width:92px; padding:2px 6px; border:1px solid #bfbfbf; border-radius:3px; font-size:12px; }
details summary { cursor:pointer; font-weight:600; font-size:17px; }
article.cause { border:1px solid var(--line); border-left:6px solid var(--line); border-radius:4px; margin:10px 0; padding:8px 12px; }
article.cause.error { border-left-color:#c0392b; } article.cause.warning { border-left-color:#e69b00; }
article.cause h3 { font-size:15px; margin:0 0 6px; }
article.cause .sev { display:inline-block; padding:0 6px; border-radius:3px; font-size:12px; margin-right:6px; }
article.cause dl { display:grid; grid-template-columns:max-content 1fr; gap:2px 12px; margin:6px 0; }
article.cause dt { color:var(--muted); } article.cause dd { margin:0; }
article.cause ol { margin:4px 0 6px; padding-left:1.6em; }
article.cause details summary { font-size:13px; }
article.cause ul.evidence { margin:4px 0; padding-left:1.4em; font-size:13px; }
.toggle { margin:0 6px 10px 0; }
#only-problems:checked ~ .scroll tr.fine { display:none; }
.print-only { display:none; }
p.part { font-size:9pt; color:var(--muted); margin:10px 0 4px; }
footer { color:var(--muted); font-size:12px; padding:0 28px 24px; }
.none { color:var(--muted); font-style:italic; }
@page { size:A4 portrait; margin:12mm; }
@page wide { size:A4 landscape; margin:10mm; }
@media print {
  body { background:#fff; font-size:10pt; }
  header.top { background:#fff; color:var(--ink); padding:0 0 6px; border-bottom:2px solid var(--head); }
  header.top p { color:var(--muted); }
  main { padding:0; }
  .overview { display:block; }
  section { border:0; padding:0; margin:12px 0; }
  .scroll { overflow:visible; max-height:none; border:0; }
  thead { display:table-header-group; }
  thead th, table.grid th.item { position:static; }
  tr { break-inside:avoid; }
  h2, h3 { break-after:avoid; }
  .toggle, label.toggle { display:none; }
  #sites, #upgrade, #drift, #matrix, #findings, #files, footer { page:wide; }
  .screen-only { display:none; }
  .print-only { display:block; }
  .print-only table.grid { break-after:auto; margin-bottom:8px; }
  .print-only p.part { break-after:avoid; break-inside:avoid; }
  table.grid { font-size:7pt; }
  table.grid td, table.grid th.item { white-space:normal; font-size:7pt; padding:2px 3px; }
  table.list td.wrap { max-width:none; min-width:24em; }
  table.list { font-size:8pt; width:100%; }
  * { -webkit-print-color-adjust:exact; print-color-adjust:exact; }
}
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
            "tr.{0} td.sev, .sev.{0} {{ background:{1}; color:{2}; }}\n",
            severity.as_str(),
            palette::css(fill),
            palette::css(ink)
        )
    });
    swatches.chain(severities).collect()
}

fn run(audit: &Audit) -> Markup {
    let s = &audit.summary;
    html! {
        section #run {
            h2 { "When and what" }
            dl.run {
                dt { "Started (UTC)" } dd { (audit.started) }
                dt { "Duration" } dd { (duration(audit.duration_seconds)) }
                dt { "Tool" } dd { (audit.tool) " " (audit.version) }
                @if !audit.roots.is_empty() || audit.inventory.is_none() {
                    dt { "Roots" }
                    dd {
                        @for (i, root) in audit.roots.iter().enumerate() {
                            @if i > 0 { ", " }
                            code { (breakable(root)) }
                        }
                    }
                }
                @if let Some(inventory) = &audit.inventory {
                    dt { "Inventory" }
                    dd { code { (breakable(inventory)) } }
                }
                @if let Some(baseline) = &audit.baseline {
                    dt { "Baseline" } dd { code { (breakable(baseline)) } }
                }
                dt { "Read" }
                dd {
                    (s.locations) " shares, " (s.files) " files, " (text::human_size(s.bytes))
                }
            }
        }
    }
}

/// `0.3 s`, `2 min 05 s`.
fn duration(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{seconds:.1} s");
    }
    let whole = seconds.round() as u64;
    match whole {
        0..3600 => format!("{} min {:02} s", whole / 60, whole % 60),
        _ => format!("{} h {:02} min", whole / 3600, whole % 3600 / 60),
    }
}

fn verdict(audit: &Audit) -> Markup {
    let s = &audit.summary;
    let verdict = audit.verdict();
    html! {
        section #verdict {
            h2 { "Verdict" }
            p class=(format!("verdict {}", verdict.level())) { (verdict.headline()) }
            @for line in audit.verdict_lines() {
                p { (line) }
            }
            div.cards {
                div.card.error { b { (s.errors) } span { "errors" } }
                div.card.warning { b { (s.warnings) } span { "warnings" } }
                div.card { b { (s.infos) } span { "notes (info)" } }
                div.card { b { (s.causes) } span { "causes to fix" } }
                div.card { b { (s.mismatched_items) } span { "mismatched matrix rows" } }
                div class=(if s.unreadable_locations > 0 { "card warning" } else { "card" }) {
                    b { (s.locations) } span { "shares (" (s.unreadable_locations) " unreadable)" }
                }
                div class=(if s.unreadable_files > 0 { "card warning" } else { "card" }) {
                    b { (s.files) } span { "files (" (s.unreadable_files) " unreadable)" }
                }
                @if s.unreadable_folders > 0 {
                    div.card.warning { b { (s.unreadable_folders) } span { "unreadable folders" } }
                }
            }
        }
    }
}

/// The anchor of a finding in the findings table.
fn finding_anchor(position: usize) -> String {
    format!("finding-{}", position + 1)
}

fn causes(audit: &Audit, page: &mut Page) -> io::Result<()> {
    page.tag(r#"<section id="causes">"#)?;
    page.put(html! {
        h2 { "Causes (" (audit.causes.len()) ")" }
        @if audit.causes.is_empty() {
            p.none { "No cause: nothing to fix." }
        } @else {
            p.lead {
                "Each cause is one thing to fix, worst first; the findings under it are its symptoms "
                "(the evidence is in the findings table, one click away)."
            }
        }
    })?;
    for causes in page.pieces(&audit.causes) {
        page.put(html! {
            @for cause in causes {
                (cause_card(audit, cause))
            }
        })?;
    }
    page.tag("</section>")
}

/// One cause: its fix, where it is and its findings.
fn cause_card(audit: &Audit, cause: &crate::causes::Cause) -> Markup {
    html! {
                    article class=(format!("cause {}", cause.severity.as_str())) id=(format!("cause-{}", cause.id)) {
                        h3 {
                            span class=(format!("sev {}", cause.severity.as_str())) { (cause.severity.as_str()) }
                            (cause.id) ": " (breakable(&cause.title))
                        }
                        dl {
                            dt { "Fix, in order" }
                            dd { ol { @for step in &cause.fix { li { (breakable(step)) } } } }
                            dt { "Sites" } dd { (visible(&cause.sites.join(", "))) }
                            dt { "Locations" }
                            dd {
                                @for (i, location) in cause.locations.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    code { (breakable(location)) }
                                }
                            }
                            dt { "KB" } dd { (cause.kb.join(", ")) }
                            @if let Some(clients) = audit.clients_of(&cause.id) {
                                dt { "Clients affected" }
                                dd { (client_list(clients)) }
                            }
                        }
                        details {
                            summary { (cause.findings.len()) " " (text::plural(cause.findings.len(), "finding", "findings")) }
                            ul.evidence {
                                @for &position in &cause.findings {
                                    @if let Some(f) = audit.findings.get(position) {
                                        li {
                                            a href=(format!("#{}", finding_anchor(position))) {
                                                (f.severity.as_str()) " " (f.code)
                                            }
                                            " at " code { (breakable(&f.location)) }
                                            @if !f.path.is_empty() { ": " code { (breakable(&f.path)) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
    }
}

fn share_list(shares: &[SiteShare]) -> Markup {
    html! {
        @if shares.is_empty() {
            span.none { "none audited" }
        } @else {
            ul {
                @for share in shares {
                    li {
                        code { (breakable(&share.name)) } ": " (visible(&share.release))
                        @if !share.version.is_empty() { " " span.mono { "(" (visible(&share.version)) ")" } }
                        @let comment = share.share_comment.shown();
                        @if !comment.is_empty() { "; " (visible(&comment)) }
                        @if !share.folder_acls.is_empty() { "; " (visible(&share.folder_acls)) }
                    }
                }
            }
        }
    }
}

fn sites(audit: &Audit) -> Markup {
    // The column shows only when a site control file was found, so a
    // page without one is as before.
    let configured = audit.sites.iter().any(|s| s.configuration.is_some());
    html! {
        section #sites {
            h2 { "Sites (" (audit.sites.len()) ")" }
            @if audit.sites.is_empty() {
                p.none { "No site was found." }
            } @else {
                p.lead {
                    "Every site with its release, the shares it offers clients and the logon points it shares. "
                    "Sites of one upgrade group share logon points: they move to a new release together."
                }
                table.list {
                    thead { tr {
                        th { "Site" } th { "Release" } th { "Site server" } th { "CAPs" }
                        th { "Logon points (base they give clients)" } th { "Upgrade group" } th { "Causes" }
                        @if configured { th { "Configuration (site control file)" } }
                    } }
                    tbody {
                        @for site in &audit.sites {
                            tr {
                                td.nw { b { (visible(&site.site)) } }
                                td { (visible(&site.release)) }
                                td { (share_list(&site.site_servers)) }
                                td { (share_list(&site.caps)) }
                                td { (share_list(&site.logon_points)) }
                                td { (visible(&site.upgrade_group.join(", "))) }
                                td.nw {
                                    @for (i, id) in site.causes.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        a href=(format!("#cause-{id}")) { (id) }
                                    }
                                }
                                @if configured {
                                    td {
                                        @for (i, line) in site.configuration.as_ref().map(|c| c.lines()).unwrap_or_default().lines().enumerate() {
                                            @if i > 0 { br; }
                                            (visible(line))
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

fn upgrade(plan: &UpgradePlan) -> Markup {
    let headline = crate::upgrade::summary(plan);
    let headline = headline.lines().next().unwrap_or_default().to_string();
    let level = match plan.verdict {
        PlanVerdict::Safe => "clean",
        PlanVerdict::Unsafe => "error",
        PlanVerdict::NotJudgeable => "not-checked",
    };
    let sim = &plan.simulation;
    html! {
        section #upgrade {
            h2 { "Upgrade plan" }
            p class=(format!("verdict {level}")) title=(plan.verdict.as_str()) { (visible(&headline)) }
            table.list {
                thead { tr {
                    th { "Must move together" } th { "Upgrading" } th { "Logon points" } th { "Left behind" } th { "Advice" }
                } }
                tbody {
                    @for group in &plan.groups {
                        tr {
                            td.nw { (visible(&group.sites.join(", "))) }
                            td.nw {
                                (visible(&group.upgrading.join(", ")))
                                @if !group.no_op.is_empty() { br; "already there (no-op): " (visible(&group.no_op.join(", "))) }
                            }
                            td { @for lp in &group.logon_points { code { (breakable(lp)) } br; } }
                            td {
                                @if group.left_behind.is_empty() { span.none { "none" } }
                                ul {
                                    @for left in &group.left_behind {
                                        li {
                                            b { (visible(&left.site)) } " at " (visible(&left.current))
                                            @if left.behind { ", behind the target" } @else { ", release unknown" }
                                            @if !left.caps.is_empty() { "; CAPs " (breakable(&left.caps.join(", "))) }
                                            @if !left.kbs.is_empty() { "; " (left.kbs.join(", ")) }
                                        }
                                    }
                                }
                                @if !group.already_there.is_empty() {
                                    "Already at the target or later: " (visible(&group.already_there.join(", ")))
                                }
                            }
                            td.wrap {
                                (breakable(&group.advice))
                                @if !group.prerequisites.is_empty() {
                                    p { "Prerequisites (Q261931):" }
                                    ul { @for p in &group.prerequisites { li { (breakable(&p.text)) } } }
                                }
                                @if !group.steps.is_empty() {
                                    ol { @for step in &group.steps { li { (breakable(step)) } } }
                                }
                            }
                        }
                    }
                }
            }
            @if !group_no_op(plan) {
                p {
                    "After the upgrade (simulated: the planned sites' CAP, site server and logon point stamps at the target, through the same checks): "
                    (sim.remain.len()) " findings remain, " (sim.go_away.len()) " go away, " (sim.appear.len()) " appear."
                }
                @for (what, list) in [("Remain", &sim.remain), ("Appear", &sim.appear), ("Go away", &sim.go_away)] {
                    @if !list.is_empty() {
                        p { b { (what) } }
                        ul {
                            @for f in list.iter() {
                                li { (f.severity.as_str()) " " (f.code) " " code { (breakable(&f.location)) } ": " (breakable(&f.message)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Whether no group of the plan moves a site.
fn group_no_op(plan: &UpgradePlan) -> bool {
    plan.groups.iter().all(|g| g.upgrading.is_empty())
}

/// What is new since the previous run of the history, and what was
/// resolved.
fn history(audit: &Audit, since: &HistorySummary) -> Markup {
    let new: BTreeSet<&str> = since.new.iter().map(String::as_str).collect();
    html! {
        section #history {
            h2 { "Since the previous run" }
            @match &since.previous_run {
                None => p.none {
                    "The first run in the history " code { (breakable(&since.file)) } ": nothing to compare with yet."
                },
                Some(previous) => {
                    p.lead {
                        "Compared with the run that started " (previous) " (history " code { (breakable(&since.file)) } "): "
                        (since.new.len()) " new " (text::plural(since.new.len(), "finding", "findings")) ", "
                        (since.resolved.len()) " resolved."
                    }
                    @if !new.is_empty() {
                        h3 { "New" }
                        ul {
                            @for (position, f) in audit.findings.iter().enumerate().filter(|(_, f)| new.contains(f.fingerprint.as_str())) {
                                li {
                                    a href=(format!("#{}", finding_anchor(position))) { (f.code) }
                                    " " (f.severity.as_str()) ", site " (visible(&f.site)) " at "
                                    span.mono { (breakable(&f.location)) " " (breakable(&f.path)) }
                                }
                            }
                        }
                    }
                    @if !since.resolved.is_empty() {
                        h3 { "Resolved" }
                        (resolved(audit, since))
                    }
                }
            }
        }
    }
}

/// The history's resolved findings: its table's rows since `resolved`.
fn resolved(audit: &Audit, since: &HistorySummary) -> Markup {
    let table = table::history(audit, since);
    let since = table.column("since");
    let first = table.rows.iter().take_while(|row| row[since] != "resolved").count();
    list_table(&table, first..table.rows.len(), &RESOLVED_COLUMNS, None)
}

/// How many clients, and the first of them by name.
fn client_list(clients: &[String]) -> Markup {
    const NAMED: usize = 20;
    html! {
        @if clients.is_empty() {
            "none of the client logs shows it"
        } @else {
            (clients.len()) ": " (visible(&clients.iter().take(NAMED).cloned().collect::<Vec<_>>().join(", ")))
            @if clients.len() > NAMED { ", ... (symptoms.csv has them all)" }
        }
    }
}

/// Symptom rows the HTML lists; symptoms.csv and the workbook have all.
const MAX_SYMPTOM_ROWS: usize = 2_000;

/// What the client logs show, line by line, and what explains it.
fn client_symptoms(symptoms: &Symptoms) -> Markup {
    let c = &symptoms.counts;
    html! {
        section #symptoms {
            h2 { "Client symptoms (" (c.symptoms) ")" }
            p.lead {
                (c.symptoms) " symptom lines (" (c.rows) " kinds, one row each) from " (c.clients) " clients (" (c.logs) " logs): "
                (c.explained) " explained by a cause, " (c.not_checked) " not checked (the share could not be read wholly), "
                (c.unexplained) " that nothing on the audited shares explains, " (c.not_share_related) " not share-related."
                @if c.before_fix > 0 { " " (c.before_fix) " predate the fix of the finding that explained them (--history)." }
                @if c.logs_not_read_wholly > 0 { " " (c.logs_not_read_wholly) " logs could not be read wholly: see symptoms.csv." }
                @if c.not_kept > 0 { " " (c.not_kept) " symptom lines of kinds beyond the first " (crate::clientlogs::MAX_SYMPTOM_ROWS) " were counted, not kept: see symptoms.csv." }
            }
            @if symptoms.lines.is_empty() {
                p.none { "No symptom in the client logs." }
            } @else {
                div.scroll {
                    // The symptom lines, not the rows of logs not read wholly.
                    (list_table(&table::symptoms(symptoms), 0..symptoms.lines.len().min(MAX_SYMPTOM_ROWS), &SYMPTOM_COLUMNS, None))
                }
                @if symptoms.lines.len() > MAX_SYMPTOM_ROWS {
                    p.lead { (symptoms.lines.len() - MAX_SYMPTOM_ROWS) " more rows are left out here: symptoms.csv and audit.xlsx have them all." }
                }
            }
        }
    }
}

fn drift(audit: &Audit, changes: &[Change]) -> Markup {
    html! {
        section #drift {
            h2 { "Changes since the baseline (" (changes.len()) ")" }
            @if let Some(baseline) = &audit.baseline {
                p.lead { "Compared with " code { (breakable(baseline)) } "." }
            }
            @if changes.is_empty() {
                p.none { "No change since the baseline." }
            } @else {
                (list_table(&table::drift(changes), 0..changes.len(), &DRIFT_COLUMNS, None))
            }
        }
    }
}

fn findings(audit: &Audit, page: &mut Page) -> io::Result<()> {
    let new: BTreeSet<&str> = audit
        .history
        .iter()
        .flat_map(|h| h.new.iter().map(String::as_str))
        .collect();
    let mut columns = finding_columns(audit.history.as_ref().map(|_| &new));
    if audit.accepted.is_some() {
        columns.push(ACCEPTED_COLUMN);
    }
    let anchors = Anchors {
        class_from: "severity",
        id: finding_anchor,
    };
    page.tag(r#"<section id="findings">"#)?;
    page.put(html! {
        h2 { "Findings (" (audit.findings.len()) ")" }
        @if audit.findings.is_empty() {
            p.none { "No findings: every share agrees." }
        } @else {
            p.lead { "Most severe first. KB is the Microsoft Knowledge Base article that describes the problem; Cause leads to the one thing to fix." }
        }
    })?;
    if !audit.findings.is_empty() {
        page.tag(r#"<div class="scroll">"#)?;
        let table = table::findings(audit);
        page.tag(r#"<table class="list">"#)?;
        page.put(list_head(&columns))?;
        page.tag("<tbody>")?;
        for rows in page.piece_ranges(table.rows.len()) {
            page.put(list_rows(&table, rows, &columns, Some(&anchors)))?;
        }
        page.tag("</tbody></table></div>")?;
    }
    page.tag("</section>")
}

/// How the page shows a column of a [`Table`]: its heading (the page's own
/// words, not the CSV's names), the table's column it shows, the classes of
/// its cells and what a cell holds.
#[derive(Clone, Copy)]
struct Column<'s> {
    label: &'static str,
    from: &'static str,
    class: Option<&'static str>,
    show: Show<'s>,
}

#[derive(Clone, Copy)]
enum Show<'s> {
    /// A value smsaudit writes itself (a severity, a code, a time).
    Own,
    /// A value from the shares: invisible characters named.
    Visible,
    /// A path or value from the shares, broken only after a separator.
    Breakable,
    /// A name with `_` between words (`content_changed`), in words.
    Words,
    /// The cause, as a link to it.
    CauseLink,
    /// Causes separated by spaces, each as a link.
    CauseLinks,
    /// A path, and the path in the column named here it was moved from.
    PathFrom(&'static str),
    /// A value and, below it, the reason in the column named here.
    WithReason(&'static str),
    /// Why a finding is accepted, under the last day (in the column named
    /// here) it is; empty when it is not.
    Accepted(&'static str),
    /// When first seen, marked new when the fingerprint in the column
    /// named here is among the new ones.
    FirstSeen {
        fingerprint: &'static str,
        new: &'s BTreeSet<&'s str>,
    },
}

const fn column(
    label: &'static str,
    from: &'static str,
    class: Option<&'static str>,
    show: Show<'static>,
) -> Column<'static> {
    Column {
        label,
        from,
        class,
        show,
    }
}

const MONO: Option<&str> = Some("mono");
const NO_WRAP: Option<&str> = Some("nw");
const MONO_NO_WRAP: Option<&str> = Some("mono nw");
const WRAP: Option<&str> = Some("wrap");

/// The findings table; "First seen" only with `new`, the findings new
/// since the previous run of a history.
fn finding_columns<'s>(new: Option<&'s BTreeSet<&'s str>>) -> Vec<Column<'s>> {
    let mut columns = vec![
        column("Severity", "severity", Some("sev"), Show::Own),
        column("Code", "code", MONO_NO_WRAP, Show::Own),
        column("Cause", "cause", NO_WRAP, Show::CauseLink),
    ];
    if let Some(new) = new {
        columns.push(Column {
            label: "First seen",
            from: "first_seen",
            class: NO_WRAP,
            show: Show::FirstSeen {
                fingerprint: "fingerprint",
                new,
            },
        });
    }
    columns.extend([
        column("KB", "kb", MONO, Show::Own),
        column("Site", "site", NO_WRAP, Show::Visible),
        column("Location", "location", MONO, Show::Breakable),
        column("Path", "path", MONO, Show::Breakable),
        column("Observed", "observed", MONO, Show::Breakable),
        column("Expected", "expected", MONO, Show::Breakable),
        column("Problem", "message", WRAP, Show::Breakable),
        column("Fix", "fix", WRAP, Show::Breakable),
    ]);
    columns
}

/// With `--accepted`: the reason a finding is accepted, and until when.
const ACCEPTED_COLUMN: Column = column("Accepted", "accepted", WRAP, Show::Accepted("accepted_until"));

const DRIFT_COLUMNS: [Column; 6] = [
    column("Change", "change", NO_WRAP, Show::Words),
    column("Location", "location", MONO, Show::Breakable),
    column("Path", "path", MONO, Show::PathFrom("old_path")),
    column("What", "what", None, Show::Visible),
    column("Before", "old", MONO, Show::Breakable),
    column("Now", "new", MONO, Show::Breakable),
];

const SYMPTOM_COLUMNS: [Column; 12] = [
    column("Client", "client", NO_WRAP, Show::Visible),
    column("Log", "log", NO_WRAP, Show::Visible),
    column("Line", "line", NO_WRAP, Show::Own),
    column("First", "first", NO_WRAP, Show::Visible),
    column("Last", "last", NO_WRAP, Show::Visible),
    column("Count", "count", NO_WRAP, Show::Own),
    column("Symptom", "symptom", NO_WRAP, Show::Visible),
    column("KB", "kb", MONO, Show::Own),
    column("Location", "location", MONO, Show::Breakable),
    column("Outcome", "outcome", None, Show::WithReason("reason")),
    column("Explained by", "explained_by", NO_WRAP, Show::CauseLinks),
    column("Example", "example", Some("wrap mono"), Show::Breakable),
];

/// The history's resolved findings; what they showed is "Was" here,
/// `observed` in the workbook.
const RESOLVED_COLUMNS: [Column; 8] = [
    column("Severity", "severity", Some("sev"), Show::Own),
    column("Code", "code", MONO_NO_WRAP, Show::Own),
    column("Site", "site", NO_WRAP, Show::Visible),
    column("Location", "location", MONO, Show::Breakable),
    column("Path", "path", MONO, Show::Breakable),
    column("Was", "observed", MONO, Show::Breakable),
    column("First seen", "first seen", NO_WRAP, Show::Own),
    column("Last seen", "last seen", NO_WRAP, Show::Own),
];

/// Rows a link can lead to: each row's class is the value of a column,
/// its id made from its position.
struct Anchors {
    class_from: &'static str,
    id: fn(usize) -> String,
}

/// A `table.list` of the rows `rows` of `table`, in `columns`.
fn list_table(table: &Table, rows: Range<usize>, columns: &[Column], anchors: Option<&Anchors>) -> Markup {
    html! {
        table.list {
            (list_head(columns))
            tbody { (list_rows(table, rows, columns, anchors)) }
        }
    }
}

fn list_head(columns: &[Column]) -> Markup {
    html! {
        thead { tr {
            @for c in columns { th { (c.label) } }
        } }
    }
}

/// The rows `rows` of a [`list_table`].
fn list_rows(table: &Table, rows: Range<usize>, columns: &[Column], anchors: Option<&Anchors>) -> Markup {
    let first = rows.start;
    let positions: Vec<usize> = columns.iter().map(|c| table.column(c.from)).collect();
    let class_from = anchors.map(|a| table.column(a.class_from));
    html! {
        @for (at, row) in table.rows[rows].iter().enumerate() {
            tr class=[class_from.map(|c| row[c].as_ref())] id=[anchors.map(|a| (a.id)(first + at))] {
                @for (c, &position) in columns.iter().zip(&positions) {
                    td class=[c.class] { (cell(table, row, c.show, &row[position])) }
                }
            }
        }
    }
}

/// What a cell of a [`list_table`] holds.
fn cell(table: &Table, row: &Cells, show: Show, value: &str) -> Markup {
    match show {
        Show::Own => html! { (value) },
        Show::Visible => html! { (visible(value)) },
        Show::Breakable => breakable(value),
        Show::Words => html! { (value.replace('_', " ")) },
        Show::CauseLink => html! { a href=(format!("#cause-{value}")) { (value) } },
        Show::CauseLinks => html! {
            @for (i, cause) in value.split(' ').filter(|c| !c.is_empty()).enumerate() {
                @if i > 0 { " " }
                a href=(format!("#cause-{cause}")) { (cause) }
            }
        },
        Show::PathFrom(from) => {
            let from = &row[table.column(from)];
            html! {
                (breakable(value))
                @if !from.is_empty() { br; "from " (breakable(from)) }
            }
        }
        Show::WithReason(reason) => {
            let reason = &row[table.column(reason)];
            html! {
                (value)
                @if !reason.is_empty() { br; span.none { (breakable(reason)) } }
            }
        }
        Show::Accepted(until) => {
            let until = &row[table.column(until)];
            html! {
                @if !value.is_empty() { b { "accepted until " (until) } br; (breakable(value)) }
            }
        }
        Show::FirstSeen { fingerprint, new } => {
            let fingerprint = &row[table.column(fingerprint)];
            html! {
                (value)
                @if new.contains(fingerprint.as_ref()) { " " b { "new" } }
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

/// Share columns the page's matrix shows at most, in the matrix's order,
/// and cells (beyond the first share's): at 10,000 shares the whole grid
/// made a page of 268 MB no browser opens; matrix.csv has every share.
const MAX_MATRIX_COLUMNS: usize = 500;
const MAX_MATRIX_CELLS: usize = 50_000;

fn matrix(audit: &Audit, order: &DisplayOrder, page: &mut Page) -> io::Result<()> {
    let m = &audit.matrix;
    let part = m
        .parts(order, MAX_MATRIX_COLUMNS, MAX_MATRIX_CELLS)
        .next()
        .unwrap_or_else(|| unreachable!("a matrix has a first part"));
    let problems = part.rows.iter().filter(|&&r| order.problem_rows[r]).count();
    let all_columns = m.columns.len();
    let shown: Vec<usize> = part.columns.clone().collect();
    let left_out = all_columns - shown.len();
    let split_for_print = shown.len() > PRINT_PART_SHARES;
    page.tag(r#"<section id="matrix">"#)?;
    page.put(html! {
        h2 { "Version matrix" }
        p.lead {
            "One row per component file that carries a version (compver.ini, the component's .CFG, "
            "logon point binaries...), one column per share. Each cell is the version found on that share. "
            "Shares that must agree are compared; a cell that does not is red and shows "
            code { "!! found (expected ...)" } ". Rows that need attention come first. Shares stand by upgrade "
            "group (the sites that share logon points), site by site, each logon point beside the sites it "
            "serves; shares that need attention have dark red headers. Agreeing versions are tinted by SMS 2.0 release."
        }
        (legend())
        @if m.rows.is_empty() {
            p.none { "No versioned files were found." }
        } @else if !part.is_whole(m) {
            p.lead {
                "This page shows the first " (shown.len()) " of " (all_columns) " shares, in the matrix's order, "
                "and the " (part.rows.len()) " of " (m.rows.len()) " items that have a cell in them"
                @if part.rows_cut > 0 { " (" (part.rows_cut) " more did not fit)" }
                "; " (left_out_note(left_out, m.rows.len() - part.rows.len()))
                " left out here: matrix.csv has every share and item."
            }
        }
    })?;
    if !m.rows.is_empty() {
        page.tag(if split_for_print {
            r#"<div class="screen-only">"#
        } else {
            r#"<div class="">"#
        })?;
        page.put(html! {
            input #only-problems .toggle type="checkbox";
            label.toggle for="only-problems" {
                "Show only the " (problems) " rows that need attention (a mismatch or a value that could not be checked)"
            }
        })?;
        page.tag(r#"<div class="scroll">"#)?;
        grid(audit, order, &part.rows, &shown, page)?;
        page.tag("</div></div>")?;
        if split_for_print {
            page.tag(r#"<div class="print-only">"#)?;
            for (part_at, columns) in shown.chunks(PRINT_PART_SHARES).enumerate() {
                page.put(html! {
                    p.part {
                        "Shares " (part_at * PRINT_PART_SHARES + 1) " to " (part_at * PRINT_PART_SHARES + columns.len())
                        " of " (shown.len())
                    }
                })?;
                grid(audit, order, &part.rows, columns, page)?;
            }
            page.tag("</div>")?;
        }
    }
    page.tag("</section>")
}

/// `600 more shares and 1,900 more items are`: what the page's matrix
/// leaves out.
fn left_out_note(shares: usize, items: usize) -> String {
    let said: Vec<String> = [(shares, "share"), (items, "item")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} more {what}{}", if n == 1 { "" } else { "s" }))
        .collect();
    let verb = if said.len() == 1 && shares + items == 1 {
        "is"
    } else {
        "are"
    };
    format!("{} {verb}", said.join(" and "))
}

/// The matrix table of `rows` (indexes into the matrix's rows, in display
/// order) and the location columns `columns` (indexes into the matrix's
/// columns, a run in its order).
fn grid(audit: &Audit, order: &DisplayOrder, rows: &[usize], columns: &[usize], page: &mut Page) -> io::Result<()> {
    let m = &audit.matrix;
    let run = match (columns.first(), columns.last()) {
        (Some(&first), Some(&last)) => first..last + 1,
        _ => 0..0,
    };
    page.tag(r#"<table class="grid">"#)?;
    page.put(html! {
        thead { tr {
            th.item { "Item" }
            @for &c in columns {
                @let column = &m.columns[c];
                th class=[order.problem_columns[c].then_some("problem")] title=(visible(&column.header)) {
                    (breakable(&column.location))
                    small { (column.kind.as_str()) @if !column.sites.is_empty() { " " (visible(&column.sites.join(", "))) } }
                }
            }
        } }
    })?;
    page.tag("<tbody>")?;
    for rows in page.pieces(rows) {
        page.put(html! {
            @for &r in rows {
                @let row = &m.rows[r];
                tr class=(if order.problem_rows[r] { "problem" } else { "fine" }) {
                    th.item { (visible(&row.item)) }
                    @for (c, cell) in m.cells_in(row, run.clone()) {
                        @let column = &m.columns[c];
                        @let sw = palette::swatch(cell);
                        td class=(format!("s-{}", sw.key)) title=(visible(&format!("{} at {}: {}", row.item, column.location, sw.label))) {
                            (visible(&cell.text))
                        }
                    }
                }
            }
        })?;
    }
    page.tag("</tbody></table>")
}

/// More file rows than this make a page too heavy for a browser.
const MAX_FILE_ROWS: usize = 5_000;

/// The files shown in the report: the files of interest, up to the limit,
/// and how many of them did not fit and how many other files were read.
struct ShownFiles {
    rows: Vec<FileRecord>,
    cut: u64,
    others: u64,
}

fn shown_files(audit: &Audit) -> std::io::Result<ShownFiles> {
    let interest = FilesOfInterest::new(audit);
    let mut shown = ShownFiles {
        rows: Vec::new(),
        cut: 0,
        others: 0,
    };
    // Lent, not owned: only the rows kept are copied.
    shown.others = interest.visit(
        &audit.files,
        |err| err,
        |f| {
            if shown.rows.len() == MAX_FILE_ROWS {
                shown.cut += 1;
            } else {
                shown.rows.push(f.clone());
            }
            Ok(())
        },
    )?;
    Ok(shown)
}

fn files(audit: &Audit, shown: &ShownFiles) -> Markup {
    html! {
        section #files {
            details {
                summary { "Files of interest (" (shown.rows.len() as u64 + shown.cut) " of " (audit.files.len()) ")" }
                p.lead { "Files with a version or a kind the audit reads, files with a problem and files a finding points at, with their SHA-256 and the version extracted from each." }
                @if shown.others > 0 {
                    p.lead { (FilesOfInterest::others_note(shown.others)) }
                }
                @if shown.cut > 0 {
                    p.lead { (shown.cut) " more files of interest are left out here, past " (MAX_FILE_ROWS) " rows: files.csv has them." }
                }
                div.scroll {
                    table.list {
                        thead { tr {
                            th { "Location" } th { "Path" } th { "Size" } th { "Modified (UTC)" } th { "SHA-256" }
                            th { "Kind" } th { "Version" } th { "Version from" } th { "String version" } th { "Status" } th { "Reason" }
                        } }
                        tbody {
                            @for f in &shown.rows {
                                tr {
                                    td.mono { (breakable(&f.location)) }
                                    td.mono { (breakable(&f.path)) }
                                    td.nw title=[f.size.map(|size| format!("{size} bytes"))] {
                                        @if let Some(size) = f.size { (text::human_size(size)) }
                                    }
                                    td { (f.modified.as_deref().unwrap_or("")) }
                                    td.mono { (f.sha256.map(|d| d.to_string()).unwrap_or_default()) }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(value: &str) -> Vec<(bool, &str)> {
        break_points(value)
    }

    #[test]
    fn paths_break_after_separators_between_names_only() {
        assert_eq!(
            pieces(r"x86.bin\CLICORE.EXE"),
            [(true, r"x86.bin\"), (false, "CLICORE.EXE")]
        );
        assert_eq!(
            pieces(r"\\SERVER1\CAP_MS1"),
            [(true, r"\\SERVER1\"), (false, "CAP_MS1")]
        );
        assert_eq!(pieces("/mnt//a/"), [(true, "/mnt//"), (false, "a/")]);
        assert_eq!(pieces("2.00.1239.0000"), [(false, "2.00.1239.0000")]);
        assert_eq!(pieces(""), [(false, "")]);
        assert_eq!(breakable(r"\\S\C<b>").into_string(), r"\\S\<wbr>C&lt;b&gt;");
    }

    /// Every column the page shows is one of its table's.
    #[test]
    fn the_page_shows_columns_its_tables_have() {
        let empty = BTreeSet::new();
        let mut findings = finding_columns(Some(&empty));
        findings.push(ACCEPTED_COLUMN);
        let specs: [(&[Column], &[&str]); 4] = [
            (&findings, &crate::model::Judged::COLUMNS),
            (&DRIFT_COLUMNS, &crate::drift::Change::COLUMNS),
            (&SYMPTOM_COLUMNS, &crate::clientlogs::SymptomLine::COLUMNS),
            (&RESOLVED_COLUMNS, &table::HISTORY_COLUMNS),
        ];
        for (columns, header) in specs {
            for column in columns {
                let from = match column.show {
                    Show::PathFrom(from) | Show::WithReason(from) | Show::Accepted(from) => Some(from),
                    Show::FirstSeen { fingerprint, .. } => Some(fingerprint),
                    _ => None,
                };
                for name in std::iter::once(column.from).chain(from) {
                    assert!(header.contains(&name), "{name} is not in {header:?}");
                }
            }
        }
    }

    /// The page written a row at a time is the page written whole: every
    /// tag opened around pieces is closed where maud closes it.
    #[test]
    fn the_page_in_pieces_is_the_page_whole() {
        let shares = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-shares");
        let audit = crate::run_audit(&crate::Config::new(vec![shares]));
        assert!(
            audit.findings.len() > 1 && audit.matrix.rows.len() > 1,
            "more than one row to cut"
        );
        let page = |rows_per_piece| {
            let mut bytes = Vec::new();
            write_in_pieces(&audit, &mut bytes, rows_per_piece).unwrap();
            String::from_utf8(bytes).unwrap()
        };
        let whole = page(usize::MAX);
        assert_eq!(page(1), whole);
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(0.033), "0.0 s");
        assert_eq!(duration(59.94), "59.9 s");
        assert_eq!(duration(125.0), "2 min 05 s");
        assert_eq!(duration(7322.0), "2 h 02 min");
    }
}

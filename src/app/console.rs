//! What the terminal and the log show: progress, the summary, the log
//! lines, and writes to standard output.

use crate::audit::Audit;
use crate::crawl::Progress;
use crate::model::Status;
use crate::report::registry::{CAUSES_CSV, DRIFT_CSV, REPORT_HTML, SYMPTOMS_CSV};
use crate::text;
use anyhow::Result;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub(super) type Bar = (Arc<AtomicBool>, std::thread::JoinHandle<()>);

/// The spinner's frames: Braille dots where the terminal shows Unicode,
/// else ASCII. The Windows console's code page (and Wine's) has no Braille
/// glyphs, nor a terminal whose locale is not UTF-8.
fn spinner_frames() -> &'static [&'static str] {
    const BRAILLE: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    const ASCII: &[&str] = &["|", "/", "-", "\\"];
    if cfg!(windows) {
        return ASCII;
    }
    let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .unwrap_or_default()
        .to_ascii_lowercase();
    if locale.contains("utf-8") || locale.contains("utf8") {
        BRAILLE
    } else {
        ASCII
    }
}

/// A spinner on stderr fed from the crawl's counters, cleared when `done`
/// is set. It redraws one line with a carriage return and spaces only: no
/// cursor movement or escape sequence, which the Windows console under
/// Wine (and an old conhost) does not honour, so each tick printed a line
/// of its own; and the line stays one column short of the console's
/// width, as a line that wraps cannot be redrawn in place.
pub(super) fn progress_bar(progress: Arc<Progress>) -> Bar {
    let done = Arc::new(AtomicBool::new(false));
    let done_in_thread = done.clone();
    let thread = std::thread::spawn(move || {
        use unicode_width::UnicodeWidthChar;
        let frames = spinner_frames();
        let started = std::time::Instant::now();
        let width = stderr_width().saturating_sub(1);
        let mut tick = 0;
        while !done_in_thread.load(Ordering::Relaxed) {
            let line = format!(
                "{} [{}s] {}/{} locations, {} files, {}",
                frames[tick % frames.len()],
                started.elapsed().as_secs(),
                progress.locations_done.load(Ordering::Relaxed),
                progress.locations_total.load(Ordering::Relaxed),
                progress.files.load(Ordering::Relaxed),
                text::human_size(progress.bytes.load(Ordering::Relaxed)),
            );
            let (mut shown, mut used) = (String::new(), 0);
            for c in line.chars() {
                let w = c.width().unwrap_or(0);
                if used + w > width {
                    break;
                }
                shown.push(c);
                used += w;
            }
            text::print_stderr(&format!("\r{shown}{}", " ".repeat(width - used)));
            tick += 1;
            std::thread::sleep(std::time::Duration::from_millis(120));
        }
        if tick > 0 {
            text::print_stderr(&format!("\r{}\r", " ".repeat(width)));
        }
    });
    (done, thread)
}

/// What was read, skipped and why, one line each, for `--log` and `-v`.
/// Names and reasons come from the shares: a control character in one is
/// escaped, so it can neither drive the terminal nor start a forged line.
pub(crate) fn log_lines(audit: &Audit) -> Vec<String> {
    raw_log_lines(audit)
        .into_iter()
        .map(|line| text::for_terminal(&line).into_owned())
        .collect()
}

/// `text` with every line escaped by [`text::for_terminal`], its line ends
/// kept.
pub(super) fn terminal_lines(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            let (body, end) = match line.strip_suffix('\n') {
                Some(body) => (body, "\n"),
                None => (line, ""),
            };
            format!("{}{end}", text::for_terminal(body))
        })
        .collect()
}

fn raw_log_lines(audit: &Audit) -> Vec<String> {
    let mut lines = Vec::new();
    for l in &audit.locations {
        lines.push(match l.status {
            Status::Ok => format!(
                "location {} ({} {}) from {}: {} files, {} bytes",
                l.name,
                l.kind.as_str(),
                l.sites.join(" "),
                l.root,
                l.files,
                l.bytes
            ),
            _ => format!(
                "location {} ({}) from {}: {}: {}",
                l.name,
                l.kind.as_str(),
                l.root,
                l.status.as_str(),
                l.reason
            ),
        });
    }
    for f in audit.files.iter() {
        let f = match f {
            Ok(f) => f,
            Err(err) => {
                lines.push(format!("error: cannot read the file records back: {err}"));
                break;
            }
        };
        if f.status != Status::Ok {
            lines.push(format!(
                "{} {}\\{}: {}",
                f.status.as_str(),
                f.location,
                f.path,
                f.reason
            ));
        } else if let Some(version) = &f.version {
            let source = f.version_source.as_deref().unwrap_or("");
            let shown = if version.is_empty() {
                crate::sms::version::EMPTY_VERSION
            } else {
                version
            };
            lines.push(format!("version {shown} from {}\\{} ({source})", f.location, f.path));
        } else if !f.reason.is_empty() {
            lines.push(format!("note {}\\{}: {}", f.location, f.path, f.reason));
        }
    }
    for f in &audit.findings {
        lines.push(format!(
            "finding {} {} {} site {} at {} {}: observed {}, expected {}",
            f.severity.as_str(),
            f.code,
            f.kb,
            f.site,
            f.location,
            f.path,
            f.observed,
            f.expected
        ));
    }
    lines
}

/// The one-screen summary printed at the end of an audit, escaped for the
/// terminal: the counts, then each cause with its fix; `with_findings`
/// (`-v`) lists every finding under its cause.
/// The most drift rows a log block lists; beyond, it says how many more
/// and where they all are.
pub(crate) const LOG_DRIFT_ROWS: usize = 100;

/// The drift of the run for its log block: a count and where the rows are
/// (`drift_csv`, the drift.csv this run wrote, if it did), then each row
/// up to [`LOG_DRIFT_ROWS`]; every value escaped for the terminal.
pub(crate) fn drift_log_lines(audit: &Audit, drift_csv: Option<&std::path::Path>) -> Vec<String> {
    let Some(drift) = &audit.drift else {
        return Vec::new();
    };
    let where_ = match drift_csv {
        Some(path) => format!("all in {}", path.display()),
        None => "no drift.csv written by this run".to_string(),
    };
    let mut lines = vec![format!(
        "drift: {} {} since the baseline ({where_})",
        drift.len(),
        text::plural(drift.len(), "change", "changes")
    )];
    for change in drift.iter().take(LOG_DRIFT_ROWS) {
        let moved = if change.old_path.is_empty() {
            String::new()
        } else {
            format!(" (was {})", change.old_path)
        };
        lines.push(format!(
            "drift {} {} {}{moved}: {}: {} -> {}",
            change.change.as_str(),
            change.location,
            change.path,
            change.what,
            change.old,
            change.new
        ));
    }
    if drift.len() > LOG_DRIFT_ROWS {
        lines.push(format!("drift: {} more ({where_})", drift.len() - LOG_DRIFT_ROWS));
    }
    lines.into_iter().map(|l| text::for_terminal(&l).into_owned()).collect()
}

/// The columns the summary is fitted to: the console's width when stderr
/// is one, else [`WIDTH_OFF_TERMINAL`].
pub(super) fn stderr_width() -> usize {
    terminal_size::terminal_size_of(std::io::stderr())
        .map(|(terminal_size::Width(w), _)| usize::from(w))
        .filter(|&w| w >= MIN_WIDTH)
        .unwrap_or(WIDTH_OFF_TERMINAL)
}

/// The width of the summary written where there is no console (a file, a
/// pipe, a scheduler's capture).
pub(crate) const WIDTH_OFF_TERMINAL: usize = 100;

/// Below this a console is too narrow to wrap for: lines are cut into
/// pieces that say nothing.
const MIN_WIDTH: usize = 40;

/// `text`'s lines fitted to `width` columns: a longer line is broken at
/// spaces (a word longer than the room left, at any character), its
/// continuation lines indented four columns past the line's own indent, so
/// the structure stays visible. Widths count terminal columns (a CJK
/// character is two).
pub(crate) fn fit_to_width(text: &str, width: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let width = width.max(MIN_WIDTH);
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        if body.width() <= width {
            out.push_str(line);
            continue;
        }
        let indent = body.len() - body.trim_start_matches(' ').len();
        let hanging = " ".repeat((indent + 4).min(width / 2));
        let mut column = 0;
        let mut first_word = true;
        for word in body[indent..].split(' ') {
            let room = |column: usize| width.saturating_sub(column);
            let word_width = word.width();
            if !first_word {
                if column + 1 + word_width <= width {
                    out.push(' ');
                    column += 1;
                } else {
                    out.push('\n');
                    out.push_str(&hanging);
                    column = hanging.len();
                }
            } else {
                out.push_str(&body[..indent]);
                column = indent;
            }
            first_word = false;
            if word_width <= room(column) {
                out.push_str(word);
                column += word_width;
                continue;
            }
            // A word wider than the line: cut it at the edge.
            for c in word.chars() {
                let c_width = c.width().unwrap_or(0);
                if column + c_width > width {
                    out.push('\n');
                    out.push_str(&hanging);
                    column = hanging.len();
                }
                out.push(c);
                column += c_width;
            }
        }
        out.push_str(end);
    }
    out
}

/// `drift_csv`: whether this run wrote drift.csv ([`DRIFT_CSV`]), which
/// the drift line points to.
pub(crate) fn summary(audit: &Audit, seconds: f64, with_findings: bool, drift_csv: bool) -> String {
    terminal_lines(&raw_summary(audit, seconds, with_findings, drift_csv))
}

fn raw_summary(audit: &Audit, seconds: f64, with_findings: bool, drift_csv: bool) -> String {
    let s = &audit.summary;
    let mut out = format!(
        "smsaudit: {} locations ({} unreadable), {} files, {}, {} mismatched items; findings: {} error, {} warning, {} info in {} {} ({:.1}s)\n",
        s.locations,
        s.unreadable_locations,
        s.files,
        text::human_size(s.bytes),
        s.mismatched_items,
        s.errors,
        s.warnings,
        s.infos,
        s.causes,
        text::plural(s.causes, "cause", "causes"),
        seconds
    );
    if s.unreadable_files + s.unreadable_folders > 0 {
        out.push_str(&format!(
            "  not checked: {} files and {} folders exist but could not be read (A05); this audit is not clean\n",
            s.unreadable_files, s.unreadable_folders
        ));
    }
    if let Some(drift) = &audit.drift {
        let changes = crate::drift::count_changes(drift);
        let notes = match drift.len() - changes {
            0 => String::new(),
            n => format!(" and {n} {}", text::plural(n, "note", "notes")),
        };
        out.push_str(&format!(
            "  drift since the baseline: {changes} changes{notes}{}\n",
            if drift_csv {
                format!(" (see {DRIFT_CSV})")
            } else {
                String::new()
            }
        ));
    }
    // --history: what changed since the previous run (src/history).
    if let Some(history) = &audit.history {
        match &history.previous_run {
            None => out.push_str("  history: the first run of this history\n"),
            Some(previous) => {
                out.push_str(&format!(
                    "  history: since the run of {previous}, {} new {}, {} resolved\n",
                    history.new.len(),
                    text::plural(history.new.len(), "finding", "findings"),
                    history.resolved.len()
                ));
                for gone in &history.resolved {
                    out.push_str(&format!(
                        "      resolved {} {} site {} at {}: {} (open since {})\n",
                        gone.severity.as_str(),
                        gone.code,
                        gone.site,
                        gone.location,
                        gone.path,
                        gone.first_seen
                    ));
                }
            }
        }
    }
    for line in audit.accepted_lines() {
        out.push_str(&format!("  {line}\n"));
    }
    for location in audit.locations.iter().filter(|l| l.status != Status::Ok) {
        out.push_str(&format!(
            "  unreadable: {} ({}): {}\n",
            location.name, location.root, location.reason
        ));
    }
    let shown = if with_findings {
        audit.causes.len()
    } else {
        audit.causes.len().min(CAUSES_ON_ONE_SCREEN)
    };
    for cause in &audit.causes[..shown] {
        let count = cause.findings.len();
        out.push_str(&format!(
            "  {} {} {}: {} ({} {})\n",
            cause.severity.as_str(),
            cause.id,
            if cause.kb.is_empty() {
                "-".to_string()
            } else {
                cause.kb.join(",")
            },
            cause.title,
            count,
            text::plural(count, "finding", "findings")
        ));
        for (n, step) in cause.fix.iter().enumerate() {
            out.push_str(&format!("      {}. {step}\n", n + 1));
        }
        if with_findings {
            for finding in cause.findings.iter().map(|&i| &audit.findings[i]) {
                out.push_str(&format!(
                    "      - {} {} site {} at {}: {}\n",
                    finding.severity.as_str(),
                    finding.code,
                    finding.site,
                    finding.location,
                    finding.path
                ));
            }
        }
    }
    // Client logs (--client-logs): how many clients each cause explains.
    if let Some(symptoms) = &audit.symptoms {
        let c = &symptoms.counts;
        out.push_str(&format!(
            "  client logs: {} clients, {} logs ({} not read wholly), {} symptoms: {} explained, {} not checked, {} not share-related\n",
            c.clients, c.logs, c.logs_not_read_wholly, c.symptoms, c.explained, c.not_checked, c.not_share_related
        ));
        for cause in symptoms.causes.iter().filter(|c| !c.clients.is_empty()) {
            let n = cause.clients.len();
            out.push_str(&format!(
                "  {} explains {n} {}\n",
                cause.cause,
                text::plural(n, "client", "clients")
            ));
        }
        out.push_str(&format!(
            "  {} symptoms nothing on the shares explains ({} clients): see {SYMPTOMS_CSV}\n",
            c.unexplained, c.unexplained_clients
        ));
        if c.before_fix > 0 {
            out.push_str(&format!(
                "  {} symptoms predate the fix of the finding that explained them (history): see {SYMPTOMS_CSV}\n",
                c.before_fix
            ));
        }
        if c.unrecognised > 0 {
            let most: Vec<String> = {
                let mut by_count: Vec<(&String, &u64)> = symptoms.unrecognised_by_client.iter().collect();
                by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                by_count
                    .iter()
                    .take(CLIENTS_NAMED)
                    .map(|(client, n)| format!("{client} {n}"))
                    .collect()
            };
            let more = symptoms.unrecognised_by_client.len().saturating_sub(CLIENTS_NAMED);
            out.push_str(&format!(
                "  {} failure lines match no known symptom, not recognised ({} clients: {}{}): a sample in {SYMPTOMS_CSV}\n",
                c.unrecognised,
                c.unrecognised_clients,
                most.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() }
            ));
        }
    }
    if shown < audit.causes.len() {
        let rest = &audit.causes[shown..];
        let of = |severity: crate::model::Severity| rest.iter().filter(|c| c.severity == severity).count();
        out.push_str(&format!(
            "  ... and {} more causes ({} error, {} warning, {} info): see {CAUSES_CSV} or {REPORT_HTML}, or run with -v\n",
            rest.len(),
            of(crate::model::Severity::Error),
            of(crate::model::Severity::Warning),
            of(crate::model::Severity::Info)
        ));
    }
    out
}

/// How many clients the summary names beside a count; audit.json has all.
const CLIENTS_NAMED: usize = 5;

/// How many causes the summary shows without `-v`: it must fit a screen
/// beside the counts; the reports hold them all.
const CAUSES_ON_ONE_SCREEN: usize = 12;

/// Writes to stdout; a reader that went away (`smsaudit rules | head`) is
/// not an error.
pub(super) fn print_stdout(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn long_lines_are_wrapped_at_spaces_with_a_hanging_indent() {
        let text = "short line\n  error C1 Q236596: one two three four five six seven eight nine ten eleven twelve\n";
        let fitted = fit_to_width(text, 40);
        assert_eq!(
            fitted,
            "short line\n  error C1 Q236596: one two three four\n      five six seven eight nine ten\n      eleven twelve\n"
        );
        assert_eq!(fitted.replace("\n      ", " "), text, "nothing lost");
    }

    #[test]
    fn a_word_wider_than_the_line_is_cut_and_wide_characters_count_twice() {
        let path = format!("  wrote {}", "x".repeat(90));
        for line in fit_to_width(&path, 40).lines() {
            assert!(line.width() <= 40, "{line}");
        }
        let cjk = format!("  {}", "日本語 ".repeat(20));
        for line in fit_to_width(&cjk, 40).lines() {
            assert!(line.width() <= 40, "{line}");
        }
        assert_eq!(
            fit_to_width("a b\n", 10),
            "a b\n",
            "below the minimum width nothing is cut"
        );
    }
}

//! What a person sees in a console: the summary fitted to the console's
//! width (80 columns in a pty) or to 100 columns off a terminal, and the
//! spinner kept to one line.

use crate::common;

#[cfg(unix)]
use std::path::Path;
use unicode_width::UnicodeWidthStr;

#[cfg(unix)]
/// Runs a program in a pseudo-terminal of `columns` columns (set on the
/// terminal before the program starts) and prints all it wrote; exits with
/// its exit code.
const IN_PTY: &str = r#"
import fcntl, os, pty, struct, sys, termios
columns, argv = int(sys.argv[1]), sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    os.execvp(argv[0], argv)
out = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

#[cfg(unix)]
/// Runs `program args` (with `env` set) in a pty of `columns` columns:
/// its exit code and what the console showed.
pub(crate) fn in_pty(columns: u16, program: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = std::process::Command::new("python3")
        .args(["-c", IN_PTY, &columns.to_string()])
        .arg(program)
        .args(args)
        .env("LANG", "C.UTF-8")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[cfg(unix)]
/// The text of each screen line the output draws: escape sequences
/// removed, split at CR and LF (a CR redraws the line in place).
pub(crate) fn drawn_lines(output: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut chars = output.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // CSI: parameters, then one final byte in @..~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        } else {
            plain.push(c);
        }
    }
    plain.split(['\r', '\n']).map(str::to_string).collect()
}

fn too_wide(lines: &[String], width: usize) -> Vec<&String> {
    lines.iter().filter(|l| l.width() > width).collect()
}

/// The sample estate with a long root path, audited with `-v` (every finding
/// under its cause): lines of ~200 columns before they are fitted.
fn scene() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let estate = dir
        .path()
        .join("an estate copied to a folder with a rather long name for the test");
    common::sample_copy(&estate);
    let args = vec![
        "audit".to_string(),
        estate.to_str().unwrap().to_string(),
        "-v".to_string(),
        "--format".to_string(),
        "json".to_string(),
        "--out".to_string(),
        dir.path().join("out").to_str().unwrap().to_string(),
    ];
    (dir, args)
}

#[cfg(unix)]
#[test]
fn the_summary_fits_an_80_column_console() {
    if !common::require("python3", "to run smsaudit in a pseudo-terminal") {
        return;
    }
    let (_dir, args) = scene();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, shown) = in_pty(80, Path::new(common::BIN), &args, &[]);
    assert_eq!(code, Some(1), "{shown}");
    let lines = drawn_lines(&shown);
    assert!(lines.iter().any(|l| l.starts_with("smsaudit: 9 locations")), "{shown}");
    assert!(
        too_wide(&lines, 80).is_empty(),
        "wider than 80: {:#?}",
        too_wide(&lines, 80)
    );
    // Wrapped, not cut: the continuation of a cause's line is indented.
    assert!(lines
        .iter()
        .any(|l| l.starts_with("      ") && !l.trim_start().starts_with(['-', '1', '2'])));
    assert!(shown.contains("Q236596"), "{shown}");
}

#[test]
fn off_a_terminal_the_summary_fits_100_columns() {
    let (_dir, args) = scene();
    let output = common::smsaudit().args(&args).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<String> = stderr.lines().map(str::to_string).collect();
    assert!(lines.iter().any(|l| l.starts_with("smsaudit: 9 locations")), "{stderr}");
    assert!(
        too_wide(&lines, 100).is_empty(),
        "wider than 100: {:#?}",
        too_wide(&lines, 100)
    );
    assert!(
        lines.iter().any(|l| l.width() > 80),
        "100 columns, not the pty's 80: {stderr}"
    );
}

//! Colour on terminals only. `console` decides per stream (a terminal, `NO_COLOR`, `CLICOLOR`,
//! `CLICOLOR_FORCE`), so piped or redirected output is plain text. Callers pad a table cell
//! before styling it, so escape codes never shift a column.

use console::style;

/// The closing `result:` line of a sweep or merge (stdout).
pub fn result_line(failed: bool) -> String {
    if failed {
        format!("result: {}", style("VIOLATIONS FOUND").red().bold())
    } else {
        format!("result: {}", style("no violations").green())
    }
}

/// A failure report for stderr: its first word (`FAILED`, `NONDETERMINISM`) in red.
pub fn failure_report(text: &str) -> String {
    match text.split_once(' ') {
        Some((word, rest)) if !word.is_empty() && word.chars().all(|c| c.is_ascii_uppercase()) => format!("{} {rest}", style(word).red().bold().for_stderr()),
        _ => text.to_string(),
    }
}

/// A padded header cell of the summary table (stdout).
pub fn header_cell(padded: &str) -> String {
    style(padded).bold().to_string()
}

/// The padded `violations` cell: red when there are any (stdout).
pub fn violations_cell(padded: &str, count: usize) -> String {
    if count > 0 {
        style(padded).red().bold().to_string()
    } else {
        style(padded).green().to_string()
    }
}

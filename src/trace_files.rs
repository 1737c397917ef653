//! The files a run's trace is written as: JSON lines, text, Perfetto (Chrome trace-event
//! JSON) and the HTML timeline. Shared by failure folders and `replay --trace-out/--out-dir`.

use alarmsim_sim::export::{perfetto, timeline, RunInfo};
use alarmsim_sim::RunReport;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// A trace format (`replay --format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per event (time, node, actor, kind, text, gauges).
    Jsonl,
    /// The compact text form (as in failure reports and snapshots).
    Text,
    /// Chrome trace-event JSON: open it in https://ui.perfetto.dev.
    Perfetto,
    /// A self-contained HTML timeline: open it in a browser.
    Html,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Jsonl, Format::Text, Format::Perfetto, Format::Html];

    /// The file name this format gets in a folder (failure folders, `--out-dir`).
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Jsonl => "trace.jsonl",
            Format::Text => "trace.txt",
            Format::Perfetto => "trace.perfetto.json",
            Format::Html => "timeline.html",
        }
    }

    pub fn render(self, report: &RunReport) -> String {
        match self {
            Format::Jsonl => report.trace.to_jsonl(),
            Format::Text => report.trace.to_text(),
            Format::Perfetto => perfetto::render(&report.trace, &RunInfo::from(report)),
            Format::Html => timeline::render(&report.trace, &RunInfo::from(report)),
        }
    }
}

/// Creates `dir` (and parents) or fails with a message that names it and the flag it came from.
pub fn create_dir(dir: &Path, flag: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the directory {} ({flag}): it must be writable", dir.display()))
}

/// Writes one format of the trace to `path`.
pub fn write(path: &Path, format: Format, report: &RunReport) -> anyhow::Result<()> {
    std::fs::write(path, format.render(report)).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes every format into `dir` (which must exist) and returns the paths.
pub fn write_all(dir: &Path, report: &RunReport) -> anyhow::Result<Vec<PathBuf>> {
    Format::ALL
        .iter()
        .map(|&format| {
            let path = dir.join(format.file_name());
            write(&path, format, report)?;
            Ok(path)
        })
        .collect()
}

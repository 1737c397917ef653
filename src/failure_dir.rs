//! Failure folders: everything needed to look at one failing seed, in one place
//! (`target/alarmsim/failures/<scenario>-<variant>-<seed>/`): the report, the trace in every
//! format (`crate::trace_files`: JSON lines, text, Perfetto, the HTML timeline) and the plan.

use alarmsim_sim::coverage::Coverage;
use alarmsim_sim::RunReport;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Where a sweep writes its failure folders unless told otherwise.
pub const DEFAULT_BASE: &str = "target/alarmsim/failures";

/// At most this many folders per scenario: a broken variant can fail every seed.
pub const MAX_PER_SCENARIO: usize = 20;

/// Creates `base` (and parents) or fails with a message that names it.
pub fn prepare(base: &Path) -> anyhow::Result<()> {
    crate::trace_files::create_dir(base, "--failures-dir")
}

/// The folder of one failure.
pub fn folder(base: &Path, report: &RunReport) -> PathBuf {
    base.join(format!("{}-{}-{}", report.scenario, report.variant, report.seed))
}

/// Writes the report, the trace in every format and the plan of a failing run. The report
/// ends with the coverage probes the run reached, the rare ones first when the sweep counted
/// coverage (`sweep`'s `coverage`: fewer than one seed in ten of the scenario reached them).
pub fn write(base: &Path, report: &RunReport, sweep: Option<&Coverage>) -> anyhow::Result<PathBuf> {
    let dir = folder(base, report);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let text = dir.join("report.txt");
    let mut body = report.failure_text(60).unwrap_or_default();
    body.push_str(&crate::coverage_report::of_failure(report, sweep));
    std::fs::write(&text, body).with_context(|| format!("cannot write {}", text.display()))?;
    crate::trace_files::write_all(&dir, report)?;
    report.plan.save(&dir.join("plan.json"))?;
    Ok(dir)
}

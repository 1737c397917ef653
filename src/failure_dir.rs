//! Failure folders: everything needed to look at one failing seed, in one place
//! (`target/alarmsim/failures/<scenario>-<variant>-<seed>/`).

use alarmsim_sim::RunReport;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Where a sweep writes its failure folders unless told otherwise.
pub const DEFAULT_BASE: &str = "target/alarmsim/failures";

/// At most this many folders per scenario: a broken variant can fail every seed.
pub const MAX_PER_SCENARIO: usize = 20;

/// Creates `base` (and parents) or fails with a message that names it.
pub fn prepare(base: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(base).with_context(|| format!("cannot create the failures directory {} (--failures-dir): it must be writable", base.display()))
}

/// The folder of one failure.
pub fn folder(base: &Path, report: &RunReport) -> PathBuf {
    base.join(format!("{}-{}-{}", report.scenario, report.variant, report.seed))
}

/// Writes the report, the trace (JSON lines and text) and the plan of a failing run.
pub fn write(base: &Path, report: &RunReport) -> anyhow::Result<PathBuf> {
    let dir = folder(base, report);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let put = |name: &str, text: String| -> anyhow::Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    put("report.txt", report.failure_text(60).unwrap_or_default())?;
    put("trace.jsonl", report.trace.to_jsonl())?;
    put("trace.txt", report.trace.to_text())?;
    report.plan.save(&dir.join("plan.json"))?;
    Ok(dir)
}

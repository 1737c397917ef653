//! The regression-seed file (`tests/regressions.txt`), like proptest's regression files:
//! seeds that once found a bug are run again by every `cargo test` (`tests/regressions.rs`).
//!
//! Format, one entry per line, blank lines and `#` comments allowed:
//!
//! ```text
//! <scenario> <variant> <seed> [reaches=<probe>,<probe>…] [link=rpc|local]  # optional comment
//! ```
//!
//! An entry with variant `reference` must pass (the bug it found stays fixed); an entry with
//! any other variant must still fail (the simulator still catches that bug). With `reaches=`
//! the run must also reach those coverage probes (`sweep --coverage` names them and the first
//! seed of each): a rare condition the workload once produced stays produced. With
//! `link=local` the seed runs under local workerd's link (`sweep --link local`); the default
//! is `rpc`.
//! `alarmsim sweep --save-regressions FILE` appends every failing seed of a sweep.
//!
//! This file is shared: it is a module of the CLI and is included by `tests/regressions.rs`
//! with `#[path]`, so the format has one definition.

use alarmsim_sim::scenario::LinkModel;
use std::collections::BTreeSet;
use std::path::Path;

/// The line that explains the format, quoted in every parse error.
pub const FORMAT: &str = "`<scenario> <variant> <seed> [reaches=<probe>,…] [link=rpc|local]  # optional comment` (blank lines and `#` comments are allowed)";

/// The header a newly created file starts with.
const HEADER: &str = "\
# Regression seeds, run by `cargo test --test regressions`.
# One entry per line: <scenario> <variant> <seed> [reaches=<probe>,…] [link=rpc|local]  # optional comment
# Variant `reference` must pass; any other variant must still fail (the bug is caught).
# `alarmsim sweep ... --save-regressions <this file>` appends every failing seed.
";

/// One entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub scenario: String,
    pub variant: String,
    pub seed: u64,
    /// The text after `#`, trimmed (empty when there is none).
    pub comment: String,
    /// Coverage probes the run must reach (`reaches=`), checked against the names its
    /// variant and world declare.
    pub reaches: Vec<String>,
    /// The link model the seed runs under (`link=`; `rpc` when absent).
    pub link: LinkModel,
    /// 1-based line number in the file (0 for an entry not read from a file).
    #[allow(dead_code)] // read by tests/regressions.rs
    pub line: usize,
}

impl Entry {
    /// Whether the entry must pass (the reference) or must fail (a bug variant).
    #[allow(dead_code)] // used by tests/regressions.rs
    pub fn must_pass(&self) -> bool {
        self.variant == "reference"
    }

    fn key(&self) -> (String, String, u64, LinkModel) {
        (self.scenario.clone(), self.variant.clone(), self.seed, self.link)
    }

    /// The line as written to the file.
    pub fn to_line(&self) -> String {
        let comment = self.comment.replace(['\n', '\r'], " ");
        let mut reaches = if self.reaches.is_empty() { String::new() } else { format!(" reaches={}", self.reaches.join(",")) };
        if self.link == LinkModel::Local {
            reaches.push_str(" link=local");
        }
        if comment.trim().is_empty() {
            format!("{} {} {}{reaches}", self.scenario, self.variant, self.seed)
        } else {
            format!("{} {} {}{reaches}  # {}", self.scenario, self.variant, self.seed, comment.trim())
        }
    }
}

/// A malformed file: names the file and the line, and says what is valid.
#[derive(Debug)]
pub struct RegressionError(pub String);

impl std::fmt::Display for RegressionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RegressionError {}

/// Parses `text` (the contents of `file`), checking every name against the catalog.
pub fn parse(text: &str, file: &Path) -> Result<Vec<Entry>, RegressionError> {
    let scenarios: Vec<String> = alarmsim_scenarios::scenarios().iter().map(|s| s.name.to_string()).collect();
    let mut variants: Vec<String> = Vec::new();
    for name in alarmsim_scenarios::subjects().iter().map(|v| v.name().to_string()) {
        if !variants.contains(&name) {
            variants.push(name); // `reference` of each system is one name.
        }
    }
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let (body, comment) = match raw.split_once('#') {
            Some((body, comment)) => (body, comment.trim()),
            None => (raw, ""),
        };
        let fields: Vec<&str> = body.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let at = |what: String| RegressionError(format!("{}:{line}: {what}", file.display()));
        let (scenario, variant, seed, options) = match fields[..] {
            [scenario, variant, seed, ref options @ ..] if options.len() <= 2 => (scenario, variant, seed, options),
            _ => return Err(at(format!("expected 3 to 5 fields, found {} in {:?}; each entry is {FORMAT}", fields.len(), raw.trim()))),
        };
        let mut reaches = None;
        let mut link = None;
        for &option in options {
            let slot = if option.starts_with("reaches=") {
                &mut reaches
            } else if option.starts_with("link=") {
                &mut link
            } else {
                return Err(at(format!("the field '{option}' must be reaches=<probe>,<probe>… or link=rpc|local; each entry is {FORMAT}")));
            };
            if slot.replace(option).is_some() {
                return Err(at(format!("the field '{option}' is given twice; each entry is {FORMAT}")));
            }
        }
        let link = match link {
            None | Some("link=rpc") => LinkModel::Rpc,
            Some("link=local") => LinkModel::Local,
            Some(other) => return Err(at(format!("'{other}' is not a link: valid are link=rpc and link=local"))),
        };
        if !scenarios.iter().any(|s| s == scenario) {
            return Err(at(format!("unknown scenario '{scenario}'; valid scenarios: {}", scenarios.join(", "))));
        }
        if !variants.iter().any(|v| v == variant) {
            return Err(at(format!("unknown variant '{variant}'; valid variants: {}", variants.join(", "))));
        }
        let spec = alarmsim_scenarios::scenario(scenario).expect("checked above");
        let Some(subject) = alarmsim_scenarios::subject(variant, &spec) else {
            return Err(at(format!("variant '{variant}' cannot run scenario '{scenario}' (alarm variants run alarm scenarios, queue variants queue scenarios)")));
        };
        let reaches: Vec<String> = match reaches {
            None => Vec::new(),
            Some(field) => {
                let list = field.strip_prefix("reaches=").expect("sorted by prefix above");
                let known: Vec<&str> = subject.declared_probes().iter().map(|p| p.name).collect();
                let names: Vec<String> = list.split(',').map(str::to_string).collect();
                if let Some(unknown) = names.iter().find(|n| !known.contains(&n.as_str())) {
                    return Err(at(format!(
                        "unknown probe '{unknown}': variant {variant} on scenario {scenario} declares {} (`alarmsim list --probes` explains each)",
                        known.join(", ")
                    )));
                }
                names
            }
        };
        let seed: u64 = seed
            .parse()
            .map_err(|_| at(format!("seed '{seed}' is not a whole number from 0 to {}; each entry is {FORMAT}", u64::MAX)))?;
        entries.push(Entry { scenario: scenario.to_string(), variant: variant.to_string(), seed, comment: comment.to_string(), reaches, link, line });
    }
    Ok(entries)
}

/// Reads and parses `file`.
pub fn read(file: &Path) -> Result<Vec<Entry>, RegressionError> {
    let text = std::fs::read_to_string(file).map_err(|e| RegressionError(format!("{}: cannot read the regression file: {e}", file.display())))?;
    parse(&text, file)
}

/// Checks that `file` can be appended to: it is missing (it will be created) or parses.
pub fn check_appendable(file: &Path) -> Result<(), RegressionError> {
    if file.exists() {
        read(file)?;
    }
    Ok(())
}

/// Appends the entries not already in `file` (same scenario, variant and seed), creating
/// the file with a header if it is missing. Existing content is never rewritten. Returns
/// how many entries were added.
pub fn append(file: &Path, new: &[Entry]) -> Result<usize, RegressionError> {
    let existing = if file.exists() {
        std::fs::read_to_string(file).map_err(|e| RegressionError(format!("{}: cannot read the regression file: {e}", file.display())))?
    } else {
        String::new()
    };
    let mut present: BTreeSet<(String, String, u64, LinkModel)> = parse(&existing, file)?.iter().map(Entry::key).collect();
    let mut text = String::new();
    if existing.is_empty() {
        text.push_str(HEADER);
    } else if !existing.ends_with('\n') {
        text.push('\n');
    }
    let mut added = 0;
    for entry in new {
        if present.insert(entry.key()) {
            text.push_str(&entry.to_line());
            text.push('\n');
            added += 1;
        }
    }
    if added == 0 {
        return Ok(0);
    }
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| RegressionError(format!("{}: cannot create the directory: {e}", dir.display())))?;
    }
    use std::io::Write;
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .map_err(|e| RegressionError(format!("{}: cannot open the regression file for appending: {e}", file.display())))?;
    out.write_all(text.as_bytes()).map_err(|e| RegressionError(format!("{}: cannot append to the regression file: {e}", file.display())))?;
    Ok(added)
}

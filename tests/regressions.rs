//! Regression seeds (`tests/regressions.txt`): every entry runs again on every `cargo test`.
//! An entry with variant `reference` must pass (the bug that seed once found stays fixed); an
//! entry with a bug variant must still fail (the simulator still catches that bug).
//!
//! Add entries with `alarmsim sweep ... --save-regressions tests/regressions.txt`, or by hand.
//! The format is defined in `src/regressions.rs`, shared with the CLI.

#[path = "../src/regressions.rs"]
mod regressions;

use alarmsim_sim::scenario::LinkModel;
use alarmsim_sim::{run_seed, run_seed_traced, RunOptions};
use regressions::Entry;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

fn regression_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions.txt")
}

#[test]
fn every_regression_seed_still_behaves() {
    let file = regression_file();
    let entries = regressions::read(&file).unwrap_or_else(|e| panic!("{e}"));
    assert!(!entries.is_empty(), "{}: no entries", file.display());
    let queue = Mutex::new(entries.clone());
    let problems = Mutex::new(Vec::new());
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let Some(entry) = queue.lock().unwrap().pop() else { break };
                if let Some(problem) = check(&file, &entry) {
                    problems.lock().unwrap().push((entry.line, problem));
                }
            });
        }
    });
    let mut problems = problems.into_inner().unwrap();
    problems.sort();
    if !problems.is_empty() {
        let texts: Vec<String> = problems.into_iter().map(|(_, p)| p).collect();
        panic!("{} of {} regression entries misbehave:\n\n{}", texts.len(), entries.len(), texts.join("\n"));
    }
    println!("{} regression entries behave as recorded", entries.len());
}

/// Runs one entry; returns what is wrong with it, if anything.
fn check(file: &Path, entry: &Entry) -> Option<String> {
    let mut spec = alarmsim_scenarios::scenario(&entry.scenario).expect("names were checked when parsing");
    if spec.queue().is_none() {
        spec.link = entry.link;
    }
    let factory = alarmsim_scenarios::subject(&entry.variant, &spec).expect("names were checked when parsing");
    let report = run_seed_traced(&spec, factory.clone(), entry.seed, RunOptions { keep_trace: false, coverage: !entry.reaches.is_empty() });
    let at = format!("{}:{}: {} {} {} (link {:?})", file.display(), entry.line, entry.scenario, entry.variant, entry.seed, entry.link);
    let missed: Vec<&str> = entry.reaches.iter().filter(|p| report.coverage.count(p) == 0).map(String::as_str).collect();
    if !missed.is_empty() {
        return Some(format!(
            "{at}: the run no longer reaches {}: the workload or the world changed so this seed stopped producing that condition;              find a seed that does with `cargo run --release -- sweep --scenario {} --coverage` (its first seed column) and replace the entry",
            missed.join(", "),
            entry.scenario
        ));
    }
    match (entry.must_pass(), report.passed()) {
        (true, true) | (false, false) => None,
        (true, false) => {
            // Replay with the trace on for the report (the same run, by determinism).
            let traced = run_seed(&spec, factory, entry.seed);
            Some(format!(
                "{at}: the reference must pass this seed but it fails again\n{}",
                traced.failure_text(40).unwrap_or_else(|| "(the traced replay passed: nondeterminism?)".to_string())
            ))
        }
        (false, true) => Some(format!(
            "{at}: variant {} must still fail this seed (recorded: {}) but it passed; the scenario or the world \
             changed so this seed no longer reaches the bug: replace the entry with a seed that fails, e.g. from \
             `cargo run --release -- sweep --scenario {} --variant {}{} --save-regressions tests/regressions.txt`",
            entry.variant,
            if entry.comment.is_empty() { "no comment" } else { &entry.comment },
            entry.scenario,
            entry.variant,
            if entry.link == LinkModel::Local { " --link local" } else { "" }
        )),
    }
}

// ----- the format ------------------------------------------------------------------------

fn parse_error(text: &str) -> String {
    regressions::parse(text, Path::new("tests/regressions.txt")).expect_err("a malformed file").to_string()
}

#[test]
fn entries_comments_and_blank_lines_parse() {
    let text = "# header\n\nstandard reference 83  # found a bug once\n  everything b1-deferred-delete-retry 7\n";
    let entries = regressions::parse(text, Path::new("r.txt")).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0].scenario.as_str(), entries[0].variant.as_str(), entries[0].seed, entries[0].line), ("standard", "reference", 83, 3));
    assert_eq!(entries[0].comment, "found a bug once");
    assert!(entries[0].must_pass() && !entries[1].must_pass());
    assert_eq!(entries[1].line, 4);
}

#[test]
fn parse_errors_name_the_file_the_line_and_what_is_valid() {
    let wrong_count = parse_error("# ok\nstandard reference\n");
    assert!(wrong_count.starts_with("tests/regressions.txt:2: expected 3 to 5 fields, found 2"), "{wrong_count}");
    assert!(wrong_count.contains("<scenario> <variant> <seed>"), "{wrong_count}");

    let scenario = parse_error("no-such-scenario reference 1\n");
    assert!(scenario.starts_with("tests/regressions.txt:1: unknown scenario 'no-such-scenario'; valid scenarios: standard"), "{scenario}");
    for spec in alarmsim_scenarios::scenarios() {
        assert!(scenario.contains(spec.name), "{scenario} lacks {}", spec.name);
    }

    let variant = parse_error("\n\nstandard b99 1\n");
    assert!(variant.starts_with("tests/regressions.txt:3: unknown variant 'b99'; valid variants: reference"), "{variant}");
    for factory in alarmsim_scenarios::variants() {
        assert!(variant.contains(factory.name()), "{variant} lacks {}", factory.name());
    }

    let probe = parse_error("standard reference 4 reaches=actor.arm.run-current,actor.nope\n");
    assert!(probe.starts_with("tests/regressions.txt:1: unknown probe 'actor.nope'"), "{probe}");
    assert!(probe.contains("actor.arm.run-overdue") && probe.contains("world.crash.mid-handler"), "it lists the probes that are valid: {probe}");
    let field = parse_error("standard reference 4 touches=x\n");
    assert!(field.contains("must be reaches=<probe>"), "{field}");
    let entries = regressions::parse("standard reference 4 reaches=actor.arm.run-current  # ok\n", Path::new("r.txt")).unwrap();
    assert_eq!(entries[0].reaches, ["actor.arm.run-current"]);
    assert_eq!(entries[0].to_line(), "standard reference 4 reaches=actor.arm.run-current  # ok");
    // The link: local workerd's, or the default RPC one; named once, and only those two.
    let entries = regressions::parse("standard workerd-head 14 link=local\nstandard reference 14 link=rpc\n", Path::new("r.txt")).unwrap();
    assert_eq!((entries[0].link, entries[1].link), (LinkModel::Local, LinkModel::Rpc));
    assert_eq!(entries[0].to_line(), "standard workerd-head 14 link=local");
    assert_eq!(entries[1].to_line(), "standard reference 14", "rpc is the default and is not written");
    let link = parse_error("standard reference 4 link=carrier-pigeon\n");
    assert!(link.contains("'link=carrier-pigeon' is not a link: valid are link=rpc and link=local"), "{link}");
    let twice = parse_error("standard reference 4 link=local link=rpc\n");
    assert!(twice.contains("given twice"), "{twice}");

    let seed = parse_error("standard reference -4\n");
    assert!(seed.starts_with("tests/regressions.txt:1: seed '-4' is not a whole number"), "{seed}");
}

#[test]
fn append_creates_skips_duplicates_and_never_rewrites() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sub/regressions.txt");
    let entry = |scenario: &str, variant: &str, seed: u64, comment: &str| Entry {
        scenario: scenario.into(),
        variant: variant.into(),
        seed,
        comment: comment.into(),
        reaches: Vec::new(),
        link: LinkModel::Rpc,
        line: 0,
    };
    let added = regressions::append(&file, &[entry("standard", "b2-stale-move-later", 3, "never-late: multi\nline")]).unwrap();
    assert_eq!(added, 1);
    let first = std::fs::read_to_string(&file).unwrap();
    assert!(first.starts_with("# Regression seeds"), "a new file gets the header:\n{first}");
    assert!(first.ends_with("standard b2-stale-move-later 3  # never-late: multi line\n"), "{first}");

    // Hand edits survive; a present entry is skipped; a file without a final newline still
    // gets its new entry on a line of its own.
    std::fs::write(&file, format!("{first}# kept by hand\nstandard reference 83")).unwrap();
    let added = regressions::append(
        &file,
        &[entry("standard", "b2-stale-move-later", 3, "again"), entry("everything", "reference", 5, ""), entry("everything", "reference", 5, "")],
    )
    .unwrap();
    assert_eq!(added, 1);
    let second = std::fs::read_to_string(&file).unwrap();
    assert_eq!(second, format!("{first}# kept by hand\nstandard reference 83\neverything reference 5\n"));
    assert_eq!(regressions::read(&file).unwrap().len(), 3);

    // Nothing new: the file is left alone.
    assert_eq!(regressions::append(&file, &[entry("standard", "reference", 83, "")]).unwrap(), 0);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), second);

    // A malformed file is refused, with its line number, and not touched.
    assert!(regressions::check_appendable(&dir.path().join("missing.txt")).is_ok());
    std::fs::write(&file, "standard reference 83\nstandard\n").unwrap();
    assert!(regressions::check_appendable(&file).is_err());
    let err = regressions::append(&file, &[entry("everything", "reference", 1, "")]).unwrap_err().to_string();
    assert!(err.contains("regressions.txt:2: expected 3 to 5 fields"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "standard reference 83\nstandard\n");
}

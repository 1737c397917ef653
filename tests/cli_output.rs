//! The CLI's files and output: a failing sweep leaves a folder with the trace in every format;
//! piped output carries no colour codes and its table stays aligned; `replay` writes any format
//! and reports bad formats and unwritable directories as usage errors (exit 2).

use std::path::Path;
use std::process::{Command, Output};

const VARIANT: &str = "b12-deferred-delete-clobbers";
const SCENARIO: &str = "deferred-delete-race";
/// The invariants that may catch it there (its bug-library case).
const CAUGHT_BY: [&str; 2] = ["no-lost-alarm", "alarm-conservation"];

/// The CLI with stdout and stderr piped, colour left to its own detection.
fn alarmsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alarmsim"))
        .args(args)
        .env_remove("CLICOLOR_FORCE")
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .output()
        .expect("run alarmsim")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_failing_sweep_writes_every_trace_format_and_plain_aligned_output_when_piped() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let failures = dir.path().join("failures");
    let args = ["sweep", "--variant", VARIANT, "--scenario", SCENARIO, "--seeds", "2", "--no-shrink", "--failures-dir", failures.to_str().unwrap()];
    let out = alarmsim(&args);
    assert_eq!(out.status.code(), Some(1), "a violation exits 1; stderr:\n{}", text(&out.stderr));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!stdout.contains("\x1b[") && !stderr.contains("\x1b["), "piped output has no colour codes:\n{stdout}\n{stderr}");
    // Header, rule and rows pad every column to the same width, so the lines are equally long.
    let table: Vec<&str> = stdout.lines().take_while(|l| !l.starts_with("result:") && !l.starts_with("determinism")).collect();
    assert!(table.len() >= 3, "a table with a row:\n{stdout}");
    assert!(table.iter().all(|l| l.len() == table[0].len()), "the table is aligned:\n{stdout}");
    assert!(stdout.contains("result: VIOLATIONS FOUND"));
    assert!(stderr.contains("timeline.html"), "the sweep prints where the timeline is:\n{stderr}");

    let folder = failures.join(format!("{SCENARIO}-{VARIANT}-0"));
    for file in ["report.txt", "trace.jsonl", "trace.txt", "trace.perfetto.json", "timeline.html", "plan.json"] {
        assert!(folder.join(file).is_file(), "{file} in {}", folder.display());
    }
    check_perfetto(&folder.join("trace.perfetto.json"));
    let html = std::fs::read_to_string(folder.join("timeline.html")).unwrap();
    assert!(CAUGHT_BY.iter().any(|i| html.contains(&format!("\"invariant\":\"{i}\""))), "the timeline embeds the violation");

    // The same sweep forced to colour does colour: the check above is not vacuous.
    let forced = Command::new(env!("CARGO_BIN_EXE_alarmsim")).args(args).env("CLICOLOR_FORCE", "1").env_remove("NO_COLOR").output().unwrap();
    assert!(text(&forced.stdout).contains("\x1b["), "CLICOLOR_FORCE=1 colours the table");
}

/// Valid JSON with one named thread per actor (and the world's), counters for both gauges and
/// the violation as a global instant.
fn check_perfetto(path: &Path) {
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("trace.perfetto.json is JSON");
    assert_eq!(doc["displayTimeUnit"], "ms");
    let events = doc["traceEvents"].as_array().expect("traceEvents");
    let threads: Vec<&str> = events.iter().filter(|e| e["name"] == "thread_name").map(|e| e["args"]["name"].as_str().unwrap()).collect();
    assert_eq!(threads, ["world", "a0", "a1"], "one track per actor plus the world's");
    for gauge in ["storage", "manager"] {
        assert!(events.iter().any(|e| e["ph"] == "C" && e["name"] == "a0" && e["args"].get(gauge).is_some()), "a0 {gauge} counter");
    }
    assert!(events.iter().any(|e| e["ph"] == "X"), "handler runs are slices");
    let violation = events.iter().find(|e| e["cat"] == "violation").expect("the violation instant");
    assert_eq!((violation["ph"].as_str(), violation["s"].as_str()), (Some("i"), Some("g")));
    assert!(CAUGHT_BY.iter().any(|i| violation["name"] == format!("VIOLATION: {i}")), "{}", violation["name"]);
}

#[test]
fn replay_writes_each_format_and_rejects_bad_formats_and_directories() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let replay = ["replay", "--variant", VARIANT, "--scenario", SCENARIO, "--seed", "0"];

    // --out-dir: every format, in a directory that did not exist.
    let out_dir = dir.path().join("new").join("dir");
    let out = alarmsim(&[&replay[..], &["--out-dir", out_dir.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    for file in ["trace.jsonl", "trace.txt", "trace.perfetto.json", "timeline.html"] {
        assert!(out_dir.join(file).is_file(), "--out-dir wrote {file}");
    }

    // --trace-out with --format: the same bytes as the --out-dir file of that format.
    let html = dir.path().join("one").join("t.html");
    let out = alarmsim(&[&replay[..], &["--trace-out", html.to_str().unwrap(), "--format", "html"]].concat());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&html).unwrap(), std::fs::read(out_dir.join("timeline.html")).unwrap(), "deterministic HTML");

    // An unknown format names the valid ones.
    let out = alarmsim(&[&replay[..], &["--trace-out", "x", "--format", "svg"]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("jsonl, text, perfetto, html"), "{}", text(&out.stderr));

    // A directory that cannot be created (its parent is a file) is named in the message.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let blocked = file.join("sub");
    let out = alarmsim(&[&replay[..], &["--out-dir", blocked.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains(blocked.to_str().unwrap()), "{}", text(&out.stderr));
}

/// A seed that is not a whole number exits 2, naming the flag, the value and what a seed is.
#[test]
fn a_malformed_seed_exits_2_and_says_what_a_seed_is() {
    for args in [&["replay", "--scenario", "standard", "--seed", "-5"][..], &["shrink", "--scenario", "standard", "--seed", "x"], &["sweep", "--start-seed", "1.5"]] {
        let out = alarmsim(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        let (flag, value) = (args[args.len() - 2], args[args.len() - 1]);
        assert!(stderr.contains(flag) && stderr.contains(value) && stderr.contains("a seed is a whole number from 0"), "{args:?}: {stderr}");
    }
}

/// `bench --scale` runs each size in a child process and prints one table row per size; a
/// size that is not a positive multiple of the 4 hosts exits 2 and says what a size is.
#[test]
fn bench_scale_prints_a_row_per_size_and_rejects_bad_sizes() {
    let out = alarmsim(&["bench", "--scale", "--actors", "16,32", "--actor-seeds", "32", "--min-seeds", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("| 16 |") || l.starts_with("| 32 |")).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert!(rows[0].starts_with("| 16 | 2 |") && rows[1].starts_with("| 32 | 1 |"), "16 actors run 2 seeds, 32 run 1:\n{stdout}");
    assert!(rows.iter().all(|r| r.trim_end().ends_with("| 0 |")), "no violations:\n{stdout}");
    for bad in ["5", "0", "x"] {
        let out = alarmsim(&["bench", "--scale", "--actors", bad]);
        assert_eq!(out.status.code(), Some(2), "--actors {bad}");
        assert!(text(&out.stderr).contains("positive multiple of 4 actors"), "--actors {bad}: {}", text(&out.stderr));
    }
}

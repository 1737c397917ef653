//! Shared by the end-to-end tests. Each test crate uses part of it.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};

/// Starts `alarmsim <args>` with its stdout lines arriving on a channel (read by a thread, so
/// the test can wait for a line with a timeout); stderr passes through.
pub fn spawn_alarmsim<S: AsRef<OsStr>>(args: &[S]) -> (Child, Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_alarmsim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start alarmsim");
    let (tx, lines) = mpsc::channel();
    let out = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, lines)
}

/// Checks that every code block `docs/TEST_YOUR_SCHEDULER.md` marks as an excerpt of `file`
/// (`<!-- excerpt: tests/<file> -->` before a ```rust block) appears verbatim in `source`, so
/// the guide cannot drift from the code that runs; and that there are at least `at_least`.
pub fn assert_guide_quotes(file: &str, source: &str, at_least: usize) {
    let guide = include_str!("../../docs/TEST_YOUR_SCHEDULER.md");
    let marker = format!("<!-- excerpt: tests/{file} -->");
    let mut excerpts = 0;
    for part in guide.split(marker.as_str()).skip(1) {
        let block = part.trim_start().strip_prefix("```rust\n").expect("an excerpt marker is followed by a ```rust block");
        let code = &block[..block.find("\n```").expect("the excerpt's block ends")];
        assert!(source.contains(code), "docs/TEST_YOUR_SCHEDULER.md quotes code that is not in tests/{file}:\n{code}");
        excerpts += 1;
    }
    assert!(excerpts >= at_least, "the guide should quote tests/{file} at least {at_least} times ({excerpts} excerpts found)");
}

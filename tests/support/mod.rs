//! Shared by the end-to-end tests that run the real `alarmsim` binary.

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

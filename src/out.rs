//! Printing that survives a closed pipe (`alarmsim replay --full | head`).

use std::io::Write;

/// Writes `text` to stdout. If the reader went away, exits quietly instead of panicking.
pub fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(2);
    }
}

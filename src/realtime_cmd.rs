//! `alarmsim realtime`: placeholder, being written.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct RealtimeArgs {}

pub fn run(_args: RealtimeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("realtime mode is not implemented yet")
}

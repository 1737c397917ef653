//! Guards the build configuration. `.cargo/config.toml` sets `--cfg madsim`, but a
//! `RUSTFLAGS` or `CARGO_ENCODED_RUSTFLAGS` variable silently *replaces* it
//! (dst-anchors.md §3.3). Without the cfg, madsim is plain tokio and every simulation test
//! would stop being deterministic. This test is deliberately not cfg-gated.

#[test]
#[allow(clippy::assertions_on_constants)] // The constant is the build configuration under test.
fn madsim_cfg_is_on() {
    assert!(
        cfg!(madsim),
        "built without `--cfg madsim`: a RUSTFLAGS or CARGO_ENCODED_RUSTFLAGS environment variable \
         replaced the flags in .cargo/config.toml. Unset it, or add `--cfg madsim` to it."
    );
}

//! An example of gating a Calls API emulator written in Rust with callspec, as an outside
//! project would: `tests/conformance.rs` starts the emulator and runs the suite against it
//! through [`callspec_conformance::Gate`], with `callspec.toml` as the emulator's profile.
//!
//! `cargo test -p callspec-example-gate` passes; with `CALLSPEC_EXAMPLE_FAULT=NAME` the
//! emulator starts with that deliberate fault and the gate must fail (`cargo xtask ci` checks
//! both).

/// The emulator's configuration for the gate: the reference emulator's defaults, at the
/// concurrency limit its profile declares, with the faults named in `faults` (a testing aid).
pub fn config(faults: &str) -> Result<callspec_emulator::Config, callspec_emulator::UnknownFault> {
    let names: Vec<&str> = faults.split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
    Ok(callspec_emulator::Config {
        max_concurrent_requests: Some(8),
        faults: callspec_emulator::parse_faults(&names)?,
        ..callspec_emulator::Config::default()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn faults_are_read_by_name() {
        assert!(super::config("").expect("no fault").faults.is_empty());
        assert_eq!(super::config("create-200").expect("a fault").faults.len(), 1);
        assert!(super::config("no-such-fault").is_err());
    }
}

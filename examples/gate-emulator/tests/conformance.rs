//! The conformance gate: starts the emulator on a free port, then runs callspec's suite
//! against it as libtest trials (`harness = false`). `CALLSPEC_EXAMPLE_FAULT=NAME[,NAME]`
//! starts it with deliberate faults, to show the gate failing.

use std::process::ExitCode;

#[allow(clippy::print_stderr, reason = "a test binary reports why it could not start on stderr")]
fn main() -> ExitCode {
    let faults = std::env::var("CALLSPEC_EXAMPLE_FAULT").unwrap_or_default();
    let config = match callspec_example_gate::config(&faults) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("CALLSPEC_EXAMPLE_FAULT: {e}");
            return ExitCode::from(2);
        }
    };
    // The emulator runs on its own runtime for as long as `main` holds it.
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start a runtime for the emulator: {e}");
            return ExitCode::from(2);
        }
    };
    let emulator = match runtime.block_on(callspec_emulator::spawn(config)) {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("cannot start the emulator: {e}");
            return ExitCode::from(2);
        }
    };
    let profile = concat!(env!("CARGO_MANIFEST_DIR"), "/callspec.toml");
    let code = callspec_conformance::Gate::new(emulator.base_url()).profile(profile).run();
    runtime.block_on(emulator.shutdown());
    code
}

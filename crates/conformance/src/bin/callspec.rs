//! `callspec`: run the conformance suite against a Twilio Calls API target (`callspec --help`).

fn main() -> std::process::ExitCode {
    callspec_conformance::cli::main()
}

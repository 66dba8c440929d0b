//! The `callspec-emulator` binary: the command line of [`callspec_emulator::cli`].

fn main() -> std::io::Result<()> {
    callspec_emulator::cli::main()
}

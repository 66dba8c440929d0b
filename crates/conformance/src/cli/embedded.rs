//! The reference emulator inside the runner, behind the default `emulator` feature: started
//! in-process for a run without `--target`, with the run's faults and variance seed, and the
//! `callspec emulator` command. Without the feature, a run needs `--target` and says so.
//!
//! No `callspec_emulator` type leaves this module: faults travel as their names.

use crate::profile::Profile;

/// The embedded reference emulator of a run, shut down after it.
#[cfg(feature = "emulator")]
pub struct Embedded(callspec_emulator::Emulator);

/// The embedded reference emulator of a run (none: this build has no emulator).
#[cfg(not(feature = "emulator"))]
pub enum Embedded {}

/// What a build without the emulator says when a run needs it.
#[cfg(not(feature = "emulator"))]
const NO_EMULATOR: &str = "this callspec was built without the `emulator` feature, so it has no reference emulator \
                           inside: give --target URL --profile FILE";

impl Embedded {
    /// Starts the reference emulator for a run under `profile`; its base URL and handle.
    #[cfg(feature = "emulator")]
    pub(super) async fn start(
        profile: &Profile,
        faults: &[String],
        variance: Option<u64>,
    ) -> Result<(String, Embedded), String> {
        let faults = callspec_emulator::parse_faults(faults).map_err(|e| format!("callspec: {e}"))?;
        let config = callspec_emulator::Config {
            cps: profile.capabilities.cps.unwrap_or(1.0),
            max_concurrent_requests: profile.capabilities.concurrency_limit.map(|n| n as usize),
            faults,
            variance,
            fast_clock: profile.capabilities.fast_clock.unwrap_or(1.0),
            ..callspec_emulator::Config::default()
        };
        let emulator =
            callspec_emulator::spawn(config).await.map_err(|e| format!("cannot start the embedded emulator: {e}"))?;
        Ok((emulator.base_url(), Embedded(emulator)))
    }

    /// Without the emulator feature there is nothing to start.
    #[cfg(not(feature = "emulator"))]
    pub(super) async fn start(
        _profile: &Profile,
        _faults: &[String],
        _variance: Option<u64>,
    ) -> Result<(String, Embedded), String> {
        Err(NO_EMULATOR.into())
    }

    /// Starts the reference emulator for `callspec sdk`: strict (unknown parameters, non-form
    /// bodies and comma-joined lists refused, as a careful SDK must expect), its request journal
    /// on, calls dequeued without waiting, webhooks kept on this machine.
    #[cfg(feature = "emulator")]
    pub(super) async fn start_sdk() -> Result<(String, Embedded), String> {
        let local: callspec_emulator::HostPattern = "localhost".parse().map_err(|e| format!("callspec sdk: {e}"))?;
        let config = callspec_emulator::Config {
            cps: 50.0,
            strict: true,
            journal: true,
            webhook_allow_hosts: vec![local],
            ..callspec_emulator::Config::default()
        };
        let emulator =
            callspec_emulator::spawn(config).await.map_err(|e| format!("cannot start the embedded emulator: {e}"))?;
        Ok((emulator.base_url(), Embedded(emulator)))
    }

    /// Without the emulator feature there is nothing to start.
    #[cfg(not(feature = "emulator"))]
    pub(super) async fn start_sdk() -> Result<(String, Embedded), String> {
        Err(NO_EMULATOR.into())
    }

    /// Exchanges the journal could not keep (it is bounded).
    pub fn journal_dropped(&self) -> usize {
        #[cfg(feature = "emulator")]
        return self.0.journal().map_or(0, callspec_emulator::Journal::dropped);
        #[cfg(not(feature = "emulator"))]
        match *self {}
    }

    /// Stops the emulator, letting open requests finish.
    pub async fn shutdown(self) {
        #[cfg(feature = "emulator")]
        self.0.shutdown().await;
        #[cfg(not(feature = "emulator"))]
        match self {}
    }
}

impl crate::sdk::Journal for Embedded {
    fn len(&self) -> usize {
        #[cfg(feature = "emulator")]
        return self.0.journal().map_or(0, callspec_emulator::Journal::len);
        #[cfg(not(feature = "emulator"))]
        match *self {}
    }

    fn since(&self, from: usize) -> Vec<crate::sdk::Exchange> {
        #[cfg(feature = "emulator")]
        return self.0.journal().map_or_else(Vec::new, |j| j.since(from));
        #[cfg(not(feature = "emulator"))]
        {
            let _ = from;
            match *self {}
        }
    }
}

/// Every fault's name, catalog area and what it breaks, tab-separated (`--list-faults`).
pub(super) fn fault_lines() -> Result<Vec<String>, String> {
    #[cfg(feature = "emulator")]
    return Ok(callspec_emulator::Fault::ALL
        .iter()
        .map(|f| format!("{}\t{}\t{}", f.name(), f.area(), f.breaks()))
        .collect());
    #[cfg(not(feature = "emulator"))]
    Err(NO_EMULATOR.into())
}

/// `callspec emulator [FLAGS]`: the reference emulator as a server, with the flags of the
/// `callspec-emulator` binary (`callspec emulator --help`).
#[cfg(feature = "emulator")]
#[derive(Debug, clap::Args)]
pub struct EmulatorArgs {
    #[command(flatten)]
    inner: callspec_emulator::cli::Args,
}

/// Runs `callspec emulator` until Ctrl-C or SIGTERM.
#[cfg(feature = "emulator")]
pub(super) fn serve(args: EmulatorArgs) -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return super::config_error(format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(callspec_emulator::cli::run(args.inner)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => super::config_error(format!("callspec emulator: {e}")),
    }
}

//! callspec's reference emulator of Twilio's Programmable Voice Calls API.
//!
//! [`spawn`] starts an HTTP server on [`Config::listen`] with the accounts of [`seed`]. Calls
//! are queued per account and dequeued at [`Config::cps`]; each dialed call rings, meets the
//! callee table of [`seed`], fetches and runs TwiML, and reports status and recording
//! callbacks signed with the owning account's auth token.
//!
//! Modules in layers, lowest first; a module imports only modules of lower layers (the
//! `layering` test below checks it), so no two modules depend on each other:
//!
//! 0. `fault` (the fault names), `seed` (accounts, numbers, callee table), `twiml` (the TwiML
//!    reader): data and parsers; `egress` (the hosts webhooks may reach), `redact` (what logs
//!    may show: masked URLs, escaped control characters), `journal` (the optional record of
//!    every API exchange, [`Config::journal`]), `events` (a call's Events: the requests made for it).
//! 1. `config` (the settings); `callee` (what each number does when dialed).
//! 2. `policy`: the decisions a [`Fault`] flips, one function each. Twilio's behaviour itself
//!    (values, rules, defaults, event sets) comes from `callspec_model`. `variance`: the
//!    decisions variance mode ([`Config::variance`]) varies within what Twilio documents or is
//!    observed to do, deterministic per seed; consulted beside `policy`. `serve`: connections
//!    and their header and idle deadlines, drained on shutdown. `timelimit`: a live call's
//!    `TimeLimit` and the timer that ends it, under [`Config::fast_clock`].
//! 3. `error` (API errors as Twilio bodies); `webhook` (signed requests to user URLs).
//! 4. `state`: the in-memory store, one lock per account; it holds data and starts no task.
//!    `gather`: what a `<Gather>` hears from the callee and the request that follows.
//! 5. `resources` (JSON rendering); `callflow` (transitions under the lock, the callbacks they
//!    fire, the per-call outbox); `amd` (answering machine detection: the result, when it is
//!    known, and its async callback).
//! 6. `dial`: a `<Dial>`'s legs (`outbound-dial` calls, one task each), the bridge and the
//!    `action` parameters.
//! 7. `lifecycle`: the task that runs a dialed call (ring, answer, TwiML, end).
//! 8. `queue`: the per-account FIFO and its CPS drainer, which starts lifecycles.
//! 9. `accounts`: seeding and subaccounts, each stored with its drainer started.
//! 10. `api`: the REST surface (routing, auth, body limits and deadline, strict mode,
//!     handlers); [`spawn`] here wires it all to `serve`, [`InProcess`] to nothing.
//! 11. `cli`: the command line of the `callspec-emulator` binary and of `callspec emulator`.

mod accounts;
mod amd;
mod api;
mod callee;
mod callflow;
pub mod cli;
mod config;
mod dial;
mod egress;
mod error;
mod events;
pub mod fault;
mod gather;
mod journal;
mod lifecycle;
mod media;
mod policy;
mod queue;
pub mod redact;
mod resources;
pub mod seed;
mod serve;
mod state;
mod timelimit;
mod twiml;
mod variance;
mod webhook;

pub use config::Config;
pub use egress::{HostPattern, HostPatternError};
pub use fault::{Fault, FaultArea, UnknownFault, parse_faults};
pub use journal::{JOURNAL_CAPACITY, Journal, JournalEntry};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use state::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long [`Emulator::shutdown`] waits for open connections before closing them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running emulator. Dropping it stops the background tasks too (without waiting).
pub struct Emulator {
    local_addr: SocketAddr,
    journal: Option<Journal>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

/// The API of a configured, seeded emulator whose background tasks stop when `stopped` turns
/// true.
fn app(config: Config, stopped: watch::Receiver<bool>) -> std::io::Result<(Router, Option<Journal>)> {
    let faults = fault::FaultSet::new(&config.faults);
    if !faults.is_empty() {
        let names: Vec<&str> = config.faults.iter().map(|f| f.name()).collect();
        tracing::warn!(faults = %names.join(","), "fault injection on: this emulator breaks Twilio's behaviour on purpose");
    }
    if let Some(seed) = config.variance {
        tracing::info!(
            seed,
            "variance mode on: behaving like the real API within what Twilio documents or is observed to do"
        );
    }
    let egress = egress::Egress::new(&config.webhook_allow_hosts);
    let webhooks = webhook::WebhookClient::new(config.webhook_timeout, faults, egress)?;
    let shared = Arc::new(Shared::new(config, webhooks, stopped));
    accounts::seed_accounts(&shared);
    let journal = shared.journal.clone();
    Ok((api::router(shared), journal))
}

/// Says loudly that the API is reachable from other machines, where the seed credentials
/// are published and webhooks can be pointed anywhere.
fn warn_if_exposed(addr: SocketAddr, config: &Config) {
    if addr.ip().is_loopback() {
        return;
    }
    let webhooks = if config.webhook_allow_hosts.is_empty() {
        "its webhooks may reach any host this machine reaches (restrict them with --webhook-allow-host)".to_owned()
    } else {
        let hosts: Vec<String> = config.webhook_allow_hosts.iter().map(ToString::to_string).collect();
        format!("its webhooks may reach only {}", hosts.join(", "))
    };
    tracing::warn!(
        %addr,
        "NOT LOOPBACK: anyone who can reach {addr} can use this emulator with its published seed \
         credentials, and {webhooks}; see the README's 'Running the emulator on a network'"
    );
}

/// Starts an emulator: binds `config.listen`, seeds the accounts and serves until shut down.
pub async fn spawn(config: Config) -> std::io::Result<Emulator> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let local_addr = listener.local_addr()?;
    warn_if_exposed(local_addr, &config);
    let deadlines = serve::Deadlines::of(&config);
    let (stop, stopped) = watch::channel(false);
    let (router, journal) = app(config, stopped.clone())?;
    let server = tokio::spawn(serve::run(listener, router, deadlines, stopped));
    tracing::info!(addr = %local_addr, "callspec emulator listening");
    Ok(Emulator { local_addr, journal, stop, server: Some(server) })
}

/// An emulator without a listener: requests are handed to [`InProcess::handle`] and never
/// cross a socket (the connection deadlines of [`Config`] do not apply; the body deadline
/// does). Webhooks are sent as usual. Dropping it stops its background tasks.
pub struct InProcess {
    router: Router,
    stop: watch::Sender<bool>,
}

impl InProcess {
    /// A configured, seeded emulator; `config.listen` is unused. Call it within a Tokio
    /// runtime: the accounts' queues start at once.
    pub fn new(config: Config) -> std::io::Result<InProcess> {
        let (stop, stopped) = watch::channel(false);
        Ok(InProcess { router: app(config, stopped)?.0, stop })
    }

    /// Answers one request as the API would over HTTP.
    pub async fn handle(&self, request: Request<Body>) -> Response {
        let mut router = self.router.clone();
        match tower_service::Service::call(&mut router, request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl Emulator {
    /// The base URL of the API, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The address the API listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The request journal, when [`Config::journal`] asked for one.
    pub fn journal(&self) -> Option<&Journal> {
        self.journal.as_ref()
    }

    /// Stops accepting connections, ends every call's background task, lets open requests
    /// finish (closing connections still open after a few seconds) and returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(mut server) = self.server.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await.is_err()
        {
            server.abort();
        }
        tracing::info!(addr = %self.local_addr, "callspec emulator stopped");
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

#[cfg(test)]
mod layering {
    /// Every module below `api` with its layer (see the crate docs) and its source.
    const MODULES: &[(&str, u8, &str)] = &[
        ("fault", 0, include_str!("fault.rs")),
        ("journal", 0, include_str!("journal.rs")),
        ("events", 0, include_str!("events.rs")),
        ("media", 0, include_str!("media.rs")),
        ("egress", 0, include_str!("egress.rs")),
        ("redact", 0, include_str!("redact.rs")),
        ("seed", 0, include_str!("seed.rs")),
        ("twiml", 0, include_str!("twiml/mod.rs")),
        ("twiml", 0, include_str!("twiml/gather.rs")),
        ("twiml", 0, include_str!("twiml/dial.rs")),
        ("config", 1, include_str!("config.rs")),
        ("callee", 1, include_str!("callee.rs")),
        ("policy", 2, include_str!("policy.rs")),
        ("variance", 2, include_str!("variance.rs")),
        ("serve", 2, include_str!("serve.rs")),
        ("timelimit", 2, include_str!("timelimit.rs")),
        ("error", 3, include_str!("error.rs")),
        ("webhook", 3, include_str!("webhook.rs")),
        ("state", 4, include_str!("state.rs")),
        ("gather", 4, include_str!("gather.rs")),
        ("resources", 5, include_str!("resources.rs")),
        ("callflow", 5, include_str!("callflow.rs")),
        ("amd", 5, include_str!("amd.rs")),
        ("dial", 6, include_str!("dial.rs")),
        ("lifecycle", 7, include_str!("lifecycle.rs")),
        ("queue", 8, include_str!("queue.rs")),
        ("accounts", 9, include_str!("accounts.rs")),
    ];

    /// The modules a source names as `crate::module`.
    fn imports(source: &str) -> Vec<&str> {
        source
            .match_indices("crate::")
            .map(|(at, prefix)| {
                let rest = &source[at + prefix.len()..];
                let end = rest.find(|c: char| !(c.is_ascii_lowercase() || c == '_')).unwrap_or(rest.len());
                &rest[..end]
            })
            .filter(|module| !module.is_empty())
            .collect()
    }

    #[test]
    fn modules_import_only_lower_layers() {
        for (module, layer, source) in MODULES {
            for used in imports(source) {
                if used == *module {
                    continue;
                }
                let found = MODULES.iter().find(|(name, ..)| *name == used);
                let Some((_, used_layer, _)) = found else {
                    panic!("{module} imports crate::{used}, which is above every layer below `api`");
                };
                assert!(used_layer < layer, "{module} (layer {layer}) imports {used} (layer {used_layer})");
            }
        }
    }

    #[test]
    fn imports_are_found() {
        assert_eq!(imports("use crate::state::{A, B};\nlet x = crate::policy::f();"), ["state", "policy"]);
        assert!(imports("use crate::Config;").is_empty());
    }
}

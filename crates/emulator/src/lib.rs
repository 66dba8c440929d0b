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
//!    reader): data and parsers.
//! 1. `config` (the settings); `callee` (what each number does when dialed).
//! 2. `policy`: the decisions a [`Fault`] flips, one function each. Twilio's behaviour itself
//!    (values, rules, defaults, event sets) comes from `callspec_model`. `variance`: the
//!    decisions variance mode ([`Config::variance`]) varies within what Twilio documents or is
//!    observed to do, deterministic per seed; consulted beside `policy`.
//! 3. `error` (API errors as Twilio bodies); `webhook` (signed requests to user URLs).
//! 4. `state`: the in-memory store, one lock per account; it holds data and starts no task.
//! 5. `resources` (JSON rendering); `callflow` (transitions under the lock, the callbacks they
//!    fire, the per-call outbox).
//! 6. `lifecycle`: the task that runs a dialed call (ring, answer, TwiML, end).
//! 7. `queue`: the per-account FIFO and its CPS drainer, which starts lifecycles.
//! 8. `accounts`: seeding and subaccounts, each stored with its drainer started.
//! 9. `api`: the REST surface (routing, auth, body limits, strict mode, handlers); [`spawn`]
//!    here wires it all.

mod accounts;
mod api;
mod callee;
mod callflow;
mod config;
mod error;
pub mod fault;
mod lifecycle;
mod policy;
mod queue;
mod resources;
pub mod seed;
mod state;
mod twiml;
mod variance;
mod webhook;

pub use config::Config;
pub use fault::{Fault, FaultArea, UnknownFault, parse_faults};

use state::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// How long [`Emulator::shutdown`] waits for open connections before closing them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running emulator. Dropping it stops the background tasks too (without waiting).
pub struct Emulator {
    local_addr: SocketAddr,
    stop_server: Option<oneshot::Sender<()>>,
    stop_tasks: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

/// Starts an emulator: binds `config.listen`, seeds the accounts and serves until shut down.
pub async fn spawn(config: Config) -> std::io::Result<Emulator> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let local_addr = listener.local_addr()?;
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
    let webhooks = webhook::WebhookClient::new(config.webhook_timeout, faults)?;
    let (stop_tasks, tasks_stopped) = watch::channel(false);
    let shared = Arc::new(Shared::new(config, webhooks, tasks_stopped));
    accounts::seed_accounts(&shared);
    let app = api::router(shared);
    let (stop_server, server_stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = server_stopped.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "server stopped with an error");
        }
    });
    tracing::info!(addr = %local_addr, "callspec emulator listening");
    Ok(Emulator { local_addr, stop_server: Some(stop_server), stop_tasks, server: Some(server) })
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

    /// Stops accepting connections, ends every call's background task, lets open requests
    /// finish (closing connections still open after a few seconds) and returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop_tasks.send(true);
        if let Some(tx) = self.stop_server.take() {
            let _ = tx.send(());
        }
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
        let _ = self.stop_tasks.send(true);
        if let Some(tx) = self.stop_server.take() {
            let _ = tx.send(());
        }
    }
}

#[cfg(test)]
mod layering {
    /// Every module below `api` with its layer (see the crate docs) and its source.
    const MODULES: &[(&str, u8, &str)] = &[
        ("fault", 0, include_str!("fault.rs")),
        ("seed", 0, include_str!("seed.rs")),
        ("twiml", 0, include_str!("twiml.rs")),
        ("config", 1, include_str!("config.rs")),
        ("callee", 1, include_str!("callee.rs")),
        ("policy", 2, include_str!("policy.rs")),
        ("variance", 2, include_str!("variance.rs")),
        ("error", 3, include_str!("error.rs")),
        ("webhook", 3, include_str!("webhook.rs")),
        ("state", 4, include_str!("state.rs")),
        ("resources", 5, include_str!("resources.rs")),
        ("callflow", 5, include_str!("callflow.rs")),
        ("lifecycle", 6, include_str!("lifecycle.rs")),
        ("queue", 7, include_str!("queue.rs")),
        ("accounts", 8, include_str!("accounts.rs")),
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

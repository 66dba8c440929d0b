//! The emulator under load: the `callspec-emulator` binary as a child process on loopback, its
//! peak memory, and the few API requests the load sends it.

use crate::LoadError;
use callspec_emulator::seed;
use serde_json::Value;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long the emulator may take to print its address.
const BANNER_DEADLINE: Duration = Duration::from_secs(30);

/// The child process, killed (by its own handle) when dropped.
pub(crate) struct Emulator {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base_url: String,
}

impl Emulator {
    /// Starts the binary on a free loopback port with `args` and waits for its banner.
    pub(crate) fn start(binary: &Path, args: &[String]) -> Result<Emulator, LoadError> {
        let mut child = Command::new(binary)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("CALLSPEC_LISTEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| LoadError::Spawn { binary: binary.display().to_string(), source })?;
        let stdout = child.stdout.take().ok_or(LoadError::Banner("its stdout is not piped".into()))?;
        // A thread reads the banner, so waiting for it has a deadline; it then keeps reading the
        // rest, so the emulator never writes to a closed pipe.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let banner = loop {
                match lines.next() {
                    Some(Ok(line)) => {
                        if let Some(url) = line.strip_prefix("callspec emulator listening on ") {
                            break Ok(url.trim().to_owned());
                        }
                    }
                    Some(Err(e)) => break Err(format!("reading it: {e}")),
                    None => break Err("the emulator exited before printing its address".to_owned()),
                }
            };
            let _ = tx.send(banner);
            lines.for_each(drop);
        });
        // On any error `child` drops, which kills the emulator.
        let base_url = match rx.recv_timeout(BANNER_DEADLINE) {
            Ok(banner) => banner.map_err(LoadError::Banner)?,
            Err(_) => return Err(LoadError::Banner(format!("none within {} s", BANNER_DEADLINE.as_secs()))),
        };
        if !base_url.starts_with("http://127.0.0.1:") {
            return Err(LoadError::Banner(format!("the emulator listens on {base_url}, not on loopback")));
        }
        Ok(Emulator { child, base_url })
    }

    /// `VmHWM` (peak resident memory) of the emulator, in bytes.
    pub(crate) fn peak_rss(&self) -> Result<u64, LoadError> {
        let pid = self.child.id();
        let path = format!("/proc/{pid}/status");
        let text = std::fs::read_to_string(&path).map_err(|source| LoadError::Proc { path: path.clone(), source })?;
        text.lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .ok_or(LoadError::Banner(format!("no VmHWM in {path}")))
    }

    /// Whether the emulator is still running.
    pub(crate) fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why an API request did not give what the load needs.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// No answer (connection, timeout).
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    /// An answer with another status.
    #[error("status {status}: {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// A 2xx answer without the field the load needs.
    #[error("the answer has no {0}")]
    Missing(&'static str),
}

/// An account the load uses: a subaccount with a number of its own.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) sid: String,
    pub(crate) token: String,
    pub(crate) number: String,
}

/// The API client: keep-alive connections, a timeout on every request.
#[derive(Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub(crate) fn new(base: &str, clients: usize) -> Result<Api, LoadError> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(clients * 2)
            .timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .map_err(LoadError::Client)?;
        Ok(Api { http, base: base.to_owned() })
    }

    async fn post(&self, path: &str, sid: &str, token: &str, form: &[(&str, &str)]) -> Result<Value, ApiError> {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth(sid, Some(token))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        Self::json(request).await
    }

    async fn json(request: reqwest::RequestBuilder) -> Result<Value, ApiError> {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        if !(200..300).contains(&status) {
            let body = String::from_utf8_lossy(&bytes).chars().take(200).collect();
            return Err(ApiError::Status { status, body });
        }
        serde_json::from_slice(&bytes).map_err(|_| ApiError::Missing("JSON body"))
    }

    /// Creates a subaccount with the main account's credentials and buys it `number`.
    pub(crate) async fn account(&self, name: &str, number: &str) -> Result<Account, ApiError> {
        let (main, main_token) = (seed::MAIN_ACCOUNT_SID, seed::MAIN_AUTH_TOKEN);
        let created = self.post("/2010-04-01/Accounts.json", main, main_token, &[("FriendlyName", name)]).await?;
        let sid = text(&created, "sid")?;
        let token = text(&created, "auth_token")?;
        let path = format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json");
        self.post(&path, &sid, &token, &[("PhoneNumber", number)]).await?;
        Ok(Account { sid, token, number: number.to_owned() })
    }

    /// Creates a call; its JSON.
    pub(crate) async fn create(&self, account: &Account, form: &[(&str, &str)]) -> Result<Value, ApiError> {
        let path = format!("/2010-04-01/Accounts/{}/Calls.json", account.sid);
        self.post(&path, &account.sid, &account.token, form).await
    }

    /// `Status=canceled`; the call's JSON after it.
    pub(crate) async fn cancel(&self, account: &Account, call: &str) -> Result<Value, ApiError> {
        let path = format!("/2010-04-01/Accounts/{}/Calls/{call}.json", account.sid);
        self.post(&path, &account.sid, &account.token, &[("Status", "canceled")]).await
    }

    /// Fetches a call.
    pub(crate) async fn fetch(&self, account: &Account, call: &str) -> Result<Value, ApiError> {
        let url = format!("{}/2010-04-01/Accounts/{}/Calls/{call}.json", self.base, account.sid);
        Self::json(self.http.get(url).basic_auth(&account.sid, Some(&account.token))).await
    }
}

/// A string field of an answer.
pub(crate) fn text(value: &Value, field: &'static str) -> Result<String, ApiError> {
    value.get(field).and_then(Value::as_str).map(str::to_owned).ok_or(ApiError::Missing(field))
}

//! The emulator under load: the `callspec-emulator` binary as a child process on loopback, its
//! peak memory, and the few API requests the load sends it.

use crate::LoadError;
use crate::child::ChildEmulator;
use callspec_emulator::seed;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// The emulator under load (the examples' shared child process), its errors as the load's.
pub(crate) struct Emulator(ChildEmulator);

impl Emulator {
    /// Starts the binary on a free loopback port with `args` and waits for its banner.
    pub(crate) fn start(binary: &Path, args: &[String]) -> Result<Emulator, LoadError> {
        ChildEmulator::start(binary, args).map(Emulator).map_err(LoadError::Emulator)
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn base_url(&self) -> &str {
        &self.0.base_url
    }

    /// `VmHWM` (peak resident memory) of the emulator, in bytes.
    pub(crate) fn peak_rss(&self) -> Result<u64, LoadError> {
        self.0.status_bytes("VmHWM").map_err(LoadError::Emulator)
    }

    /// Whether the emulator is still running.
    pub(crate) fn running(&mut self) -> bool {
        self.0.running()
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

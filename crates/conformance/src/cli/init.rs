//! `callspec init`: asks a target what it can do and writes a commented starter profile.
//!
//! The probes, in order: the preflight (the credentials); a subaccount create; the account's
//! numbers (the first becomes `numbers.from`) and, on the fresh subaccount only, a number buy; an
//! application create; and a call whose status callback must reach a local sink (its signature
//! is checked against the token). Each detected capability is written with the reason beside
//! it; what cannot be probed safely (`cps`, `concurrency_limit`, callees, a trial account) is
//! left commented out. The text is loaded with the profile schema before it is written.

use crate::client::{Client, Outgoing};
use crate::error::LoadErrors;
use crate::preflight::{Preflight, PreflightError};
use crate::profile::{Account, Credentials, Profile};
use crate::schema::SchemaSet;
use crate::sink::{Route, Sink};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Probe a target and write a starter profile.
#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// Base URL of the target (e.g. http://localhost:4010).
    #[arg(long, value_name = "URL")]
    pub target: String,
    /// Where to write the profile.
    #[arg(long, value_name = "FILE", default_value = "callspec-profile.toml")]
    pub output: PathBuf,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,
    /// The main account's SID.
    #[arg(long, value_name = "SID", env = "TWILIO_ACCOUNT_SID", hide_env_values = true)]
    pub account_sid: Option<String>,
    /// The main account's auth token.
    #[arg(long, value_name = "TOKEN", env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: Option<String>,
    /// The callee of the probe call (a number that answers), written as `numbers.answer`.
    #[arg(long, value_name = "NUMBER", default_value = "+14155551212")]
    pub answer: String,
    /// Where the callback sink listens during the probe (and in the written profile).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub sink_bind: String,
    /// How the target reaches the sink (`{port}` is replaced by the bound port).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:{port}")]
    pub sink_public_url: String,
    /// How long to wait for the probe call's status callback, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 15)]
    pub callback_wait: u64,
    /// Directory holding schemas/ (default: the repository callspec was built in).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

/// Why `callspec init` wrote nothing (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The output file exists and `--force` was not given.
    #[error("callspec init: {0} exists; pass --force to overwrite it")]
    Exists(PathBuf),
    /// No credentials on the command line or in the environment.
    #[error("callspec init: {0}")]
    Credentials(String),
    /// The target failed the preflight.
    #[error("callspec: {0}")]
    Preflight(#[from] PreflightError),
    /// The runtime, the HTTP client, the schemas or the sink could not start.
    #[error("callspec init: {0}")]
    Setup(String),
    /// The generated text does not load (a bug of `init`, caught before writing).
    #[error("callspec init: the generated profile does not load:\n{0}")]
    Invalid(LoadErrors),
    /// The file could not be written.
    #[error("callspec init: cannot write {path}: {source}")]
    Write {
        /// The output file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// One detected capability and why.
#[derive(Debug, Clone)]
struct Finding {
    yes: bool,
    why: String,
}

impl Finding {
    fn new(yes: bool, why: impl Into<String>) -> Finding {
        Finding { yes, why: why.into() }
    }
}

/// What the probes found.
#[derive(Debug)]
struct Detected {
    preflight: Preflight,
    subaccounts: Finding,
    from: Option<String>,
    numbers_why: String,
    buy: Option<Finding>,
    applications: Finding,
    callbacks: Finding,
}

/// The requests of the probes, against one target and account.
struct Probe<'a> {
    client: &'a Client,
    base: String,
    account: &'a Account,
}

impl Probe<'_> {
    fn url(&self, account: &Account, rest: &str) -> String {
        format!("{}/2010-04-01/Accounts/{}/{rest}", self.base, account.sid)
    }

    /// Sends a request; a transport failure reads as the status 0 with its description.
    async fn send(&self, account: &Account, method: &str, url: String, form: &[(&str, &str)]) -> Answer {
        let body = (method == "POST").then(|| {
            let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
            ("application/x-www-form-urlencoded".to_owned(), encoded.into_bytes())
        });
        let out =
            Outgoing { method: method.into(), url, basic: Some((account.sid.clone(), account.token.clone())), body };
        match self.client.send(&out).await {
            Ok(r) => Answer { status: r.status, json: r.json().unwrap_or_default(), error: None },
            Err(e) => Answer { status: 0, json: serde_json::Value::Null, error: Some(e.to_string()) },
        }
    }
}

/// A probe's answer.
struct Answer {
    status: u16,
    json: serde_json::Value,
    error: Option<String>,
}

impl Answer {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn str(&self, key: &str) -> Option<String> {
        self.json.get(key).and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(str::to_owned)
    }

    /// The answer in a few words, for a comment.
    fn describe(&self) -> String {
        match &self.error {
            Some(e) => format!("no answer ({e})"),
            None => match self.str("message") {
                Some(m) => format!("HTTP {}: {}", self.status, m.replace('\n', " ")),
                None => format!("HTTP {}", self.status),
            },
        }
    }
}

/// `callspec init`: the probes and the profile; exit 0 when written, 2 otherwise.
#[allow(clippy::print_stdout, clippy::print_stderr, reason = "the command line reports on stdout and stderr")]
pub fn run(args: InitArgs) -> ExitCode {
    match init(&args) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            eprintln!("callspec init: no profile was written (exit 2)");
            ExitCode::from(2)
        }
    }
}

fn init(args: &InitArgs) -> Result<String, InitError> {
    if args.output.exists() && !args.force {
        return Err(InitError::Exists(args.output.clone()));
    }
    let suite = crate::suite::Suite::at(args.root.clone());
    let schemas = SchemaSet::from_suite(&suite).map_err(|e| InitError::Setup(e.to_string()))?;
    let creds = Credentials {
        account_sid: args.account_sid.clone(),
        auth_token: args.auth_token.clone(),
        ..Default::default()
    };
    let account = creds.resolve("main account").map_err(InitError::Credentials)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| InitError::Setup(format!("cannot start the async runtime: {e}")))?;
    let detected = runtime.block_on(detect(args, &account))?;
    let text = render(args, &detected);
    Profile::parse(&text, &args.output, &schemas).map_err(InitError::Invalid)?;
    std::fs::write(&args.output, &text).map_err(|source| InitError::Write { path: args.output.clone(), source })?;
    Ok(summary(args, &detected))
}

async fn detect(args: &InitArgs, account: &Account) -> Result<Detected, InitError> {
    let client = Client::new(Duration::from_secs(10), 1 << 20).map_err(|e| InitError::Setup(e.to_string()))?;
    let base = args.target.trim_end_matches('/').to_owned();
    let preflight = crate::preflight::check(&client, &base, account).await?;
    let probe = Probe { client: &client, base, account };
    let (subaccounts, sub) = probe_subaccount(&probe).await;
    let (from, numbers_why) = probe_numbers(&probe).await;
    let buy = match &sub {
        Some(s) => Some(probe_buy(&probe, s).await),
        None => None,
    };
    let applications = probe_applications(&probe).await;
    // Without a listed number the probe call still goes out from the placeholder: a target that
    // does not check the From (most mocks) can still show whether it calls back.
    let callbacks = probe_callbacks(&probe, args, from.as_deref().unwrap_or(PLACEHOLDER_FROM)).await?;
    if let Some(s) = &sub {
        close_subaccount(&probe, s).await;
    }
    Ok(Detected { preflight, subaccounts, from, numbers_why, buy, applications, callbacks })
}

async fn probe_subaccount(probe: &Probe<'_>) -> (Finding, Option<Account>) {
    let url = format!("{}/2010-04-01/Accounts.json", probe.base);
    let a = probe.send(probe.account, "POST", url, &[("FriendlyName", "callspec init probe")]).await;
    match (a.ok(), a.str("sid"), a.str("auth_token")) {
        (true, Some(sid), Some(token)) => (
            Finding::new(true, format!("POST /Accounts.json created {sid} with its auth_token")),
            Some(Account { sid, token }),
        ),
        (true, ..) => (
            Finding::new(false, format!("POST /Accounts.json answered {} without sid and auth_token", a.describe())),
            None,
        ),
        (false, ..) => (Finding::new(false, format!("POST /Accounts.json answered {}", a.describe())), None),
    }
}

async fn probe_numbers(probe: &Probe<'_>) -> (Option<String>, String) {
    let url = probe.url(probe.account, "IncomingPhoneNumbers.json?PageSize=20");
    let a = probe.send(probe.account, "GET", url, &[]).await;
    if !a.ok() {
        return (
            None,
            format!("GET IncomingPhoneNumbers.json answered {}; set a number the account owns", a.describe()),
        );
    }
    let numbers = a.json.get("incoming_phone_numbers").and_then(|v| v.as_array()).cloned().unwrap_or_default();
    let owned: Vec<String> =
        numbers.iter().filter_map(|n| n.get("phone_number").and_then(|p| p.as_str())).map(str::to_owned).collect();
    match owned.first() {
        Some(first) => {
            (Some(first.clone()), format!("the first of {} numbers IncomingPhoneNumbers.json lists", owned.len()))
        }
        None => (None, "IncomingPhoneNumbers.json lists no number: set one the account owns".to_owned()),
    }
}

async fn probe_buy(probe: &Probe<'_>, sub: &Account) -> Finding {
    let digits = callspec_model::Sid::random(callspec_model::SidKind::Call).value() % 10_000_000;
    let number = format!("+1555{digits:07}");
    let url = probe.url(sub, "IncomingPhoneNumbers.json");
    let a = probe.send(sub, "POST", url, &[("PhoneNumber", &number)]).await;
    if a.ok() {
        Finding::new(true, format!("the fresh subaccount bought {number}"))
    } else {
        Finding::new(false, format!("buying {number} on the fresh subaccount answered {}", a.describe()))
    }
}

async fn probe_applications(probe: &Probe<'_>) -> Finding {
    let url = probe.url(probe.account, "Applications.json");
    let form = [("FriendlyName", "callspec init probe"), ("VoiceUrl", "http://demo.twilio.com/docs/voice.xml")];
    let a = probe.send(probe.account, "POST", url, &form).await;
    if a.ok() {
        Finding::new(true, format!("POST Applications.json with a VoiceUrl answered HTTP {}", a.status))
    } else {
        Finding::new(false, format!("POST Applications.json answered {}", a.describe()))
    }
}

/// A call from `from` to `--answer` whose TwiML hangs up; `callbacks` only if its status
/// callback reached the sink before the deadline.
async fn probe_callbacks(probe: &Probe<'_>, args: &InitArgs, from: &str) -> Result<Finding, InitError> {
    let sink =
        Sink::start(&args.sink_bind, &args.sink_public_url).await.map_err(|e| InitError::Setup(e.to_string()))?;
    let twiml = Route {
        status: 200,
        body: Some("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Hangup/></Response>".into()),
        content_type: "text/xml".into(),
        delay: None,
    };
    let base = sink.open("init", BTreeMap::from([("/twiml".to_owned(), twiml)]));
    let (twiml_url, status_url) = (format!("{base}/twiml"), format!("{base}/status"));
    let form = [("To", args.answer.as_str()), ("From", from), ("Url", &twiml_url), ("StatusCallback", &status_url)];
    let a = probe.send(probe.account, "POST", probe.url(probe.account, "Calls.json"), &form).await;
    if !a.ok() {
        return Ok(Finding::new(false, format!("creating a call from {from} answered {}", a.describe())));
    }
    let deadline = Instant::now() + Duration::from_secs(args.callback_wait);
    let callback = loop {
        if let Some(r) = sink.requests("init").into_iter().find(|r| r.path == "/status") {
            break Some(r);
        }
        if Instant::now() >= deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let Some(r) = callback else {
        if let Some(sid) = a.str("sid") {
            let url = probe.url(probe.account, &format!("Calls/{sid}.json"));
            let _ = probe.send(probe.account, "POST", url, &[("Status", "completed")]).await;
        }
        let fetched = sink.requests("init").iter().any(|r| r.path == "/twiml");
        let twiml = if fetched { "the TwiML was fetched, but " } else { "" };
        return Ok(Finding::new(
            false,
            format!("{twiml}no status callback reached the sink within {} s", args.callback_wait),
        ));
    };
    let signed = match &r.signature {
        Some(s) if callspec_model::signature::validate(&probe.account.token, &r.url, &r.form, s) => "validly signed",
        Some(_) => "its X-Twilio-Signature does NOT validate",
        None => "unsigned (no X-Twilio-Signature)",
    };
    let status = r.param("CallStatus").unwrap_or("no CallStatus").to_owned();
    Ok(Finding::new(true, format!("a call's status callback ({status}) reached the sink, {signed}")))
}

/// Closes the probe's subaccount (best effort: the target may not support it).
async fn close_subaccount(probe: &Probe<'_>, sub: &Account) {
    let url = format!("{}/2010-04-01/Accounts/{}.json", probe.base, sub.sid);
    let _ = probe.send(probe.account, "POST", url, &[("Status", "closed")]).await;
}

/// The From written (and called from) when the target lists no number of the account.
const PLACEHOLDER_FROM: &str = "+15005550006";

/// A TOML string literal.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn header(args: &InitArgs, d: &Detected) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "# Starter profile written by `callspec init --target {}`.", args.target);
    let _ = writeln!(t, "# Review every line: each capability says why it was detected; probes can be wrong.");
    let _ = writeln!(t, "# The credentials were proved by {} (HTTP {}).", d.preflight.proved_by, d.preflight.status);
    let _ = writeln!(t, "#");
    let _ = writeln!(t, "#   callspec --target {} --profile {} --list", args.target, args.output.display());
    let _ = writeln!(t, "#");
    let _ = writeln!(t, "# Record today's failures with --write-baseline into the file below (uncomment):");
    let _ = writeln!(t, "# baseline = \"my-target.baseline.toml\"\n");
    let name: String =
        url_host(&args.target).chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let _ = writeln!(t, "name = {}", quoted(&name));
    let _ = writeln!(t, "base_url = {}", quoted(args.target.trim_end_matches('/')));
    let _ =
        writeln!(t, "timeout_multiplier = 1.0        # scale every deadline for a slow target or a busy CI machine\n");
    t.push_str(&credentials(args));
    t
}

/// The `[credentials]` table: none when init read them from `TWILIO_ACCOUNT_SID` and
/// `TWILIO_AUTH_TOKEN` (a run reads them the same way), else the ones given on its command line.
fn credentials(args: &InitArgs) -> String {
    let from_env = |name: &str, value: &Option<String>| std::env::var(name).ok().as_ref() == value.as_ref();
    if from_env("TWILIO_ACCOUNT_SID", &args.account_sid) && from_env("TWILIO_AUTH_TOKEN", &args.auth_token) {
        return "# No [credentials] table: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are read, as Twilio's SDKs do.\n\n"
            .into();
    }
    let (sid, token) = (args.account_sid.clone().unwrap_or_default(), args.auth_token.clone().unwrap_or_default());
    format!(
        "# The credentials given to `callspec init`. For a real account, keep the token out of the file:\n\
         # replace auth_token with auth_token_env = \"TWILIO_AUTH_TOKEN\".\n\
         [credentials]\naccount_sid = {}\nauth_token = {}\n\n",
        quoted(&sid),
        quoted(&token)
    )
}

fn url_host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(|h| format!("{h}{}", u.port().map(|p| format!("-{p}")).unwrap_or_default())))
        .unwrap_or_else(|| "my-target".to_owned())
}

fn numbers(args: &InitArgs, d: &Detected) -> String {
    let mut t = String::from("[numbers]\n");
    match &d.from {
        Some(from) => {
            let _ = writeln!(t, "from = {:<24} # {}", quoted(from), d.numbers_why);
        }
        None => {
            let _ = writeln!(t, "from = {:<24} # PLACEHOLDER: {}", quoted(PLACEHOLDER_FROM), d.numbers_why);
        }
    }
    let _ = writeln!(t, "answer = {:<22} # a callee that answers (--answer)", quoted(&args.answer));
    match &d.buy {
        Some(b) if b.yes => {
            let _ = writeln!(t, "fresh_prefix = \"+1555\"          # {}: fresh subaccounts buy +1555… numbers", b.why);
        }
        Some(b) => {
            let _ = writeln!(t, "# fresh_prefix = \"+1555\"        # not bought: {}", b.why);
        }
        None => {
            let _ = writeln!(t, "# fresh_prefix = \"+1555\"        # not probed: no subaccount to buy a number on");
        }
    }
    t
}

fn capabilities(d: &Detected) -> String {
    let mut t = String::from("\n[capabilities]\n");
    let mut line = |key: &str, f: &Finding| {
        let _ = writeln!(t, "{:<32} # {}", format!("{key} = {}", f.yes), f.why);
    };
    line("subaccounts", &d.subaccounts);
    line("applications", &d.applications);
    line("callbacks", &d.callbacks);
    line("recordings", &Finding::new(false, "not probed: set true if Record=true and the call's Recordings.json work"));
    line(
        "recordings_resource",
        &Finding::new(false, "not probed: set true if recordings start, pause, stop and delete via the API"),
    );
    line(
        "call_events",
        &Finding::new(false, "not probed: set true if a call's Events.json lists its requests once it ended"),
    );
    t.push_str("# cps = 1.0                      # the target's dequeue rate per account: unlocks the timing cases\n");
    t.push_str(
        "# queues_calls = false           # a target that never queues calls: shared-account creates are not spaced\n",
    );
    t.push_str("# concurrency_limit = 8          # its concurrent-request limit per account: unlocks the 429 case\n");
    t.push_str(
        "# fast_clock = 60.0              # emulators: TimeLimit counted this many times faster (>= 30 unlocks it)\n",
    );
    t
}

fn tail(args: &InitArgs) -> String {
    let mut t = String::new();
    t.push_str("\n# Callees the target connects as each kind: each unlocks the cases that need that outcome.\n");
    t.push_str("# [callees]\n# busy = \"+15005559001\"         # a callee that answers busy\n");
    t.push_str("# no_answer = \"+15005559002\"    # a callee that rings and is never answered\n");
    t.push_str("# failed = \"+15005559003\"       # a callee that cannot be reached\n");
    t.push_str("# human = \"+14155551212\"        # a person who answers and stays on the line\n");
    t.push_str("# Scripted callees (emulators): see the profile schema for each one's contract.\n");
    t.push_str("# machine = \"+15005559004\"      # an answering machine: a greeting of at least 3 s, then a beep\n");
    t.push_str("# silent = \"+15005559005\"       # answers and makes no sound\n");
    t.push_str("# digits = \"+15005559006\"       # presses 1234# at a <Gather>, keys < 1 s apart\n");
    t.push_str("# hangs_up = \"+15005559007\"     # hangs up about 2 s after answering\n");
    t.push_str("# slow_answer = \"+15005559008\"  # rings about 3 s before answering\n");
    t.push_str("# scripted = false              # true: every client: and sip: callee answers (emulators only)\n");
    t.push_str("\n# A trial account, unrelated to the main one: unlocks the trial restriction cases.\n");
    t.push_str(
        "# [trial]\n# account_sid_env = \"TWILIO_TRIAL_ACCOUNT_SID\"\n# auth_token_env = \"TWILIO_TRIAL_AUTH_TOKEN\"\n",
    );
    t.push_str("# from = \"+15005550006\"          # a number the trial account owns\n");
    t.push_str("# verified_number = \"+14155551212\"   # a verified caller ID it may call\n");
    t.push_str("# unverified_number = \"+14155550100\" # a number it may not call\n");
    let _ = write!(t, "\n# Where the callback sink listens and how the target reaches it.\n[sink]\n");
    let _ = writeln!(t, "bind = {}", quoted(&args.sink_bind));
    let _ = writeln!(t, "public_base_url = {}", quoted(&args.sink_public_url));
    t
}

fn render(args: &InitArgs, d: &Detected) -> String {
    [header(args, d), numbers(args, d), capabilities(d), tail(args)].concat()
}

fn summary(args: &InitArgs, d: &Detected) -> String {
    let yn = |f: &Finding| if f.yes { "yes" } else { "no" };
    format!(
        "callspec init: wrote {} (subaccounts {}, applications {}, callbacks {}, from {}); next: callspec --target {} --profile {} --list",
        args.output.display(),
        yn(&d.subaccounts),
        yn(&d.applications),
        yn(&d.callbacks),
        d.from.as_deref().unwrap_or("a placeholder"),
        args.target,
        args.output.display()
    )
}

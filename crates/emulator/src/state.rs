//! The emulator's in-memory store: accounts, their numbers, applications and calls, each
//! account behind its own lock, and the shared pieces (config, webhook client, shutdown).
//!
//! Calls are stored compactly (integer SIDs and times, boxed strings); the `Call` JSON is
//! rendered on demand by `resources`. What only a live call needs (its plan, callback sender
//! and control channel) sits in [`Live`], dropped when the call ends. The store holds data
//! and starts no work of its own: whoever adds an account starts its queue drainer.

use crate::config::Config;
use crate::events::CallEvents;
use crate::fault::FaultSet;
use crate::journal::Journal;
use crate::policy;
use crate::variance::{self, Variance};
use crate::webhook::{Outgoing, Target, WebhookClient};
use callspec_model::amd::AnsweredBy;
use callspec_model::params::{
    AccountDirectory, AmdParams, ApplicationParams, HttpMethod, Instructions, PauseBehavior, RecordingChannels,
};
use callspec_model::recording::RecordingEventSet;
use callspec_model::{CallStatus, Sid, SidKind, StatusEventSet};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tokio::time::Instant;

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Everything the API handlers and background tasks share.
pub(crate) struct Shared {
    /// The settings the emulator was started with.
    pub(crate) config: Config,
    /// The faults of `config`, as a bit set (empty unless testing the suite).
    pub(crate) faults: FaultSet,
    /// The variance seed of `config`, if any (testing the suite's tolerance).
    pub(crate) variance: Variance,
    /// The time between two dequeues of one account (`Config::dequeue_period`), computed once;
    /// on average, when variance jitters it.
    pub(crate) period: Duration,
    /// Accounts by SID value.
    accounts: RwLock<HashMap<u128, Arc<Account>>>,
    /// The HTTP client for user URLs.
    pub(crate) webhooks: WebhookClient,
    /// Turns true on shutdown; every background task stops then.
    shutdown: watch::Receiver<bool>,
    /// In-flight API request permits per account (Twilio's limit is per account), when limited.
    pub(crate) limiters: Option<std::sync::Mutex<HashMap<Sid, Arc<Semaphore>>>>,
    /// The request journal, when `config.journal` asks for one.
    pub(crate) journal: Option<Journal>,
}

impl Shared {
    /// A store with no accounts yet.
    pub(crate) fn new(config: Config, webhooks: WebhookClient, shutdown: watch::Receiver<bool>) -> Shared {
        let faults = FaultSet::new(&config.faults);
        Shared {
            faults,
            variance: Variance::new(config.variance),
            period: policy::dequeue_period(faults, &config),
            limiters: policy::concurrency_limit(faults, &config).map(|_| std::sync::Mutex::new(HashMap::new())),
            journal: config.journal.then(Journal::default),
            config,
            accounts: RwLock::new(HashMap::new()),
            webhooks,
            shutdown,
        }
    }

    /// The request permits of one account, created on first use.
    pub(crate) fn limiter(&self, account: &Sid) -> Option<Arc<Semaphore>> {
        let limit = policy::concurrency_limit(self.faults, &self.config)?;
        let mut map = self.limiters.as_ref()?.lock().unwrap_or_else(PoisonError::into_inner);
        Some(map.entry(*account).or_insert_with(|| Arc::new(Semaphore::new(limit))).clone())
    }

    /// The account with this SID.
    pub(crate) fn account(&self, sid: &Sid) -> Option<Arc<Account>> {
        if sid.kind() != SidKind::Account {
            return None;
        }
        self.accounts.read().unwrap_or_else(PoisonError::into_inner).get(&sid.value()).cloned()
    }

    /// Every account, in no particular order.
    pub(crate) fn all_accounts(&self) -> Vec<Arc<Account>> {
        self.accounts.read().unwrap_or_else(PoisonError::into_inner).values().cloned().collect()
    }

    /// Adds an account (its queue drainer is the caller's to start).
    pub(crate) fn add_account(&self, account: Account) -> Arc<Account> {
        let account = Arc::new(account);
        self.accounts.write().unwrap_or_else(PoisonError::into_inner).insert(account.sid.value(), account.clone());
        account
    }

    /// Spawns a background task that ends at shutdown.
    pub(crate) fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let mut stop = self.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => {}
                () = fut => {}
            }
        });
    }
}

/// An account or subaccount.
pub(crate) struct Account {
    /// `AC…`.
    pub(crate) sid: Sid,
    /// The secret for Basic auth and for signing this account's webhooks.
    pub(crate) auth_token: Arc<str>,
    /// `FriendlyName`.
    pub(crate) friendly_name: String,
    /// The parent account of a subaccount.
    pub(crate) owner: Option<Sid>,
    /// Trial accounts may only call verified numbers.
    pub(crate) trial: bool,
    /// Creation time, ms.
    pub(crate) created_ms: i64,
    /// The account's key for variance decisions (`variance::account_key`).
    pub(crate) variance_key: u64,
    data: RwLock<AccountData>,
    /// Woken when a call joins the queue.
    pub(crate) queue_ready: Notify,
}

impl Account {
    /// A new account with no numbers, applications or calls; its variance key comes from its
    /// `friendly_name`.
    pub(crate) fn new(sid: Sid, auth_token: String, friendly_name: String, owner: Option<Sid>, trial: bool) -> Account {
        Account {
            variance_key: variance::account_key(&friendly_name),
            sid,
            auth_token: auth_token.into(),
            friendly_name,
            owner,
            trial,
            created_ms: now_ms(),
            data: RwLock::new(AccountData::default()),
            queue_ready: Notify::new(),
        }
    }

    /// Shared access to the account's data.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, AccountData> {
        self.data.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Exclusive access to the account's data. Hold it briefly: never across an await.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, AccountData> {
        self.data.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What an account owns. Guarded by the account's lock.
#[derive(Default)]
pub(crate) struct AccountData {
    /// IncomingPhoneNumbers.
    pub(crate) numbers: Vec<PhoneNumber>,
    /// Verified outgoing caller IDs.
    pub(crate) verified_caller_ids: Vec<String>,
    /// TwiML applications.
    pub(crate) applications: Vec<Application>,
    /// Calls by creation sequence number (ascending = oldest first).
    pub(crate) calls: BTreeMap<u64, CallRecord>,
    /// Call SID value → sequence number; kept after a delete so page tokens stay valid.
    pub(crate) index: HashMap<u128, u64>,
    /// The next sequence number.
    pub(crate) next_seq: u64,
    /// Queued call SIDs, first out first.
    pub(crate) queue: VecDeque<u128>,
    /// Earliest time the next call may leave the queue.
    pub(crate) next_slot: Option<Instant>,
    /// Calls taken off the queue so far (variance keys each dequeue gap by it).
    pub(crate) dequeues: u64,
    /// Recordings of deleted calls.
    pub(crate) detached_recordings: Vec<DetachedRecording>,
}

impl AccountData {
    /// The call with this SID, if stored.
    pub(crate) fn call(&self, sid: &Sid) -> Option<&CallRecord> {
        if sid.kind() != SidKind::Call {
            return None;
        }
        self.index.get(&sid.value()).and_then(|seq| self.calls.get(seq))
    }

    /// The call with this SID, mutably.
    pub(crate) fn call_mut(&mut self, sid: u128) -> Option<&mut CallRecord> {
        let seq = *self.index.get(&sid)?;
        self.calls.get_mut(&seq)
    }

    /// The PN SID of a number the account owns.
    pub(crate) fn number_sid(&self, e164: &str) -> Option<u128> {
        self.numbers.iter().find(|n| n.phone_number == e164).map(|n| n.sid)
    }
}

/// The account's data as the model's validation sees it.
pub(crate) struct Directory<'a> {
    /// Whether the account is a trial.
    pub(crate) trial: bool,
    /// The account's data.
    pub(crate) data: &'a AccountData,
    /// The emulator's faults (two of them change what the directory says).
    pub(crate) faults: FaultSet,
}

impl AccountDirectory for Directory<'_> {
    fn is_trial(&self) -> bool {
        policy::trial_restricted(self.faults, self.trial)
    }
    fn owns_number(&self, e164: &str) -> bool {
        policy::caller_id_allowed(self.faults, self.data.numbers.iter().any(|n| n.phone_number == e164))
    }
    fn is_verified_caller_id(&self, e164: &str) -> bool {
        self.data.verified_caller_ids.iter().any(|n| n == e164)
    }
    fn has_application(&self, sid: &Sid) -> bool {
        self.data.applications.iter().any(|a| a.sid == sid.value())
    }
}

/// An IncomingPhoneNumber.
#[derive(Debug, Clone)]
pub(crate) struct PhoneNumber {
    /// PN SID value.
    pub(crate) sid: u128,
    /// E.164.
    pub(crate) phone_number: String,
    /// `FriendlyName`.
    pub(crate) friendly_name: String,
    /// Creation time, ms.
    pub(crate) created_ms: i64,
}

/// A TwiML application.
#[derive(Debug, Clone)]
pub(crate) struct Application {
    /// AP SID value.
    pub(crate) sid: u128,
    /// `FriendlyName`.
    pub(crate) friendly_name: String,
    /// `VoiceUrl`.
    pub(crate) voice_url: Option<String>,
    /// `VoiceMethod`.
    pub(crate) voice_method: HttpMethod,
    /// `VoiceFallbackUrl`.
    pub(crate) voice_fallback_url: Option<String>,
    /// `VoiceFallbackMethod`.
    pub(crate) voice_fallback_method: HttpMethod,
    /// `StatusCallback`.
    pub(crate) status_callback: Option<String>,
    /// `StatusCallbackMethod`.
    pub(crate) status_callback_method: HttpMethod,
    /// Creation time, ms.
    pub(crate) created_ms: i64,
}

impl Application {
    /// A new application with a random SID, as created with `params`.
    pub(crate) fn new(params: ApplicationParams, created_ms: i64) -> Application {
        Application {
            sid: Sid::random(SidKind::Application).value(),
            friendly_name: params.friendly_name,
            voice_url: params.voice_url,
            voice_method: params.voice_method,
            voice_fallback_url: params.voice_fallback_url,
            voice_fallback_method: params.voice_fallback_method,
            status_callback: params.status_callback,
            status_callback_method: params.status_callback_method,
            created_ms,
        }
    }

    /// Where a call using the application fetches its TwiML: `VoiceUrl` with `VoiceMethod`.
    pub(crate) fn voice(&self) -> Option<Instructions> {
        self.voice_url.clone().map(|url| Instructions::Url { url, method: self.voice_method })
    }
}

/// What a recording records and reports: `Record=true`'s settings, or a recording start's.
#[derive(Debug, Clone)]
pub(crate) struct RecordingPlan {
    /// Mono or dual.
    pub(crate) channels: RecordingChannels,
    /// inbound, outbound or both.
    pub(crate) track: Box<str>,
    /// `RecordingStatusCallback` and its method.
    pub(crate) callback: Option<Target>,
    /// The recording events reported.
    pub(crate) events: RecordingEventSet,
}

/// How a call runs: its instructions and callback subscriptions. Updates may change it.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Where TwiML comes from at answer (an application is resolved to its voice URL).
    pub(crate) instructions: Option<Instructions>,
    /// Requested when the instructions cannot be fetched.
    pub(crate) fallback: Option<Target>,
    /// Where status callbacks go.
    pub(crate) status_callback: Option<Target>,
    /// The status events reported.
    pub(crate) events: StatusEventSet,
    /// Seconds a no-answer callee rings.
    pub(crate) timeout_s: u32,
    /// Set when `Record=true`.
    pub(crate) recording: Option<RecordingPlan>,
    /// Answering machine detection, when asked for (and not turned off by `SendDigits`).
    pub(crate) amd: Option<AmdParams>,
}

/// A message from the API to a call's running lifecycle task.
#[derive(Debug, Clone)]
pub(crate) enum Control {
    /// The call was ended by an update: stop.
    Stop,
    /// An update redirected the in-progress call to new instructions.
    Redirect(Instructions),
}

/// The part of a call that exists only until it ends.
pub(crate) struct Live {
    /// How the call runs.
    pub(crate) plan: Plan,
    /// Status callbacks sent so far (the next `SequenceNumber`).
    pub(crate) sequence: u32,
    /// The call's ordered webhook sender, started on first use.
    pub(crate) outbox: Option<mpsc::UnboundedSender<Outgoing>>,
    /// The running lifecycle task's control channel, once dequeued.
    pub(crate) control: Option<mpsc::UnboundedSender<Control>>,
    /// The call's `TimeLimit` in seconds, if any: set at create, replaced by an update.
    pub(crate) limit: crate::timelimit::Setter,
    /// The call's Events, shared with its [`CallRecord::events`] (the outbox records in it).
    pub(crate) events: CallEvents,
}

/// The status of a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordingStatus {
    /// Recording.
    InProgress,
    /// Paused through the Recordings subresource.
    Paused,
    /// Finished, at least a second long.
    Completed,
    /// Finished but too short to keep (error 16101).
    Absent,
}

impl RecordingStatus {
    /// Wire spelling.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            RecordingStatus::InProgress => "in-progress",
            RecordingStatus::Paused => "paused",
            RecordingStatus::Completed => "completed",
            RecordingStatus::Absent => "absent",
        }
    }

    /// Whether the recording still runs (recording or paused).
    pub(crate) const fn is_active(self) -> bool {
        matches!(self, RecordingStatus::InProgress | RecordingStatus::Paused)
    }
}

/// A call's recording, made when a `Record=true` call is answered or started through the
/// call's Recordings subresource.
#[derive(Debug, Clone)]
pub(crate) struct Recording {
    /// RE SID value.
    pub(crate) sid: u128,
    /// Its status.
    pub(crate) status: RecordingStatus,
    /// `OutboundAPI` or `StartCallRecordingAPI`.
    pub(crate) source: &'static str,
    /// Start, ms.
    pub(crate) start_ms: i64,
    /// Last change, ms.
    pub(crate) updated_ms: i64,
    /// Whole seconds, once finished.
    pub(crate) duration_s: Option<u64>,
    /// Mono or dual.
    pub(crate) channels: RecordingChannels,
    /// inbound, outbound or both.
    pub(crate) track: Box<str>,
    /// `RecordingStatusCallback` and its method.
    pub(crate) callback: Option<Target>,
    /// The recording events reported.
    pub(crate) events: RecordingEventSet,
    /// When the current pause began, ms, and whether it is skipped (`PauseBehavior=skip`).
    pub(crate) paused: Option<(i64, PauseBehavior)>,
    /// Paused time left out of the recording (`PauseBehavior=skip`), ms.
    pub(crate) skipped_ms: i64,
    /// Deleted (kept as soft-deleted metadata).
    pub(crate) deleted: bool,
    /// Variance mode: its start answered 200, and `duration` reads `"-1"` while it runs.
    pub(crate) varied: bool,
}

impl Recording {
    /// A recording that starts now.
    pub(crate) fn start(plan: &RecordingPlan, source: &'static str, now: i64) -> Recording {
        Recording {
            sid: Sid::random(SidKind::Recording).value(),
            status: RecordingStatus::InProgress,
            source,
            start_ms: now,
            updated_ms: now,
            duration_s: None,
            channels: plan.channels,
            track: plan.track.clone(),
            callback: plan.callback.clone(),
            events: plan.events,
            paused: None,
            skipped_ms: 0,
            deleted: false,
            varied: false,
        }
    }

    /// The recording's SID.
    pub(crate) const fn sid(&self) -> Sid {
        Sid::from_parts(SidKind::Recording, self.sid)
    }
}

/// A recording whose call was deleted (deleting a call keeps its recordings).
#[derive(Debug, Clone)]
pub(crate) struct DetachedRecording {
    /// CA SID value of the deleted call.
    pub(crate) call: u128,
    /// The recording.
    pub(crate) recording: Recording,
}

/// One stored call.
pub(crate) struct CallRecord {
    /// CA SID value.
    pub(crate) sid: u128,
    /// The call's key for variance decisions (`variance::call_key`).
    pub(crate) variance_key: u64,
    /// `To` as sent.
    pub(crate) to: Box<str>,
    /// `From` as sent.
    pub(crate) from: Box<str>,
    /// CA SID value of the call whose `<Dial>` made this leg (`outbound-dial`); `None` for a
    /// call created through the API.
    pub(crate) parent: Option<u128>,
    /// Resource status (never `initiated`).
    pub(crate) status: CallStatus,
    /// PN SID value of the From number, when the account owns it.
    pub(crate) phone_number_sid: Option<u128>,
    /// ms.
    pub(crate) created_ms: i64,
    /// ms.
    pub(crate) updated_ms: i64,
    /// Dequeue time, ms.
    pub(crate) start_ms: Option<i64>,
    /// End time, ms.
    pub(crate) end_ms: Option<i64>,
    /// Answer time, ms.
    pub(crate) answered_ms: Option<i64>,
    /// Estimated at create, actual after dequeue.
    pub(crate) queue_time_ms: u64,
    /// Whole seconds, once ended.
    pub(crate) duration_s: Option<u64>,
    /// 1/100000 USD, for answered calls once ended.
    pub(crate) price_units: Option<u32>,
    /// The result of answering machine detection, once there is one.
    pub(crate) answered_by: Option<AnsweredBy>,
    /// Its recordings, oldest first: `Record=true`'s once answered, and those started through
    /// the Recordings subresource.
    pub(crate) recordings: Vec<Recording>,
    /// The requests made for the call and their answers (its Events); gone with the call.
    pub(crate) events: CallEvents,
    /// Live-only parts; `None` once ended.
    pub(crate) live: Option<Box<Live>>,
}

impl CallRecord {
    /// The call's SID.
    pub(crate) const fn sid(&self) -> Sid {
        Sid::from_parts(SidKind::Call, self.sid)
    }

    /// A copy of what the `Call` resource shows (no live parts, no recording), so lists can
    /// render outside the account's lock.
    pub(crate) fn snapshot(&self) -> CallRecord {
        CallRecord {
            sid: self.sid,
            variance_key: self.variance_key,
            to: self.to.clone(),
            from: self.from.clone(),
            parent: self.parent,
            status: self.status,
            phone_number_sid: self.phone_number_sid,
            created_ms: self.created_ms,
            updated_ms: self.updated_ms,
            start_ms: self.start_ms,
            end_ms: self.end_ms,
            answered_ms: self.answered_ms,
            queue_time_ms: self.queue_time_ms,
            duration_s: self.duration_s,
            price_units: self.price_units,
            answered_by: self.answered_by,
            recordings: Vec::new(),
            events: CallEvents::default(),
            live: None,
        }
    }
}

//! Fault injection, a testing aid: each [`Fault`] makes the emulator break one documented Twilio
//! behaviour on purpose, so `cargo xtask faults` can prove the conformance suite notices.
//!
//! Faults are switched on with `--fault NAME` (repeatable) on `callspec-emulator` and on the
//! `callspec` runner's embedded emulator, or with [`crate::Config::faults`]. Each one changes a
//! single decision, made in `policy` (or in the one function `policy` names for it). With no
//! fault set, every switch costs one bit test. No fault may panic the emulator.
//!
//! Never run a production-like target with a fault: a faulty emulator is wrong by design.

use std::fmt;
use std::str::FromStr;

/// The area of the requirement catalog (`fixtures/requirements.toml`) a fault belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultArea {
    /// Authentication, form encoding, JSON, methods, error bodies.
    Transport,
    /// `To`, `From`, trial restrictions, formatted numbers.
    CreateAddressing,
    /// `Url`, `Method`, `Twiml`, `ApplicationSid`, fallback, `SendDigits`, `Timeout`, and the TwiML
    /// verbs that request the application (`<Gather>`).
    CreateInstructions,
    /// Status callbacks: events, order, parameters.
    StatusCallbacks,
    /// Outcomes and updates: busy, no-answer, cancel, hang up, redirect.
    Lifecycle,
    /// `Record` and recording callbacks.
    Recording,
    /// The queue: calls per second, `queue_time`, the concurrency limit.
    Rate,
    /// The Call JSON, fetch, list, paging, delete.
    Resource,
    /// `X-Twilio-Signature` on every request the target makes.
    Security,
}

impl FaultArea {
    /// The catalog's heading for the area, e.g. `STATUS CALLBACKS`.
    pub const fn label(self) -> &'static str {
        match self {
            FaultArea::Transport => "TRANSPORT",
            FaultArea::CreateAddressing => "CREATE addressing",
            FaultArea::CreateInstructions => "CREATE instructions",
            FaultArea::StatusCallbacks => "STATUS CALLBACKS",
            FaultArea::Lifecycle => "OUTCOMES/LIFECYCLE",
            FaultArea::Recording => "RECORDING",
            FaultArea::Rate => "RATE",
            FaultArea::Resource => "RESOURCE/SCHEMA",
            FaultArea::Security => "SECURITY",
        }
    }
}

impl fmt::Display for FaultArea {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Declares [`Fault`] with, for each variant, its kebab-case name, its area and one doc line
/// (which [`Fault::breaks`] returns, so the docs and `--list-faults` cannot drift apart).
macro_rules! faults {
    ($(#[doc = $doc:literal] $variant:ident = $name:literal, $area:ident;)+) => {
        /// A deliberate deviation from Twilio's documented behaviour (a testing aid).
        ///
        /// Each variant's doc line says which Twilio behaviour it breaks.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Fault {
            $(#[doc = $doc] $variant,)+
        }

        impl Fault {
            /// Every fault, grouped by catalog area.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant,)+];

            /// The kebab-case name `--fault` takes.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Fault::$variant => $name,)+
                }
            }

            /// The catalog area whose behaviour the fault breaks.
            pub const fn area(self) -> FaultArea {
                match self {
                    $(Fault::$variant => FaultArea::$area,)+
                }
            }

            /// What the fault breaks, in one line (the variant's doc).
            pub const fn breaks(self) -> &'static str {
                match self {
                    $(Fault::$variant => $doc.trim_ascii(),)+
                }
            }
        }
    };
}

faults! {
    /// T-AUTH-1: a 401 body has no `code` (20003 is due).
    UnauthorizedWithoutCode = "unauthorized-without-code", Transport;
    /// T-ERR-1: every error body says `status: 400`, whatever the HTTP status.
    ErrorStatusAlways400 = "error-status-always-400", Transport;
    /// T-AUTH-2: credentials of one account may act on any other account's path.
    ForeignAccountAllowed = "foreign-account-allowed", Transport;
    /// T-AUTH-2: another account's credentials may fetch, update and delete a call by its URI.
    ForeignCallInstanceAllowed = "foreign-call-instance-allowed", Transport;
    /// T-METHOD-1: an unsupported method gets 404 / 20404 instead of 405 / 20004.
    MethodNotAllowed404 = "method-not-allowed-404", Transport;
    /// T-FORM-1: of a repeated key only the last value counts.
    RepeatedKeysLastOnly = "repeated-keys-last-only", Transport;
    /// T-FORM-2: booleans are truthy strings, so `Record=false` records.
    TruthyBooleans = "truthy-booleans", Transport;
    /// T-JSON-1: JSON bodies are sent as `Content-Type: text/html`.
    TextHtmlContentType = "text-html-content-type", Transport;
    /// C-CREATE-1: a created call answers 200 instead of 201.
    Create200 = "create-200", CreateAddressing;
    /// C-TO-1: a missing `To` gets 21211 where 21201 is due.
    MissingTo21211 = "missing-to-21211", CreateAddressing;
    /// C-TO-3: a `To` that is neither E.164, `sip:` nor `client:` is accepted.
    InvalidToAccepted = "invalid-to-accepted", CreateAddressing;
    /// C-FROM-3: a `From` the account neither owns nor verified is accepted.
    UnverifiedFromAccepted = "unverified-from-accepted", CreateAddressing;
    /// C-TRIAL-1: trial accounts may call any number.
    TrialCallsAnyone = "trial-calls-anyone", CreateAddressing;
    /// C-FMT-1: `to_formatted` / `from_formatted` are E.164, not `(415) 555-1212`.
    UnformattedNumbers = "unformatted-numbers", CreateAddressing;
    /// I-ONE-1: a create with none of `Url`, `Twiml`, `ApplicationSid` is accepted.
    MissingInstructionsAccepted = "missing-instructions-accepted", CreateInstructions;
    /// I-URL-1, S-CB-4: URLs with an underscore in the host are accepted.
    UnderscoreHostAccepted = "underscore-host-accepted", CreateInstructions;
    /// I-URL-3: `Method` is ignored: TwiML is always fetched with POST.
    MethodIgnored = "method-ignored", CreateInstructions;
    /// I-TWIML-1: inline `Twiml` is ignored: the call hangs up when answered.
    TwimlIgnored = "twiml-ignored", CreateInstructions;
    /// I-APP-2: `ApplicationSid` does not override `Url`: a `Url` sent with it is fetched instead.
    ApplicationSidNotOverridingUrl = "application-sid-not-overriding-url", CreateInstructions;
    /// I-FALLBACK-1: `FallbackUrl` is never requested.
    NoFallback = "no-fallback", CreateInstructions;
    /// I-DIGITS-1: invalid `SendDigits` are accepted.
    SendDigitsUnchecked = "send-digits-unchecked", CreateInstructions;
    /// I-TIMEOUT-1: `Timeout` is ignored: an unanswered call rings 60 s.
    TimeoutIgnored = "timeout-ignored", CreateInstructions;
    /// S-CB-3: `StatusCallbackMethod` is ignored: status callbacks always use POST.
    StatusCallbackMethodIgnored = "status-callback-method-ignored", StatusCallbacks;
    /// S-CB-1: every event is sent when no `StatusCallbackEvent` was selected.
    AllEventsByDefault = "all-events-by-default", StatusCallbacks;
    /// S-EV-2: `ringing` is fired before `initiated` (and numbered so by `SequenceNumber`).
    EventsOutOfOrder = "events-out-of-order", StatusCallbacks;
    /// S-EV-2: `SequenceNumber` counts from 1 instead of 0.
    SequenceFrom1 = "sequence-from-1", StatusCallbacks;
    /// S-EV-2: `SequenceNumber` counts every event, also those not selected (so it skips numbers).
    SequenceCountsUnsentEvents = "sequence-counts-unsent-events", StatusCallbacks;
    /// S-EV-3: the `answered` event carries `CallStatus=answered` instead of `in-progress`.
    CallStatusAnswered = "call-status-answered", StatusCallbacks;
    /// S-EV-3: the `completed` event carries `CallStatus=completed` whatever the call ended with.
    CompletedEventStatusCompleted = "completed-event-status-completed", StatusCallbacks;
    /// S-PARAM-1: status callbacks carry no `CallbackSource`.
    CallbackSourceMissing = "callback-source-missing", StatusCallbacks;
    /// S-PARAM-1: `Timestamp` is ISO 8601 instead of RFC 2822.
    CallbackTimestampIso8601 = "callback-timestamp-iso8601", StatusCallbacks;
    /// S-PARAM-2: `Duration` is in seconds instead of minutes rounded up.
    DurationParamInSeconds = "duration-param-in-seconds", StatusCallbacks;
    /// S-PARAM-2: `CallDuration` is sent only for answered calls (busy, failed, no-answer lack it).
    CallDurationOnlyWhenAnswered = "call-duration-only-when-answered", StatusCallbacks;
    /// S-EV-4: `completed` fires only for answered calls (not for busy, failed, no-answer, canceled).
    CompletedOnlyWhenAnswered = "completed-only-when-answered", StatusCallbacks;
    /// S-CANCEL-1: a call canceled while queued still sends its `completed` (canceled) callback.
    CallbackAfterQueuedCancel = "callback-after-queued-cancel", StatusCallbacks;
    /// L-BUSY-1: a busy callee ends the call `no-answer` instead of `busy`.
    BusyEndsNoAnswer = "busy-ends-no-answer", Lifecycle;
    /// L-CANCEL-1: `Status=canceled` ends the call `completed` instead of `canceled`.
    CancelEndsCompleted = "cancel-ends-completed", Lifecycle;
    /// L-COMPLETE-1: `Status=completed` on an in-progress call answers 200 but does not hang up.
    HangupIgnored = "hangup-ignored", Lifecycle;
    /// L-REDIRECT-1: an update with `Url` does not redirect the in-progress call.
    RedirectIgnored = "redirect-ignored", Lifecycle;
    /// L-REDIRECT-1: updates of an ended call answer 200 instead of 400 / 21220.
    UpdateEndedAllowed = "update-ended-allowed", Lifecycle;
    /// R-REC-1: `Record=true` makes no recording.
    RecordIgnored = "record-ignored", Recording;
    /// R-REC-2: `RecordingSource` is `RecordVerb` instead of `OutboundAPI`.
    RecordingSourceWrong = "recording-source-wrong", Recording;
    /// R-REC-2: `RecordingStatusCallbackMethod` is ignored: recording callbacks always use POST.
    RecordingCallbackMethodIgnored = "recording-callback-method-ignored", Recording;
    /// R-REC-3: `RecordingStatusCallbackEvent` is ignored: only `completed` is sent.
    RecordingEventsIgnored = "recording-events-ignored", Recording;
    /// R-REC-4: `RecordingChannels=dual` still reports `RecordingChannels=1`.
    RecordingChannelsIgnored = "recording-channels-ignored", Recording;
    /// R-REC-2: `RecordingDuration` is in milliseconds instead of seconds.
    RecordingDurationInMilliseconds = "recording-duration-in-milliseconds", Recording;
    /// R-RES-4: `Status=paused` on a call recording is answered 200 but the recording stays `in-progress`.
    RecordingPauseIgnored = "recording-pause-ignored", Recording;
    /// R-RES-2: a recording can be started on a call that is not in progress (201 instead of 400 / 21220).
    RecordingStartsOnEndedCall = "recording-starts-on-ended-call", Recording;
    /// R-RES-10: the account's `Recordings.json` ignores the `CallSid` filter.
    RecordingsCallSidFilterIgnored = "recordings-call-sid-filter-ignored", Recording;
    /// Q-RATE-2: the CPS is ignored: queued calls leave the queue at once.
    CpsIgnored = "cps-ignored", Rate;
    /// Q-RATE-2: queued calls leave the queue at 2 calls per second instead of 1.
    TwoCallsPerSecond = "two-calls-per-second", Rate;
    /// Q-RATE-3: `queue_time` is in seconds with a decimal fraction (`"1.500"`) instead of whole milliseconds.
    QueueTimeDecimalSeconds = "queue-time-decimal-seconds", Rate;
    /// Q-RATE-4: no concurrency limit: 429 / 20429 is never answered.
    NoConcurrencyLimit = "no-concurrency-limit", Rate;
    /// D-SCHEMA-1: the Call JSON has no `queue_time`.
    QueueTimeMissing = "queue-time-missing", Resource;
    /// D-SCHEMA-1: `duration` is a JSON number instead of a string.
    DurationAsNumber = "duration-as-number", Resource;
    /// D-SCHEMA-1: `duration` is in milliseconds instead of seconds.
    DurationInMilliseconds = "duration-in-milliseconds", Resource;
    /// D-SCHEMA-1: dates are ISO 8601 instead of RFC 2822.
    Iso8601Dates = "iso8601-dates", Resource;
    /// D-SID-1: call SIDs in the Call JSON have 31 hex digits instead of 32.
    Sid31Hex = "sid-31-hex", Resource;
    /// D-LIST-1: the list is oldest first instead of newest first.
    ListOldestFirst = "list-oldest-first", Resource;
    /// D-LIST-2: each page after the first repeats the last call of the page before.
    ListPageRepeatsCall = "list-page-repeats-call", Resource;
    /// D-LIST-3: the `To`, `From` and `Status` filters are ignored.
    ListFiltersIgnored = "list-filters-ignored", Resource;
    /// D-DELETE-1: deleting an ended call answers 200 instead of 204.
    Delete200 = "delete-200", Resource;
    /// D-DELETE-2: a call that has not ended can be deleted.
    DeleteInProgressAllowed = "delete-in-progress-allowed", Resource;
    /// W-SIG-1: `X-Twilio-Signature` is computed with the wrong key.
    SignatureWrong = "signature-wrong", Security;
    /// W-SIG-1: requests to user URLs carry no `X-Twilio-Signature`.
    SignatureMissing = "signature-missing", Security;
    /// W-SIG-1: POST parameters are signed in wire order instead of sorted by name.
    SignatureUnsortedParams = "signature-unsorted-params", Security;
    /// W-SIG-2: a GET request's signature leaves out the query string.
    SignatureGetWithoutQuery = "signature-get-without-query", Security;
    /// G-GATHER-1: a `<Gather>` ended by its finish key sends `Digits` with the finish key on the end.
    GatherDigitsIncludeFinishKey = "gather-digits-include-finish-key", CreateInstructions;
    /// G-GATHER-4: a `<Gather>` that hears nothing ends the call instead of going on with the next verb.
    GatherNoInputSkipsNextVerb = "gather-no-input-skips-next-verb", CreateInstructions;
    /// X-DIAL-1: a `<Dial>` leg says `direction` `outbound-api` (resource and callbacks) instead of `outbound-dial`.
    DialChildDirectionOutboundApi = "dial-child-direction-outbound-api", Lifecycle;
    /// X-DIAL-5: `<Dial action>` is never requested: the next verb runs instead.
    DialActionSkipped = "dial-action-skipped", Lifecycle;
    /// A-AMD-3: the `Url` request that answering machine detection held carries no `AnsweredBy`.
    AmdAnsweredByMissing = "amd-answered-by-missing", CreateInstructions;
    /// A-AMD-2: a machine-detection tuning value outside its documented range is accepted (201 instead of 400 / 21234).
    AmdRangeUnchecked = "amd-range-unchecked", CreateInstructions;
    /// C-TIMELIMIT-1: `TimeLimit` (on create and on update) is accepted but never ends the call.
    TimeLimitIgnored = "time-limit-ignored", Lifecycle;
    /// C-UPDTWIML-1: an update with `Twiml` answers 200 but the call goes on with its old TwiML.
    UpdateTwimlIgnored = "update-twiml-ignored", Lifecycle;
    /// E-EVENTS-2: a call's Events show parameter names as sent (`CallSid`) instead of in snake_case.
    EventsParametersPascalCase = "events-parameters-pascal-case", Resource;
}

// A `FaultSet` is a `u128`.
const _: () = assert!(Fault::ALL.len() <= 128);

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a fault; its message lists the valid names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFault(pub String);

impl fmt::Display for UnknownFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown fault {:?}; valid faults: ", self.0)?;
        for (i, fault) in Fault::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(fault.name())?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownFault {}

impl FromStr for Fault {
    type Err = UnknownFault;

    /// Parses a kebab-case name such as `create-200` (ASCII case ignored).
    fn from_str(s: &str) -> Result<Fault, UnknownFault> {
        let wanted = s.trim();
        Fault::ALL
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownFault(s.to_owned()))
    }
}

/// Parses a list of fault names, refusing the first unknown one.
pub fn parse_faults<S: AsRef<str>>(names: &[S]) -> Result<Vec<Fault>, UnknownFault> {
    names.iter().map(|n| n.as_ref().parse()).collect()
}

/// The faults in effect, as a bit set: testing one costs a shift and a mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct FaultSet(u128);

impl FaultSet {
    /// The set of `faults`.
    pub(crate) fn new(faults: &[Fault]) -> FaultSet {
        FaultSet(faults.iter().fold(0, |acc, f| acc | FaultSet::bit(*f)))
    }

    const fn bit(fault: Fault) -> u128 {
        1u128 << (fault as u32)
    }

    /// Whether `fault` is switched on.
    #[inline]
    pub(crate) const fn has(self, fault: Fault) -> bool {
        self.0 & FaultSet::bit(fault) != 0
    }

    /// Whether any of `faults` is switched on.
    #[inline]
    pub(crate) fn any(self, faults: &[Fault]) -> bool {
        self.0 != 0 && faults.iter().any(|f| self.has(*f))
    }

    /// Whether no fault is switched on.
    #[inline]
    pub(crate) const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_parse_back_and_are_unique_kebab_case() {
        let mut names = HashSet::new();
        for fault in Fault::ALL {
            let name = fault.name();
            assert!(names.insert(name), "{name} twice");
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{name}");
            assert!(!name.starts_with('-') && !name.ends_with('-') && !name.contains("--"), "{name}");
            assert_eq!(name.parse::<Fault>(), Ok(*fault));
            assert_eq!(fault.to_string(), name);
            assert!(!fault.breaks().is_empty() && !fault.breaks().starts_with(' '), "{name}");
        }
        assert!(Fault::ALL.len() >= 30);
    }

    #[test]
    fn parsing_trims_ignores_case_and_lists_valid_names_on_error() {
        assert_eq!(" Create-200 ".parse::<Fault>(), Ok(Fault::Create200));
        assert_eq!("sid-31-hex".parse::<Fault>(), Ok(Fault::Sid31Hex));
        let err = "create_200".parse::<Fault>().expect_err("underscores are not kebab-case");
        let text = err.to_string();
        assert!(text.starts_with("unknown fault \"create_200\"; valid faults: "), "{text}");
        for fault in Fault::ALL {
            assert!(text.contains(fault.name()), "{text}");
        }
        assert!("".parse::<Fault>().is_err());
        assert_eq!(parse_faults(&["create-200", "no-fallback"]), Ok(vec![Fault::Create200, Fault::NoFallback]));
        assert_eq!(parse_faults(&["create-200", "nope"]), Err(UnknownFault("nope".into())));
        assert_eq!(parse_faults::<&str>(&[]), Ok(vec![]));
    }

    #[test]
    fn every_area_has_faults() {
        for area in [
            FaultArea::Transport,
            FaultArea::CreateAddressing,
            FaultArea::CreateInstructions,
            FaultArea::StatusCallbacks,
            FaultArea::Lifecycle,
            FaultArea::Recording,
            FaultArea::Rate,
            FaultArea::Resource,
            FaultArea::Security,
        ] {
            assert!(Fault::ALL.iter().filter(|f| f.area() == area).count() >= 3, "{area}");
        }
    }

    #[test]
    fn sets_test_bits() {
        let set = FaultSet::new(&[Fault::Create200, Fault::SignatureGetWithoutQuery]);
        assert!(set.has(Fault::Create200) && set.has(Fault::SignatureGetWithoutQuery));
        assert!(!set.has(Fault::NoFallback));
        assert!(set.any(&[Fault::NoFallback, Fault::Create200]));
        assert!(!set.any(&[Fault::NoFallback]));
        assert!(FaultSet::default().is_empty() && !set.is_empty());
        let all = FaultSet::new(Fault::ALL);
        assert!(Fault::ALL.iter().all(|f| all.has(*f)));
    }
}

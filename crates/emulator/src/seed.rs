//! The accounts, numbers and callee table every emulator starts with.

/// The main (full) account.
pub const MAIN_ACCOUNT_SID: &str = "ACc0ffee00000000000000000000000001";
/// The main account's auth token.
pub const MAIN_AUTH_TOKEN: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
/// Numbers the main account owns (IncomingPhoneNumbers).
pub const MAIN_NUMBERS: &[&str] = &["+15005550006", "+15017122661", "+18668675310"];
/// A trial account: it may only call its verified caller IDs.
pub const TRIAL_ACCOUNT_SID: &str = "ACc0ffee00000000000000000000000002";
/// The trial account's auth token.
pub const TRIAL_AUTH_TOKEN: &str = "7e57c0de7e57c0de7e57c0de7e57c0de";
/// Numbers the trial account owns.
pub const TRIAL_NUMBERS: &[&str] = &["+15005550006"];
/// The trial account's verified caller IDs, the only numbers it may call.
pub const TRIAL_VERIFIED_CALLER_IDS: &[&str] = &["+14155551212"];

/// A callee that answers busy after the ring time.
pub const CALLEE_BUSY: &str = "+15005559001";
/// A callee that rings until the call's `Timeout` and ends `no-answer`.
pub const CALLEE_NO_ANSWER: &str = "+15005559002";
/// A callee that cannot be reached: the call fails right after it rings.
pub const CALLEE_FAILED: &str = "+15005559003";

/// The callee table as text, for the startup banner and docs.
pub fn callee_table() -> String {
    format!(
        "  {CALLEE_BUSY}  busy after the ring time\n  \
         {CALLEE_NO_ANSWER}  rings until Timeout, then no-answer\n  \
         {CALLEE_FAILED}  failed at once\n  \
         anything else (phone, sip:, client:)  answers after the ring time"
    )
}

//! The accounts, numbers and callee table every emulator starts with, and where its numbers are.

use callspec_model::callback::Geo;

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

/// A callee that answers with a recorded greeting ending in a beep (an answering machine).
pub const CALLEE_MACHINE: &str = "+15005559004";
/// A callee that answers and never makes a sound nor presses a key.
pub const CALLEE_SILENT: &str = "+15005559005";
/// A callee that answers as a person and presses `1234#` when a `<Gather>` listens.
pub const CALLEE_DIGITS: &str = "+15005559006";
/// A callee that answers as a person and hangs up two seconds later.
pub const CALLEE_HANGS_UP: &str = "+15005559007";
/// A callee that rings three seconds before it answers as a person.
pub const CALLEE_SLOW_ANSWER: &str = "+15005559008";

/// The callee table as text, for the startup banner and docs.
pub fn callee_table() -> String {
    format!(
        "  {CALLEE_BUSY}  busy after the ring time\n  \
         {CALLEE_NO_ANSWER}  rings until Timeout, then no-answer\n  \
         {CALLEE_FAILED}  failed at once\n  \
         {CALLEE_MACHINE}  an answering machine: a 3 s greeting, then a beep\n  \
         {CALLEE_SILENT}  answers and stays silent (no speech, no keys)\n  \
         {CALLEE_DIGITS}  answers and presses 1234# when a <Gather> listens\n  \
         {CALLEE_HANGS_UP}  answers and hangs up 2 s later\n  \
         {CALLEE_SLOW_ANSWER}  rings 3 s, then answers\n  \
         anything else (phone, sip:, client:)  answers after the ring time, as a person"
    )
}

/// Where the emulator says a number is, as far as it knows: North American numbers of a few
/// area codes (415 San Francisco, 501 Little Rock, toll-free 866 with a country only); nothing
/// for any other number, `sip:` or `client:`. Only variance mode sends it, as the geographic
/// webhook parameters (`CalledCity`, `FromCountry`, …) Twilio sends when it knows them.
pub fn geography(endpoint: &str) -> Geo {
    let Some(national) = endpoint.strip_prefix("+1").filter(|n| n.len() == 10 && n.bytes().all(|b| b.is_ascii_digit()))
    else {
        return Geo::default();
    };
    let place = |city: &str, state: &str, zip: &str| Geo {
        city: Some(city.to_owned()),
        state: Some(state.to_owned()),
        zip: Some(zip.to_owned()),
        country: Some("US".to_owned()),
    };
    match national.get(..3) {
        Some("415") => place("SAN FRANCISCO", "CA", "94103"),
        Some("501") => place("LITTLE ROCK", "AR", "72201"),
        Some("866") => Geo { country: Some("US".to_owned()), ..Geo::default() },
        _ => Geo::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geography_of_known_area_codes_only() {
        assert_eq!(geography("+14155551212").city.as_deref(), Some("SAN FRANCISCO"));
        assert_eq!(geography("+15017122661").state.as_deref(), Some("AR"));
        let toll_free = geography("+18668675310");
        assert_eq!((toll_free.country.as_deref(), toll_free.city), (Some("US"), None));
        for nowhere in ["+15005559002", "+442071838750", "sip:alice@example.com", "client:joey", "+1415"] {
            assert!(geography(nowhere).is_empty(), "{nowhere}");
        }
    }
}

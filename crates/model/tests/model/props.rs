//! Property tests: the form parser, parameter validation, the RFC 2822 parser and the
//! signature code never panic on arbitrary input, and what they accept round-trips.
//!
//! Case counts are bounded and the generator is seeded, so a run takes a moment and repeats
//! exactly; nothing is written to disk (no failure persistence).

use super::{MAIN, TRIAL};
use callspec_model::params::{APPLICATION_PARAMETERS, CREATE_PARAMETERS, UPDATE_PARAMETERS};
use callspec_model::{ApplicationParams, CreateCallParams, Endpoint, Form, Sid, UpdateCallParams, rfc2822, signature};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// Bounded, seeded, and silent on disk.
fn cases(n: u32) -> Config {
    Config { cases: n, failure_persistence: None, rng_seed: RngSeed::Fixed(0x00ca_115e), ..Config::default() }
}

/// Values that reach the interesting branches of validation, and some that do not parse at all.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("+14155551212".to_owned()),
        Just("+15017122661".to_owned()),
        Just("client:alice".to_owned()),
        Just("sip:bob@example.com".to_owned()),
        Just("http://demo.twilio.com/docs/voice.xml".to_owned()),
        Just("<Response><Say>hi</Say></Response>".to_owned()),
        Just("AP0123456789abcdef0123456789abcdef".to_owned()),
        Just("initiated answered".to_owned()),
        Just("true".to_owned()),
        Just("-1".to_owned()),
        Just("99999999999999999999999".to_owned()),
        Just("GET".to_owned()),
        Just(String::new()),
        "\\PC{0,40}",
        any::<String>(),
    ]
}

/// A form of known and unknown parameter names, repeated at will.
fn form(names: &'static [&'static str]) -> impl Strategy<Value = Form> {
    let name = prop_oneof![4 => proptest::sample::select(names).prop_map(str::to_owned), 1 => any::<String>()];
    proptest::collection::vec((name, value()), 0..12).prop_map(Form::from_pairs)
}

proptest! {
    #![proptest_config(cases(1000))]

    #[test]
    fn the_form_parser_never_panics_and_what_it_reads_encodes_back(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(form) = Form::parse(&body) {
            let again = Form::parse(form.encode().as_bytes()).expect("an encoded form parses");
            prop_assert_eq!(again.pairs(), form.pairs());
        }
    }

    #[test]
    fn forms_of_any_pairs_round_trip(pairs in proptest::collection::vec((any::<String>(), any::<String>()), 0..8)) {
        let form = Form::from_pairs(pairs.clone());
        let again = Form::parse(form.encode().as_bytes()).expect("an encoded form parses");
        prop_assert_eq!(again.into_pairs(), pairs);
    }

    #[test]
    fn endpoints_and_sids_never_panic(text in "\\PC{0,40}|[+0-9]{0,20}|(AC|CA|PN|AP)[0-9a-f]{30,34}") {
        let _ = Endpoint::parse_to(&text);
        let _ = Endpoint::parse_from(&text);
        let _ = callspec_model::endpoint::formatted(&text);
        if let Ok(sid) = Sid::parse(&text) {
            prop_assert_eq!(sid.to_string(), text);
        }
    }

    #[test]
    fn the_rfc2822_parser_never_panics(text in "\\PC{0,40}|[A-Za-z]{3}, [0-9]{2} [A-Za-z]{3} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}") {
        let _ = rfc2822::parse(&text);
    }

    #[test]
    fn every_formatted_time_parses_back(ms in any::<i64>()) {
        let text = rfc2822::format_unix_ms(ms);
        if !text.is_empty() {
            let parsed = rfc2822::parse(&text).expect("what is formatted parses");
            prop_assert_eq!(parsed.unix_timestamp(), ms.div_euclid(1000));
        }
    }
}

proptest! {
    #![proptest_config(cases(400))]

    #[test]
    fn call_parameter_validation_never_panics(form in form(CREATE_PARAMETERS), trial in any::<bool>()) {
        let account = if trial { &TRIAL } else { &MAIN };
        let parsed = CreateCallParams::parse(&form, account);
        if let Ok(params) = parsed.into_result() {
            // What validation accepts encodes to a form it accepts again.
            prop_assert!(CreateCallParams::parse(&params.to_form(), account).is_valid());
        }
    }

    #[test]
    fn update_and_application_validation_never_panic(update in form(UPDATE_PARAMETERS), app in form(APPLICATION_PARAMETERS)) {
        if let Ok(params) = UpdateCallParams::parse(&update).into_result() {
            prop_assert!(UpdateCallParams::parse(&params.to_form()).is_valid());
        }
        let _ = ApplicationParams::parse(&app);
    }

    #[test]
    fn signing_never_panics_and_validates_its_own_signatures(
        token in any::<String>(),
        url in "\\PC{0,60}|https?://[a-z.]{1,20}(:[0-9]{1,5})?(/[a-z%?=&.]{0,20}){0,3}",
        params in proptest::collection::vec((any::<String>(), any::<String>()), 0..6),
        forged in any::<String>(),
    ) {
        let signed = signature::sign(&token, &url, &params);
        prop_assert!(signature::validate(&token, &url, &params, &signed));
        let _ = signature::validate(&token, &url, &params, &forged);
        let _ = signature::url_variants(&url);
        let _ = signature::string_to_sign(&url, &params);
        let _ = signature::body_sha256(url.as_bytes());
        if let Ok(parsed) = url::Url::parse(&url) {
            let _ = signature::signed_url(&parsed);
        }
    }
}

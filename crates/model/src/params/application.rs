//! Application parameters (`POST …/Applications.json`), the voice side a call with
//! `ApplicationSid` uses: `VoiceUrl`, `VoiceMethod`, the voice fallback and the status callback.

use super::Parsed;
use super::check::Checker;
use super::values::HttpMethod;
use crate::error::code;
use crate::form::Form;

/// Every parameter name `POST …/Applications.json` documents.
pub const APPLICATION_PARAMETERS: &[&str] = &[
    "FriendlyName",
    "ApiVersion",
    "VoiceUrl",
    "VoiceMethod",
    "VoiceFallbackUrl",
    "VoiceFallbackMethod",
    "StatusCallback",
    "StatusCallbackMethod",
    "VoiceCallerIdLookup",
    "SmsUrl",
    "SmsMethod",
    "SmsFallbackUrl",
    "SmsFallbackMethod",
    "SmsStatusCallback",
    "MessageStatusCallback",
    "PublicApplicationConnectEnabled",
];

/// The voice configuration of an application, as created.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplicationParams {
    /// `FriendlyName`, empty when not sent.
    pub friendly_name: String,
    /// `VoiceUrl`: where a call using the application fetches its TwiML.
    pub voice_url: Option<String>,
    /// `VoiceMethod`, default POST.
    pub voice_method: HttpMethod,
    /// `VoiceFallbackUrl`.
    pub voice_fallback_url: Option<String>,
    /// `VoiceFallbackMethod`, default POST.
    pub voice_fallback_method: HttpMethod,
    /// `StatusCallback`: where the status callbacks of calls using the application go.
    pub status_callback: Option<String>,
    /// `StatusCallbackMethod`, default POST.
    pub status_callback_method: HttpMethod,
}

impl ApplicationParams {
    /// Parses and validates a create request: the parameters as read and every violation.
    /// A URL Twilio would not request earns 21205, a method other than GET or POST 21209.
    pub fn parse(form: &Form) -> Parsed<ApplicationParams> {
        let mut c = Checker::new(form);
        let value = ApplicationParams {
            friendly_name: form.get("FriendlyName").unwrap_or_default().to_owned(),
            voice_url: c.url("VoiceUrl", code::URL_INVALID),
            voice_method: c.method("VoiceMethod"),
            voice_fallback_url: c.url("VoiceFallbackUrl", code::URL_INVALID),
            voice_fallback_method: c.method("VoiceFallbackMethod"),
            status_callback: c.url("StatusCallback", code::URL_INVALID),
            status_callback_method: c.method("StatusCallbackMethod"),
        };
        c.finish(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(pairs: &[(&str, &str)]) -> Vec<(&'static str, u32)> {
        ApplicationParams::parse(&Form::from_pairs(pairs.iter().copied()))
            .violations
            .into_iter()
            .map(|v| (v.parameter, v.error.code))
            .collect()
    }

    #[test]
    fn voice_url_and_method_are_validated() {
        let parsed = ApplicationParams::parse(&Form::from_pairs([
            ("FriendlyName", "Phone Me"),
            ("VoiceUrl", "http://demo.twilio.com/docs/voice.xml"),
            ("VoiceMethod", "get"),
        ]));
        assert!(parsed.is_valid(), "{:?}", parsed.violations);
        assert_eq!(parsed.value.friendly_name, "Phone Me");
        assert_eq!(parsed.value.voice_url.as_deref(), Some("http://demo.twilio.com/docs/voice.xml"));
        assert_eq!(parsed.value.voice_method, HttpMethod::Get);
        assert_eq!(codes(&[]), []);
        assert_eq!(codes(&[("VoiceUrl", "   ")]), []);
        assert_eq!(codes(&[("VoiceUrl", "/docs/voice.xml")]), [("VoiceUrl", 21205)]);
        assert_eq!(codes(&[("VoiceUrl", "ftp://demo.twilio.com/voice.xml")]), [("VoiceUrl", 21205)]);
        assert_eq!(codes(&[("VoiceUrl", "http://my_app.example.com/voice.xml")]), [("VoiceUrl", 21205)]);
        assert_eq!(codes(&[("VoiceMethod", "PUT")]), [("VoiceMethod", 21209)]);
    }

    #[test]
    fn every_violation_is_reported_in_parameter_order() {
        assert_eq!(
            codes(&[
                ("StatusCallbackMethod", "PATCH"),
                ("StatusCallback", "x"),
                ("VoiceFallbackMethod", "DELETE"),
                ("VoiceFallbackUrl", "nope"),
                ("VoiceMethod", "PUT"),
                ("VoiceUrl", "voice.xml"),
                ("SmsUrl", "not checked"),
            ]),
            [
                ("VoiceUrl", 21205),
                ("VoiceMethod", 21209),
                ("VoiceFallbackUrl", 21205),
                ("VoiceFallbackMethod", 21209),
                ("StatusCallback", 21205),
                ("StatusCallbackMethod", 21209),
            ]
        );
    }
}

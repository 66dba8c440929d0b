//! A small, tolerant TwiML reader: a `<Response>` document into the verbs the emulator runs
//! (`Say`, `Pause`, `Play`, `Redirect`, `Hangup`, `Reject`; anything else is kept as skipped).

use callspec_model::params::HttpMethod;
use std::fmt;
use std::time::Duration;

/// One verb of a `<Response>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verb {
    /// `<Say>`: lasts 60 ms per character (at least 100 ms), times `loop`.
    Say {
        /// Characters of text spoken.
        chars: usize,
        /// `loop` attribute, 1 by default.
        loops: u32,
    },
    /// `<Pause length="N">`: N seconds, default 1.
    Pause {
        /// Seconds.
        seconds: u64,
    },
    /// `<Play>`: one second per loop.
    Play {
        /// `loop` attribute, 1 by default.
        loops: u32,
    },
    /// `<Redirect method="GET|POST">url</Redirect>`.
    Redirect {
        /// The URL as written; may be relative.
        url: String,
        /// Default POST.
        method: HttpMethod,
    },
    /// `<Hangup/>`: ends the call.
    Hangup,
    /// `<Reject/>`: ends the call `busy`.
    Reject,
    /// Any other verb: skipped.
    Other(String),
}

/// Longest loop count honoured for `<Say>` and `<Play>`.
const MAX_LOOPS: u32 = 1000;

impl Verb {
    /// How long the verb keeps the call busy.
    pub(crate) fn duration(&self) -> Duration {
        match self {
            Verb::Say { chars, loops } => {
                let one = Duration::from_millis(60 * (*chars as u64)).max(Duration::from_millis(100));
                one * *loops
            }
            Verb::Pause { seconds } => Duration::from_secs(*seconds),
            Verb::Play { loops } => Duration::from_secs(u64::from(*loops)),
            _ => Duration::ZERO,
        }
    }
}

/// Why a document is not TwiML the emulator can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TwimlError {
    /// No root element at all (empty or text-only body).
    NoRoot,
    /// The root element is not `<Response>`.
    WrongRoot(String),
    /// The XML is malformed; the text says where.
    Malformed(String),
}

impl fmt::Display for TwimlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TwimlError::NoRoot => f.write_str("the document has no <Response> element"),
            TwimlError::WrongRoot(name) => {
                write!(f, "the root element is <{name}>, not <Response>")
            }
            TwimlError::Malformed(why) => write!(f, "malformed XML: {why}"),
        }
    }
}

impl std::error::Error for TwimlError {}

#[derive(Debug)]
enum Token {
    Start { name: String, attrs: Vec<(String, String)>, empty: bool },
    End(String),
    Text(String),
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').filter(|end| *end <= 10).and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse::<u32>().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

fn tokenize(doc: &str) -> Result<Vec<Token>, TwimlError> {
    let bad = |why: &str| TwimlError::Malformed(why.to_owned());
    let mut tokens = Vec::new();
    let mut rest = doc.strip_prefix('\u{feff}').unwrap_or(doc);
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            tokens.push(Token::Text(decode_entities(rest)));
            break;
        };
        if lt > 0 {
            tokens.push(Token::Text(decode_entities(&rest[..lt])));
        }
        rest = &rest[lt..];
        if let Some(r) = rest.strip_prefix("<?") {
            let end = r.find("?>").ok_or_else(|| bad("unterminated <? ... ?>"))?;
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            let end = r.find("-->").ok_or_else(|| bad("unterminated comment"))?;
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r.find("]]>").ok_or_else(|| bad("unterminated CDATA section"))?;
            tokens.push(Token::Text(r[..end].to_owned()));
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("<!") {
            let end = r.find('>').ok_or_else(|| bad("unterminated declaration"))?;
            rest = &r[end + 1..];
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = r.find('>').ok_or_else(|| bad("unterminated end tag"))?;
            let name = r[..end].trim();
            if name.is_empty() || !name.chars().all(is_name_char) {
                return Err(TwimlError::Malformed(format!("bad end tag </{name}>")));
            }
            tokens.push(Token::End(name.to_owned()));
            rest = &r[end + 1..];
        } else {
            let (token, after) = start_tag(&rest[1..])?;
            tokens.push(token);
            rest = after;
        }
    }
    Ok(tokens)
}

/// Parses a start tag after its `<`, returning the token and the text after its `>`.
fn start_tag(s: &str) -> Result<(Token, &str), TwimlError> {
    let bad = |why: String| TwimlError::Malformed(why);
    let name_len = s.find(|c: char| !is_name_char(c)).unwrap_or(s.len());
    let name = &s[..name_len];
    if name.is_empty() {
        return Err(bad("a `<` that starts no tag".to_owned()));
    }
    let mut rest = &s[name_len..];
    let mut attrs = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("/>") {
            return Ok((Token::Start { name: name.to_owned(), attrs, empty: true }, r));
        }
        if let Some(r) = rest.strip_prefix('>') {
            return Ok((Token::Start { name: name.to_owned(), attrs, empty: false }, r));
        }
        let attr_len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        if attr_len == 0 {
            return Err(bad(format!("unexpected text in tag <{name}>")));
        }
        let attr = rest[..attr_len].to_owned();
        rest = rest[attr_len..].trim_start();
        let value = if let Some(r) = rest.strip_prefix('=') {
            let r = r.trim_start();
            let quote = r.chars().next().filter(|c| *c == '"' || *c == '\'');
            match quote {
                Some(q) => {
                    let body = &r[1..];
                    let end = body.find(q).ok_or_else(|| bad(format!("unterminated attribute {attr}")))?;
                    rest = &body[end + 1..];
                    decode_entities(&body[..end])
                }
                None => {
                    let end = r.find(|c: char| c.is_whitespace() || c == '>' || c == '/').unwrap_or(r.len());
                    rest = &r[end..];
                    decode_entities(&r[..end])
                }
            }
        } else {
            String::new()
        };
        attrs.push((attr, value));
        if rest.is_empty() {
            return Err(bad(format!("unterminated tag <{name}>")));
        }
    }
}

/// An element of a verb: its name, attributes, text and nested elements (`<Number>` in `<Dial>`,
/// `<Say>` in `<Gather>`), each the same shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    /// The text directly inside, entities decoded (nested elements' text is theirs).
    pub(crate) text: String,
    pub(crate) children: Vec<Element>,
}

impl Element {
    /// The value of attribute `name`, if present.
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        attr(&self.attrs, name)
    }

    /// Its text and its nested elements' text (`<Say>` with SSML tags inside).
    pub(crate) fn deep_text(&self) -> String {
        self.children.iter().fold(self.text.clone(), |mut all, child| {
            all.push_str(&child.deep_text());
            all
        })
    }
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn loops(attrs: &[(String, String)]) -> u32 {
    attr(attrs, "loop").and_then(|v| v.trim().parse::<u32>().ok()).filter(|n| *n > 0).unwrap_or(1).min(MAX_LOOPS)
}

fn verb(el: Element) -> Verb {
    match el.name.as_str() {
        "Say" => Verb::Say { chars: el.deep_text().trim().chars().count(), loops: loops(&el.attrs) },
        "Pause" => Verb::Pause { seconds: el.attr("length").and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(1) },
        "Play" => Verb::Play { loops: loops(&el.attrs) },
        "Redirect" => Verb::Redirect {
            url: el.text.trim().to_owned(),
            method: el.attr("method").and_then(HttpMethod::parse).unwrap_or_default(),
        },
        "Hangup" => Verb::Hangup,
        "Reject" => Verb::Reject,
        _ => Verb::Other(el.name),
    }
}

/// Reads a TwiML document into its top-level verbs.
pub(crate) fn parse(doc: &str) -> Result<Vec<Verb>, TwimlError> {
    Ok(elements(doc)?.into_iter().map(verb).collect())
}

/// Reads a TwiML document into the elements directly inside `<Response>`, each with what it nests.
pub(crate) fn elements(doc: &str) -> Result<Vec<Element>, TwimlError> {
    let mut verbs = Vec::new();
    // The open elements below `<Response>`: the verb first, then what it nests.
    let mut open: Vec<Element> = Vec::new();
    let mut in_root = false;
    let mut root_seen = false;
    for token in tokenize(doc)? {
        match token {
            Token::Text(t) => match open.last_mut() {
                Some(el) => el.text.push_str(&t),
                None if t.trim().is_empty() || in_root => {}
                None => return Err(TwimlError::Malformed("text outside the root element".to_owned())),
            },
            Token::Start { name, attrs, empty } => {
                if !in_root {
                    if root_seen {
                        return Err(TwimlError::Malformed("more than one root element".to_owned()));
                    }
                    root_seen = true;
                    if name != "Response" {
                        return Err(TwimlError::WrongRoot(name));
                    }
                    in_root = !empty;
                    continue;
                }
                let el = Element { name, attrs, ..Element::default() };
                if empty {
                    close(el, &mut open, &mut verbs);
                } else {
                    open.push(el);
                }
            }
            Token::End(name) => match open.pop() {
                Some(el) if el.name == name => close(el, &mut open, &mut verbs),
                Some(el) => return Err(TwimlError::Malformed(format!("</{name}> closes <{}>", el.name))),
                None if in_root && name == "Response" => in_root = false,
                None if in_root => return Err(TwimlError::Malformed(format!("</{name}> closes <Response>"))),
                None => return Err(TwimlError::Malformed(format!("</{name}> closes nothing"))),
            },
        }
    }
    if let Some(el) = open.pop() {
        return Err(TwimlError::Malformed(format!("<{}> is never closed", el.name)));
    }
    if in_root {
        return Err(TwimlError::Malformed("<Response> is never closed".to_owned()));
    }
    if !root_seen {
        return Err(TwimlError::NoRoot);
    }
    Ok(verbs)
}

/// A finished element: a verb when it sits directly in `<Response>`, else its parent's child.
fn close(el: Element, open: &mut [Element], verbs: &mut Vec<Element>) {
    match open.last_mut() {
        Some(parent) => parent.children.push(el),
        None => verbs.push(el),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_verbs_the_emulator_runs() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
            <!-- greeting -->
            <Response>
              <Say voice="alice" loop="2">Hello &amp; bye</Say>
              <Pause length="3"/>
              <Pause/>
              <Play>https://x.test/a.mp3</Play>
              <Gather><Say>nested <emphasis>words</emphasis></Say></Gather>
              <Redirect method="GET">/next?a=1&amp;b=2</Redirect>
              <Hangup/>
              <Reject></Reject>
            </Response>"#;
        let verbs = parse(doc).expect("valid TwiML");
        assert_eq!(
            verbs,
            vec![
                Verb::Say { chars: 11, loops: 2 },
                Verb::Pause { seconds: 3 },
                Verb::Pause { seconds: 1 },
                Verb::Play { loops: 1 },
                Verb::Other("Gather".into()),
                Verb::Redirect { url: "/next?a=1&b=2".into(), method: HttpMethod::Get },
                Verb::Hangup,
                Verb::Reject,
            ]
        );
        assert_eq!(verbs[0].duration(), Duration::from_millis(2 * 660));
        assert_eq!(Verb::Say { chars: 0, loops: 1 }.duration(), Duration::from_millis(100));
        assert_eq!(parse("<Response/>"), Ok(vec![]));
        assert_eq!(parse("<Response><![CDATA[x]]></Response>"), Ok(vec![]));
    }

    #[test]
    fn keeps_what_a_verb_nests() {
        let doc = r#"<Response><Dial timeout="10">
              <Number statusCallbackEvent="initiated answered">+14155551212</Number>
              <Client>joey</Client></Dial><Say>a <b>bold</b> word</Say></Response>"#;
        let top = elements(doc).expect("valid TwiML");
        assert_eq!(top.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["Dial", "Say"]);
        let dial = &top[0];
        assert_eq!(dial.attr("timeout"), Some("10"));
        let nouns: Vec<_> = dial.children.iter().map(|c| (c.name.as_str(), c.text.trim())).collect();
        assert_eq!(nouns, [("Number", "+14155551212"), ("Client", "joey")]);
        assert_eq!(dial.children[0].attr("statusCallbackEvent"), Some("initiated answered"));
        assert_eq!(parse(doc).expect("valid")[1], Verb::Say { chars: 11, loops: 1 });
    }

    #[test]
    fn refuses_what_is_not_twiml() {
        assert_eq!(parse(""), Err(TwimlError::NoRoot));
        assert_eq!(parse("   hello"), Err(TwimlError::Malformed("text outside the root element".into())));
        assert_eq!(parse("<html></html>"), Err(TwimlError::WrongRoot("html".into())));
        for bad in [
            "<Response>",
            "<Response><Say>x</Pause></Response>",
            "<Response></Response><Response/>",
            "<Response><Say a=\"x></Say></Response>",
            "<Response><!-- x </Response>",
            "<Response><Say",
            "< Response/>",
            "</Response>",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        for doc in [
            "<",
            "<<>>",
            "&",
            "<Response a=b c/>",
            "<Response>&#xFFFFFFFF;&#;&zz;</Response>",
            "<a:b/>",
            "\u{feff}<Response/>",
            "<Response><Say>é</Say></Response>",
        ] {
            let _ = parse(doc);
        }
        assert_eq!(parse("<Response><Say>caf&#233;</Say></Response>"), Ok(vec![Verb::Say { chars: 4, loops: 1 }]));
    }
}

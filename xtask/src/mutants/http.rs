//! The little HTTP/1.1 the mutating proxy speaks: read one message (head and a body framed by
//! `Content-Length`, chunked coding or the end of the stream) and write one back with a
//! `Content-Length`. Sockets carry read deadlines, so a silent peer ends in an error, not a hang.

use std::io::{self, BufRead, BufReader, Read, Write};

/// The largest head or body the proxy reads: the runner's and the emulator's caps are far below.
const MAX_BYTES: usize = 4 << 20;

/// One request or response: its start line, headers in order and the whole body.
#[derive(Debug, Clone, Default)]
pub(crate) struct Message {
    /// `POST /path HTTP/1.1` or `HTTP/1.1 200 OK`.
    pub(crate) start: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Message {
    /// The first header named `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Replaces (or adds) the header `name`.
    pub(crate) fn set_header(&mut self, name: &str, value: String) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value));
    }

    /// Removes the header `name`.
    pub(crate) fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// The status code of a response (0 when the start line has none).
    pub(crate) fn status(&self) -> u16 {
        self.start.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    /// The method and target of a request.
    pub(crate) fn method_target(&self) -> (&str, &str) {
        let mut parts = self.start.split_whitespace();
        (parts.next().unwrap_or(""), parts.next().unwrap_or("/"))
    }

    /// Writes the message with its body's length and `connection`; hop-by-hop headers are dropped.
    pub(crate) fn write_to(&self, out: &mut impl Write, connection: &str) -> io::Result<()> {
        let mut head = format!("{}\r\n", self.start);
        for (name, value) in &self.headers {
            let hop = ["connection", "keep-alive", "transfer-encoding", "content-length"];
            if !hop.iter().any(|h| name.eq_ignore_ascii_case(h)) {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str(&format!("content-length: {}\r\nconnection: {connection}\r\n\r\n", self.body.len()));
        out.write_all(head.as_bytes())?;
        out.write_all(&self.body)?;
        out.flush()
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

fn read_line(reader: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    let n = reader.by_ref().take(MAX_BYTES as u64).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    let text = String::from_utf8(line).map_err(|_| bad("a head line that is not UTF-8"))?;
    Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()))
}

/// Reads one message; `Ok(None)` when the peer closed before a new one began. `response` says
/// how a body without a length ends (a response at the end of the stream, a request at once);
/// `head_request` marks the response to a HEAD, which has no body.
pub(crate) fn read_message(
    reader: &mut impl BufRead,
    response: bool,
    head_request: bool,
) -> io::Result<Option<Message>> {
    let Some(mut message) = read_head(reader)? else { return Ok(None) };
    read_body(reader, &mut message, response, head_request)?;
    Ok(Some(message))
}

/// Reads a message's start line and headers; `Ok(None)` when the peer closed first.
pub(crate) fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Message>> {
    let start = loop {
        match read_line(reader)? {
            None => return Ok(None),
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let mut message = Message { start, ..Message::default() };
    loop {
        let line = read_line(reader)?.ok_or_else(|| bad("the head ended early"))?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| bad("a header without a colon"))?;
        message.headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(Some(message))
}

/// The `Content-Length` of a message, if it declares one.
pub(crate) fn content_length(message: &Message) -> io::Result<Option<usize>> {
    let Some(length) = message.header("content-length") else { return Ok(None) };
    let length: usize = length.parse().map_err(|_| bad("a Content-Length that is not a number"))?;
    if length > MAX_BYTES {
        return Err(bad("a body over the proxy's cap"));
    }
    Ok(Some(length))
}

/// Reads the body of a message whose head was read.
pub(crate) fn read_body(
    reader: &mut impl BufRead,
    message: &mut Message,
    response: bool,
    head_request: bool,
) -> io::Result<()> {
    let no_body = head_request || (response && matches!(message.status(), 100..=199 | 204 | 304));
    if no_body {
        return Ok(());
    }
    if message.header("transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked")) {
        message.body = read_chunked(reader)?;
    } else if let Some(length) = content_length(message)? {
        message.body = vec![0; length];
        reader.read_exact(&mut message.body)?;
    } else if response {
        reader.take(MAX_BYTES as u64).read_to_end(&mut message.body)?;
    }
    Ok(())
}

fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or_else(|| bad("the chunked body ended early"))?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| bad("a chunk size that is not hex"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while read_line(reader)?.is_some_and(|l| !l.is_empty()) {}
            return Ok(body);
        }
        if body.len() + size > MAX_BYTES {
            return Err(bad("a body over the proxy's cap"));
        }
        let at = body.len();
        body.resize(at + size, 0);
        reader.read_exact(&mut body[at..])?;
        read_line(reader)?;
    }
}

/// Sends `request` to `upstream` on a fresh connection and reads the whole response.
pub(crate) fn exchange(upstream: &str, request: &Message, timeout: std::time::Duration) -> io::Result<Message> {
    stream_exchange(upstream, request, &mut io::empty(), 0, None, timeout).map(|(response, _)| response)
}

/// Sends the head of `request` (its body, then `length` more bytes from `rest` as they arrive:
/// a slow sender stays slow, so the target sees a request in flight) and reads the response
/// meanwhile, full duplex: a target may answer before the body is in (an early 429), and the
/// client must see that answer while it still holds its body. Then the client's read side
/// (`client`) is shut, which ends the relay, and the flag returned is false: the connection
/// carries an unread body and must be closed after the answer.
pub(crate) fn stream_exchange(
    upstream: &str,
    request: &Message,
    rest: &mut (impl Read + Send),
    length: usize,
    client: Option<&std::net::TcpStream>,
    timeout: std::time::Duration,
) -> io::Result<(Message, bool)> {
    let stream = std::net::TcpStream::connect(upstream)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut writer = stream.try_clone()?;
    writer.write_all(forwarded_head(request, length).as_bytes())?;
    writer.write_all(&request.body)?;
    let all_read = std::sync::atomic::AtomicBool::new(length == 0);
    let head = request.method_target().0 == "HEAD";
    std::thread::scope(|scope| {
        let relay = scope.spawn(|| relay_body(rest, &mut writer, length, &all_read));
        let mut reader = BufReader::new(&stream);
        let response = read_message(&mut reader, true, head);
        let complete = all_read.load(std::sync::atomic::Ordering::SeqCst);
        if !complete {
            // The relay may be blocked on the client: end its read, and the upstream's too.
            if let Some(client) = client {
                let _ = client.shutdown(std::net::Shutdown::Read);
            }
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        let relayed = relay.join().map_err(|_| bad("the body relay panicked"))?;
        let response = response?.ok_or_else(|| bad("the upstream closed without answering"))?;
        // A relay error after an answer (the target stopped reading) does not spoil the answer.
        if complete { relayed.map(|()| (response, true)) } else { Ok((response, false)) }
    })
}

/// The request's head as forwarded: hop-by-hop headers replaced, the full length declared.
fn forwarded_head(request: &Message, length: usize) -> String {
    let mut text = format!("{}\r\n", request.start);
    for (name, value) in &request.headers {
        let hop = ["connection", "keep-alive", "transfer-encoding", "content-length"];
        if !hop.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    text.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", request.body.len() + length));
    text
}

/// Copies `length` bytes from the client to the upstream as they arrive; sets `all_read` once
/// the last byte is read from the client.
fn relay_body(
    rest: &mut impl Read,
    upstream: &mut impl Write,
    length: usize,
    all_read: &std::sync::atomic::AtomicBool,
) -> io::Result<()> {
    let mut buf = [0u8; 8192];
    let mut left = length;
    while left > 0 {
        let n = rest.read(&mut buf[..left.min(8192)])?;
        if n == 0 {
            return Err(bad("the client closed mid-body"));
        }
        left -= n;
        if left == 0 {
            all_read.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        upstream.write_all(&buf[..n])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lengths_chunks_and_the_end_of_stream() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let m = read_message(&mut &raw[..], true, false).expect("read").expect("message");
        assert_eq!((m.status(), m.body.as_slice()), (200, &b"abcde"[..]));
        let raw = b"POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcNEXT";
        let m = read_message(&mut &raw[..], false, false).expect("read").expect("message");
        assert_eq!((m.method_target(), m.body.as_slice()), (("POST", "/x"), &b"abc"[..]));
        let raw = b"HTTP/1.1 200 OK\r\n\r\nuntil the end";
        let m = read_message(&mut &raw[..], true, false).expect("read").expect("message");
        assert_eq!(m.body, b"until the end");
        let raw = b"HTTP/1.1 204 No Content\r\n\r\n";
        assert!(read_message(&mut &raw[..], true, false).expect("read").expect("message").body.is_empty());
        assert!(read_message(&mut &b""[..], false, false).expect("read").is_none());
        assert!(read_message(&mut &b"GET / HTTP/1.1\r\nbroken\r\n\r\n"[..], false, false).is_err());
        let mut out = Vec::new();
        m.write_to(&mut out, "close").expect("write");
        assert_eq!(out, b"HTTP/1.1 200 OK\r\ncontent-length: 13\r\nconnection: close\r\n\r\nuntil the end");
    }
}

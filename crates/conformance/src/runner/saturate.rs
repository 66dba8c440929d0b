//! The `saturate` step: hold the account's concurrency limit of requests open over plain TCP,
//! then probe with one more request, which must be refused (429 and code 20429).

use super::{HarnessFault, Run, StepStop, scaled};
use crate::client::{Incoming, Outgoing};
use crate::fixture::SaturateStep;
use crate::outcome::FailureKind;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Where and how to open held requests.
struct Holder {
    host: String,
    port: u16,
    head: String,
}

impl Holder {
    fn new(probe: &Outgoing) -> Result<Holder, HarnessFault> {
        let url = url::Url::parse(&probe.url).map_err(|e| HarnessFault::Fixture(e.to_string()))?;
        if url.scheme() != "http" {
            return Err(HarnessFault::Fixture(
                "saturate holds requests over plain TCP and needs an http:// target".into(),
            ));
        }
        let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
        let port = url.port_or_known_default().unwrap_or(80);
        let (user, pass) = probe.basic.clone().unwrap_or_default();
        // The body is announced as 64 bytes and never finished, so the target holds the request.
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 64\r\n\r\nTo=",
            url.path(),
            crate::client::basic_header(&user, &pass)
        );
        Ok(Holder { host, port, head })
    }

    async fn open(&self) -> Result<TcpStream, HarnessFault> {
        let mut stream = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| HarnessFault::Io(format!("cannot open a held request: {e}")))?;
        stream.write_all(self.head.as_bytes()).await.map_err(|e| HarnessFault::Io(e.to_string()))?;
        Ok(stream)
    }
}

impl Run<'_> {
    pub(super) async fn saturate_step(
        &mut self,
        s: &SaturateStep,
        index: Option<usize>,
        name: Option<String>,
    ) -> Result<(), StepStop> {
        let probe = self.build(&s.request, index)?;
        self.label = name.unwrap_or_else(|| "saturate the concurrency limit".into());
        let hold: usize =
            self.render(&s.hold, index)?.parse().map_err(|e| HarnessFault::Fixture(format!("hold: {e}")))?;
        let holder = Holder::new(&probe)?;
        let mut held = Vec::new();
        for _ in 0..hold {
            held.push(holder.open().await?);
        }
        let last = self.probe_until(&holder, &mut held, &probe, s.expect.status).await?;
        drop(held);
        self.await_release(&probe).await;
        match last {
            Some(resp) => {
                self.record_response(index, "saturate", &resp);
                self.check_expect(&s.expect, &resp, &probe, index)?;
            }
            None => {
                let message = "the probe request did not answer";
                self.fail(FailureKind::Transport, None, "an HTTP response", "none", message, Some(&probe));
            }
        }
        Ok(())
    }

    /// Waits (up to 3 s, scaled) until the target has let go of the held requests, so the next
    /// case on the account is not refused for this one's: a GET on the probe's path (it creates
    /// nothing) until it is answered with anything but 429.
    async fn await_release(&self, probe: &Outgoing) {
        let read = Outgoing { method: "GET".into(), body: None, ..probe.clone() };
        let deadline = Instant::now() + scaled(self.h, 3000);
        while Instant::now() < deadline {
            match self.h.client.send(&read).await {
                Ok(resp) if resp.status == 429 => {}
                _ => return,
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Probes until the expected status or a deadline. The target sees the held requests a
    /// moment after they are written, so a probe may be counted first and a held request
    /// refused instead: before each probe, every held request the target already answered is
    /// opened again.
    async fn probe_until(
        &self,
        holder: &Holder,
        held: &mut [TcpStream],
        probe: &Outgoing,
        want: Option<u16>,
    ) -> Result<Option<Incoming>, HarnessFault> {
        let deadline = Instant::now() + scaled(self.h, 3000);
        let mut last = None;
        while Instant::now() < deadline {
            for stream in held.iter_mut() {
                let mut buf = [0u8; 1];
                let answered =
                    !matches!(stream.try_read(&mut buf), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock);
                if answered {
                    *stream = holder.open().await?;
                }
            }
            if let Ok(resp) = self.h.client.send(probe).await {
                let done = Some(resp.status) == want;
                last = Some(resp);
                if done {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(last)
    }
}

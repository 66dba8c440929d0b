//! A reference emulator served as a child process for a step of xtask: started on a free port,
//! its address read from its banner within a deadline, its output drained, killed when dropped.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long an emulator may take to print its banner.
const BANNER_DEADLINE: Duration = Duration::from_secs(30);
/// What the banner says before the base URL (`callspec-emulator` and `callspec emulator` alike).
const BANNER: &str = "callspec emulator listening on ";

/// The flags that make a served emulator what `fixtures/targets/reference-emulator.toml`
/// declares: its concurrency limit and its fast clock (the in-process run takes both from the
/// profile).
pub(crate) const REFERENCE_PROFILE_FLAGS: [&str; 4] = ["--max-concurrent-requests", "8", "--fast-clock", "60"];

/// A running emulator; dropping it kills the process.
pub(crate) struct Served {
    child: Child,
    /// Its base URL, e.g. `http://127.0.0.1:41234`.
    pub(crate) base_url: String,
}

impl Served {
    /// Runs `program ARGS --listen 127.0.0.1:0 EXTRA` (with `RUST_LOG=error`) and waits for its banner.
    /// `args` come before `--listen` so that `callspec emulator` works as well as `callspec-emulator`.
    pub(crate) fn start(program: &Path, args: &[&str], extra: &[&str]) -> Result<Served, String> {
        let mut child = Command::new(program)
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let stdout = child.stdout.take().ok_or("the emulator has no stdout")?;
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = std::io::BufReader::new(stdout).lines();
            let url =
                lines.find_map(|l| l.ok()?.strip_prefix(BANNER).map(|u| u.trim().trim_end_matches('/').to_owned()));
            let _ = send.send(url);
            // Keep reading, so the emulator never blocks on a full pipe.
            lines.for_each(drop);
        });
        // Dropped on an error below, which kills the process.
        let mut served = Served { child, base_url: String::new() };
        match receive.recv_timeout(BANNER_DEADLINE) {
            Ok(Some(url)) => {
                served.base_url = url;
                Ok(served)
            }
            Ok(None) => Err(format!("{} ended without its banner", program.display())),
            Err(_) => Err(format!("{} printed no banner within {} s", program.display(), BANNER_DEADLINE.as_secs())),
        }
    }

    /// `host:port` of the base URL.
    pub(crate) fn address(&self) -> &str {
        self.base_url.trim_start_matches("http://")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

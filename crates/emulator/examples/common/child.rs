//! The `callspec-emulator` binary as a child process on loopback, shared by the examples
//! (`bench`, `load`): started on a free port, its address read from its banner within a
//! deadline, its `/proc` figures, killed when dropped.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long the emulator may take to print its address.
const BANNER_DEADLINE: Duration = Duration::from_secs(30);

/// The child process, killed (by its own handle) when dropped.
pub(crate) struct ChildEmulator {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base_url: String,
}

impl ChildEmulator {
    /// Starts `binary --listen 127.0.0.1:0 ARGS` and waits for its banner.
    pub(crate) fn start(binary: &Path, args: &[String]) -> Result<ChildEmulator, String> {
        let mut child = Command::new(binary)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("CALLSPEC_LISTEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("the emulator's stdout is not piped")?;
        // A thread reads the banner, so waiting for it has a deadline; it then keeps reading the
        // rest, so the emulator never writes to a closed pipe.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let banner = loop {
                match lines.next() {
                    Some(Ok(line)) => {
                        if let Some(url) = line.strip_prefix("callspec emulator listening on ") {
                            break Ok(url.trim().to_owned());
                        }
                    }
                    Some(Err(e)) => break Err(format!("reading the emulator's banner: {e}")),
                    None => break Err("the emulator exited before printing its address".to_owned()),
                }
            };
            let _ = tx.send(banner);
            lines.for_each(drop);
        });
        // On any error the process is killed as `emulator` drops.
        let mut emulator = ChildEmulator { child, base_url: String::new() };
        emulator.base_url = match rx.recv_timeout(BANNER_DEADLINE) {
            Ok(banner) => banner?,
            Err(_) => return Err(format!("the emulator printed no address within {} s", BANNER_DEADLINE.as_secs())),
        };
        if !emulator.base_url.starts_with("http://127.0.0.1:") {
            return Err(format!("the emulator listens on {}, not on loopback", emulator.base_url));
        }
        Ok(emulator)
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A `Vm…` line of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in bytes.
    pub(crate) fn status_bytes(&self, field: &str) -> Result<u64, String> {
        let path = format!("/proc/{}/status", self.pid());
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        text.lines()
            .find_map(|l| l.strip_prefix(field).and_then(|r| r.strip_prefix(':')))
            .and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .ok_or_else(|| format!("no {field} in {path}"))
    }

    /// Whether the emulator is still running.
    #[allow(dead_code, reason = "the load example asks; the bench does not")]
    pub(crate) fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ChildEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! A call's `TimeLimit`: the limit a live call runs under (set at create, replaced by an update)
//! and the timer that ends an answered call when it passes, counted under the fast clock.

use crate::config::Config;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// The API's side of a live call's limit, in seconds: an update replaces it.
pub(crate) type Setter = watch::Sender<Option<u32>>;

/// The lifecycle's side: what the timer watches.
pub(crate) type Watch = watch::Receiver<Option<u32>>;

/// Longest limit honoured (a year of real time): keeps absurd values from overflowing.
const MAX_REAL: Duration = Duration::from_secs(365 * 86_400);

/// A new limit, `None` for a call without one.
pub(crate) fn setter(initial: Option<u32>) -> Setter {
    watch::Sender::new(initial)
}

/// When `seconds` of call time after `base` have passed, in real time under `config`'s fast
/// clock; `None` when that is too far to count.
fn deadline(config: &Config, base: Instant, seconds: u32) -> Option<Instant> {
    base.checked_add(config.call_time(u64::from(seconds)).min(MAX_REAL))
}

/// Resolves once the call's current limit, counted from `base`, has passed (at once when it
/// already has); never while the call has none. A new limit from an update takes over.
pub(crate) async fn expired(config: &Config, mut limit: Watch, base: Instant) {
    let mut open = true;
    loop {
        let current = *limit.borrow_and_update();
        let until = current.and_then(|s| deadline(config, base, s));
        let elapsed = async {
            match until {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = elapsed => return,
            // A closed channel means the call ended: no update can change the limit any more.
            changed = limit.changed(), if open => open = changed.is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 60 s of call time take 10 ms.
    fn fast() -> Config {
        Config { fast_clock: 6000.0, ..Config::default() }
    }

    /// Whether `expired` resolves within `real` of real time.
    async fn ends_within(limit: Watch, base: Instant, real: Duration) -> bool {
        tokio::time::timeout(real, expired(&fast(), limit, base)).await.is_ok()
    }

    #[tokio::test]
    async fn ends_after_the_limit_in_fast_time() {
        let set = setter(Some(60));
        let start = Instant::now();
        assert!(ends_within(set.subscribe(), start, Duration::from_secs(5)).await);
        assert!(start.elapsed() >= Duration::from_millis(10));
    }

    #[tokio::test]
    async fn an_update_replaces_the_limit_and_a_past_one_ends_at_once() {
        let set = setter(Some(6_000_000));
        let start = Instant::now();
        let timer = tokio::spawn(ends_within(set.subscribe(), start, Duration::from_secs(5)));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!timer.is_finished(), "the first limit is 1000 s of real time");
        set.send_replace(Some(60));
        assert!(timer.await.expect("timer"), "the new limit has passed already");
        let later = Instant::now();
        assert!(ends_within(set.subscribe(), start, Duration::from_secs(5)).await);
        assert!(later.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn no_limit_never_ends_and_absurd_ones_do_not_overflow() {
        let set = setter(None);
        assert!(!ends_within(set.subscribe(), Instant::now(), Duration::from_millis(50)).await);
        assert!(deadline(&Config::default(), Instant::now(), u32::MAX).is_some());
        set.send_replace(Some(u32::MAX));
        assert!(!ends_within(set.subscribe(), Instant::now(), Duration::from_millis(50)).await);
        drop(set);
    }

    #[tokio::test]
    async fn a_closed_channel_keeps_the_last_limit() {
        let set = setter(Some(60));
        let watch = set.subscribe();
        drop(set);
        assert!(ends_within(watch, Instant::now(), Duration::from_secs(5)).await);
    }
}

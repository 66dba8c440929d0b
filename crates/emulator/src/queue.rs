//! Each account's call queue: FIFO, drained by one task per account at the account's CPS.
//!
//! Queued calls cost a `u128` in the queue and their stored record; no task or timer exists
//! per queued call. The drainer takes the front call when its slot comes, then sets the next
//! slot one period after the actual dequeue, so successive dequeues are at least a period apart.
//! In variance mode each gap varies around the period instead (`variance::Variance::dequeue_gap`:
//! every two gaps average it), since Twilio's CPS holds on average only.

use crate::callflow;
use crate::lifecycle;
use crate::state::{Account, AccountData, Shared, now_ms};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Appends a call to the queue and returns its estimated wait in ms (the `queue_time` shown
/// until it leaves the queue). Call with the account's write lock held, then wake the drainer
/// with `Account::queue_ready.notify_one()` after releasing it.
pub(crate) fn enqueue(shared: &Shared, data: &mut AccountData, sid: u128) -> u64 {
    let now = Instant::now();
    let first = data.next_slot.filter(|t| *t > now).map_or(Duration::ZERO, |t| t - now);
    let ahead = u32::try_from(data.queue.len()).unwrap_or(u32::MAX);
    let wait = shared.period.checked_mul(ahead).and_then(|d| d.checked_add(first)).unwrap_or(Duration::MAX);
    data.queue.push_back(sid);
    u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)
}

/// Removes a call from the queue (it was canceled while queued).
pub(crate) fn remove(data: &mut AccountData, sid: u128) {
    if let Some(at) = data.queue.iter().position(|s| *s == sid) {
        data.queue.remove(at);
    }
}

/// The account's drainer: runs until shutdown.
pub(crate) async fn drain(shared: Arc<Shared>, account: Arc<Account>) {
    loop {
        let notified = account.queue_ready.notified();
        let slot = {
            let data = account.read();
            if data.queue.is_empty() { None } else { Some(data.next_slot) }
        };
        match slot {
            None => {
                notified.await;
                continue;
            }
            Some(Some(at)) => tokio::time::sleep_until(at).await,
            Some(None) => {}
        }
        let started = {
            let mut data = account.write();
            let now = Instant::now();
            if data.next_slot.is_some_and(|at| at > now) {
                continue;
            }
            let now_wall = now_ms();
            let mut started = None;
            while let Some(sid) = data.queue.pop_front() {
                let Some(rec) = data.call_mut(sid) else {
                    continue;
                };
                if let Some(control) = callflow::dequeue(&shared, &account, rec, now_wall) {
                    started = Some((sid, control));
                    break;
                }
            }
            if started.is_some() {
                let gap = shared.variance.dequeue_gap(shared.period, account.variance_key, data.dequeues);
                data.dequeues += 1;
                data.next_slot = Some(now + gap);
            }
            started
        };
        if let Some((sid, control)) = started {
            shared.spawn(lifecycle::run(shared.clone(), account.clone(), sid, control));
        }
    }
}

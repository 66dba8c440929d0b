//! The seeded accounts and subaccount creation: each account is stored and its queue drainer
//! started.

use crate::queue;
use crate::seed;
use crate::state::{Account, PhoneNumber, Shared, now_ms};
use crate::variance;
use callspec_model::{Sid, SidKind, rfc2822};
use std::sync::Arc;

/// A fresh auth token: 32 lower-case hex digits from the OS random source.
fn random_token() -> String {
    format!("{:032x}", Sid::random(SidKind::Account).value())
}

/// A seeded PN SID: `PNc0ffee…` with the account and number index, stable across runs.
fn seeded_number_sid(account: u128, index: usize) -> u128 {
    (0xc0ffee_u128 << 104) | ((account & 0xff) << 16) | (index as u128 & 0xffff)
}

/// Stores an account and starts its queue drainer.
fn add(shared: &Arc<Shared>, account: Account) -> Arc<Account> {
    let account = shared.add_account(account);
    shared.spawn(queue::drain(shared.clone(), account.clone()));
    account
}

fn add_seeded(
    shared: &Arc<Shared>,
    sid: &str,
    token: &str,
    name: &str,
    trial: bool,
    numbers: &[&str],
    verified: &[&str],
) {
    let Ok(sid) = Sid::parse_kind(sid, SidKind::Account) else {
        tracing::error!(sid, "seed account SID does not parse");
        return;
    };
    let account = Account::new(sid, token.to_owned(), name.to_owned(), None, trial);
    {
        let mut data = account.write();
        let now = now_ms();
        data.numbers = numbers
            .iter()
            .enumerate()
            .map(|(i, n)| PhoneNumber {
                sid: seeded_number_sid(sid.value(), i + 1),
                phone_number: (*n).to_owned(),
                friendly_name: callspec_model::endpoint::formatted(n),
                created_ms: now,
            })
            .collect();
        data.verified_caller_ids = verified.iter().map(|n| (*n).to_owned()).collect();
    }
    add(shared, account);
}

/// Adds the accounts of [`crate::seed`].
pub(crate) fn seed_accounts(shared: &Arc<Shared>) {
    add_seeded(shared, seed::MAIN_ACCOUNT_SID, seed::MAIN_AUTH_TOKEN, "callspec main", false, seed::MAIN_NUMBERS, &[]);
    add_seeded(
        shared,
        seed::TRIAL_ACCOUNT_SID,
        seed::TRIAL_AUTH_TOKEN,
        "callspec trial",
        true,
        seed::TRIAL_NUMBERS,
        seed::TRIAL_VERIFIED_CALLER_IDS,
    );
}

/// Creates a subaccount of `parent` with a random SID and auth token. It is a trial
/// account when the parent is, and starts with the parent's verified caller IDs. Its variance
/// key comes from the name as given (so a generated name, which holds the time, does not count).
pub(crate) fn create_subaccount(shared: &Arc<Shared>, parent: &Account, name: Option<String>) -> Arc<Account> {
    let sid = Sid::random(SidKind::Account);
    let variance_key = variance::account_key(name.as_deref().unwrap_or_default());
    let name = name.unwrap_or_else(|| format!("SubAccount Created at {}", rfc2822::format_unix_ms(now_ms())));
    let mut account = Account::new(sid, random_token(), name, Some(parent.sid), parent.trial);
    account.variance_key = variance_key;
    account.write().verified_caller_ids = parent.read().verified_caller_ids.clone();
    add(shared, account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_32_hex_and_seeded_sids_are_stable() {
        let t = random_token();
        assert_eq!(t.len(), 32);
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(t, random_token());
        let pn = Sid::from_parts(SidKind::PhoneNumber, seeded_number_sid(1, 2));
        assert_eq!(pn.to_string(), "PNc0ffee00000000000000000000010002");
    }
}

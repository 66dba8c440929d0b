//! The request journal: an optional, in-memory record of every API request (method, path, query,
//! headers with `Authorization`, raw body) and the answer it got, for checking the wire form of
//! what a client sent (`callspec sdk`). Off unless [`crate::Config::journal`] is set; read
//! through [`crate::Emulator::journal`]. No HTTP endpoint serves it.

use std::sync::{Arc, Mutex, PoisonError};

/// Most exchanges a journal keeps; later ones are counted in [`Journal::dropped`] only.
pub const JOURNAL_CAPACITY: usize = 4096;

/// One API exchange as it crossed the wire (the model's plain type, which `callspec sdk` reads).
pub use callspec_model::Exchange as JournalEntry;

#[derive(Debug, Default)]
struct Inner {
    entries: Vec<JournalEntry>,
    dropped: usize,
}

/// A handle on the journal; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Inner>>);

impl Journal {
    /// Appends an exchange, or counts it as dropped once [`JOURNAL_CAPACITY`] is reached.
    pub(crate) fn record(&self, entry: JournalEntry) {
        let mut inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.entries.len() < JOURNAL_CAPACITY {
            inner.entries.push(entry);
        } else {
            inner.dropped += 1;
        }
    }

    /// How many exchanges are recorded.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).entries.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The exchanges recorded from index `from` on (`from` = an earlier [`Journal::len`]).
    pub fn since(&self, from: usize) -> Vec<JournalEntry> {
        let inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        inner.entries.get(from..).map(<[JournalEntry]>::to_vec).unwrap_or_default()
    }

    /// Exchanges not recorded because the journal was full.
    pub fn dropped(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> JournalEntry {
        JournalEntry {
            method: "GET".into(),
            path: path.into(),
            query: String::new(),
            headers: vec![("Authorization".into(), "Basic x".into())],
            body: Vec::new(),
            status: 200,
            response_body: Vec::new(),
        }
    }

    #[test]
    fn records_in_order_and_bounds_itself() {
        let journal = Journal::default();
        journal.record(entry("/a"));
        journal.record(entry("/b"));
        assert_eq!(journal.len(), 2);
        assert_eq!(journal.since(1)[0].path, "/b");
        assert!(journal.since(5).is_empty());
        assert_eq!(journal.since(0)[0].header("authorization"), Some("Basic x"));
        for _ in 0..JOURNAL_CAPACITY {
            journal.record(entry("/c"));
        }
        assert_eq!(journal.len(), JOURNAL_CAPACITY);
        assert_eq!(journal.dropped(), 2);
    }
}

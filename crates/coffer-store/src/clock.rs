//! Time as the store sees it: injected, so tests move it by hand instead of sleeping.
//!
//! The store reads wall-clock time for record timestamps (`last_modified_ms`, an upload's
//! initiation), for upload ids (sortable by initiation) and for the expiry of completion
//! receipts. Every such read goes through a [`Clock`] given to [`crate::Store`] in its
//! [`crate::StoreConfig`]; the default is [`SystemClock`].

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A source of wall-clock time.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> i64;
    /// Nanoseconds since the Unix epoch (upload ids sort by it); by default the
    /// milliseconds scaled.
    fn now_nanos(&self) -> u128 {
        u128::try_from(self.now_millis()).unwrap_or(0) * 1_000_000
    }
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        coffer_proto::time::now_millis()
    }

    fn now_nanos(&self) -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    }
}

/// A clock that moves only when told (tests). Clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    millis: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock reading `millis`.
    pub fn new(millis: i64) -> ManualClock {
        ManualClock {
            millis: Arc::new(AtomicI64::new(millis)),
        }
    }

    /// Sets the time.
    pub fn set(&self, millis: i64) {
        self.millis.store(millis, Ordering::SeqCst);
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.millis.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.millis.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let clock = ManualClock::new(1_000);
        let shared = clock.clone();
        assert_eq!(clock.now_millis(), 1_000);
        shared.advance(std::time::Duration::from_secs(2));
        assert_eq!(clock.now_millis(), 3_000);
        assert_eq!(clock.now_nanos(), 3_000_000_000);
        clock.set(5);
        assert_eq!(shared.now_millis(), 5);
    }

    #[test]
    fn the_system_clock_agrees_with_itself() {
        let millis = SystemClock.now_millis();
        let nanos = SystemClock.now_nanos() / 1_000_000;
        assert!((i128::try_from(nanos).unwrap_or(0) - i128::from(millis)).abs() < 1_000);
    }
}

//! The store's injectable parts: its clock and its timing knobs.

use crate::clock::{Clock, SystemClock};
use std::sync::Arc;
use std::time::Duration;

/// How long a released blob waits before deletion by default, so a reader that has just
/// read metadata can pin it.
pub const RELEASE_GRACE: Duration = Duration::from_secs(2);

/// How long the receipt of a completed multipart upload answers a repeated completion, by
/// default.
pub const COMPLETED_UPLOAD_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// How old an unreferenced blob must be before the online orphan sweep deletes it, by
/// default: far longer than any write takes between its blob's last byte and its metadata
/// commit (a body that stalls is cut off after a minute), so a blob another node is still
/// writing or about to commit is never taken for an orphan.
pub const ORPHAN_MIN_AGE: Duration = Duration::from_secs(60 * 60);

/// How often a serving node runs the online orphan sweep, by default.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// What [`crate::Store`] reads the time from and how long it waits; tests shorten the
/// windows and drive a [`crate::clock::ManualClock`] instead of sleeping.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Wall-clock time for timestamps, upload ids and receipt expiry.
    pub clock: Arc<dyn Clock>,
    /// How long a released blob waits before deletion (see [`crate::Store::settle`]).
    pub release_grace: Duration,
    /// How long a completed upload's receipt answers a repeated completion.
    pub completed_retention: Duration,
    /// Expired completion receipts removed per metadata commit when pruning.
    pub prune_batch: usize,
    /// Blobs checked (and deleted) per step of the orphan sweep.
    pub sweep_batch: usize,
    /// How old an unreferenced blob must be for the online sweep
    /// ([`crate::Store::sweep_orphans_online`]) to delete it.
    pub orphan_min_age: Duration,
    /// How often [`crate::Store::run_online_sweeps`] sweeps.
    pub sweep_interval: Duration,
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        StoreConfig {
            clock: Arc::new(SystemClock),
            release_grace: RELEASE_GRACE,
            completed_retention: COMPLETED_UPLOAD_RETENTION,
            prune_batch: 1000,
            sweep_batch: 1024,
            orphan_min_age: ORPHAN_MIN_AGE,
            sweep_interval: SWEEP_INTERVAL,
        }
    }
}

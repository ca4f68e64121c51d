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
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        StoreConfig {
            clock: Arc::new(SystemClock),
            release_grace: RELEASE_GRACE,
            completed_retention: COMPLETED_UPLOAD_RETENTION,
            prune_batch: 1000,
            sweep_batch: 1024,
        }
    }
}

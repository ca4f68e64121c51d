//! Rate limiting of a transfer (COS `x-cos-traffic-limit`): sleep whenever it runs ahead.

use std::time::Duration;
use tokio::time::Instant;

/// Paces a transfer to a rate in bit/s.
#[derive(Debug, Clone, Copy)]
pub struct Pacer {
    bits_per_second: u64,
    started: Instant,
}

impl Pacer {
    /// A pacer whose clock starts now.
    pub fn new(bits_per_second: u64) -> Pacer {
        Pacer {
            bits_per_second: bits_per_second.max(1),
            started: Instant::now(),
        }
    }

    /// Sleeps until moving `bytes_so_far` is within the allowed rate.
    pub async fn pace(&self, bytes_so_far: u64) {
        let due = Duration::from_secs_f64(bytes_so_far as f64 * 8.0 / self.bits_per_second as f64);
        tokio::time::sleep_until(self.started + due).await;
    }
}

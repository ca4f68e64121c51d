//! Deferred deletion of released blobs while readers still stream them.
//!
//! A GET reads metadata, then opens blob files one extent at a time. If an overwrite commits
//! meanwhile, the old blobs are *released*; deleting them at once would cut the running GET
//! short. Readers therefore pin the blobs they will read, and a released blob is deleted only
//! once it is unpinned. A short grace period covers the instant between reading metadata and
//! taking the pin.

use crate::blob::BlobStore;
use crate::model::BlobId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, Default)]
struct PinState {
    count: usize,
    delete_when_unpinned: bool,
}

/// Reference counts of in-flight readers per blob.
#[derive(Debug, Clone, Default)]
pub struct BlobPins {
    inner: Arc<Mutex<HashMap<BlobId, PinState>>>,
    /// How long a released blob waits before deletion.
    grace: Duration,
    /// Deletions scheduled and not yet done, so tests can wait for them.
    pending: Arc<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    count: AtomicUsize,
    idle: Notify,
}

/// Counts one scheduled deletion until dropped (done, or its task dropped).
#[derive(Debug)]
struct PendingGuard(Arc<Pending>);

impl PendingGuard {
    fn new(pending: &Arc<Pending>) -> PendingGuard {
        pending.count.fetch_add(1, Ordering::SeqCst);
        PendingGuard(pending.clone())
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Holds pins until dropped.
#[derive(Debug)]
pub struct PinGuard {
    pins: BlobPins,
    blobs: Vec<BlobId>,
    store: Arc<dyn BlobStore>,
}

impl BlobPins {
    /// No pins; released blobs wait `grace` before deletion.
    pub fn new(grace: Duration) -> BlobPins {
        BlobPins {
            grace,
            ..BlobPins::default()
        }
    }

    /// Waits until every scheduled deletion has run (released blobs still pinned by a
    /// reader are not scheduled until it unpins them).
    pub async fn settled(&self) {
        loop {
            let idle = self.pending.idle.notified();
            if self.pending.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Pins every blob in `blobs` until the guard drops.
    pub fn pin(&self, blobs: Vec<BlobId>, store: Arc<dyn BlobStore>) -> PinGuard {
        if let Ok(mut map) = self.inner.lock() {
            for blob in &blobs {
                map.entry(*blob).or_default().count += 1;
            }
        }
        PinGuard {
            pins: self.clone(),
            blobs,
            store,
        }
    }

    /// Deletes released blobs after the grace period, or when their last reader unpins them.
    pub fn release(&self, blobs: Vec<BlobId>, store: Arc<dyn BlobStore>) {
        if blobs.is_empty() {
            return;
        }
        let pins = self.clone();
        let pending = PendingGuard::new(&self.pending);
        let run = async move {
            let _pending = pending;
            if !pins.grace.is_zero() {
                tokio::time::sleep(pins.grace).await;
            }
            let deletable: Vec<BlobId> = match pins.inner.lock() {
                Ok(mut map) => blobs
                    .into_iter()
                    .filter(|blob| match map.get_mut(blob) {
                        Some(state) if state.count > 0 => {
                            state.delete_when_unpinned = true;
                            false
                        }
                        _ => true,
                    })
                    .collect(),
                Err(_) => return,
            };
            delete_blobs(store, deletable).await;
        };
        // Without a runtime (admin tools) nobody can be streaming and the future is dropped:
        // the next start-up sweep reclaims the files.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(run);
        }
    }
}

async fn delete_blobs(store: Arc<dyn BlobStore>, blobs: Vec<BlobId>) {
    if blobs.is_empty() {
        return;
    }
    let result = tokio::task::spawn_blocking(move || {
        for blob in blobs {
            if let Err(e) = store.delete(blob) {
                tracing::warn!(blob = %blob.to_hex(), error = %e, "could not delete a released blob");
            }
        }
    })
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "blob deletion task failed");
    }
}

impl Drop for PinGuard {
    fn drop(&mut self) {
        let mut deletable = Vec::new();
        if let Ok(mut map) = self.pins.inner.lock() {
            for blob in &self.blobs {
                if let Some(state) = map.get_mut(blob) {
                    state.count -= 1;
                    if state.count == 0 {
                        if state.delete_when_unpinned {
                            deletable.push(*blob);
                        }
                        map.remove(blob);
                    }
                }
            }
        }
        if !deletable.is_empty() {
            let store = self.store.clone();
            let pending = PendingGuard::new(&self.pins.pending);
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    let _pending = pending;
                    delete_blobs(store, deletable).await;
                });
            }
        }
    }
}

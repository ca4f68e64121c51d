//! Blob stores: immutable byte sequences named by [`BlobId`].
//!
//! A blob is written once, made durable by [`BlobWriter::finish`], read by ranges, and
//! deleted when no metadata references it.
//!
//! **Blocking by design.** The store calls every method here from a blocking thread
//! (`tokio::task::spawn_blocking`), never from an async task: a PUT's writer stage and a
//! GET's read-ahead are pipelined stages that each own a thread only while they have a
//! chunk, so file I/O and hashing overlap with the network without a syscall ever stalling
//! the runtime, and without an async wrapper per 1 MiB chunk. A backend over a network (an
//! object store, another COS) implements the same calls by blocking on its own client —
//! `tokio::runtime::Handle::block_on` is allowed on these threads — and a shared POSIX
//! directory is the filesystem backend as it is. Listing is paged
//! ([`BlobStore::list_page`]) so that sweeping a store of any size holds one page in memory.

use crate::error::StoreResult;
use crate::model::BlobId;

/// Where blobs live.
pub trait BlobStore: Send + Sync + std::fmt::Debug + 'static {
    /// Starts a new blob under a fresh id. Nothing references it until metadata commits.
    fn create(&self) -> StoreResult<Box<dyn BlobWriter>>;
    /// Opens a blob for reading.
    fn open(&self, blob: BlobId) -> StoreResult<Box<dyn BlobReader>>;
    /// Deletes a blob; deleting a missing blob is not an error.
    fn delete(&self, blob: BlobId) -> StoreResult<()>;
    /// At most `limit` finished blobs with ids greater than `after` (all, for `None`), in
    /// increasing id order: the orphan sweep pages through a store with it. Blobs being
    /// written may be listed too (the sweep runs only while no write is in flight).
    fn list_page(&self, after: Option<BlobId>, limit: usize) -> StoreResult<Vec<BlobId>>;
    /// Total bytes stored, for reporting.
    fn size_of(&self, blob: BlobId) -> StoreResult<u64>;
    /// When the blob was last written to (milliseconds since the epoch, by the storage's
    /// clock), or `None` if it does not exist: the online orphan sweep leaves young blobs
    /// alone, since another node may be writing one or about to commit it.
    fn modified_ms(&self, blob: BlobId) -> StoreResult<Option<i64>>;
}

/// A blob being written. Dropping it without [`BlobWriter::finish`] deletes it.
pub trait BlobWriter: Send + std::fmt::Debug {
    /// The blob's id.
    fn id(&self) -> BlobId;
    /// Appends bytes.
    fn write_all(&mut self, data: &[u8]) -> StoreResult<()>;
    /// Makes the blob durable (data and directory entry). Only then may metadata point to it.
    fn finish(self: Box<Self>) -> StoreResult<()>;
}

/// An open blob.
pub trait BlobReader: Send + Sync + std::fmt::Debug {
    /// Reads up to `buf.len()` bytes at `offset`; returns how many were read (0 at the end).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> StoreResult<usize>;
}

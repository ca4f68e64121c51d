//! Blob stores: immutable byte sequences named by [`BlobId`].
//!
//! A blob is written once, made durable by [`BlobWriter::finish`], read by ranges, and
//! deleted when no metadata references it. The traits are synchronous: the store drives them
//! from blocking threads so that hashing and file I/O overlap with network reads.

mod fs;

pub use fs::FsBlobStore;

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
    /// Every blob present, for the orphan sweep.
    fn list(&self) -> StoreResult<Vec<BlobId>>;
    /// Total bytes stored, for reporting.
    fn size_of(&self, blob: BlobId) -> StoreResult<u64>;
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

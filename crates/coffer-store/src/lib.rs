//! Coffer's storage engine, knowing no backend by name.
//!
//! An object version is a metadata record whose bytes are either inline (small objects) or
//! an ordered list of extents over immutable blobs. Multipart completion and copies are
//! metadata operations over extents. The two halves sit behind traits:
//! [`meta::MetadataStore`] and [`blob::BlobStore`], implemented in their own crates
//! (`coffer-meta-redb`, `coffer-blob-fs`; `coffer-store-embedded` assembles the embedded
//! pair). [`Store`] implements object semantics over any pair, with the listing algorithm
//! ([`listing`]) above the backends' ordered cursors, an injected [`Clock`] and the timing
//! knobs of [`StoreConfig`]. Every backend must pass the suite in `conformance` (feature
//! `conformance`).
//!
//! Architecture invariant: nothing here knows HTTP, protocol error rendering or headers.
//!
//! Write-path invariant: bytes are durable before the metadata that references them commits,
//! and nothing is acknowledged before that commit. Unreferenced blobs are reclaimed by the
//! start-up sweep.

pub mod blob;
pub mod clock;
pub mod codec;
mod config;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod error;
pub mod listing;
pub mod meta;
mod migrate;
pub mod model;
mod pacing;
mod pins;
pub mod private;
mod staging;
mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    StoreConfig, COMPLETED_UPLOAD_RETENTION, ORPHAN_MIN_AGE, RELEASE_GRACE, SWEEP_INTERVAL,
};
pub use error::{StoreError, StoreResult};
pub use pacing::Pacer;
pub use staging::{ObjectWriter, StagedData, INLINE_MAX};
pub use store::{slice_extents, CompletionChecks, ObjectReader, RequestedPart, Store, READ_CHUNK};

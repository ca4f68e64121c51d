//! Coffer's storage engine.
//!
//! An object version is a metadata record whose bytes are either inline (small objects) or
//! an ordered list of extents over immutable blobs. Multipart completion and copies are
//! metadata operations over extents. The two halves sit behind traits:
//! [`meta::MetadataStore`] (embedded: [`meta::RedbMetadata`]) and [`blob::BlobStore`]
//! (embedded: [`blob::FsBlobStore`]); [`Store`] implements object semantics over them.
//!
//! Architecture invariant: nothing here knows HTTP, protocol error rendering or headers.
//!
//! Write-path invariant: bytes are durable before the metadata that references them commits,
//! and nothing is acknowledged before that commit. Unreferenced blobs are reclaimed by the
//! start-up sweep.

pub mod blob;
pub mod clock;
mod codec;
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
pub use config::{StoreConfig, COMPLETED_UPLOAD_RETENTION, RELEASE_GRACE};
pub use error::{StoreError, StoreResult};
pub use pacing::Pacer;
pub use staging::{ObjectWriter, StagedData, INLINE_MAX};
pub use store::{slice_extents, CompletionChecks, ObjectReader, RequestedPart, Store, READ_CHUNK};

//! The storage backends the binary runs on: the one place that picks them.
//!
//! Today the data directory holds both halves, the embedded pair of `coffer-store-embedded`
//! (redb metadata in `meta.redb`, blob files under `blobs/`). PostgreSQL metadata (issue 11)
//! plugs in here: `--meta-url` / `COFFER_META_URL` will add a [`MetaBackend`] variant that
//! opens a `MetadataStore` from the URL, with the blob files still under the (then shared)
//! data directory. `serve` and the offline `admin` commands both open their store here.

use anyhow::Context;
use coffer_store::blob::BlobStore;
use coffer_store::meta::MetadataStore;
use coffer_store::{Store, StoreConfig};
use std::path::Path;
use std::sync::Arc;

/// Where metadata lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaBackend {
    /// The redb file in the data directory.
    Embedded,
}

impl MetaBackend {
    /// The backend the configuration selects (no `--meta-url` yet: the embedded one).
    pub fn configured() -> MetaBackend {
        MetaBackend::Embedded
    }
}

/// Opens the configured backends over `data_dir`, hands them to the store, and runs the
/// start-up recovery (orphan sweep, receipt pruning).
pub async fn open_store(data_dir: &Path) -> anyhow::Result<Store> {
    let (meta, blobs): (Arc<dyn MetadataStore>, Arc<dyn BlobStore>) =
        match MetaBackend::configured() {
            MetaBackend::Embedded => coffer_store_embedded::backends(data_dir)?,
        };
    let store = Store::with_config(meta, blobs, StoreConfig::default());
    store
        .recover()
        .await
        .context("start-up recovery (orphan sweep, receipt pruning)")?;
    Ok(store)
}

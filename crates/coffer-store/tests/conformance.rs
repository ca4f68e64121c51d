//! The backend conformance suite against the embedded backends: redb metadata and
//! filesystem blobs.

use async_trait::async_trait;
use coffer_store::blob::{BlobStore, FsBlobStore};
use coffer_store::conformance::{run_blob_suite, run_metadata_suite, BlobFactory, MetadataFactory};
use coffer_store::meta::{MetadataStore, RedbMetadata};
use coffer_store::StoreResult;
use std::sync::Arc;

/// Backends named by files and directories under one temporary directory.
struct Embedded(tempfile::TempDir);

#[async_trait]
impl MetadataFactory for Embedded {
    async fn open(&self, name: &str) -> StoreResult<Arc<dyn MetadataStore>> {
        Ok(Arc::new(RedbMetadata::open(
            &self.0.path().join(format!("{name}.redb")),
        )?))
    }
}

#[async_trait]
impl BlobFactory for Embedded {
    async fn open(&self, name: &str) -> StoreResult<Arc<dyn BlobStore>> {
        Ok(Arc::new(FsBlobStore::open(self.0.path().join(name))?))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redb_metadata_passes_the_metadata_suite() {
    let factory = Embedded(tempfile::tempdir().expect("tempdir"));
    let ran = run_metadata_suite(&factory).await;
    assert!(ran >= 19, "{ran} cases ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filesystem_blobs_pass_the_blob_suite() {
    let factory = Embedded(tempfile::tempdir().expect("tempdir"));
    let ran = run_blob_suite(&factory).await;
    assert!(ran >= 5, "{ran} cases ran");
}

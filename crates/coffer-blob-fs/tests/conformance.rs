//! The blob conformance suite against the filesystem blob store.

use async_trait::async_trait;
use coffer_blob_fs::FsBlobStore;
use coffer_store::blob::BlobStore;
use coffer_store::conformance::{run_blob_suite, BlobFactory};
use coffer_store::StoreResult;
use std::sync::Arc;

/// Blob stores in directories under one temporary directory.
struct Directories(tempfile::TempDir);

#[async_trait]
impl BlobFactory for Directories {
    async fn open(&self, name: &str) -> StoreResult<Arc<dyn BlobStore>> {
        Ok(Arc::new(FsBlobStore::open(self.0.path().join(name))?))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filesystem_blobs_pass_the_blob_suite() {
    let factory = Directories(tempfile::tempdir().expect("tempdir"));
    let ran = run_blob_suite(&factory).await;
    assert_eq!(ran, 6, "every blob case ran");
}

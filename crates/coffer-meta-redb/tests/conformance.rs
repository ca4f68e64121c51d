//! The metadata conformance suite against the redb backend.

use async_trait::async_trait;
use coffer_meta_redb::RedbMetadata;
use coffer_store::conformance::{run_metadata_suite, MetadataFactory};
use coffer_store::meta::MetadataStore;
use coffer_store::StoreResult;
use std::sync::Arc;

/// Databases in files under one temporary directory.
struct Files(tempfile::TempDir);

#[async_trait]
impl MetadataFactory for Files {
    async fn open(&self, name: &str) -> StoreResult<Arc<dyn MetadataStore>> {
        Ok(Arc::new(RedbMetadata::open(
            &self.0.path().join(format!("{name}.redb")),
        )?))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redb_metadata_passes_the_metadata_suite() {
    let factory = Files(tempfile::tempdir().expect("tempdir"));
    let ran = run_metadata_suite(&factory).await;
    assert_eq!(ran, 19, "every metadata case ran");
}

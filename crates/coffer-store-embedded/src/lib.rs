//! The embedded store: redb metadata in `<dir>/meta.redb` (`coffer-meta-redb`) and blob
//! files under `<dir>/blobs` (`coffer-blob-fs`), in one private data directory.
//!
//! This is the one place that assembles the embedded pair; the core (`coffer-store`) knows
//! no backend by name, and the binary picks this one when no other metadata backend is
//! configured.

use coffer_blob_fs::FsBlobStore;
use coffer_meta_redb::RedbMetadata;
use coffer_store::blob::BlobStore;
use coffer_store::meta::MetadataStore;
use coffer_store::private::{secure_data_dir, DataDirState};
use coffer_store::{Store, StoreConfig, StoreResult};
use std::path::Path;
use std::sync::Arc;

/// Opens (creating if needed) the embedded store in `dir` with the default configuration,
/// and runs the start-up recovery ([`Store::recover`]) before returning.
pub async fn open(dir: &Path) -> StoreResult<Store> {
    open_with(dir, StoreConfig::default()).await
}

/// [`open`] with a clock and timing knobs of the caller's.
pub async fn open_with(dir: &Path, config: StoreConfig) -> StoreResult<Store> {
    let (meta, blobs) = backends(dir)?;
    let store = Store::with_config(meta, blobs, config);
    store.recover().await?;
    Ok(store)
}

/// The embedded pair over `dir`, for a caller that assembles the [`Store`] itself: makes
/// the directory private (created `0700`, tightened if it was readable by others, refused
/// if writable by them), then opens `meta.redb` and `blobs/`.
pub fn backends(dir: &Path) -> StoreResult<(Arc<dyn MetadataStore>, Arc<dyn BlobStore>)> {
    match secure_data_dir(dir)? {
        DataDirState::Tightened { from } => tracing::warn!(
            data_dir = %dir.display(),
            "the data directory was mode {from:04o}, readable by others; it holds secret keys, so it is now 0700"
        ),
        DataDirState::Created | DataDirState::Private => {}
    }
    let meta = RedbMetadata::open(&dir.join("meta.redb"))?;
    let blobs = FsBlobStore::open(dir.join("blobs"))?;
    Ok((Arc::new(meta), Arc::new(blobs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_data_directory_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o7777;
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("data");
        let store = open(&dir).await.expect("open");
        store.close().await.expect("close");
        drop(store);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("meta.redb")), 0o600);
        assert_eq!(mode(&dir.join("blobs")), 0o700);
        // An older version's layout: 0755 directories, a 0644 metadata file.
        for (path, old) in [(dir.clone(), 0o755), (dir.join("meta.redb"), 0o644)] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(old)).expect("chmod");
        }
        let store = open(&dir).await.expect("reopen");
        store.close().await.expect("close");
        drop(store);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("meta.redb")), 0o600);
        // Writable by others: refused.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let refused = open(&dir).await;
        assert!(matches!(
            refused,
            Err(coffer_store::StoreError::InsecureDataDir { .. })
        ));
    }
}

//! The storage backends the binary runs on: the one place that picks them.
//!
//! Blob files always live under the data directory's `blobs/` (`coffer-blob-fs`). Metadata
//! lives in the data directory's redb file (the embedded pair of `coffer-store-embedded`)
//! unless `--meta-url` / `COFFER_META_URL` names a PostgreSQL database
//! (`coffer-meta-pg`): then no redb file is created, and any number of nodes may share the
//! database and one (shared) data directory. `serve` and the offline `admin` commands both
//! open their store here.

use anyhow::Context;
use clap::Args;
use coffer_blob_fs::FsBlobStore;
use coffer_meta_pg::{PgMetadata, PgOptions};
use coffer_store::blob::BlobStore;
use coffer_store::meta::MetadataStore;
use coffer_store::private::{secure_data_dir, DataDirState};
use coffer_store::{Store, StoreConfig};
use std::path::Path;
use std::sync::Arc;

/// The flags that choose the metadata backend (shared by `serve` and `admin`).
#[derive(Debug, Clone, Args)]
pub struct BackendArgs {
    /// PostgreSQL URL of shared metadata (`postgres://user:password@host:port/database`);
    /// unset: the embedded redb file in the data directory. Never logged.
    #[arg(long, env = "COFFER_META_URL", hide_env_values = true, value_parser = MetaUrl::parse)]
    pub meta_url: Option<MetaUrl>,
    /// Most connections this node opens to PostgreSQL.
    #[arg(long, env = "COFFER_META_POOL_SIZE", default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub meta_pool_size: u64,
    /// How long (milliseconds) a node keeps an account it looked up for authentication;
    /// 0: looks it up every time. A key deleted through another node keeps working on
    /// this one for up to this long (PostgreSQL metadata only).
    #[arg(long, env = "COFFER_META_ACCOUNT_TTL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub meta_account_ttl_ms: u64,
}

/// A metadata URL; its `Debug` form hides everything but the scheme (it may hold a
/// password).
#[derive(Clone, PartialEq, Eq)]
pub struct MetaUrl(String);

impl MetaUrl {
    /// Accepts `postgres://` and `postgresql://` URLs.
    pub fn parse(url: &str) -> Result<MetaUrl, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(MetaUrl(url.to_string()))
        } else {
            Err("expected a postgres:// URL (postgres://user:password@host:port/database)".into())
        }
    }
}

impl std::fmt::Debug for MetaUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetaUrl(postgres://…)")
    }
}

/// Where metadata lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaBackend {
    /// The redb file in the data directory.
    Embedded,
    /// A PostgreSQL database shared by every node.
    Postgres(MetaUrl),
}

impl MetaBackend {
    /// The backend the flags select.
    pub fn configured(args: &BackendArgs) -> MetaBackend {
        match &args.meta_url {
            Some(url) => MetaBackend::Postgres(url.clone()),
            None => MetaBackend::Embedded,
        }
    }

    /// Whether other processes may share this metadata (and so the blob directory).
    pub fn is_shared(&self) -> bool {
        matches!(self, MetaBackend::Postgres(_))
    }
}

/// Opens the configured backends over `data_dir`, hands them to the store with `config`,
/// and recovers: the embedded store runs the start-up recovery (it is the only process on
/// its data directory); a node on PostgreSQL prunes expired receipts and runs one online
/// sweep under the lease (other nodes may be writing).
pub async fn open_store(
    data_dir: &Path,
    backend: &BackendArgs,
    config: StoreConfig,
) -> anyhow::Result<Store> {
    let (meta, blobs): (Arc<dyn MetadataStore>, Arc<dyn BlobStore>) =
        match MetaBackend::configured(backend) {
            MetaBackend::Embedded => coffer_store_embedded::backends(data_dir)?,
            MetaBackend::Postgres(url) => {
                secure(data_dir)?;
                let options = PgOptions {
                    pool_size: usize::try_from(backend.meta_pool_size).unwrap_or(usize::MAX),
                    account_ttl: std::time::Duration::from_millis(backend.meta_account_ttl_ms),
                    ..PgOptions::default()
                };
                let meta = PgMetadata::open(&url.0, &options)
                    .await
                    .context("opening the PostgreSQL metadata (--meta-url)")?;
                let blobs = FsBlobStore::open(data_dir.join("blobs"))?;
                (Arc::new(meta), Arc::new(blobs))
            }
        };
    let store = Store::with_config(meta, blobs, config);
    if MetaBackend::configured(backend).is_shared() {
        store
            .prune_completed_uploads()
            .await
            .context("pruning expired completion receipts")?;
        if let Some(swept) = store
            .sweep_orphans_online()
            .await
            .context("the start-up orphan sweep")?
        {
            if swept > 0 {
                tracing::info!(blobs = swept, "reclaimed orphaned blobs");
            }
        }
    } else {
        store
            .recover()
            .await
            .context("start-up recovery (orphan sweep, receipt pruning)")?;
    }
    Ok(store)
}

/// Makes the (blob) data directory private, as the embedded pair does.
fn secure(data_dir: &Path) -> anyhow::Result<()> {
    match secure_data_dir(data_dir)? {
        DataDirState::Tightened { from } => tracing::warn!(
            data_dir = %data_dir.display(),
            "the data directory was mode {from:04o}, readable by others; it is now 0700"
        ),
        DataDirState::Created | DataDirState::Private => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_never_shown() {
        let url = MetaUrl::parse("postgres://coffer:s3cret@db:5432/coffer").expect("valid");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(MetaUrl::parse("postgresql://db/coffer").is_ok());
        assert!(MetaUrl::parse("mysql://db/coffer").is_err());
        let args = BackendArgs {
            meta_url: Some(url.clone()),
            meta_pool_size: 4,
            meta_account_ttl_ms: 1000,
        };
        assert!(!format!("{args:?}").contains("s3cret"));
        assert_eq!(MetaBackend::configured(&args), MetaBackend::Postgres(url));
    }
}

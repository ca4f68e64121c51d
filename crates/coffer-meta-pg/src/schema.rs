//! The schema, as numbered migrations embedded in the binary and applied on open.
//!
//! Every node applies them at start, inside one transaction that first takes a
//! transaction-level advisory lock: nodes starting at once queue on the lock, and the
//! first applies what is missing while the others then find nothing to do. The version
//! reached is kept in `coffer_schema`; a database newer than this build is refused.
//!
//! Keys are `bytea`, so they compare bytewise exactly as in the embedded store (no
//! collation can reorder them); records are the `coffer_store::codec` encodings, the same
//! bytes every backend stores. Names (secret ids, bucket names) are `text COLLATE "C"`.

use crate::fault::Res;
use coffer_store::StoreError;
use tokio_postgres::Client;

/// The advisory-lock class of this backend's session and transaction locks (two-key form,
/// apart from the one-key per-object locks): "cof" in ASCII.
pub(crate) const LOCK_CLASS: i32 = 0x00636f66;
/// The lock the migrations run under.
pub(crate) const MIGRATION_LOCK: i32 = 1;
/// The lease of the online orphan sweep.
pub(crate) const SWEEP_LOCK: i32 = 2;

/// The migrations, in order; `MIGRATIONS[n]` takes the schema from version n to n + 1.
const MIGRATIONS: &[&str] = &[
    // 1: the records of the embedded store, one table each.
    r#"
    CREATE TABLE coffer_accounts (
        secret_id text COLLATE "C" PRIMARY KEY,
        uin text COLLATE "C" NOT NULL UNIQUE,
        record bytea NOT NULL
    );
    CREATE SEQUENCE coffer_bucket_ids START 1;
    CREATE TABLE coffer_buckets (
        name text COLLATE "C" PRIMARY KEY,
        id bigint NOT NULL UNIQUE,
        record bytea NOT NULL
    );
    CREATE TABLE coffer_objects (
        bucket_id bigint NOT NULL,
        key bytea NOT NULL,
        record bytea NOT NULL,
        PRIMARY KEY (bucket_id, key)
    );
    CREATE TABLE coffer_inline (
        id bytea PRIMARY KEY,
        data bytea NOT NULL
    );
    CREATE TABLE coffer_uploads (
        bucket_id bigint NOT NULL,
        key bytea NOT NULL,
        upload_id bytea NOT NULL,
        record bytea NOT NULL,
        PRIMARY KEY (bucket_id, key, upload_id)
    );
    CREATE TABLE coffer_parts (
        bucket_id bigint NOT NULL,
        key bytea NOT NULL,
        upload_id bytea NOT NULL,
        part_number integer NOT NULL,
        record bytea NOT NULL,
        PRIMARY KEY (bucket_id, key, upload_id, part_number)
    );
    CREATE TABLE coffer_blob_refs (
        blob bytea PRIMARY KEY,
        refs bigint NOT NULL
    );
    CREATE TABLE coffer_completed (
        bucket_id bigint NOT NULL,
        key bytea NOT NULL,
        upload_id bytea NOT NULL,
        expires_ms bigint NOT NULL,
        record bytea NOT NULL,
        PRIMARY KEY (bucket_id, key, upload_id)
    );
    CREATE INDEX coffer_completed_by_expiry ON coffer_completed (expires_ms);
    "#,
];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Brings the schema up to [`SCHEMA_VERSION`], safely when several nodes do it at once.
pub(crate) async fn migrate(client: &mut Client) -> Res<()> {
    let txn = client.transaction().await?;
    txn.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&LOCK_CLASS, &MIGRATION_LOCK],
    )
    .await?;
    // "already exists, skipping" is no news to log.
    txn.batch_execute("SET LOCAL client_min_messages = warning")
        .await?;
    txn.batch_execute(
        "CREATE TABLE IF NOT EXISTS coffer_schema (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            version integer NOT NULL
        )",
    )
    .await?;
    let row = txn
        .query_opt("SELECT version FROM coffer_schema", &[])
        .await?;
    let current: i32 = match row {
        Some(row) => row.try_get(0)?,
        None => 0,
    };
    if current > SCHEMA_VERSION {
        return Err(StoreError::Corrupt(format!(
            "metadata schema version {current} is newer than this build understands \
             ({SCHEMA_VERSION})"
        ))
        .into());
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        tracing::info!(version = index + 1, "applying metadata schema migration");
        txn.batch_execute(migration).await?;
    }
    if current < SCHEMA_VERSION {
        txn.execute(
            "INSERT INTO coffer_schema (version) VALUES ($1)
             ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version",
            &[&SCHEMA_VERSION],
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

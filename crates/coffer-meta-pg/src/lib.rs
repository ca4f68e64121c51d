//! Coffer's metadata on PostgreSQL: the [`MetadataStore`] that any number of stateless
//! `coffer serve` nodes share.
//!
//! **Driver.** `tokio-postgres` with a `deadpool-postgres` pool (sized by
//! [`PgOptions::pool_size`]); statements are prepared at run time and cached per
//! connection, so building needs no database.
//!
//! **Schema.** Embedded migrations ([`schema`]) applied on open under an advisory lock;
//! keys are `bytea` (bytewise order, exactly as the embedded store), records are the
//! `coffer_store::codec` encodings.
//!
//! **Isolation and locks.** Every transaction runs at READ COMMITTED. Whatever writes an
//! object key (put, delete, completion) first takes a transaction-level advisory lock on a
//! stable hash of (bucket id, key), so the read of the current version, the check of a
//! write condition and the replacement happen as one step per key across all nodes, and
//! last writer wins by commit order. Bucket rows are held `FOR KEY SHARE` by writers into
//! the bucket and `FOR UPDATE` by its deletion; upload rows `FOR SHARE` by part uploads and
//! `FOR UPDATE`/deleted by completion and abort. Blob reference counts are applied per
//! blob in id order ([`refs`]). A transaction PostgreSQL aborts as a serialization failure
//! or deadlock is run again, a bounded number of times. `docs/design-decisions.md`
//! ("PostgreSQL metadata") says why, and what CockroachDB or YugabyteDB would need.

mod accounts;
mod fault;
mod refs;
mod schema;
mod sql;
mod store;

use coffer_store::{StoreError, StoreResult};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use fault::{Fault, Res};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::NoTls;

/// How a [`PgMetadata`] connects.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Most connections this node keeps open to the database.
    pub pool_size: usize,
    /// How long a statement waits for a connection from the pool before failing.
    pub wait_timeout: Duration,
    /// How long this node keeps an account it looked up (the secret-key lookup of every
    /// signed request) before reading it again; zero reads it every time. An account
    /// deleted through another node is still accepted here for up to this long.
    pub account_ttl: Duration,
}

impl Default for PgOptions {
    fn default() -> PgOptions {
        PgOptions {
            pool_size: 32,
            wait_timeout: Duration::from_secs(30),
            account_ttl: Duration::from_secs(1),
        }
    }
}

/// How many times a transaction PostgreSQL aborted (serialization failure, deadlock) is run.
const MAX_ATTEMPTS: u32 = 16;

/// The PostgreSQL-backed [`coffer_store::meta::MetadataStore`].
#[derive(Clone)]
pub struct PgMetadata {
    pool: Pool,
    /// The held lease of the orphan sweep, if this node has it (a session-level advisory
    /// lock on a connection taken out of the pool).
    sweep_lease: Arc<tokio::sync::Mutex<Option<deadpool_postgres::Object>>>,
    /// Accounts looked up recently ([`accounts`]).
    accounts: Arc<accounts::AccountCache>,
}

impl std::fmt::Debug for PgMetadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("PgMetadata")
            .field("pool", &self.pool.status())
            .finish_non_exhaustive()
    }
}

impl PgMetadata {
    /// Connects to `url` (`postgres://user:password@host:port/database`, plus any libpq
    /// URL parameter tokio-postgres understands, e.g. `options=-c search_path=coffer`) and
    /// brings the schema up to date. The URL is never logged nor put into errors.
    pub async fn open(url: &str, options: &PgOptions) -> StoreResult<PgMetadata> {
        let config: tokio_postgres::Config = url.parse().map_err(|_| {
            StoreError::Internal(
                "the metadata URL is not a valid postgres:// URL (expected \
                 postgres://user:password@host:port/database)"
                    .into(),
            )
        })?;
        PgMetadata::connect(config, options).await
    }

    /// Connects with an already parsed configuration and brings the schema up to date.
    pub async fn connect(
        config: tokio_postgres::Config,
        options: &PgOptions,
    ) -> StoreResult<PgMetadata> {
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .wait_timeout(Some(options.wait_timeout))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Internal(format!("postgres pool: {e}")))?;
        let this = PgMetadata {
            pool,
            sweep_lease: Arc::new(tokio::sync::Mutex::new(None)),
            accounts: Arc::new(accounts::AccountCache::new(options.account_ttl)),
        };
        let mut client = this.client().await.map_err(Fault::into_store)?;
        schema::migrate(&mut client)
            .await
            .map_err(Fault::into_store)?;
        Ok(this)
    }

    /// Takes the sweep lease unless held: a session-level advisory lock on a connection
    /// taken out of the pool. If the node dies, its connection closes and PostgreSQL frees
    /// the lock, so a lease never outlives its holder.
    async fn take_sweep_lease(&self) -> Res<bool> {
        let mut held = self.sweep_lease.lock().await;
        if let Some(connection) = held.as_ref() {
            if connection.simple_query("SELECT 1").await.is_ok() {
                return Ok(true);
            }
            // The connection broke, and the lock with it: try again from scratch.
            held.take();
        }
        let connection = self.client().await?;
        let row = connection
            .query_one(
                "SELECT pg_try_advisory_lock($1, $2)",
                &[&schema::LOCK_CLASS, &schema::SWEEP_LOCK],
            )
            .await?;
        let got: bool = row.try_get(0)?;
        if got {
            *held = Some(connection);
        }
        Ok(got)
    }

    /// Gives the sweep lease back: unlocks it (so another node may take it at once), then
    /// closes its connection rather than returning it to the pool, where it would keep the
    /// lock if the unlock had failed.
    async fn release_sweep_lease_now(&self) {
        if let Some(connection) = self.sweep_lease.lock().await.take() {
            let unlocked = connection
                .execute(
                    "SELECT pg_advisory_unlock($1, $2)",
                    &[&schema::LOCK_CLASS, &schema::SWEEP_LOCK],
                )
                .await;
            if let Err(e) = unlocked {
                tracing::warn!(error = %e, "unlocking the sweep lease failed; closing its connection");
            }
            drop(deadpool_postgres::Object::take(connection));
        }
    }

    /// A pooled connection.
    async fn client(&self) -> Res<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(pg) => Fault::Pg(pg),
            other => Fault::Store(StoreError::Internal(format!("postgres pool: {other}"))),
        })
    }
}

/// Runs `$body` in a transaction on a pooled connection, binding the transaction to
/// `$txn`; commits if it returns `Ok`. A run PostgreSQL aborts as a serialization failure
/// or deadlock (or that asks with [`Fault::Retry`]) is repeated, up to [`MAX_ATTEMPTS`].
macro_rules! transact {
    ($self:expr, |$txn:ident| $body:block) => {{
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let result: $crate::fault::Res<_> = async {
                let mut client = $self.client().await?;
                let $txn = client.transaction().await?;
                let value = $body;
                $txn.commit().await?;
                Ok(value)
            }
            .await;
            match result {
                Ok(value) => break Ok(value),
                Err(fault) if fault.is_retryable() && attempt < $crate::MAX_ATTEMPTS => {
                    let pause = 1u64 << attempt.min(6);
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                }
                Err(fault) => break Err(fault.into_store()),
            }
        }
    }};
}
pub(crate) use transact;

/// Runs `$body` (reads only: one statement, one snapshot) on a pooled connection bound to
/// `$db`, outside any explicit transaction: no `BEGIN`/`COMMIT` round trips.
macro_rules! read {
    ($self:expr, |$db:ident| $body:block) => {{
        let result: $crate::fault::Res<_> = async {
            let client = $self.client().await?;
            let $db = &*client;
            Ok($body)
        }
        .await;
        result.map_err($crate::fault::Fault::into_store)
    }};
}
pub(crate) use read;

//! Statements through the per-connection statement cache: each SQL text is parsed and
//! planned once per connection, then only bound and executed (one round trip).
//!
//! **Pipelining.** Futures of statements on one connection polled together (`tokio::join!`
//! with `biased;`) are pipelined by tokio-postgres: each sends its request on its first
//! poll, so they go out in poll order in one write, PostgreSQL runs them one after the
//! other in that order, and the answers come back together — one round trip for the
//! batch. A statement whose SQL is not cached yet would first await its preparation and
//! so go out after the ones behind it; [`Sql::prepare_all`] beforehand keeps the order.

use crate::fault::Res;
use async_trait::async_trait;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// Cached-statement execution on a pooled connection or a transaction.
#[async_trait]
pub(crate) trait Sql: Sync {
    /// Runs a statement; returns the number of rows it affected.
    async fn run(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Res<u64>;
    /// Every row of a query.
    async fn rows(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Res<Vec<Row>>;
    /// At most one row of a query.
    async fn row_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Res<Option<Row>>;
    /// Exactly one row of a query.
    async fn row_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Res<Row>;
    /// Prepares (and caches) every statement not cached yet, in turn, so that a pipelined
    /// batch of them afterwards sends each on its first poll, in poll order.
    async fn prepare_all(&self, sqls: &[&str]) -> Res<()>;
}

macro_rules! impl_sql {
    ($($t:ty),*) => {$(
        #[async_trait]
        impl Sql for $t {
            async fn run(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Res<u64> {
                let statement = self.prepare_cached(sql).await?;
                Ok(self.execute(&statement, params).await?)
            }
            async fn rows(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Res<Vec<Row>> {
                let statement = self.prepare_cached(sql).await?;
                Ok(self.query(&statement, params).await?)
            }
            async fn row_opt(
                &self,
                sql: &str,
                params: &[&(dyn ToSql + Sync)],
            ) -> Res<Option<Row>> {
                let statement = self.prepare_cached(sql).await?;
                Ok(self.query_opt(&statement, params).await?)
            }
            async fn row_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Res<Row> {
                let statement = self.prepare_cached(sql).await?;
                Ok(self.query_one(&statement, params).await?)
            }
            async fn prepare_all(&self, sqls: &[&str]) -> Res<()> {
                for sql in sqls {
                    self.prepare_cached(sql).await?;
                }
                Ok(())
            }
        }
    )*};
}
impl_sql!(
    deadpool_postgres::Transaction<'_>,
    deadpool_postgres::ClientWrapper
);

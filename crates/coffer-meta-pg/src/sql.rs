//! Statements through the per-connection statement cache: each SQL text is parsed and
//! planned once per connection, then only bound and executed (one round trip).

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
        }
    )*};
}
impl_sql!(
    deadpool_postgres::Transaction<'_>,
    deadpool_postgres::ClientWrapper
);

//! The metadata conformance suite against a real PostgreSQL, plus what only several nodes
//! on one database can show: migrations applied by nodes starting at once, conditional
//! writers racing from different nodes, one sweep lease among nodes.
//!
//! The database comes from `COFFER_TEST_PG_URL` (`scripts/pg.sh start` prints one; the test
//! scripts export it). Without it these tests print that they were skipped and pass, except
//! under `CI`, where a missing database is a failure. Each backend the suite opens by name
//! is a schema of its own, dropped at the end.

use async_trait::async_trait;
use coffer_meta_pg::{PgMetadata, PgOptions};
use coffer_store::conformance::{run_metadata_suite, MetadataFactory};
use coffer_store::meta::MetadataStore;
use coffer_store::model::{
    AccountRecord, Acl, BucketRecord, DataLocation, ObjectAttributes, ObjectKind, ObjectVersion,
    PutOptions, WriteCondition,
};
use coffer_store::{StoreError, StoreResult};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres::NoTls;

/// The test database's URL, or `None` (after saying so) when the tests are to be skipped.
fn database_url(test: &str) -> Option<String> {
    match std::env::var("COFFER_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
            assert!(
                !in_ci,
                "{test}: COFFER_TEST_PG_URL is not set, and under CI the PostgreSQL tests must \
                 run (scripts/test.sh starts a database with scripts/pg.sh)"
            );
            eprintln!("{test}: skipped: COFFER_TEST_PG_URL not set");
            None
        }
    }
}

/// One schema per backend name, under a prefix unique to this run.
struct Schemas {
    url: String,
    prefix: String,
    created: Mutex<Vec<String>>,
}

impl Schemas {
    fn new(url: String) -> Schemas {
        Schemas {
            url,
            prefix: format!("t{:016x}", rand::random::<u64>()),
            created: Mutex::new(Vec::new()),
        }
    }

    /// Runs SQL on a connection of its own.
    async fn admin(&self, sql: &str) {
        let (client, connection) = tokio_postgres::connect(&self.url, NoTls)
            .await
            .expect("connect to COFFER_TEST_PG_URL");
        let driver = tokio::spawn(connection);
        client.batch_execute(sql).await.expect(sql);
        drop(client);
        let _ = driver.await;
    }

    /// Opens (creating the schema the first time) the backend called `name`.
    async fn node(&self, name: &str) -> StoreResult<PgMetadata> {
        self.node_with(name, PgOptions::default().account_ttl).await
    }

    /// [`Schemas::node`] keeping looked-up accounts for `account_ttl`.
    async fn node_with(&self, name: &str, account_ttl: Duration) -> StoreResult<PgMetadata> {
        let schema = format!(
            "{}_{}",
            self.prefix,
            name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        let first = {
            let mut created = self.created.lock().expect("lock");
            let first = !created.contains(&schema);
            if first {
                created.push(schema.clone());
            }
            first
        };
        if first {
            self.admin(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .await;
        }
        let mut config: tokio_postgres::Config = self.url.parse().expect("COFFER_TEST_PG_URL");
        config.options(format!("-c search_path={schema}"));
        PgMetadata::connect(
            config,
            &PgOptions {
                pool_size: 24,
                account_ttl,
                ..PgOptions::default()
            },
        )
        .await
    }

    /// Drops every schema this run created.
    async fn drop_all(&self) {
        let created = self.created.lock().expect("lock").clone();
        for schema in created {
            self.admin(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .await;
        }
    }
}

#[async_trait]
impl MetadataFactory for Schemas {
    async fn open(&self, name: &str) -> StoreResult<Arc<dyn MetadataStore>> {
        Ok(Arc::new(self.node(name).await?))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_metadata_passes_the_metadata_suite() {
    let Some(url) = database_url("postgres_metadata_passes_the_metadata_suite") else {
        return;
    };
    let schemas = Schemas::new(url);
    let ran = run_metadata_suite(&schemas).await;
    schemas.drop_all().await;
    assert_eq!(ran, 19, "every metadata case ran");
}

fn bucket_record(name: &str) -> BucketRecord {
    BucketRecord {
        name: name.into(),
        id: 0,
        owner_uin: "1".into(),
        region: "ap-test".into(),
        created_ms: 1,
        acl: Acl::default(),
    }
}

fn version(etag: &str) -> ObjectVersion {
    ObjectVersion {
        version_id: None,
        size: 0,
        etag: format!("\"{etag}\""),
        crc64: 0,
        last_modified_ms: 1,
        kind: ObjectKind::Normal,
        attributes: ObjectAttributes::default(),
        owner_uin: "1".into(),
        data: DataLocation::Extents(Vec::new()),
        parts: Vec::new(),
        checksum: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_starting_at_once_migrate_once_and_race_on_one_key_with_one_winner() {
    let Some(url) = database_url("nodes_starting_at_once_migrate_once_and_race_on_one_key") else {
        return;
    };
    let schemas = Arc::new(Schemas::new(url));
    // Create the schema once, then let four nodes open it at the same moment: all apply
    // (or find applied) the migrations under the lock, none fails.
    drop(schemas.node("shared").await.expect("first open"));
    let schema = schemas.created.lock().expect("lock")[0].clone();
    schemas
        .admin(&format!(
            "DROP SCHEMA {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .await;
    let opening: Vec<_> = (0..4)
        .map(|_| {
            let schemas = schemas.clone();
            tokio::spawn(async move { schemas.node("shared").await })
        })
        .collect();
    let mut nodes = Vec::new();
    for task in opening {
        nodes.push(Arc::new(task.await.expect("task").expect("open")));
    }
    let b = nodes[0]
        .create_bucket(bucket_record("b"))
        .await
        .expect("bucket");
    // Every node, 8 writers each, create-if-absent on one key: exactly one wins.
    let mut tasks = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for i in 0..8 {
            let node = node.clone();
            let b = b.clone();
            tasks.push(tokio::spawn(async move {
                let etag = format!("n{n}-{i}");
                let options = PutOptions {
                    shares_blobs: false,
                    condition: WriteCondition {
                        if_match: None,
                        if_none_match: Some("*".into()),
                    },
                };
                (
                    etag.clone(),
                    node.put_object(&b, "k", version(&etag), None, options)
                        .await,
                )
            }));
        }
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("task") {
            (etag, Ok(_)) => winners.push(etag),
            (_, Err(StoreError::PreconditionFailed)) => {}
            (_, Err(e)) => panic!("a racing writer failed otherwise: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    for node in &nodes {
        let current = node.object(&b, "k").await.expect("read").expect("present");
        assert_eq!(current.etag, format!("\"{}\"", winners[0]));
    }
    // The sweep lease: one holder at a time; released, another node can take it.
    assert!(nodes[0].try_sweep_lease().await.expect("lease"));
    assert!(nodes[0].try_sweep_lease().await.expect("still held"));
    for node in &nodes[1..] {
        assert!(!node.try_sweep_lease().await.expect("lease"));
    }
    nodes[0].release_sweep_lease().await.expect("release");
    assert!(nodes[1]
        .try_sweep_lease()
        .await
        .expect("lease after release"));
    // A holder that closes (or dies: its connection closes) frees the lease.
    nodes[1].close().await.expect("close");
    assert!(nodes[2].try_sweep_lease().await.expect("lease after close"));
    nodes[2].release_sweep_lease().await.expect("release");
    drop(nodes);
    schemas.drop_all().await;
}

fn account_record(secret_id: &str, uin: &str) -> AccountRecord {
    AccountRecord {
        secret_id: secret_id.into(),
        secret_key: "key".into(),
        appid: "1250000000".into(),
        uin: uin.into(),
        created_ms: 1,
        admin: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_account_deleted_through_another_node_is_accepted_there_for_at_most_one_ttl() {
    let Some(url) = database_url("an_account_deleted_through_another_node") else {
        return;
    };
    let schemas = Schemas::new(url);
    let long = Duration::from_secs(600);
    let short = Duration::from_millis(300);
    let caching = schemas.node_with("accounts", long).await.expect("node");
    let expiring = schemas.node_with("accounts", short).await.expect("node");
    let uncached = schemas
        .node_with("accounts", Duration::ZERO)
        .await
        .expect("node");
    let deleting = schemas.node_with("accounts", long).await.expect("node");
    caching
        .create_account(account_record("AKIDttl", "300"))
        .await
        .expect("create");
    for node in [&caching, &expiring, &uncached, &deleting] {
        assert!(node.account("AKIDttl").await.expect("lookup").is_some());
    }
    deleting.delete_account("AKIDttl").await.expect("delete");
    // The deleting node forgets at once; a node without a cache reads the database.
    assert_eq!(deleting.account("AKIDttl").await.expect("lookup"), None);
    assert_eq!(uncached.account("AKIDttl").await.expect("lookup"), None);
    // Another node keeps accepting the key until its entry expires, and not after.
    assert!(caching.account("AKIDttl").await.expect("lookup").is_some());
    tokio::time::sleep(short + Duration::from_millis(100)).await;
    assert_eq!(expiring.account("AKIDttl").await.expect("lookup"), None);
    // Only accounts found are kept: a key created elsewhere is usable at once.
    assert_eq!(caching.account("AKIDnew").await.expect("lookup"), None);
    deleting
        .create_account(account_record("AKIDnew", "301"))
        .await
        .expect("create");
    assert!(caching.account("AKIDnew").await.expect("lookup").is_some());
    for node in [caching, expiring, uncached, deleting] {
        node.close().await.expect("close");
    }
    schemas.drop_all().await;
}

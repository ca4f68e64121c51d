//! The storage engine's behaviour through `Store`, on the embedded backends. Written
//! against the traits' semantics so that every backend can run the same suite.

use bytes::Bytes;
use coffer_store::meta::{ListEntry, ListQuery, UploadListQuery};
use coffer_store::model::{Acl, BucketRecord, ObjectAttributes};
use coffer_store::{RequestedPart, Store, StoreError};

async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_embedded(dir.path()).await.expect("open");
    (store, dir)
}

async fn bucket(store: &Store, name: &str) -> BucketRecord {
    store
        .create_bucket(BucketRecord {
            name: name.into(),
            id: 0,
            owner_uin: "1".into(),
            region: "r".into(),
            created_ms: 0,
            acl: Acl::default(),
        })
        .await
        .expect("bucket")
}

fn attributes() -> ObjectAttributes {
    ObjectAttributes {
        storage_class: "STANDARD".into(),
        ..ObjectAttributes::default()
    }
}

async fn put(store: &Store, bucket: &BucketRecord, key: &str, data: &[u8]) {
    let mut writer = store
        .object_writer(Some(data.len() as u64))
        .expect("writer");
    for chunk in data.chunks(300_000) {
        writer
            .write(Bytes::copy_from_slice(chunk))
            .await
            .expect("write");
    }
    let staged = writer.finish().await.expect("finish");
    store
        .put_object(bucket, key, staged, attributes(), "1", Default::default())
        .await
        .expect("put");
}

async fn read(store: &Store, bucket: &BucketRecord, key: &str) -> Vec<u8> {
    let version = store.object(bucket, key).await.expect("object");
    let mut reader = store
        .read_object(&version, 0, version.size)
        .await
        .expect("reader");
    let mut out = Vec::new();
    while let Some(chunk) = reader.next_chunk().await.expect("chunk") {
        out.extend_from_slice(&chunk);
    }
    out
}

fn keys(page: &coffer_store::meta::ListPage) -> Vec<String> {
    page.entries
        .iter()
        .map(|e| match e {
            ListEntry::Object { key, .. } => key.clone(),
            ListEntry::CommonPrefix(p) => format!("{p}*"),
        })
        .collect()
}

#[tokio::test]
async fn inline_and_blob_objects_round_trip_and_overwrite() {
    let (store, _dir) = store().await;
    let b = bucket(&store, "b").await;
    put(&store, &b, "small", b"tiny").await;
    let large: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
    put(&store, &b, "large", &large).await;
    assert_eq!(read(&store, &b, "small").await, b"tiny");
    assert_eq!(read(&store, &b, "large").await, large);
    assert_eq!(store.blob_count().await.expect("count"), 1);
    put(&store, &b, "large", b"now small").await;
    assert_eq!(read(&store, &b, "large").await, b"now small");
    // The replaced blob is released after the grace period.
    tokio::time::sleep(coffer_store_grace()).await;
    assert_eq!(store.blob_count().await.expect("count"), 0);
}

fn coffer_store_grace() -> std::time::Duration {
    std::time::Duration::from_millis(2500)
}

#[tokio::test]
async fn listing_skips_common_prefix_subtrees_and_pages() {
    let (store, _dir) = store().await;
    let b = bucket(&store, "b").await;
    for key in ["a/1", "a/2", "a/b/3", "b", "c/1", "c/2", "d"] {
        put(&store, &b, key, b"").await;
    }
    let query = |prefix: &str, delimiter: Option<&str>, marker: Option<&str>, max| ListQuery {
        prefix: prefix.into(),
        delimiter: delimiter.map(str::to_string),
        marker: marker.map(str::to_string),
        max_keys: max,
    };
    let page = store
        .list_objects(&b, &query("", Some("/"), None, 1000))
        .await
        .expect("list");
    assert_eq!(keys(&page), ["a/*", "b", "c/*", "d"]);
    assert!(!page.is_truncated);
    let page = store
        .list_objects(&b, &query("a/", Some("/"), None, 1000))
        .await
        .expect("list");
    assert_eq!(keys(&page), ["a/1", "a/2", "a/b/*"]);
    let page = store
        .list_objects(&b, &query("", Some("/"), None, 2))
        .await
        .expect("list");
    assert_eq!(keys(&page), ["a/*", "b"]);
    assert_eq!(page.next_marker.as_deref(), Some("b"));
    let page = store
        .list_objects(&b, &query("", Some("/"), Some("a/"), 2))
        .await
        .expect("list");
    assert_eq!(keys(&page), ["b", "c/*"]);
    let page = store
        .list_objects(&b, &query("", None, Some("c/1"), 1000))
        .await
        .expect("list");
    assert_eq!(keys(&page), ["c/2", "d"]);
    let page = store
        .list_objects(&b, &query("zzz", None, None, 1000))
        .await
        .expect("list");
    assert!(page.entries.is_empty());
    let page = store
        .list_objects(&b, &query("", None, None, 0))
        .await
        .expect("list");
    assert!(page.entries.is_empty() && !page.is_truncated);
    // Buckets do not see each other's keys.
    let other = bucket(&store, "other").await;
    let page = store
        .list_objects(&other, &query("", None, None, 1000))
        .await
        .expect("list");
    assert!(page.entries.is_empty());
}

#[tokio::test]
async fn multipart_completion_shares_part_blobs_and_frees_unused_parts() {
    let (store, _dir) = store().await;
    let b = bucket(&store, "b").await;
    let upload = store
        .create_upload(&b, "mp", attributes(), "1")
        .await
        .expect("upload");
    let mut etags = Vec::new();
    for (number, byte) in [(1u32, b'a'), (2, b'b'), (3, b'c')] {
        let mut writer = store.part_writer(None).expect("writer");
        writer
            .write(Bytes::from(vec![byte; 1 << 20]))
            .await
            .expect("write");
        let staged = writer.finish().await.expect("finish");
        let part = store
            .put_part(&b, "mp", &upload.upload_id, number, staged)
            .await
            .expect("part");
        etags.push(part.etag());
    }
    assert_eq!(store.blob_count().await.expect("count"), 3);
    let requested = vec![
        RequestedPart {
            part_number: 1,
            etag: etags[0].clone(),
        },
        RequestedPart {
            part_number: 3,
            etag: etags[2].clone(),
        },
    ];
    let version = store
        .complete_upload(&b, "mp", &upload.upload_id, &requested, 1 << 20)
        .await
        .expect("complete");
    assert_eq!(version.size, 2 << 20);
    let data = read(&store, &b, "mp").await;
    assert!(
        data[..1 << 20].iter().all(|x| *x == b'a') && data[1 << 20..].iter().all(|x| *x == b'c')
    );
    assert_eq!(version.crc64, coffer_proto::checksum::crc64(&data));
    tokio::time::sleep(coffer_store_grace()).await;
    assert_eq!(
        store.blob_count().await.expect("count"),
        2,
        "part 2 was released"
    );
    let uploads = store
        .list_uploads(
            &b,
            &UploadListQuery {
                max_uploads: 10,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert!(uploads.entries.is_empty());
    // Copies share blobs: deleting the original keeps the copy readable.
    let copy = store
        .copy_object(&version, &b, "copy", attributes(), "1")
        .await
        .expect("copy");
    assert_eq!(copy.etag, version.etag);
    store.delete_object(&b, "mp").await.expect("delete");
    tokio::time::sleep(coffer_store_grace()).await;
    assert_eq!(read(&store, &b, "copy").await, data);
    store.delete_object(&b, "copy").await.expect("delete");
    tokio::time::sleep(coffer_store_grace()).await;
    assert_eq!(store.blob_count().await.expect("count"), 0);
}

#[tokio::test]
async fn refused_operations_change_nothing() {
    let (store, _dir) = store().await;
    let b = bucket(&store, "b").await;
    let err = store
        .upload(&b, "k", "missing")
        .await
        .expect_err("no upload");
    assert!(matches!(err, StoreError::NoSuchUpload));
    put(&store, &b, "k", b"x").await;
    assert!(matches!(
        store.delete_bucket("b").await,
        Err(StoreError::BucketNotEmpty)
    ));
    let again = store
        .create_bucket(BucketRecord {
            name: "b".into(),
            id: 0,
            owner_uin: "2".into(),
            region: "r".into(),
            created_ms: 0,
            acl: Acl::default(),
        })
        .await;
    assert!(matches!(
        again,
        Err(StoreError::BucketAlreadyExists {
            owned_by_caller: false
        })
    ));
    assert_eq!(read(&store, &b, "k").await, b"x");
}

#[tokio::test]
async fn abandoned_and_orphaned_blobs_are_reclaimed() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open_embedded(dir.path()).await.expect("open");
        let b = bucket(&store, "b").await;
        // An abandoned upload leaves nothing behind.
        let mut writer = store.object_writer(None).expect("writer");
        writer
            .write(Bytes::from(vec![1u8; 200_000]))
            .await
            .expect("write");
        drop(writer);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(store.blob_count().await.expect("count"), 0);
        // A staged blob whose metadata never commits (as if the process died in between).
        let mut writer = store.object_writer(None).expect("writer");
        writer
            .write(Bytes::from(vec![1u8; 200_000]))
            .await
            .expect("write");
        let staged = writer.finish().await.expect("finish");
        std::mem::forget(staged);
        put(&store, &b, "kept", &[2u8; 300_000]).await;
        assert_eq!(store.blob_count().await.expect("count"), 2);
        store.close().await.expect("close");
    }
    let store = Store::open_embedded(dir.path()).await.expect("reopen");
    assert_eq!(
        store.blob_count().await.expect("count"),
        1,
        "the start-up sweep removed the orphan"
    );
    let b = store.bucket("b").await.expect("bucket");
    assert_eq!(read(&store, &b, "kept").await, vec![2u8; 300_000]);
}

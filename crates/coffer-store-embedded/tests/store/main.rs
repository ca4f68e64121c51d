//! The storage engine's behaviour through `Store`, on the embedded backends: what `Store`
//! adds over the traits (staging, releases, receipts, the start-up sweep and pruning). What
//! every backend must do on its own is in the conformance suite (`tests/conformance.rs`).

use bytes::Bytes;
use coffer_proto::checksum::{ChecksumAlgorithm, ChecksumType};
use coffer_store::meta::{ListEntry, ListQuery, UploadListQuery};
use coffer_store::model::{Acl, BucketRecord, ObjectAttributes, UploadChecksum, WriteCondition};
use coffer_store::{ManualClock, RequestedPart, Store, StoreConfig, StoreError};

async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = coffer_store_embedded::open_with(dir.path(), config())
        .await
        .expect("open");
    (store, dir)
}

/// The default configuration without the release grace, so tests wait for released blobs
/// with `Store::settle` instead of sleeping.
fn config() -> StoreConfig {
    StoreConfig {
        release_grace: std::time::Duration::ZERO,
        ..StoreConfig::default()
    }
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

/// The checksum of an upload that names none: the default full-object CRC-64/NVME.
fn default_checksum() -> UploadChecksum {
    UploadChecksum {
        algorithm: ChecksumAlgorithm::Crc64Nvme,
        kind: ChecksumType::FullObject,
        requested: false,
    }
}

fn attributes() -> ObjectAttributes {
    ObjectAttributes {
        storage_class: "STANDARD".into(),
        ..ObjectAttributes::default()
    }
}

async fn put(store: &Store, bucket: &BucketRecord, key: &str, data: &[u8]) {
    let mut writer = store
        .object_writer(Some(data.len() as u64), None)
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
    store.settle().await;
    assert_eq!(store.blob_count().await.expect("count"), 0);
}

#[tokio::test]
async fn a_version_replaced_before_it_is_read_says_so() {
    // A reader looks a version up, then a writer replaces (or deletes) it before the reader
    // reads the bytes. Blob data is kept through the release grace; inline data goes with
    // the version, and the reader is told to look again — never "no such key" for a key
    // that exists throughout.
    let (store, _dir) = store().await;
    let b = bucket(&store, "b").await;
    put(&store, &b, "k", b"first").await;
    let looked_up = store.object(&b, "k").await.expect("object");
    put(&store, &b, "k", b"second").await;
    let stale = store.read_object(&looked_up, 0, looked_up.size).await.err();
    assert!(
        matches!(stale, Some(coffer_store::StoreError::VersionReplaced)),
        "{stale:?}"
    );
    assert_eq!(read(&store, &b, "k").await, b"second");
    let looked_up = store.object(&b, "k").await.expect("object");
    store.delete_object(&b, "k").await.expect("delete");
    let gone = store.read_object(&looked_up, 0, looked_up.size).await.err();
    assert!(
        matches!(gone, Some(coffer_store::StoreError::VersionReplaced)),
        "{gone:?}"
    );
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
        .create_upload(&b, "mp", attributes(), "1", default_checksum())
        .await
        .expect("upload");
    let mut etags = Vec::new();
    for (number, byte) in [(1u32, b'a'), (2, b'b'), (3, b'c')] {
        let mut writer = store.part_writer(None, None).expect("writer");
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
            checksum: None,
        },
        RequestedPart {
            part_number: 3,
            etag: etags[2].clone(),
            checksum: None,
        },
    ];
    let completed = store
        .complete_upload(
            &b,
            "mp",
            &upload.upload_id,
            &requested,
            1 << 20,
            WriteCondition::default(),
        )
        .await
        .expect("complete");
    assert_eq!(completed.size, 2 << 20);
    let version = store.object(&b, "mp").await.expect("object");
    assert_eq!(version.etag, completed.etag);
    let data = read(&store, &b, "mp").await;
    assert!(
        data[..1 << 20].iter().all(|x| *x == b'a') && data[1 << 20..].iter().all(|x| *x == b'c')
    );
    assert_eq!(version.crc64, coffer_proto::checksum::crc64(&data));
    store.settle().await;
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
        .copy_object(&version, &b, "copy", attributes(), "1", None)
        .await
        .expect("copy");
    assert_eq!(copy.etag, version.etag);
    store.delete_object(&b, "mp").await.expect("delete");
    store.settle().await;
    assert_eq!(read(&store, &b, "copy").await, data);
    store.delete_object(&b, "copy").await.expect("delete");
    store.settle().await;
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
        let store = coffer_store_embedded::open(dir.path()).await.expect("open");
        let b = bucket(&store, "b").await;
        // An abandoned upload leaves nothing behind.
        let mut writer = store.object_writer(None, None).expect("writer");
        writer
            .write(Bytes::from(vec![1u8; 200_000]))
            .await
            .expect("write");
        drop(writer);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(store.blob_count().await.expect("count"), 0);
        // A staged blob whose metadata never commits (as if the process died in between).
        let mut writer = store.object_writer(None, None).expect("writer");
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
    let store = coffer_store_embedded::open(dir.path())
        .await
        .expect("reopen");
    assert_eq!(
        store.blob_count().await.expect("count"),
        1,
        "the start-up sweep removed the orphan"
    );
    let b = store.bucket("b").await.expect("bucket");
    assert_eq!(read(&store, &b, "kept").await, vec![2u8; 300_000]);
}

/// An upload of `key` with parts 1..=n of 1 MiB each (byte `b'a' + number`); returns its id
/// and the parts as a completion names them.
async fn upload_with_parts(
    store: &Store,
    b: &BucketRecord,
    key: &str,
    n: u32,
) -> (String, Vec<RequestedPart>) {
    let upload = store
        .create_upload(b, key, attributes(), "1", default_checksum())
        .await
        .expect("upload");
    let mut requested = Vec::new();
    for number in 1..=n {
        let mut writer = store.part_writer(None, None).expect("writer");
        let fill = b'a' + u8::try_from(number).expect("small");
        writer
            .write(Bytes::from(vec![fill; 1 << 20]))
            .await
            .expect("write");
        let staged = writer.finish().await.expect("finish");
        let part = store
            .put_part(b, key, &upload.upload_id, number, staged)
            .await
            .expect("part");
        requested.push(RequestedPart {
            part_number: number,
            etag: part.etag(),
            checksum: None,
        });
    }
    (upload.upload_id, requested)
}

fn condition(if_match: Option<&str>, if_none_match: Option<&str>) -> WriteCondition {
    WriteCondition {
        if_match: if_match.map(str::to_string),
        if_none_match: if_none_match.map(str::to_string),
    }
}

#[tokio::test]
async fn a_completion_sent_again_gets_the_same_receipt_even_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = coffer_store_embedded::open(dir.path()).await.expect("open");
    let b = bucket(&store, "b").await;
    let (upload_id, requested) = upload_with_parts(&store, &b, "mp", 2).await;
    let first = store
        .complete_upload(
            &b,
            "mp",
            &upload_id,
            &requested,
            1 << 20,
            condition(None, None),
        )
        .await
        .expect("complete");
    // The same parts, ETags unquoted this time, and a condition that no longer holds (the
    // object now exists): a retry of the completion that succeeded.
    let unquoted: Vec<RequestedPart> = requested
        .iter()
        .map(|p| RequestedPart {
            part_number: p.part_number,
            etag: p.etag.trim_matches('"').to_string(),
            checksum: None,
        })
        .collect();
    let again = store
        .complete_upload(
            &b,
            "mp",
            &upload_id,
            &unquoted,
            1 << 20,
            condition(None, Some("*")),
        )
        .await
        .expect("the retry succeeds");
    assert_eq!(again, first);
    store
        .check_completable(&b, "mp", &upload_id)
        .await
        .expect("completable");
    // A different part list is not a retry.
    let fewer = store
        .complete_upload(
            &b,
            "mp",
            &upload_id,
            &requested[..1],
            1 << 20,
            condition(None, None),
        )
        .await;
    assert!(matches!(fewer, Err(StoreError::NoSuchUpload)), "{fewer:?}");
    // Everything else about the upload is gone.
    assert!(matches!(
        store.upload(&b, "mp", &upload_id).await,
        Err(StoreError::NoSuchUpload)
    ));
    assert!(matches!(
        store.abort_upload(&b, "mp", &upload_id).await,
        Err(StoreError::NoSuchUpload)
    ));
    let (parts, _) = store
        .parts(&b, "mp", &upload_id, 0, 10)
        .await
        .expect("parts");
    assert!(parts.is_empty());
    // The receipt is durable: it answers after a restart.
    store.close().await.expect("close");
    drop(store);
    let store = coffer_store_embedded::open(dir.path())
        .await
        .expect("reopen");
    let b = store.bucket("b").await.expect("bucket");
    let after_restart = store
        .complete_upload(
            &b,
            "mp",
            &upload_id,
            &requested,
            1 << 20,
            condition(None, None),
        )
        .await
        .expect("the retry after a restart succeeds");
    assert_eq!(after_restart, first);
    let version = store.object(&b, "mp").await.expect("object");
    assert_eq!((version.etag, version.crc64), (first.etag, first.crc64));
}

#[tokio::test]
async fn a_retry_racing_its_original_commit_gets_the_receipt() {
    let (store, _dir) = store().await;
    let b = bucket(&store, "b").await;
    let (upload_id, requested) = upload_with_parts(&store, &b, "mp", 2).await;
    // Both completions read the upload before either commits (the group commit takes them
    // in one batch, or one after the other).
    let complete = || {
        store.complete_upload(
            &b,
            "mp",
            &upload_id,
            &requested,
            1 << 20,
            condition(None, None),
        )
    };
    let (r1, r2, r3, r4) = tokio::join!(complete(), complete(), complete(), complete());
    let results = [r1, r2, r3, r4];
    let first = results[0].as_ref().expect("complete").clone();
    for result in &results {
        assert_eq!(result.as_ref().expect("every copy succeeds"), &first);
    }
    // One object, sharing the parts' blobs exactly once.
    let data = read(&store, &b, "mp").await;
    assert_eq!(data.len(), 2 << 20);
    store.delete_object(&b, "mp").await.expect("delete");
    store.settle().await;
    assert_eq!(store.blob_count().await.expect("count"), 0);
}

#[tokio::test]
async fn expired_receipts_stop_answering_and_are_pruned_at_start_up_and_on_the_way() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(coffer_proto::time::now_millis());
    let config = StoreConfig {
        clock: std::sync::Arc::new(clock.clone()),
        completed_retention: std::time::Duration::from_secs(60),
        ..config()
    };
    let store = coffer_store_embedded::open_with(dir.path(), config.clone())
        .await
        .expect("open");
    let b = bucket(&store, "b").await;
    let mut ids = Vec::new();
    for key in ["one", "two"] {
        let (upload_id, requested) = upload_with_parts(&store, &b, key, 1).await;
        store
            .complete_upload(
                &b,
                key,
                &upload_id,
                &requested,
                1 << 20,
                condition(None, None),
            )
            .await
            .expect("complete");
        // A minute later the receipt has expired: no time is waited, the clock moves.
        clock.advance(std::time::Duration::from_secs(61));
        let retry = store
            .complete_upload(
                &b,
                key,
                &upload_id,
                &requested,
                1 << 20,
                condition(None, None),
            )
            .await;
        assert!(matches!(retry, Err(StoreError::NoSuchUpload)), "{retry:?}");
        ids.push((key, upload_id));
    }
    // The second completion pruned the first's expired receipt on its way.
    let kept = |key: &'static str, id: String| {
        let store = store.clone();
        let b = b.clone();
        async move {
            store
                .meta()
                .completed_upload(&b, key, &id)
                .await
                .expect("read")
        }
    };
    assert!(kept(ids[0].0, ids[0].1.clone()).await.is_none());
    assert!(kept(ids[1].0, ids[1].1.clone()).await.is_some());
    store.close().await.expect("close");
    drop(store);
    // Start-up prunes the rest.
    let store = coffer_store_embedded::open_with(dir.path(), config)
        .await
        .expect("reopen");
    let b = store.bucket("b").await.expect("bucket");
    let left = store
        .meta()
        .completed_upload(&b, ids[1].0, &ids[1].1)
        .await
        .expect("read");
    assert!(left.is_none());
    assert_eq!(store.prune_completed_uploads().await.expect("prune"), 0);
}

#[tokio::test]
async fn completion_conditions_are_checked_in_the_commit() {
    let (store, _dir) = store().await;
    let b = bucket(&store, "b").await;
    // If-None-Match: * against an object written after the upload began.
    let (upload_id, requested) = upload_with_parts(&store, &b, "k", 1).await;
    put(&store, &b, "k", b"meanwhile").await;
    let refused = store
        .complete_upload(
            &b,
            "k",
            &upload_id,
            &requested,
            1 << 20,
            condition(None, Some("*")),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::PreconditionFailed)),
        "{refused:?}"
    );
    // Refused changes nothing: the upload is still there and the object unchanged.
    store
        .upload(&b, "k", &upload_id)
        .await
        .expect("upload kept");
    assert_eq!(read(&store, &b, "k").await, b"meanwhile");
    let current = store.object(&b, "k").await.expect("object").etag;
    let wrong = store
        .complete_upload(
            &b,
            "k",
            &upload_id,
            &requested,
            1 << 20,
            condition(Some("\"0\""), None),
        )
        .await;
    assert!(
        matches!(wrong, Err(StoreError::PreconditionFailed)),
        "{wrong:?}"
    );
    let done = store
        .complete_upload(
            &b,
            "k",
            &upload_id,
            &requested,
            1 << 20,
            condition(Some(&current), None),
        )
        .await
        .expect("If-Match on the current ETag");
    assert_eq!(store.object(&b, "k").await.expect("object").etag, done.etag);
    // If-Match on a missing key fails with NoSuchKey (as S3 answers); If-None-Match: * on
    // it succeeds.
    let (upload_id, requested) = upload_with_parts(&store, &b, "new", 1).await;
    let missing = store
        .complete_upload(
            &b,
            "new",
            &upload_id,
            &requested,
            1 << 20,
            condition(Some("*"), None),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NoSuchKey)), "{missing:?}");
    store
        .complete_upload(
            &b,
            "new",
            &upload_id,
            &requested,
            1 << 20,
            condition(None, Some("*")),
        )
        .await
        .expect("If-None-Match: * on a new key");
}

#[tokio::test]
async fn the_online_sweep_leaves_young_unreferenced_blobs_to_their_writers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(coffer_proto::time::now_millis());
    let config = StoreConfig {
        clock: std::sync::Arc::new(clock.clone()),
        ..config()
    };
    let store = coffer_store_embedded::open_with(dir.path(), config)
        .await
        .expect("open");
    let b = bucket(&store, "b").await;
    put(&store, &b, "kept", &[2u8; 300_000]).await;
    // A blob written and finished but not (yet) committed: on a shared blob store, another
    // node's PUT between its blob's fsync and its metadata commit looks like this.
    let mut writer = store.object_writer(None, None).expect("writer");
    writer
        .write(Bytes::from(vec![1u8; 200_000]))
        .await
        .expect("write");
    let staged = writer.finish().await.expect("finish");
    assert_eq!(store.blob_count().await.expect("count"), 2);
    assert_eq!(
        store.sweep_orphans_online().await.expect("sweep"),
        Some(0),
        "younger than the minimum age: left alone"
    );
    assert_eq!(store.blob_count().await.expect("count"), 2);
    // Past the minimum age it is an orphan; the referenced blob stays.
    clock.advance(store.config().orphan_min_age + std::time::Duration::from_secs(1));
    assert_eq!(store.sweep_orphans_online().await.expect("sweep"), Some(1));
    assert_eq!(store.blob_count().await.expect("count"), 1);
    assert_eq!(read(&store, &b, "kept").await, vec![2u8; 300_000]);
    std::mem::forget(staged);
}

//! Metadata cases: records, conditions, reference counts, multipart bookkeeping, reopen.

use super::MetadataFactory;
use crate::error::StoreError;
use crate::meta::{Completion, CompletionOutcome, ExpectedPart, MetadataStore, Seek, UploadSeek};
use crate::model::{
    AccountRecord, Acl, BlobId, BucketRecord, CompletedPart, CompletedUpload, DataLocation, Extent,
    ObjectAttributes, ObjectKind, ObjectVersion, PartRecord, PutOptions, UploadRecord,
    WriteCondition,
};
use std::collections::HashSet;
use std::sync::Arc;

/// Opens a fresh backend for a case.
pub(super) async fn open(factory: &dyn MetadataFactory, name: &str) -> Arc<dyn MetadataStore> {
    factory
        .open(name)
        .await
        .unwrap_or_else(|e| panic!("{name}: opening the backend failed: {e}"))
}

/// Creates a bucket owned by uin 1.
pub(super) async fn bucket(meta: &dyn MetadataStore, name: &str) -> BucketRecord {
    meta.create_bucket(bucket_record(name, "1"))
        .await
        .unwrap_or_else(|e| panic!("creating bucket {name}: {e}"))
}

fn bucket_record(name: &str, owner: &str) -> BucketRecord {
    BucketRecord {
        name: name.into(),
        id: 0,
        owner_uin: owner.into(),
        region: "ap-test".into(),
        created_ms: 1,
        acl: Acl::default(),
    }
}

/// A version whose bytes are the given blobs, whole (`len` bytes each).
pub(super) fn version(etag: &str, blobs: &[BlobId]) -> ObjectVersion {
    ObjectVersion {
        version_id: None,
        size: 10 * blobs.len() as u64,
        etag: format!("\"{etag}\""),
        crc64: 0,
        last_modified_ms: 1_000,
        kind: ObjectKind::Normal,
        attributes: ObjectAttributes::default(),
        owner_uin: "1".into(),
        data: DataLocation::Extents(
            blobs
                .iter()
                .map(|blob| Extent {
                    blob: *blob,
                    offset: 0,
                    len: 10,
                })
                .collect(),
        ),
        parts: Vec::new(),
        checksum: None,
    }
}

fn inline_version(etag: &str, id: u128, len: u64) -> ObjectVersion {
    ObjectVersion {
        size: len,
        data: DataLocation::Inline(id),
        ..version(etag, &[])
    }
}

fn unconditional() -> PutOptions {
    PutOptions::default()
}

fn when(if_match: Option<&str>, if_none_match: Option<&str>) -> PutOptions {
    PutOptions {
        shares_blobs: false,
        condition: condition(if_match, if_none_match),
    }
}

fn condition(if_match: Option<&str>, if_none_match: Option<&str>) -> WriteCondition {
    WriteCondition {
        if_match: if_match.map(str::to_string),
        if_none_match: if_none_match.map(str::to_string),
    }
}

/// Puts `version` unconditionally; returns the released blobs.
pub(super) async fn put(
    meta: &dyn MetadataStore,
    bucket: &BucketRecord,
    key: &str,
    version: ObjectVersion,
) -> Vec<BlobId> {
    meta.put_object(bucket, key, version, None, unconditional())
        .await
        .unwrap_or_else(|e| panic!("put {key:?}: {e}"))
}

async fn etag_of(meta: &dyn MetadataStore, bucket: &BucketRecord, key: &str) -> Option<String> {
    meta.object(bucket, key)
        .await
        .expect("object")
        .map(|v| v.etag)
}

pub(super) fn upload_record(key: &str, upload_id: &str) -> UploadRecord {
    UploadRecord {
        upload_id: upload_id.into(),
        key: key.into(),
        initiated_ms: 1_000,
        attributes: ObjectAttributes::default(),
        owner_uin: "1".into(),
        checksum: None,
    }
}

fn part(number: u32, blob: BlobId, md5: u8) -> PartRecord {
    PartRecord {
        part_number: number,
        size: 10,
        md5: [md5; 16],
        crc64: 0,
        last_modified_ms: 1_000,
        extents: vec![Extent {
            blob,
            offset: 0,
            len: 10,
        }],
        checksum: None,
    }
}

/// The completion of `upload_id` of `key` from `parts` (number, md5 byte, blob), made at
/// `now_ms` and kept until `expires_ms`.
fn completion(
    key: &str,
    upload_id: &str,
    parts: &[(u32, u8, BlobId)],
    condition: WriteCondition,
    now_ms: i64,
    expires_ms: i64,
) -> Completion {
    let blobs: Vec<BlobId> = parts.iter().map(|p| p.2).collect();
    let version = ObjectVersion {
        kind: ObjectKind::Multipart,
        last_modified_ms: now_ms,
        ..version(&format!("mp-{}", parts.len()), &blobs)
    };
    Completion {
        expected: parts
            .iter()
            .map(|(number, md5, _)| ExpectedPart {
                part_number: *number,
                md5: [*md5; 16],
            })
            .collect(),
        receipt: CompletedUpload {
            upload_id: upload_id.into(),
            key: key.into(),
            parts: parts
                .iter()
                .map(|(number, md5, _)| CompletedPart {
                    part_number: *number,
                    md5: [*md5; 16],
                })
                .collect(),
            etag: version.etag.clone(),
            crc64: 0,
            size: version.size,
            completed_ms: now_ms,
            expires_ms,
            checksum: None,
        },
        version,
        condition,
    }
}

fn sorted(mut blobs: Vec<BlobId>) -> Vec<BlobId> {
    blobs.sort();
    blobs
}

pub(super) async fn accounts_are_unique_by_secret_id_and_uin(factory: &dyn MetadataFactory) {
    let meta = open(factory, "accounts").await;
    let account = |secret_id: &str, uin: &str| AccountRecord {
        secret_id: secret_id.into(),
        secret_key: "key".into(),
        appid: "1250000000".into(),
        uin: uin.into(),
        created_ms: 1,
        admin: false,
    };
    meta.create_account(account("AKIDa", "100"))
        .await
        .expect("create");
    let again = meta.create_account(account("AKIDa", "101")).await;
    assert!(matches!(again, Err(StoreError::AccountExists)), "{again:?}");
    let uin = meta.create_account(account("AKIDb", "100")).await;
    assert!(matches!(uin, Err(StoreError::UinInUse)), "{uin:?}");
    meta.create_account(account("AKIDb", "101"))
        .await
        .expect("create");
    let found = meta.account("AKIDa").await.expect("account");
    assert_eq!(found.map(|a| a.uin), Some("100".to_string()));
    let all: Vec<String> = meta
        .accounts()
        .await
        .expect("accounts")
        .into_iter()
        .map(|a| a.secret_id)
        .collect();
    assert_eq!(all, ["AKIDa", "AKIDb"]);
    meta.delete_account("AKIDa").await.expect("delete");
    assert!(meta.account("AKIDa").await.expect("account").is_none());
    let gone = meta.delete_account("AKIDa").await;
    assert!(matches!(gone, Err(StoreError::NoSuchAccount)), "{gone:?}");
}

pub(super) async fn buckets_get_distinct_ids_and_delete_only_when_empty(
    factory: &dyn MetadataFactory,
) {
    let meta = open(factory, "buckets").await;
    let a = bucket(meta.as_ref(), "a").await;
    let b = bucket(meta.as_ref(), "b").await;
    assert_ne!(a.id, b.id, "bucket ids are distinct");
    let mine = meta.create_bucket(bucket_record("a", "1")).await;
    assert!(
        matches!(
            mine,
            Err(StoreError::BucketAlreadyExists {
                owned_by_caller: true
            })
        ),
        "{mine:?}"
    );
    let theirs = meta.create_bucket(bucket_record("a", "2")).await;
    assert!(
        matches!(
            theirs,
            Err(StoreError::BucketAlreadyExists {
                owned_by_caller: false
            })
        ),
        "{theirs:?}"
    );
    let names: Vec<String> = meta
        .buckets()
        .await
        .expect("buckets")
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    put(meta.as_ref(), &a, "k", version("1", &[])).await;
    let full = meta.delete_bucket("a").await;
    assert!(matches!(full, Err(StoreError::BucketNotEmpty)), "{full:?}");
    meta.create_upload(&b, upload_record("u", "001"))
        .await
        .expect("upload");
    let uploading = meta.delete_bucket("b").await;
    assert!(
        matches!(uploading, Err(StoreError::BucketNotEmpty)),
        "{uploading:?}"
    );
    meta.delete_object(&a, "k").await.expect("delete");
    meta.delete_bucket("a").await.expect("delete empty bucket");
    assert!(meta.bucket("a").await.expect("bucket").is_none());
    let gone = meta.delete_bucket("a").await;
    assert!(matches!(gone, Err(StoreError::NoSuchBucket)), "{gone:?}");
}

pub(super) async fn a_recreated_bucket_does_not_see_writes_meant_for_the_old_one(
    factory: &dyn MetadataFactory,
) {
    let meta = open(factory, "recreated").await;
    let old = bucket(meta.as_ref(), "b").await;
    meta.delete_bucket("b").await.expect("delete");
    let new = bucket(meta.as_ref(), "b").await;
    assert_ne!(old.id, new.id, "a recreated bucket gets a new id");
    let stale = meta
        .put_object(&old, "k", version("1", &[]), None, unconditional())
        .await;
    assert!(matches!(stale, Err(StoreError::NoSuchBucket)), "{stale:?}");
    assert!(meta.object(&new, "k").await.expect("object").is_none());
}

/// Keys in bytewise order, with bytes ≥ 0x80, `/`, spaces and the largest code point.
pub(super) const ORDERED_KEYS: &[&str] = &[
    " lead",
    "!",
    "+plus",
    "-",
    ".",
    "/root",
    "A",
    "Z",
    "a",
    "a b",
    "a!",
    "a-",
    "a.b",
    "a/",
    "a//b",
    "a/b",
    "a/b/",
    "a/b/c",
    "a/c",
    "a0",
    "aa",
    "b/z",
    "b/é",
    "z",
    "~",
    "\u{7f}",
    "\u{80}",
    "é",
    "é/x",
    "日本/語",
    "日本語",
    "\u{fffd}",
    "\u{10000}",
    "\u{10ffff}",
];

pub(super) async fn keys_order_bytewise(factory: &dyn MetadataFactory) {
    let meta = open(factory, "ordering").await;
    let b = bucket(meta.as_ref(), "b").await;
    let mut expected: Vec<&str> = ORDERED_KEYS.to_vec();
    expected.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    assert_eq!(
        expected, ORDERED_KEYS,
        "the fixture itself is in byte order"
    );
    // Written in reverse, read in order.
    for key in ORDERED_KEYS.iter().rev() {
        put(meta.as_ref(), &b, key, version(key, &[])).await;
    }
    let all = meta
        .scan_objects(&b, "", Seek::At(""), 1000)
        .await
        .expect("scan");
    let keys: Vec<&str> = all.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ORDERED_KEYS);
    for (key, v) in &all {
        assert_eq!(v.etag, format!("\"{key}\""), "each key has its own version");
    }
    // Seeks and prefixes.
    let scan = |prefix: &'static str, from: Seek<'static>, limit: usize| {
        let meta = meta.clone();
        let b = b.clone();
        async move {
            meta.scan_objects(&b, prefix, from, limit)
                .await
                .expect("scan")
                .into_iter()
                .map(|(k, _)| k)
                .collect::<Vec<String>>()
        }
    };
    assert_eq!(
        scan("a/", Seek::At(""), 100).await,
        ["a/", "a//b", "a/b", "a/b/", "a/b/c", "a/c"]
    );
    assert_eq!(scan("a/", Seek::After("a/b"), 2).await, ["a/b/", "a/b/c"]);
    assert_eq!(scan("a/", Seek::At("a/b"), 1).await, ["a/b"]);
    assert_eq!(scan("a/", Seek::Past("a/b"), 100).await, ["a/c"]);
    assert_eq!(
        scan("a/", Seek::Past("a/"), 100).await,
        Vec::<String>::new()
    );
    assert_eq!(scan("", Seek::Past("a"), 3).await, ["b/z", "b/é", "z"]);
    assert_eq!(scan("", Seek::After("\u{7f}"), 2).await, ["\u{80}", "é"]);
    assert_eq!(scan("日本", Seek::At(""), 10).await, ["日本/語", "日本語"]);
    assert_eq!(scan("", Seek::At("zz"), 2).await, ["~", "\u{7f}"]);
    assert_eq!(
        scan("", Seek::Past("\u{10ffff}"), 10).await,
        Vec::<String>::new()
    );
    assert_eq!(scan("a", Seek::At("b"), 10).await, Vec::<String>::new());
    assert_eq!(scan("b/z", Seek::At(""), 10).await, ["b/z"]);
    assert_eq!(scan("", Seek::At(""), 0).await, Vec::<String>::new());
}

pub(super) async fn inline_data_lives_and_dies_with_its_version(factory: &dyn MetadataFactory) {
    let meta = open(factory, "inline").await;
    let b = bucket(meta.as_ref(), "b").await;
    meta.put_object(
        &b,
        "k",
        inline_version("1", 7, 5),
        Some(b"hello".to_vec()),
        unconditional(),
    )
    .await
    .expect("put");
    assert_eq!(meta.inline_data(7).await.expect("inline"), b"hello");
    let released = put(meta.as_ref(), &b, "k", version("2", &[BlobId(1)])).await;
    assert!(released.is_empty(), "inline data is not a blob");
    let gone = meta.inline_data(7).await;
    assert!(matches!(gone, Err(StoreError::NoSuchKey)), "{gone:?}");
    meta.put_object(
        &b,
        "k2",
        inline_version("3", 8, 3),
        Some(b"abc".to_vec()),
        unconditional(),
    )
    .await
    .expect("put");
    let (removed, released) = meta.delete_object(&b, "k2").await.expect("delete");
    assert_eq!(removed.map(|v| v.etag), Some("\"3\"".to_string()));
    assert!(released.is_empty());
    assert!(meta.inline_data(8).await.is_err());
    let (none, _) = meta.delete_object(&b, "k2").await.expect("delete again");
    assert!(none.is_none(), "deleting an absent key removes nothing");
}

pub(super) async fn conditional_puts_check_the_current_version(factory: &dyn MetadataFactory) {
    let meta = open(factory, "conditions").await;
    let b = bucket(meta.as_ref(), "b").await;
    let refused = |r: crate::error::StoreResult<Vec<BlobId>>| {
        assert!(matches!(r, Err(StoreError::PreconditionFailed)), "{r:?}");
    };
    // Absent key: If-Match fails with NoSuchKey (as S3 answers), If-None-Match * succeeds.
    for if_match in ["*", "\"1\""] {
        let absent = meta
            .put_object(&b, "k", version("1", &[]), None, when(Some(if_match), None))
            .await;
        assert!(matches!(absent, Err(StoreError::NoSuchKey)), "{absent:?}");
    }
    meta.put_object(&b, "k", version("1", &[]), None, when(None, Some("*")))
        .await
        .expect("If-None-Match * on an absent key");
    // Present key.
    refused(
        meta.put_object(&b, "k", version("2", &[]), None, when(None, Some("*")))
            .await,
    );
    refused(
        meta.put_object(&b, "k", version("2", &[]), None, when(None, Some("\"1\"")))
            .await,
    );
    refused(
        meta.put_object(&b, "k", version("2", &[]), None, when(Some("\"9\""), None))
            .await,
    );
    meta.put_object(&b, "k", version("2", &[]), None, when(Some("\"1\""), None))
        .await
        .expect("If-Match the current ETag");
    meta.put_object(&b, "k", version("3", &[]), None, when(Some("*"), None))
        .await
        .expect("If-Match *");
    meta.put_object(&b, "k", version("4", &[]), None, when(None, Some("\"1\"")))
        .await
        .expect("If-None-Match an older ETag");
    assert_eq!(
        etag_of(meta.as_ref(), &b, "k").await.as_deref(),
        Some("\"4\"")
    );
}

pub(super) async fn refused_writes_change_nothing(factory: &dyn MetadataFactory) {
    let meta = open(factory, "refused").await;
    let b = bucket(meta.as_ref(), "b").await;
    put(meta.as_ref(), &b, "k", version("1", &[BlobId(1)])).await;
    // A refused inline put stores no inline bytes and keeps the current version.
    let refused = meta
        .put_object(
            &b,
            "k",
            inline_version("2", 9, 1),
            Some(b"x".to_vec()),
            when(None, Some("*")),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::PreconditionFailed)),
        "{refused:?}"
    );
    assert!(meta.inline_data(9).await.is_err());
    // A copy of a blob nobody references fails and adds no reference.
    let copy = meta
        .put_object(
            &b,
            "copy",
            version("c", &[BlobId(1), BlobId(77)]),
            None,
            PutOptions {
                shares_blobs: true,
                condition: WriteCondition::default(),
            },
        )
        .await;
    assert!(matches!(copy, Err(StoreError::VersionReplaced)), "{copy:?}");
    assert!(meta.object(&b, "copy").await.expect("object").is_none());
    assert_eq!(
        meta.blobs_referenced(&[BlobId(1), BlobId(77)])
            .await
            .expect("referenced"),
        [true, false]
    );
    // A part for a missing upload.
    let part = meta
        .put_part(&b, "k", "nope", part(1, BlobId(5), 1), false)
        .await;
    assert!(matches!(part, Err(StoreError::NoSuchUpload)), "{part:?}");
    assert_eq!(
        meta.blobs_referenced(&[BlobId(5)])
            .await
            .expect("referenced"),
        [false]
    );
    // The version is untouched, and its blob is released exactly once when overwritten.
    assert_eq!(
        etag_of(meta.as_ref(), &b, "k").await.as_deref(),
        Some("\"1\"")
    );
    assert_eq!(
        put(meta.as_ref(), &b, "k", version("3", &[])).await,
        [BlobId(1)]
    );
}

pub(super) async fn concurrent_conditional_writers_on_one_key_have_one_winner(
    factory: &dyn MetadataFactory,
) {
    const WRITERS: usize = 16;
    let meta = open(factory, "concurrent").await;
    let b = bucket(meta.as_ref(), "b").await;
    let race = |round: &'static str, options: PutOptions| {
        let meta = meta.clone();
        let b = b.clone();
        async move {
            let tasks: Vec<_> = (0..WRITERS)
                .map(|i| {
                    let meta = meta.clone();
                    let b = b.clone();
                    let options = options.clone();
                    tokio::spawn(async move {
                        let etag = format!("{round}-{i}");
                        let result = meta
                            .put_object(&b, "k", version(&etag, &[]), None, options)
                            .await;
                        (etag, result)
                    })
                })
                .collect();
            let mut winners = Vec::new();
            for task in tasks {
                let (etag, result) = task.await.expect("task");
                match result {
                    Ok(_) => winners.push(etag),
                    Err(StoreError::PreconditionFailed) => {}
                    Err(e) => panic!("a racing writer failed otherwise: {e}"),
                }
            }
            winners
        }
    };
    // Create-if-absent: exactly one creates the key.
    let winners = race("create", when(None, Some("*"))).await;
    assert_eq!(winners.len(), 1, "{winners:?}");
    let current = etag_of(meta.as_ref(), &b, "k").await.expect("present");
    assert_eq!(current, format!("\"{}\"", winners[0]));
    // Compare-and-swap on the current ETag: exactly one replaces it.
    let winners = race("swap", when(Some(&current), None)).await;
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(
        etag_of(meta.as_ref(), &b, "k").await,
        Some(format!("\"{}\"", winners[0]))
    );
    // Unconditional writers all succeed; the last commit wins and is one of them.
    let tasks: Vec<_> = (0..WRITERS)
        .map(|i| {
            let meta = meta.clone();
            let b = b.clone();
            tokio::spawn(async move {
                meta.put_object(
                    &b,
                    "k",
                    version(&format!("free-{i}"), &[]),
                    None,
                    unconditional(),
                )
                .await
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("unconditional put");
    }
    let last = etag_of(meta.as_ref(), &b, "k").await.expect("present");
    assert!(last.starts_with("\"free-"), "{last}");
}

pub(super) async fn blobs_are_released_exactly_once_when_the_last_reference_goes(
    factory: &dyn MetadataFactory,
) {
    let meta = open(factory, "refcounts").await;
    let b = bucket(meta.as_ref(), "b").await;
    let (x, y, z) = (BlobId(10), BlobId(11), BlobId(12));
    put(meta.as_ref(), &b, "one", version("1", &[x, y])).await;
    // A copy shares the blobs.
    meta.put_object(
        &b,
        "two",
        version("1", &[x, y]),
        None,
        PutOptions {
            shares_blobs: true,
            condition: WriteCondition::default(),
        },
    )
    .await
    .expect("copy");
    // A version that uses one blob twice (a copy of a slice of itself).
    meta.put_object(
        &b,
        "three",
        version("3", &[y, y]),
        None,
        PutOptions {
            shares_blobs: true,
            condition: WriteCondition::default(),
        },
    )
    .await
    .expect("copy");
    assert!(put(meta.as_ref(), &b, "one", version("4", &[z]))
        .await
        .is_empty());
    let (_, released) = meta.delete_object(&b, "two").await.expect("delete");
    assert_eq!(released, [x], "x had two references, y still has two");
    assert_eq!(
        meta.blobs_referenced(&[x, y, z]).await.expect("referenced"),
        [false, true, true]
    );
    let (_, released) = meta.delete_object(&b, "three").await.expect("delete");
    assert_eq!(released, [y]);
    let (_, released) = meta.delete_object(&b, "one").await.expect("delete");
    assert_eq!(released, [z]);
    assert_eq!(
        meta.blobs_referenced(&[x, y, z]).await.expect("referenced"),
        [false, false, false]
    );
}

pub(super) async fn parts_replace_page_and_abort_releases_them(factory: &dyn MetadataFactory) {
    let meta = open(factory, "parts").await;
    let b = bucket(meta.as_ref(), "b").await;
    meta.create_upload(&b, upload_record("k", "u1"))
        .await
        .expect("create");
    let found = meta.upload(&b, "k", "u1").await.expect("upload");
    assert_eq!(found.map(|u| u.upload_id), Some("u1".to_string()));
    assert!(meta
        .upload(&b, "other", "u1")
        .await
        .expect("upload")
        .is_none());
    for number in [3, 1, 2, 10_000] {
        let released = meta
            .put_part(
                &b,
                "k",
                "u1",
                part(number, BlobId(100 + u128::from(number)), 1),
                false,
            )
            .await
            .expect("part");
        assert!(released.is_empty());
    }
    // Replacing a part releases the replaced blob.
    let released = meta
        .put_part(&b, "k", "u1", part(2, BlobId(200), 2), false)
        .await
        .expect("replace");
    assert_eq!(released, [BlobId(102)]);
    let numbers = |parts: &[PartRecord]| parts.iter().map(|p| p.part_number).collect::<Vec<_>>();
    let (page, more) = meta.parts(&b, "k", "u1", 0, 2).await.expect("parts");
    assert_eq!((numbers(&page), more), (vec![1, 2], true));
    assert_eq!(page[1].md5, [2; 16], "the replacement is stored");
    let (page, more) = meta.parts(&b, "k", "u1", 2, 2).await.expect("parts");
    assert_eq!((numbers(&page), more), (vec![3, 10_000], false));
    let (page, more) = meta.parts(&b, "k", "u1", 10_000, 2).await.expect("parts");
    assert_eq!((numbers(&page), more), (vec![], false));
    // Uploads of another key do not share parts.
    meta.create_upload(&b, upload_record("k2", "u1"))
        .await
        .expect("create");
    let (page, _) = meta.parts(&b, "k2", "u1", 0, 10).await.expect("parts");
    assert!(page.is_empty());
    // Abort releases every part's blob.
    let released = meta.abort_upload(&b, "k", "u1").await.expect("abort");
    assert_eq!(
        sorted(released),
        [BlobId(101), BlobId(103), BlobId(200), BlobId(10_100)]
    );
    assert!(meta.upload(&b, "k", "u1").await.expect("upload").is_none());
    let again = meta.abort_upload(&b, "k", "u1").await;
    assert!(matches!(again, Err(StoreError::NoSuchUpload)), "{again:?}");
    let late = meta
        .put_part(&b, "k", "u1", part(4, BlobId(300), 1), false)
        .await;
    assert!(matches!(late, Err(StoreError::NoSuchUpload)), "{late:?}");
    // A part copy must find its source blobs referenced.
    let copy = meta
        .put_part(&b, "k2", "u1", part(1, BlobId(101), 1), true)
        .await;
    assert!(matches!(copy, Err(StoreError::VersionReplaced)), "{copy:?}");
}

pub(super) async fn completion_checks_parts_and_condition_in_the_commit(
    factory: &dyn MetadataFactory,
) {
    let meta = open(factory, "completion-checks").await;
    let b = bucket(meta.as_ref(), "b").await;
    meta.create_upload(&b, upload_record("k", "u"))
        .await
        .expect("create");
    for (number, blob) in [(1, BlobId(1)), (2, BlobId(2)), (3, BlobId(3))] {
        meta.put_part(&b, "k", "u", part(number, blob, number as u8), false)
            .await
            .expect("part");
    }
    let complete = |parts: Vec<(u32, u8, BlobId)>, condition: WriteCondition| {
        let meta = meta.clone();
        let b = b.clone();
        async move {
            meta.complete_upload(
                &b,
                "k",
                "u",
                completion("k", "u", &parts, condition, 1_000, 61_000),
            )
            .await
        }
    };
    // A part whose MD5 changed since the caller read it.
    let stale = complete(
        vec![(1, 1, BlobId(1)), (2, 9, BlobId(2))],
        WriteCondition::default(),
    )
    .await;
    assert!(
        matches!(stale, Err(StoreError::InvalidPart(2))),
        "{stale:?}"
    );
    let missing = complete(vec![(4, 4, BlobId(4))], WriteCondition::default()).await;
    assert!(
        matches!(missing, Err(StoreError::InvalidPart(4))),
        "{missing:?}"
    );
    // The key's condition, checked in the commit: a PUT landed first.
    put(meta.as_ref(), &b, "k", version("first", &[])).await;
    let refused = complete(vec![(1, 1, BlobId(1))], condition(None, Some("*"))).await;
    assert!(
        matches!(refused, Err(StoreError::PreconditionFailed)),
        "{refused:?}"
    );
    // Refusals changed nothing.
    assert!(meta.upload(&b, "k", "u").await.expect("upload").is_some());
    assert_eq!(
        etag_of(meta.as_ref(), &b, "k").await.as_deref(),
        Some("\"first\"")
    );
    // Completing from parts 1 and 3 releases part 2's blob; the object owns 1 and 3.
    let done = complete(
        vec![(1, 1, BlobId(1)), (3, 3, BlobId(3))],
        condition(Some("\"first\""), None),
    )
    .await
    .expect("complete");
    match done {
        CompletionOutcome::Completed(released) => assert_eq!(released, [BlobId(2)]),
        other => panic!("expected a completion, got {other:?}"),
    }
    assert_eq!(
        etag_of(meta.as_ref(), &b, "k").await.as_deref(),
        Some("\"mp-2\"")
    );
    assert!(meta.upload(&b, "k", "u").await.expect("upload").is_none());
    let (parts, _) = meta.parts(&b, "k", "u", 0, 10).await.expect("parts");
    assert!(parts.is_empty(), "the parts went with the upload");
    assert_eq!(
        meta.blobs_referenced(&[BlobId(1), BlobId(2), BlobId(3)])
            .await
            .expect("referenced"),
        [true, false, true]
    );
    let (_, released) = meta.delete_object(&b, "k").await.expect("delete");
    assert_eq!(sorted(released), [BlobId(1), BlobId(3)]);
}

pub(super) async fn completion_keeps_a_receipt_that_answers_retries(factory: &dyn MetadataFactory) {
    let meta = open(factory, "receipts").await;
    let b = bucket(meta.as_ref(), "b").await;
    meta.create_upload(&b, upload_record("k", "u"))
        .await
        .expect("create");
    meta.put_part(&b, "k", "u", part(1, BlobId(1), 1), false)
        .await
        .expect("part");
    meta.put_part(&b, "k", "u", part(2, BlobId(2), 2), false)
        .await
        .expect("part");
    let parts = [(1, 1, BlobId(1)), (2, 2, BlobId(2))];
    let first = meta
        .complete_upload(
            &b,
            "k",
            "u",
            completion("k", "u", &parts, WriteCondition::default(), 1_000, 61_000),
        )
        .await
        .expect("complete");
    assert!(
        matches!(first, CompletionOutcome::Completed(ref r) if r.is_empty()),
        "{first:?}"
    );
    let receipt = meta
        .completed_upload(&b, "k", "u")
        .await
        .expect("receipt")
        .expect("a receipt is kept");
    assert_eq!(
        (receipt.etag.as_str(), receipt.expires_ms),
        ("\"mp-2\"", 61_000)
    );
    // The same part list again, whatever its condition: answered from the receipt.
    let retry = meta
        .complete_upload(
            &b,
            "k",
            "u",
            completion("k", "u", &parts, condition(None, Some("*")), 30_000, 90_000),
        )
        .await
        .expect("retry");
    match retry {
        CompletionOutcome::AlreadyCompleted(kept) => assert_eq!(kept, receipt),
        other => panic!("expected the receipt, got {other:?}"),
    }
    // Another part list, or after expiry: the upload is gone.
    let other = meta
        .complete_upload(
            &b,
            "k",
            "u",
            completion(
                "k",
                "u",
                &parts[..1],
                WriteCondition::default(),
                30_000,
                90_000,
            ),
        )
        .await;
    assert!(matches!(other, Err(StoreError::NoSuchUpload)), "{other:?}");
    let expired = meta
        .complete_upload(
            &b,
            "k",
            "u",
            completion("k", "u", &parts, WriteCondition::default(), 61_000, 121_000),
        )
        .await;
    assert!(
        matches!(expired, Err(StoreError::NoSuchUpload)),
        "{expired:?}"
    );
    // Never there at all.
    let never = meta
        .complete_upload(
            &b,
            "k",
            "x",
            completion("k", "x", &parts, WriteCondition::default(), 1_000, 61_000),
        )
        .await;
    assert!(matches!(never, Err(StoreError::NoSuchUpload)), "{never:?}");
    // An aborted upload keeps no receipt.
    meta.create_upload(&b, upload_record("k", "v"))
        .await
        .expect("create");
    meta.abort_upload(&b, "k", "v").await.expect("abort");
    assert!(meta
        .completed_upload(&b, "k", "v")
        .await
        .expect("receipt")
        .is_none());
}

pub(super) async fn racing_completions_commit_once(factory: &dyn MetadataFactory) {
    const RACERS: usize = 8;
    let meta = open(factory, "racing-completions").await;
    let b = bucket(meta.as_ref(), "b").await;
    meta.create_upload(&b, upload_record("k", "u"))
        .await
        .expect("create");
    meta.put_part(&b, "k", "u", part(1, BlobId(1), 1), false)
        .await
        .expect("part");
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let meta = meta.clone();
            let b = b.clone();
            tokio::spawn(async move {
                let parts = [(1, 1, BlobId(1))];
                meta.complete_upload(
                    &b,
                    "k",
                    "u",
                    completion("k", "u", &parts, WriteCondition::default(), 1_000, 61_000),
                )
                .await
            })
        })
        .collect();
    let mut completed = 0;
    for task in tasks {
        match task.await.expect("task").expect("every racer succeeds") {
            CompletionOutcome::Completed(released) => {
                completed += 1;
                assert!(released.is_empty());
            }
            CompletionOutcome::AlreadyCompleted(receipt) => assert_eq!(receipt.upload_id, "u"),
        }
    }
    assert_eq!(completed, 1, "exactly one racer commits");
    assert_eq!(
        meta.blobs_referenced(&[BlobId(1)])
            .await
            .expect("referenced"),
        [true]
    );
}

pub(super) async fn expired_receipts_are_pruned_in_bounded_batches(factory: &dyn MetadataFactory) {
    let meta = open(factory, "pruning").await;
    let b = bucket(meta.as_ref(), "b").await;
    // Three receipts expiring at 10 s, 20 s, 30 s (the clock is the caller's).
    for (i, key) in ["a", "b", "c"].into_iter().enumerate() {
        let now = 1_000 * (i as i64 + 1);
        meta.create_upload(&b, upload_record(key, "u"))
            .await
            .expect("create");
        meta.put_part(&b, key, "u", part(1, BlobId(i as u128 + 1), 1), false)
            .await
            .expect("part");
        let parts = [(1, 1, BlobId(i as u128 + 1))];
        meta.complete_upload(
            &b,
            key,
            "u",
            completion(
                key,
                "u",
                &parts,
                WriteCondition::default(),
                now,
                10_000 * (i as i64 + 1),
            ),
        )
        .await
        .expect("complete");
    }
    assert_eq!(
        meta.prune_completed_uploads(9_999, 10)
            .await
            .expect("prune"),
        0
    );
    assert_eq!(
        meta.prune_completed_uploads(20_000, 1)
            .await
            .expect("prune"),
        1
    );
    assert!(meta
        .completed_upload(&b, "a", "u")
        .await
        .expect("receipt")
        .is_none());
    assert_eq!(
        meta.prune_completed_uploads(20_000, 10)
            .await
            .expect("prune"),
        1
    );
    assert!(meta
        .completed_upload(&b, "b", "u")
        .await
        .expect("receipt")
        .is_none());
    assert!(meta
        .completed_upload(&b, "c", "u")
        .await
        .expect("receipt")
        .is_some());
    assert_eq!(
        meta.prune_completed_uploads(20_000, 10)
            .await
            .expect("prune"),
        0
    );
    // A completion prunes expired receipts on its way, never its own.
    meta.create_upload(&b, upload_record("d", "u"))
        .await
        .expect("create");
    meta.put_part(&b, "d", "u", part(1, BlobId(9), 1), false)
        .await
        .expect("part");
    let parts = [(1, 1, BlobId(9))];
    meta.complete_upload(
        &b,
        "d",
        "u",
        completion("d", "u", &parts, WriteCondition::default(), 40_000, 40_000),
    )
    .await
    .expect("complete");
    assert!(meta
        .completed_upload(&b, "c", "u")
        .await
        .expect("receipt")
        .is_none());
    assert!(meta
        .completed_upload(&b, "d", "u")
        .await
        .expect("receipt")
        .is_some());
    assert_eq!(
        meta.prune_completed_uploads(40_000, 10)
            .await
            .expect("prune"),
        1
    );
}

pub(super) async fn everything_survives_close_and_reopen(factory: &dyn MetadataFactory) {
    let name = "reopen";
    let meta = open(factory, name).await;
    let b = bucket(meta.as_ref(), "b").await;
    meta.create_account(AccountRecord {
        secret_id: "AKIDr".into(),
        secret_key: "k".into(),
        appid: "1".into(),
        uin: "9".into(),
        created_ms: 1,
        admin: true,
    })
    .await
    .expect("account");
    put(meta.as_ref(), &b, "blob", version("1", &[BlobId(1)])).await;
    meta.put_object(
        &b,
        "inline",
        inline_version("2", 5, 2),
        Some(b"hi".to_vec()),
        unconditional(),
    )
    .await
    .expect("put");
    meta.create_upload(&b, upload_record("mp", "u"))
        .await
        .expect("create");
    meta.put_part(&b, "mp", "u", part(1, BlobId(2), 1), false)
        .await
        .expect("part");
    meta.create_upload(&b, upload_record("done", "u"))
        .await
        .expect("create");
    meta.put_part(&b, "done", "u", part(1, BlobId(3), 1), false)
        .await
        .expect("part");
    meta.complete_upload(
        &b,
        "done",
        "u",
        completion(
            "done",
            "u",
            &[(1, 1, BlobId(3))],
            WriteCondition::default(),
            1_000,
            99_000,
        ),
    )
    .await
    .expect("complete");
    meta.close().await.expect("close");
    drop(meta);

    let meta = open(factory, name).await;
    let b = meta
        .bucket("b")
        .await
        .expect("bucket")
        .expect("the bucket is kept");
    assert!(meta.account("AKIDr").await.expect("account").is_some());
    assert_eq!(
        etag_of(meta.as_ref(), &b, "blob").await.as_deref(),
        Some("\"1\"")
    );
    assert_eq!(meta.inline_data(5).await.expect("inline"), b"hi");
    assert!(meta.upload(&b, "mp", "u").await.expect("upload").is_some());
    let (parts, _) = meta.parts(&b, "mp", "u", 0, 10).await.expect("parts");
    assert_eq!(parts.len(), 1);
    assert!(meta
        .completed_upload(&b, "done", "u")
        .await
        .expect("receipt")
        .is_some());
    assert_eq!(
        meta.blobs_referenced(&[BlobId(1), BlobId(2), BlobId(3), BlobId(4)])
            .await
            .expect("referenced"),
        [true, true, true, false]
    );
    let uploads = meta
        .scan_uploads(&b, "", UploadSeek::Key(Seek::At("")), 10)
        .await
        .expect("uploads");
    assert_eq!(uploads.len(), 1);
    // Reference counts survived too: one overwrite releases the blob.
    assert_eq!(
        put(meta.as_ref(), &b, "blob", version("3", &[])).await,
        [BlobId(1)]
    );
    // New buckets still get fresh ids.
    let c = bucket(meta.as_ref(), "c").await;
    assert_ne!(c.id, b.id);
    let ids: HashSet<u64> = meta
        .buckets()
        .await
        .expect("buckets")
        .iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(ids.len(), 2);
}

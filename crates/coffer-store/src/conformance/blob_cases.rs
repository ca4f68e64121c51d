//! Blob cases: write, finish, read ranges, delete, paged listing, abandoned writers, reopen.
//!
//! The blob traits are blocking by design (see [`crate::blob`]); the cases call them from
//! blocking threads, as the store does.

use super::BlobFactory;
use crate::blob::BlobStore;
use crate::model::BlobId;
use std::collections::HashSet;
use std::sync::Arc;

async fn open(factory: &dyn BlobFactory, name: &str) -> Arc<dyn BlobStore> {
    factory
        .open(name)
        .await
        .unwrap_or_else(|e| panic!("{name}: opening the blob store failed: {e}"))
}

/// Runs `f` on a blocking thread with the store.
async fn blocking<T: Send + 'static>(
    store: &Arc<dyn BlobStore>,
    f: impl FnOnce(&dyn BlobStore) -> T + Send + 'static,
) -> T {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .expect("blocking task")
}

/// Writes and finishes a blob of `data` in chunks of `chunk`.
fn write(store: &dyn BlobStore, data: &[u8], chunk: usize) -> BlobId {
    let mut writer = store.create().expect("create");
    for piece in data.chunks(chunk.max(1)) {
        writer.write_all(piece).expect("write");
    }
    let id = writer.id();
    writer.finish().expect("finish");
    id
}

/// Every blob, through the paged listing with pages of `page`.
fn list_all(store: &dyn BlobStore, page: usize) -> Vec<BlobId> {
    let mut out: Vec<BlobId> = Vec::new();
    loop {
        let batch = store.list_page(out.last().copied(), page).expect("list");
        assert!(batch.len() <= page, "a page holds at most its limit");
        let full = batch.len() == page;
        out.extend(batch);
        if !full {
            return out;
        }
    }
}

fn read(store: &dyn BlobStore, id: BlobId, offset: u64, len: usize) -> Vec<u8> {
    let reader = store.open(id).expect("open");
    let mut buf = vec![0u8; len];
    let mut filled = 0;
    while filled < len {
        let n = reader
            .read_at(offset + filled as u64, &mut buf[filled..])
            .expect("read");
        if n == 0 {
            break;
        }
        filled += n;
    }
    buf.truncate(filled);
    buf
}

pub(super) async fn written_blobs_read_back_by_ranges(factory: &dyn BlobFactory) {
    let store = open(factory, "ranges").await;
    blocking(&store, |store| {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let id = write(store, &data, 65_536 + 7);
        assert_eq!(store.size_of(id).expect("size"), data.len() as u64);
        assert_eq!(read(store, id, 0, data.len()), data);
        assert_eq!(read(store, id, 1_234_567, 10), &data[1_234_567..1_234_577]);
        // Reading at or past the end yields nothing; across it, the tail.
        assert_eq!(read(store, id, data.len() as u64, 10), Vec::<u8>::new());
        assert_eq!(
            read(store, id, data.len() as u64 + 100, 10),
            Vec::<u8>::new()
        );
        assert_eq!(
            read(store, id, data.len() as u64 - 3, 10),
            &data[data.len() - 3..]
        );
        let empty = write(store, b"", 1);
        assert_eq!(store.size_of(empty).expect("size"), 0);
        assert_eq!(read(store, empty, 0, 4), Vec::<u8>::new());
        let other = write(store, b"other", 2);
        assert_ne!(other, id, "every blob gets a fresh id");
        assert_eq!(read(store, other, 0, 5), b"other");
    })
    .await;
}

pub(super) async fn deleting_is_idempotent_and_final(factory: &dyn BlobFactory) {
    let store = open(factory, "delete").await;
    blocking(&store, |store| {
        let id = write(store, b"doomed", 3);
        let kept = write(store, b"kept", 3);
        store.delete(id).expect("delete");
        store.delete(id).expect("deleting again is fine");
        store
            .delete(BlobId(0xdead_beef))
            .expect("deleting a blob never written is fine");
        assert!(store.open(id).is_err(), "a deleted blob cannot be opened");
        assert_eq!(list_all(store, 10), [kept]);
        assert_eq!(read(store, kept, 0, 4), b"kept");
    })
    .await;
}

pub(super) async fn unfinished_writers_leave_nothing(factory: &dyn BlobFactory) {
    let store = open(factory, "abandoned").await;
    blocking(&store, |store| {
        let mut writer = store.create().expect("create");
        writer.write_all(&[7u8; 100_000]).expect("write");
        let id = writer.id();
        drop(writer);
        let empty = store.create().expect("create");
        drop(empty);
        assert!(
            list_all(store, 10).is_empty(),
            "abandoned writes are not listed"
        );
        assert!(store.open(id).is_err());
    })
    .await;
}

pub(super) async fn listing_pages_through_every_blob_once(factory: &dyn BlobFactory) {
    let store = open(factory, "listing").await;
    blocking(&store, |store| {
        assert!(list_all(store, 5).is_empty());
        let mut written: Vec<BlobId> = (0..600).map(|i| write(store, &[i as u8], 1)).collect();
        written.sort();
        for page in [1, 7, 256, 10_000] {
            let listed = list_all(store, page);
            assert_eq!(
                listed, written,
                "pages of {page}: every blob once, in id order"
            );
        }
        // A page starts strictly after the id given, present or not.
        let middle = written[300];
        assert_eq!(
            store.list_page(Some(middle), 3).expect("list"),
            &written[301..304]
        );
        let absent = BlobId(middle.0 + 1);
        let after_absent = store.list_page(Some(absent), 1).expect("list");
        assert!(after_absent.iter().all(|id| id.0 > absent.0));
        assert!(store
            .list_page(Some(BlobId(u128::MAX)), 10)
            .expect("list")
            .is_empty());
        assert!(store.list_page(None, 0).expect("list").is_empty());
        let unique: HashSet<BlobId> = written.iter().copied().collect();
        assert_eq!(unique.len(), written.len());
    })
    .await;
}

pub(super) async fn finished_blobs_survive_reopen(factory: &dyn BlobFactory) {
    let name = "reopen";
    let store = open(factory, name).await;
    let (id, dropped) = blocking(&store, |store| {
        let id = write(store, b"durable", 4);
        let mut unfinished = store.create().expect("create");
        unfinished.write_all(b"never finished").expect("write");
        let dropped = unfinished.id();
        drop(unfinished);
        (id, dropped)
    })
    .await;
    drop(store);
    let store = open(factory, name).await;
    blocking(&store, move |store| {
        assert_eq!(read(store, id, 0, 7), b"durable");
        assert_eq!(list_all(store, 10), [id]);
        assert!(store.open(dropped).is_err());
    })
    .await;
}

pub(super) async fn blobs_tell_when_they_were_last_written(factory: &dyn BlobFactory) {
    let store = open(factory, "modified").await;
    let now_ms = || {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after the epoch");
        i64::try_from(since.as_millis()).expect("fits")
    };
    let before = now_ms();
    let (id, modified, missing) = blocking(&store, |store| {
        let id = write(store, b"dated", 2);
        let modified = store.modified_ms(id).expect("modified");
        let missing = store.modified_ms(BlobId(7)).expect("missing blob");
        (id, modified, missing)
    })
    .await;
    let after = now_ms();
    // Filesystem timestamps may be coarser than the clock: allow two seconds either way.
    let modified = modified.expect("a written blob has a modification time");
    assert!(
        (before - 2_000..=after + 2_000).contains(&modified),
        "{before} <= {modified} <= {after}"
    );
    assert_eq!(missing, None, "a missing blob has none");
    blocking(&store, move |store| {
        store.delete(id).expect("delete");
        assert_eq!(store.modified_ms(id).expect("deleted blob"), None);
    })
    .await;
}

//! The embedded metadata store on [redb](https://docs.rs/redb): one file, ACID, fsync'd
//! commits, MVCC readers that never wait for writers.
//!
//! Writes go through a single writer thread that *group-commits*: it takes every operation
//! queued while the previous commit was being made durable and applies them in one
//! transaction, so N concurrent PUTs cost one fsync, not N. An operation validates before it
//! writes anything, so a rejected operation (e.g. `NoSuchUpload`) leaves the shared
//! transaction untouched. If a commit fails (an fsync error) the store is poisoned: every
//! later write fails rather than continuing on a file whose durable state is unknown.

use async_trait::async_trait;
use coffer_store::codec::Record;
use coffer_store::listing::prefix_end;
use coffer_store::meta::{Completion, CompletionOutcome, MetadataStore, Seek, UploadSeek};
use coffer_store::model::{
    AccountRecord, BlobId, BucketRecord, CompletedUpload, ConditionFailure, DataLocation,
    ObjectVersion, PartRecord, PutOptions, UploadRecord, WriteCondition,
};
use coffer_store::{StoreError, StoreResult};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const ACCOUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new("accounts");
const BUCKETS: TableDefinition<&str, &[u8]> = TableDefinition::new("buckets");
/// bucket id (8 bytes BE) ‖ key → ObjectVersion
const OBJECTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("objects");
/// inline data id → bytes
const INLINE: TableDefinition<u128, &[u8]> = TableDefinition::new("inline");
/// bucket id ‖ key ‖ 0x00 ‖ upload id → UploadRecord
const UPLOADS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("uploads");
/// bucket id ‖ key ‖ 0x00 ‖ upload id ‖ 0x00 ‖ part number (4 bytes BE) → PartRecord
const PARTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("parts");
/// blob id → number of records referencing it
const BLOB_REFS: TableDefinition<u128, u64> = TableDefinition::new("blob_refs");
/// bucket id ‖ key ‖ 0x00 ‖ upload id → CompletedUpload (receipts of completed uploads)
const COMPLETED: TableDefinition<&[u8], &[u8]> = TableDefinition::new("completed_uploads");
/// expiry (milliseconds, 8 bytes BE) ‖ the receipt's COMPLETED key → (): receipts by expiry,
/// so pruning reads only expired entries
const COMPLETED_EXPIRY: TableDefinition<&[u8], ()> = TableDefinition::new("completed_expiry");

const SCHEMA_VERSION_KEY: &str = "schema_version";
const NEXT_BUCKET_ID_KEY: &str = "next_bucket_id";
const SCHEMA_VERSION: u64 = 1;
/// Most operations one group commit takes.
const MAX_BATCH: usize = 1024;
/// Most expired completion receipts a completion prunes on its way: more than the one it
/// adds, so receipts never accumulate beyond a day's completions, and few enough that a
/// completion's commit stays small.
const LAZY_PRUNE: usize = 8;

type Reply = Box<dyn FnOnce(Option<&str>) + Send>;
type Job = Box<dyn FnOnce(&WriteTransaction) -> (Reply, bool) + Send>;

/// What the writer thread receives.
enum Message {
    /// An operation for the next group commit.
    Op(Job),
    /// Finish the queued operations and stop, releasing the database.
    Stop,
}

/// The redb-backed [`MetadataStore`].
#[derive(Debug, Clone)]
pub struct RedbMetadata {
    db: Arc<Database>,
    jobs: mpsc::Sender<Message>,
    poisoned: Arc<AtomicBool>,
    writer: Arc<std::sync::Mutex<Option<std::thread::JoinHandle<()>>>>,
}

/// An error inside this backend on its way to becoming a [`StoreError`]: redb's error types
/// and `StoreError` are both foreign here, so redb's convert through this one.
#[derive(Debug)]
struct Fault(StoreError);

/// Results inside this backend.
type Res<T> = std::result::Result<T, Fault>;

impl From<StoreError> for Fault {
    fn from(e: StoreError) -> Fault {
        Fault(e)
    }
}

impl From<Fault> for StoreError {
    fn from(fault: Fault) -> StoreError {
        fault.0
    }
}

impl From<std::io::Error> for Fault {
    fn from(e: std::io::Error) -> Fault {
        Fault(StoreError::Io(e))
    }
}

macro_rules! internal_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Fault {
            fn from(e: $t) -> Self { Fault(StoreError::Internal(e.to_string())) }
        }
    )*};
}
internal_from!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// Decodes a record (see `coffer_store::codec`).
fn decode<T: Record>(bytes: &[u8]) -> Res<T> {
    Ok(coffer_store::codec::decode(bytes)?)
}

/// Encodes a record in its current format.
fn encode<T: Record>(value: &T) -> Res<Vec<u8>> {
    Ok(coffer_store::codec::encode(value)?)
}

impl RedbMetadata {
    /// Opens (creating if needed) the database file and starts the writer thread.
    pub fn open(path: &Path) -> StoreResult<RedbMetadata> {
        Ok(RedbMetadata::open_db(path)?)
    }

    fn open_db(path: &Path) -> Res<RedbMetadata> {
        // The file holds secret keys: created 0600 before redb opens it (redb would create it
        // with the umask's mode), and tightened if an older version left it readable.
        coffer_store::private::ensure_private_file(path)?;
        let db = Database::builder().set_cache_size(256 << 20).create(path)?;
        let txn = db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let version = meta.get(SCHEMA_VERSION_KEY)?.map(|v| v.value());
            match version {
                None => {
                    meta.insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION)?;
                    meta.insert(NEXT_BUCKET_ID_KEY, 1)?;
                }
                Some(SCHEMA_VERSION) => {}
                Some(other) => {
                    return Err(StoreError::Corrupt(format!(
                        "metadata schema version {other} is newer than this build understands"
                    ))
                    .into())
                }
            }
            txn.open_table(ACCOUNTS)?;
            txn.open_table(BUCKETS)?;
            txn.open_table(OBJECTS)?;
            txn.open_table(INLINE)?;
            txn.open_table(UPLOADS)?;
            txn.open_table(PARTS)?;
            txn.open_table(BLOB_REFS)?;
            txn.open_table(COMPLETED)?;
            txn.open_table(COMPLETED_EXPIRY)?;
        }
        txn.commit()?;
        let db = Arc::new(db);
        let poisoned = Arc::new(AtomicBool::new(false));
        let (jobs, receiver) = mpsc::channel::<Message>();
        let writer_db = db.clone();
        let writer_poison = poisoned.clone();
        let writer = std::thread::Builder::new()
            .name("coffer-meta-writer".into())
            .spawn(move || writer_loop(writer_db, &receiver, &writer_poison))?;
        Ok(RedbMetadata {
            db,
            jobs,
            poisoned,
            writer: Arc::new(std::sync::Mutex::new(Some(writer))),
        })
    }

    /// Runs `op` inside the next group commit and returns its result once durable.
    async fn write<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Res<T> + Send + 'static,
    {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(StoreError::Internal(
                "metadata store is poisoned by an earlier commit failure".into(),
            ));
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |txn| {
            let result = op(txn).map_err(StoreError::from);
            let fatal = matches!(
                result,
                Err(StoreError::Internal(_) | StoreError::Io(_) | StoreError::Corrupt(_))
            );
            let completion: Reply = Box::new(move |batch_error| {
                let outcome = match (batch_error, result) {
                    (Some(message), Ok(_)) => Err(StoreError::Internal(message.to_string())),
                    (_, result) => result,
                };
                let _ = reply.send(outcome);
            });
            (completion, fatal)
        });
        self.jobs
            .send(Message::Op(job))
            .map_err(|_| StoreError::Internal("metadata writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Internal("metadata writer dropped an operation".into()))?
    }

    /// Stops the writer thread after the queued operations and waits for it. Later writes
    /// fail; reads keep working until the last handle is dropped.
    pub fn close_writer(&self) {
        let _ = self.jobs.send(Message::Stop);
        let handle = self.writer.lock().ok().and_then(|mut guard| guard.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }

    fn read(&self) -> Res<redb::ReadTransaction> {
        Ok(self.db.begin_read()?)
    }

    /// Runs a read against one snapshot.
    fn read_op<T>(&self, op: impl FnOnce(&redb::ReadTransaction) -> Res<T>) -> StoreResult<T> {
        let txn = self.read()?;
        Ok(op(&txn)?)
    }

    /// One record of a name-keyed table.
    fn get_named<T: Record>(
        &self,
        table: TableDefinition<&str, &[u8]>,
        name: &str,
    ) -> Res<Option<T>> {
        let txn = self.read()?;
        let table = txn.open_table(table)?;
        let found = table.get(name)?;
        found.map(|bytes| decode(bytes.value())).transpose()
    }

    /// Every record of a name-keyed table, in name order.
    fn all_named<T: Record>(&self, table: TableDefinition<&str, &[u8]>) -> Res<Vec<T>> {
        let txn = self.read()?;
        let table = txn.open_table(table)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (_, v) = entry?;
            out.push(decode(v.value())?);
        }
        Ok(out)
    }
}

fn writer_loop(db: Arc<Database>, receiver: &mpsc::Receiver<Message>, poisoned: &AtomicBool) {
    let mut stopping = false;
    while !stopping {
        let first = match receiver.recv() {
            Ok(Message::Op(job)) => job,
            Ok(Message::Stop) | Err(_) => break,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(Message::Op(job)) => batch.push(job),
                Ok(Message::Stop) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        if poisoned.load(Ordering::Acquire) {
            for job in batch {
                fail_job_unrun(job, "metadata store is poisoned");
            }
            continue;
        }
        let txn = match db.begin_write() {
            Ok(txn) => txn,
            Err(e) => {
                let message = format!("begin write: {e}");
                for job in batch {
                    fail_job_unrun(job, &message);
                }
                continue;
            }
        };
        let mut completions = Vec::with_capacity(batch.len());
        let mut abort = false;
        for job in batch {
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&txn)));
            match run {
                Ok((completion, fatal)) => {
                    abort |= fatal;
                    completions.push(completion);
                }
                Err(_) => abort = true,
            }
        }
        let batch_error = if abort {
            let _ = txn.abort();
            Some("the metadata transaction was aborted".to_string())
        } else {
            match txn.commit() {
                Ok(()) => None,
                Err(e) => {
                    tracing::error!(error = %e, "metadata commit failed; poisoning the store");
                    poisoned.store(true, Ordering::Release);
                    Some(format!("commit failed: {e}"))
                }
            }
        };
        for completion in completions {
            completion(batch_error.as_deref());
        }
    }
}

/// A job that could not run still owes its caller an answer: run it against nothing is not
/// possible, so it is dropped, which drops its reply channel and the caller sees an error.
fn fail_job_unrun(job: Job, message: &str) {
    tracing::error!(%message, "dropping metadata operation");
    drop(job);
}

fn object_key(bucket_id: u64, key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + key.len());
    out.extend_from_slice(&bucket_id.to_be_bytes());
    out.extend_from_slice(key.as_bytes());
    out
}

fn upload_key(bucket_id: u64, key: &str, upload_id: &str) -> Vec<u8> {
    let mut out = object_key(bucket_id, key);
    out.push(0);
    out.extend_from_slice(upload_id.as_bytes());
    out
}

fn part_key(upload_key: &[u8], part_number: u32) -> Vec<u8> {
    let mut out = upload_key.to_vec();
    out.push(0);
    out.extend_from_slice(&part_number.to_be_bytes());
    out
}

fn bucket_range_end(bucket_id: u64) -> Vec<u8> {
    (bucket_id + 1).to_be_bytes().to_vec()
}

fn check_bucket(txn: &WriteTransaction, bucket: &BucketRecord) -> Res<()> {
    let buckets = txn.open_table(BUCKETS)?;
    let current = buckets.get(bucket.name.as_str())?;
    match current {
        Some(bytes) if decode::<BucketRecord>(bytes.value())?.id == bucket.id => Ok(()),
        _ => Err(StoreError::NoSuchBucket.into()),
    }
}

fn check_blobs_exist<'a>(
    txn: &WriteTransaction,
    blobs: impl Iterator<Item = BlobId> + 'a,
) -> Res<bool> {
    let refs = txn.open_table(BLOB_REFS)?;
    for blob in blobs {
        if refs.get(blob.0)?.is_none() {
            return Ok(false);
        }
    }
    Ok(true)
}

fn add_refs(txn: &WriteTransaction, blobs: impl Iterator<Item = BlobId>) -> Res<()> {
    let mut refs = txn.open_table(BLOB_REFS)?;
    for blob in blobs {
        let count = refs.get(blob.0)?.map(|v| v.value()).unwrap_or(0);
        refs.insert(blob.0, count + 1)?;
    }
    Ok(())
}

fn drop_refs(
    txn: &WriteTransaction,
    blobs: impl Iterator<Item = BlobId>,
    released: &mut Vec<BlobId>,
) -> Res<()> {
    let mut refs = txn.open_table(BLOB_REFS)?;
    for blob in blobs {
        let count = refs.get(blob.0)?.map(|v| v.value()).unwrap_or(0);
        if count <= 1 {
            refs.remove(blob.0)?;
            released.push(blob);
        } else {
            refs.insert(blob.0, count - 1)?;
        }
    }
    Ok(())
}

/// Removes a version's data references (inline bytes or blob refs).
fn release_version(
    txn: &WriteTransaction,
    version: &ObjectVersion,
    released: &mut Vec<BlobId>,
) -> Res<()> {
    match &version.data {
        DataLocation::Inline(id) => {
            txn.open_table(INLINE)?.remove(*id)?;
        }
        DataLocation::Extents(_) => drop_refs(txn, version.data.blobs(), released)?,
    }
    Ok(())
}

/// Replaces the current version of a key, releasing the previous one.
fn install_version(
    txn: &WriteTransaction,
    bucket: &BucketRecord,
    key: &str,
    version: &ObjectVersion,
    released: &mut Vec<BlobId>,
) -> Res<()> {
    let encoded = encode(version)?;
    let previous = {
        let mut objects = txn.open_table(OBJECTS)?;
        let previous = objects.insert(object_key(bucket.id, key).as_slice(), encoded.as_slice())?;
        match previous {
            Some(bytes) => Some(decode::<ObjectVersion>(bytes.value())?),
            None => None,
        }
    };
    if let Some(previous) = previous {
        release_version(txn, &previous, released)?;
    }
    Ok(())
}

fn upload_part_keys(txn: &WriteTransaction, upload: &[u8]) -> Res<Vec<(Vec<u8>, PartRecord)>> {
    let parts = txn.open_table(PARTS)?;
    let mut start = upload.to_vec();
    start.push(0);
    let mut end = upload.to_vec();
    end.push(1);
    let mut out = Vec::new();
    for entry in parts.range(start.as_slice()..end.as_slice())? {
        let (k, v) = entry?;
        out.push((k.value().to_vec(), decode::<PartRecord>(v.value())?));
    }
    Ok(out)
}

/// Removes an upload record and its parts, dropping the parts' blob references.
fn remove_upload(
    txn: &WriteTransaction,
    upload: &[u8],
    parts: &[(Vec<u8>, PartRecord)],
    released: &mut Vec<BlobId>,
) -> Res<()> {
    {
        let mut parts_table = txn.open_table(PARTS)?;
        for (part_key, _) in parts {
            parts_table.remove(part_key.as_slice())?;
        }
    }
    for (_, part) in parts {
        drop_refs(txn, part.extents.iter().map(|e| e.blob), released)?;
    }
    txn.open_table(UPLOADS)?.remove(upload)?;
    Ok(())
}

/// Fails unless `condition` holds of the key's current version: `NoSuchKey` for an
/// `If-Match` on a key without one (as S3 answers), else `PreconditionFailed`.
fn check_condition(
    txn: &WriteTransaction,
    bucket: &BucketRecord,
    key: &str,
    condition: &WriteCondition,
) -> Res<()> {
    if condition.is_none() {
        return Ok(());
    }
    let objects = txn.open_table(OBJECTS)?;
    let current = objects.get(object_key(bucket.id, key).as_slice())?;
    let current_etag = match current {
        Some(bytes) => Some(decode::<ObjectVersion>(bytes.value())?.etag),
        None => None,
    };
    condition.check(current_etag.as_deref()).map_err(|failure| {
        match failure {
            ConditionFailure::NoCurrentVersion => StoreError::NoSuchKey,
            ConditionFailure::Mismatch => StoreError::PreconditionFailed,
        }
        .into()
    })
}

/// The receipts-by-expiry key of a receipt.
fn expiry_key(expires_ms: i64, completed: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + completed.len());
    out.extend_from_slice(&expires_ms.max(0).unsigned_abs().to_be_bytes());
    out.extend_from_slice(completed);
    out
}

/// A completion of an upload that is gone: the kept receipt, if it is live and names the
/// same parts (a retry of the completion that removed the upload), else `NoSuchUpload`.
fn replay_receipt(
    txn: &WriteTransaction,
    upload: &[u8],
    completion: &Completion,
) -> Res<CompletedUpload> {
    let receipt = {
        let completed = txn.open_table(COMPLETED)?;
        let found = completed.get(upload)?;
        match found {
            Some(bytes) => decode::<CompletedUpload>(bytes.value())?,
            None => return Err(StoreError::NoSuchUpload.into()),
        }
    };
    if completion.is_answered_by(&receipt) {
        Ok(receipt)
    } else {
        Err(StoreError::NoSuchUpload.into())
    }
}

/// Keeps a completion's receipt (replacing, with its index entry, any receipt of that key).
fn store_receipt(txn: &WriteTransaction, upload: &[u8], receipt: &CompletedUpload) -> Res<()> {
    let previous = {
        let mut completed = txn.open_table(COMPLETED)?;
        let previous = completed.insert(upload, encode(receipt)?.as_slice())?;
        match previous {
            Some(bytes) => Some(decode::<CompletedUpload>(bytes.value())?),
            None => None,
        }
    };
    let mut by_expiry = txn.open_table(COMPLETED_EXPIRY)?;
    if let Some(previous) = previous {
        by_expiry.remove(expiry_key(previous.expires_ms, upload).as_slice())?;
    }
    by_expiry.insert(expiry_key(receipt.expires_ms, upload).as_slice(), ())?;
    Ok(())
}

/// Removes at most `max` receipts that expired at or before `now_ms`.
fn prune_receipts(txn: &WriteTransaction, now_ms: i64, max: usize) -> Res<usize> {
    let end = expiry_key(now_ms.saturating_add(1), &[]);
    let expired: Vec<Vec<u8>> = {
        let by_expiry = txn.open_table(COMPLETED_EXPIRY)?;
        let mut out = Vec::new();
        for entry in by_expiry.range(..end.as_slice())?.take(max) {
            out.push(entry?.0.value().to_vec());
        }
        out
    };
    let mut by_expiry = txn.open_table(COMPLETED_EXPIRY)?;
    let mut completed = txn.open_table(COMPLETED)?;
    for index_key in &expired {
        by_expiry.remove(index_key.as_slice())?;
        if let Some(receipt_key) = index_key.get(8..) {
            completed.remove(receipt_key)?;
        }
    }
    Ok(expired.len())
}

#[async_trait]
impl MetadataStore for RedbMetadata {
    async fn create_account(&self, account: AccountRecord) -> StoreResult<()> {
        self.write(move |txn| {
            let mut accounts = txn.open_table(ACCOUNTS)?;
            if accounts.get(account.secret_id.as_str())?.is_some() {
                return Err(StoreError::AccountExists.into());
            }
            for entry in accounts.iter()? {
                let (_, value) = entry?;
                let existing: AccountRecord = decode(value.value())?;
                if existing.uin == account.uin {
                    return Err(StoreError::UinInUse.into());
                }
            }
            accounts.insert(account.secret_id.as_str(), encode(&account)?.as_slice())?;
            Ok(())
        })
        .await
    }

    async fn account(&self, secret_id: &str) -> StoreResult<Option<AccountRecord>> {
        Ok(self.get_named(ACCOUNTS, secret_id)?)
    }

    async fn accounts(&self) -> StoreResult<Vec<AccountRecord>> {
        Ok(self.all_named(ACCOUNTS)?)
    }

    async fn delete_account(&self, secret_id: &str) -> StoreResult<()> {
        let secret_id = secret_id.to_string();
        self.write(move |txn| {
            let mut accounts = txn.open_table(ACCOUNTS)?;
            if accounts.get(secret_id.as_str())?.is_none() {
                return Err(StoreError::NoSuchAccount.into());
            }
            accounts.remove(secret_id.as_str())?;
            Ok(())
        })
        .await
    }

    async fn create_bucket(&self, bucket: BucketRecord) -> StoreResult<BucketRecord> {
        self.write(move |txn| {
            let mut buckets = txn.open_table(BUCKETS)?;
            if let Some(existing) = buckets.get(bucket.name.as_str())? {
                let existing: BucketRecord = decode(existing.value())?;
                return Err(StoreError::BucketAlreadyExists {
                    owned_by_caller: existing.owner_uin == bucket.owner_uin,
                }
                .into());
            }
            let mut meta = txn.open_table(META)?;
            let id = meta
                .get(NEXT_BUCKET_ID_KEY)?
                .map(|v| v.value())
                .unwrap_or(1);
            meta.insert(NEXT_BUCKET_ID_KEY, id + 1)?;
            let bucket = BucketRecord { id, ..bucket };
            buckets.insert(bucket.name.as_str(), encode(&bucket)?.as_slice())?;
            Ok(bucket)
        })
        .await
    }

    async fn bucket(&self, name: &str) -> StoreResult<Option<BucketRecord>> {
        Ok(self.get_named(BUCKETS, name)?)
    }

    async fn buckets(&self) -> StoreResult<Vec<BucketRecord>> {
        Ok(self.all_named(BUCKETS)?)
    }

    async fn delete_bucket(&self, name: &str) -> StoreResult<()> {
        let name = name.to_string();
        self.write(move |txn| {
            let bucket: BucketRecord = {
                let buckets = txn.open_table(BUCKETS)?;
                let found = buckets.get(name.as_str())?;
                match found {
                    Some(bytes) => decode(bytes.value())?,
                    None => return Err(StoreError::NoSuchBucket.into()),
                }
            };
            let start = bucket.id.to_be_bytes();
            let end = bucket_range_end(bucket.id);
            for table in [OBJECTS, UPLOADS] {
                let t = txn.open_table(table)?;
                if t.range(start.as_slice()..end.as_slice())?.next().is_some() {
                    return Err(StoreError::BucketNotEmpty.into());
                }
            }
            txn.open_table(BUCKETS)?.remove(name.as_str())?;
            Ok(())
        })
        .await
    }

    async fn object(&self, bucket: &BucketRecord, key: &str) -> StoreResult<Option<ObjectVersion>> {
        self.read_op(|txn| {
            let objects = txn.open_table(OBJECTS)?;
            let found = objects.get(object_key(bucket.id, key).as_slice())?;
            found.map(|bytes| decode(bytes.value())).transpose()
        })
    }

    async fn inline_data(&self, id: u128) -> StoreResult<Vec<u8>> {
        self.read_op(|txn| {
            let inline = txn.open_table(INLINE)?;
            let found = inline.get(id)?;
            match found {
                Some(bytes) => Ok(bytes.value().to_vec()),
                None => Err(StoreError::NoSuchKey.into()),
            }
        })
    }

    async fn put_object(
        &self,
        bucket: &BucketRecord,
        key: &str,
        version: ObjectVersion,
        inline: Option<Vec<u8>>,
        options: PutOptions,
    ) -> StoreResult<Vec<BlobId>> {
        let bucket = bucket.clone();
        let key = key.to_string();
        self.write(move |txn| {
            check_bucket(txn, &bucket)?;
            if options.shares_blobs && !check_blobs_exist(txn, version.data.blobs())? {
                return Err(StoreError::VersionReplaced.into());
            }
            check_condition(txn, &bucket, &key, &options.condition)?;
            let mut released = Vec::new();
            if let (DataLocation::Inline(id), Some(bytes)) = (&version.data, &inline) {
                txn.open_table(INLINE)?.insert(*id, bytes.as_slice())?;
            }
            add_refs(txn, version.data.blobs())?;
            install_version(txn, &bucket, &key, &version, &mut released)?;
            Ok(released)
        })
        .await
    }

    async fn delete_object(
        &self,
        bucket: &BucketRecord,
        key: &str,
    ) -> StoreResult<(Option<ObjectVersion>, Vec<BlobId>)> {
        let bucket = bucket.clone();
        let key = key.to_string();
        self.write(move |txn| {
            check_bucket(txn, &bucket)?;
            let previous = {
                let mut objects = txn.open_table(OBJECTS)?;
                let removed = objects.remove(object_key(bucket.id, &key).as_slice())?;
                match removed {
                    Some(bytes) => Some(decode::<ObjectVersion>(bytes.value())?),
                    None => None,
                }
            };
            let mut released = Vec::new();
            if let Some(previous) = &previous {
                release_version(txn, previous, &mut released)?;
            }
            Ok((previous, released))
        })
        .await
    }

    async fn scan_objects(
        &self,
        bucket: &BucketRecord,
        prefix: &str,
        from: Seek<'_>,
        limit: usize,
    ) -> StoreResult<Vec<(String, ObjectVersion)>> {
        self.read_op(|txn| {
            let objects = txn.open_table(OBJECTS)?;
            scan_objects_in(&objects, bucket.id, prefix, from, limit)
        })
    }

    async fn create_upload(&self, bucket: &BucketRecord, upload: UploadRecord) -> StoreResult<()> {
        let bucket = bucket.clone();
        self.write(move |txn| {
            check_bucket(txn, &bucket)?;
            let key = upload_key(bucket.id, &upload.key, &upload.upload_id);
            txn.open_table(UPLOADS)?
                .insert(key.as_slice(), encode(&upload)?.as_slice())?;
            Ok(())
        })
        .await
    }

    async fn upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
    ) -> StoreResult<Option<UploadRecord>> {
        self.read_op(|txn| {
            let uploads = txn.open_table(UPLOADS)?;
            let found = uploads.get(upload_key(bucket.id, key, upload_id).as_slice())?;
            found.map(|bytes| decode(bytes.value())).transpose()
        })
    }

    async fn put_part(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
        part: PartRecord,
        shares_blobs: bool,
    ) -> StoreResult<Vec<BlobId>> {
        let upload = upload_key(bucket.id, key, upload_id);
        self.write(move |txn| {
            if txn.open_table(UPLOADS)?.get(upload.as_slice())?.is_none() {
                return Err(StoreError::NoSuchUpload.into());
            }
            let blobs = || part.extents.iter().map(|e| e.blob);
            if shares_blobs && !check_blobs_exist(txn, blobs())? {
                return Err(StoreError::VersionReplaced.into());
            }
            add_refs(txn, blobs())?;
            let previous = {
                let mut parts = txn.open_table(PARTS)?;
                let key = part_key(&upload, part.part_number);
                let previous = parts.insert(key.as_slice(), encode(&part)?.as_slice())?;
                match previous {
                    Some(bytes) => Some(decode::<PartRecord>(bytes.value())?),
                    None => None,
                }
            };
            let mut released = Vec::new();
            if let Some(previous) = previous {
                drop_refs(txn, previous.extents.iter().map(|e| e.blob), &mut released)?;
            }
            Ok(released)
        })
        .await
    }

    async fn parts(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
        after: u32,
        max: usize,
    ) -> StoreResult<(Vec<PartRecord>, bool)> {
        self.read_op(|txn| {
            let parts = txn.open_table(PARTS)?;
            let upload = upload_key(bucket.id, key, upload_id);
            let start = part_key(&upload, after.saturating_add(1));
            let mut end = upload.clone();
            end.push(1);
            let mut out = Vec::new();
            let mut truncated = false;
            for entry in parts.range(start.as_slice()..end.as_slice())? {
                let (_, v) = entry?;
                if out.len() == max {
                    truncated = true;
                    break;
                }
                out.push(decode(v.value())?);
            }
            Ok((out, truncated))
        })
    }

    async fn complete_upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
        completion: Completion,
    ) -> StoreResult<CompletionOutcome> {
        let bucket = bucket.clone();
        let key = key.to_string();
        let upload = upload_key(bucket.id, &key, upload_id);
        self.write(move |txn| {
            check_bucket(txn, &bucket)?;
            if txn.open_table(UPLOADS)?.get(upload.as_slice())?.is_none() {
                // Gone: completed by a request committed before this one (this may be its
                // retry, racing it), or aborted, or never there.
                let receipt = replay_receipt(txn, &upload, &completion)?;
                return Ok(CompletionOutcome::AlreadyCompleted(receipt));
            }
            let parts = upload_part_keys(txn, &upload)?;
            for wanted in &completion.expected {
                let found = parts
                    .iter()
                    .find(|(_, p)| p.part_number == wanted.part_number);
                match found {
                    Some((_, part)) if part.md5 == wanted.md5 => {}
                    _ => return Err(StoreError::InvalidPart(wanted.part_number).into()),
                }
            }
            check_condition(txn, &bucket, &key, &completion.condition)?;
            // Validation done; from here on every step writes.
            let mut released = Vec::new();
            let version = &completion.version;
            // The new version's references first, so blobs moving from parts to the object
            // never drop to zero.
            add_refs(txn, version.data.blobs())?;
            remove_upload(txn, &upload, &parts, &mut released)?;
            install_version(txn, &bucket, &key, version, &mut released)?;
            // Prune before keeping this receipt, which never counts as expired on its way in.
            prune_receipts(txn, completion.receipt.completed_ms, LAZY_PRUNE)?;
            store_receipt(txn, &upload, &completion.receipt)?;
            Ok(CompletionOutcome::Completed(released))
        })
        .await
    }

    async fn completed_upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
    ) -> StoreResult<Option<CompletedUpload>> {
        self.read_op(|txn| {
            let completed = txn.open_table(COMPLETED)?;
            let found = completed.get(upload_key(bucket.id, key, upload_id).as_slice())?;
            found.map(|bytes| decode(bytes.value())).transpose()
        })
    }

    async fn prune_completed_uploads(&self, now_ms: i64, max: usize) -> StoreResult<usize> {
        self.write(move |txn| prune_receipts(txn, now_ms, max))
            .await
    }

    async fn abort_upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
    ) -> StoreResult<Vec<BlobId>> {
        let upload = upload_key(bucket.id, key, upload_id);
        self.write(move |txn| {
            if txn.open_table(UPLOADS)?.get(upload.as_slice())?.is_none() {
                return Err(StoreError::NoSuchUpload.into());
            }
            let parts = upload_part_keys(txn, &upload)?;
            let mut released = Vec::new();
            remove_upload(txn, &upload, &parts, &mut released)?;
            Ok(released)
        })
        .await
    }

    async fn scan_uploads(
        &self,
        bucket: &BucketRecord,
        prefix: &str,
        from: UploadSeek<'_>,
        limit: usize,
    ) -> StoreResult<Vec<UploadRecord>> {
        self.read_op(|txn| {
            let uploads = txn.open_table(UPLOADS)?;
            scan_uploads_in(&uploads, bucket.id, prefix, from, limit)
        })
    }

    async fn close(&self) -> StoreResult<()> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.close_writer())
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))
    }

    async fn blobs_referenced(&self, blobs: &[BlobId]) -> StoreResult<Vec<bool>> {
        self.read_op(|txn| {
            let refs = txn.open_table(BLOB_REFS)?;
            blobs
                .iter()
                .map(|blob| Ok(refs.get(blob.0)?.is_some()))
                .collect()
        })
    }
}

/// The table-key range of `bucket_id`'s keys that begin with `prefix`, from `lower` (key
/// bytes, after the bucket id) on; `None` when empty.
fn key_range(bucket_id: u64, prefix: &str, lower: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut from = bucket_id.to_be_bytes().to_vec();
    from.extend_from_slice(lower.max(prefix.as_bytes()));
    let to = match prefix_end(prefix.as_bytes()) {
        Some(limit) if !prefix.is_empty() => {
            let mut to = bucket_id.to_be_bytes().to_vec();
            to.extend_from_slice(&limit);
            to
        }
        _ => bucket_range_end(bucket_id),
    };
    (from < to).then_some((from, to))
}

fn scan_objects_in(
    objects: &redb::ReadOnlyTable<&[u8], &[u8]>,
    bucket_id: u64,
    prefix: &str,
    from: Seek<'_>,
    limit: usize,
) -> Res<Vec<(String, ObjectVersion)>> {
    let Some((from, to)) = from
        .lower_bound()
        .and_then(|lower| key_range(bucket_id, prefix, &lower))
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(limit.min(1024));
    for entry in objects.range(from.as_slice()..to.as_slice())?.take(limit) {
        let (k, v) = entry?;
        let key = std::str::from_utf8(k.value().get(8..).unwrap_or_default())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        out.push((key.to_string(), decode(v.value())?));
    }
    Ok(out)
}

fn scan_uploads_in(
    uploads: &redb::ReadOnlyTable<&[u8], &[u8]>,
    bucket_id: u64,
    prefix: &str,
    from: UploadSeek<'_>,
    limit: usize,
) -> Res<Vec<UploadRecord>> {
    // Upload keys are key ‖ 0x00 ‖ upload id, and keys hold no NUL byte.
    let lower = match from {
        UploadSeek::Key(Seek::After(key)) => {
            let mut lower = key.as_bytes().to_vec();
            lower.push(1); // strictly after every upload of the key
            Some(lower)
        }
        UploadSeek::Key(seek) => seek.lower_bound(),
        UploadSeek::AfterUpload { key, upload_id } => {
            let mut lower = key.as_bytes().to_vec();
            lower.push(0);
            lower.extend_from_slice(upload_id.as_bytes());
            lower.push(0); // strictly after that upload
            Some(lower)
        }
    };
    let Some((from, to)) = lower.and_then(|lower| key_range(bucket_id, prefix, &lower)) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(limit.min(1024));
    for entry in uploads.range(from.as_slice()..to.as_slice())?.take(limit) {
        let (_, v) = entry?;
        out.push(decode(v.value())?);
    }
    Ok(out)
}

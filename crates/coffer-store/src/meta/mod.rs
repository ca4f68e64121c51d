//! Metadata stores: accounts, buckets, object versions, uploads and parts, each operation
//! atomic and durable before it returns.
//!
//! The trait speaks in records, not in HTTP or SQL. Implementations keep blob reference
//! counts beside the records they write: an operation that drops the last reference to a
//! blob returns it as *released*, and the caller deletes the file after the commit.

use crate::error::StoreResult;
use crate::model::{
    AccountRecord, BlobId, BucketRecord, CompletedUpload, ObjectVersion, PartRecord, PutOptions,
    UploadRecord, WriteCondition,
};
use async_trait::async_trait;

/// Parameters of an object listing (S3 ListObjects V1 semantics).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Only keys beginning with this.
    pub prefix: String,
    /// Roll keys containing this (after the prefix) up into common prefixes.
    pub delimiter: Option<String>,
    /// Start strictly after this key.
    pub marker: Option<String>,
    /// Most entries (objects plus common prefixes) to return.
    pub max_keys: usize,
}

/// One listing entry.
// Listings are mostly objects; boxing them would cost an allocation per entry.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum ListEntry {
    /// An object's current version.
    Object {
        /// The key.
        key: String,
        /// The version.
        version: ObjectVersion,
    },
    /// A common prefix (ends with the delimiter).
    CommonPrefix(String),
}

/// A page of a listing.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    /// Entries in key order.
    pub entries: Vec<ListEntry>,
    /// Whether more entries follow.
    pub is_truncated: bool,
    /// The last key or common prefix returned, when truncated.
    pub next_marker: Option<String>,
}

/// Parameters of a multipart-upload listing.
#[derive(Debug, Clone, Default)]
pub struct UploadListQuery {
    /// Only keys beginning with this.
    pub prefix: String,
    /// Roll keys containing this (after the prefix) up into common prefixes.
    pub delimiter: Option<String>,
    /// Start after this key (or at it, after `upload_id_marker`).
    pub key_marker: Option<String>,
    /// With `key_marker`: start after this upload of that key.
    pub upload_id_marker: Option<String>,
    /// Most entries to return.
    pub max_uploads: usize,
}

/// One multipart-upload listing entry.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum UploadEntry {
    /// An upload in progress.
    Upload(UploadRecord),
    /// A common prefix.
    CommonPrefix(String),
}

/// A page of a multipart-upload listing.
#[derive(Debug, Clone, Default)]
pub struct UploadPage {
    /// Entries by key, then by initiation time.
    pub entries: Vec<UploadEntry>,
    /// Whether more entries follow.
    pub is_truncated: bool,
    /// Key of the last entry, when truncated.
    pub next_key_marker: Option<String>,
    /// Upload id of the last entry, when truncated.
    pub next_upload_id_marker: Option<String>,
}

/// Where an ordered scan of keys starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seek<'a> {
    /// At this key (inclusive).
    At(&'a str),
    /// Strictly after this key.
    After(&'a str),
    /// At the first key after every key that begins with this: skips a rolled-up subtree.
    Past(&'a str),
}

impl Seek<'_> {
    /// The smallest byte string a key must be at least, or `None` when no key can follow
    /// (past a prefix of 0xFF bytes only).
    pub fn lower_bound(&self) -> Option<Vec<u8>> {
        match self {
            Seek::At(key) => Some(key.as_bytes().to_vec()),
            Seek::After(key) => {
                let mut bound = key.as_bytes().to_vec();
                bound.push(0);
                Some(bound)
            }
            Seek::Past(prefix) => crate::listing::prefix_end(prefix.as_bytes()),
        }
    }
}

/// Where an ordered scan of uploads (by key, then upload id) starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadSeek<'a> {
    /// At the first upload of the first key the seek admits.
    Key(Seek<'a>),
    /// Strictly after this upload of this key.
    AfterUpload {
        /// The key.
        key: &'a str,
        /// The upload id.
        upload_id: &'a str,
    },
}

/// The part a completion expects to find, as the client named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedPart {
    /// Part number.
    pub part_number: u32,
    /// The part's binary MD5 as stored when the store validated the request.
    pub md5: [u8; 16],
}

/// What a multipart completion commits.
#[derive(Debug, Clone)]
pub struct Completion {
    /// The parts the caller validated; each must still be stored with that MD5.
    pub expected: Vec<ExpectedPart>,
    /// The object version replacing the upload.
    pub version: ObjectVersion,
    /// What must hold of the key's current version at the commit (`If-Match`,
    /// `If-None-Match`).
    pub condition: WriteCondition,
    /// The receipt to keep for retries; its `completed_ms` is the completion's "now" (a
    /// receipt found for the same upload is live if it expires after that) and its
    /// `expires_ms` says how long this one is kept.
    pub receipt: CompletedUpload,
}

impl Completion {
    /// Whether `receipt`, kept for the same upload, answers this completion as a retry: it
    /// names exactly the expected parts (numbers and MD5s, in order) and is still live at
    /// this completion's "now". Backends answer `AlreadyCompleted` with it then, else
    /// `NoSuchUpload`.
    pub fn is_answered_by(&self, receipt: &CompletedUpload) -> bool {
        let same_parts = receipt.parts.len() == self.expected.len()
            && receipt
                .parts
                .iter()
                .zip(&self.expected)
                .all(|(kept, wanted)| {
                    kept.part_number == wanted.part_number && kept.md5 == wanted.md5
                });
        same_parts && receipt.is_live(self.receipt.completed_ms)
    }
}

/// How a completion ended.
#[derive(Debug, Clone)]
pub enum CompletionOutcome {
    /// This call completed the upload; the blobs no longer referenced are returned.
    Completed(Vec<BlobId>),
    /// An earlier completion with the same parts committed first (a retry racing its
    /// original): nothing was written, and this is its receipt.
    AlreadyCompleted(CompletedUpload),
}

/// Persistent metadata. Every mutating call is atomic and durable when it returns `Ok`.
#[async_trait]
pub trait MetadataStore: Send + Sync + std::fmt::Debug + 'static {
    /// Registers an account.
    async fn create_account(&self, account: AccountRecord) -> StoreResult<()>;
    /// Looks an account up by SecretId.
    async fn account(&self, secret_id: &str) -> StoreResult<Option<AccountRecord>>;
    /// Every account.
    async fn accounts(&self) -> StoreResult<Vec<AccountRecord>>;
    /// Removes an account.
    async fn delete_account(&self, secret_id: &str) -> StoreResult<()>;

    /// Creates a bucket, assigning its internal id. Fails with `BucketAlreadyExists`.
    async fn create_bucket(&self, bucket: BucketRecord) -> StoreResult<BucketRecord>;
    /// Looks a bucket up.
    async fn bucket(&self, name: &str) -> StoreResult<Option<BucketRecord>>;
    /// Every bucket, by name.
    async fn buckets(&self) -> StoreResult<Vec<BucketRecord>>;
    /// Deletes an empty bucket (no objects, no uploads), else `BucketNotEmpty`.
    async fn delete_bucket(&self, name: &str) -> StoreResult<()>;

    /// The current version of a key.
    async fn object(&self, bucket: &BucketRecord, key: &str) -> StoreResult<Option<ObjectVersion>>;
    /// Inline bytes by id.
    async fn inline_data(&self, id: u128) -> StoreResult<Vec<u8>>;
    /// Makes `version` the current version of `key`, replacing any previous one. `inline`
    /// carries the bytes when `version.data` is inline; `options` say whether the extents
    /// are shared with another version and what must hold of the current version
    /// (`PreconditionFailed` otherwise, or `NoSuchKey` for an `If-Match` on a key without a
    /// current version). Returns blobs no longer referenced.
    async fn put_object(
        &self,
        bucket: &BucketRecord,
        key: &str,
        version: ObjectVersion,
        inline: Option<Vec<u8>>,
        options: PutOptions,
    ) -> StoreResult<Vec<BlobId>>;
    /// Removes the current version of `key`; returns the removed version (if any) and the
    /// blobs no longer referenced.
    async fn delete_object(
        &self,
        bucket: &BucketRecord,
        key: &str,
    ) -> StoreResult<(Option<ObjectVersion>, Vec<BlobId>)>;
    /// The ordered cursor listings are built on: at most `limit` current versions whose
    /// keys begin with `prefix` and are at or beyond `from`, in bytewise (UTF-8 binary)
    /// key order. Prefixes, delimiters and markers are [`crate::listing`]'s business.
    async fn scan_objects(
        &self,
        bucket: &BucketRecord,
        prefix: &str,
        from: Seek<'_>,
        limit: usize,
    ) -> StoreResult<Vec<(String, ObjectVersion)>>;

    /// Records a new multipart upload.
    async fn create_upload(&self, bucket: &BucketRecord, upload: UploadRecord) -> StoreResult<()>;
    /// Looks an upload up.
    async fn upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
    ) -> StoreResult<Option<UploadRecord>>;
    /// Stores (or replaces) a part; `NoSuchUpload` if the upload is gone. With
    /// `shares_blobs` the part's extents reference existing blobs (part copy), each of which
    /// must still be referenced (`VersionReplaced` otherwise).
    async fn put_part(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
        part: PartRecord,
        shares_blobs: bool,
    ) -> StoreResult<Vec<BlobId>>;
    /// Parts with numbers greater than `after`, at most `max`; and whether more follow.
    async fn parts(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
        after: u32,
        max: usize,
    ) -> StoreResult<(Vec<PartRecord>, bool)>;
    /// Atomically completes an upload. In one transaction:
    ///
    /// 1. if the upload is gone: when a receipt for it is live (see [`Completion::receipt`])
    ///    and names exactly `completion.expected`, answers `AlreadyCompleted` with it and
    ///    writes nothing; otherwise fails with `NoSuchUpload`;
    /// 2. checks every expected part is still stored with that MD5 (`InvalidPart`);
    /// 3. checks `completion.condition` against the key's current version
    ///    (`PreconditionFailed`, or `NoSuchKey` for an `If-Match` on a missing key), so no
    ///    write can slip between check and commit;
    /// 4. replaces the upload and its parts by `completion.version` and stores
    ///    `completion.receipt` until its `expires_ms`. It may also prune a bounded number
    ///    of expired receipts.
    async fn complete_upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
        completion: Completion,
    ) -> StoreResult<CompletionOutcome>;
    /// The receipt of a completed upload, if one is kept (expired or not: the caller
    /// decides with [`CompletedUpload::is_live`]).
    async fn completed_upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
    ) -> StoreResult<Option<CompletedUpload>>;
    /// Removes at most `max` receipts that expired at or before `now_ms`; returns how many
    /// were removed (fewer than `max`: none expired is left).
    async fn prune_completed_uploads(&self, now_ms: i64, max: usize) -> StoreResult<usize>;
    /// Removes an upload and its parts; returns released blobs.
    async fn abort_upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
    ) -> StoreResult<Vec<BlobId>>;
    /// The ordered cursor upload listings are built on: at most `limit` uploads in
    /// progress whose keys begin with `prefix`, at or beyond `from`, ordered by key
    /// (bytewise) and then by upload id (which sorts by initiation time).
    async fn scan_uploads(
        &self,
        bucket: &BucketRecord,
        prefix: &str,
        from: UploadSeek<'_>,
        limit: usize,
    ) -> StoreResult<Vec<UploadRecord>>;

    /// Finishes queued writes and releases the engine (clean shutdown). Later writes fail.
    async fn close(&self) -> StoreResult<()> {
        Ok(())
    }

    /// Whether any record references each blob (the orphan sweep's question).
    async fn blobs_referenced(&self, blobs: &[BlobId]) -> StoreResult<Vec<bool>>;

    /// Takes (or confirms this node still holds) the lease of the online orphan sweep, so
    /// that of several nodes sharing one metadata store and one blob store only one sweeps
    /// at a time. `false`: another node holds it. A store only one process opens (the
    /// embedded one) is always its own holder.
    async fn try_sweep_lease(&self) -> StoreResult<bool> {
        Ok(true)
    }

    /// Gives the sweep lease back (no effect when not held).
    async fn release_sweep_lease(&self) -> StoreResult<()> {
        Ok(())
    }
}

//! [`Store`]: object semantics over a [`MetadataStore`] and a [`BlobStore`].
//!
//! The life of a PUT: the server streams the body into an [`ObjectWriter`] (hashing as it
//! goes, bounded memory), checks the digests it was promised, and calls
//! [`Store::put_object`], which commits the metadata in one durable transaction. Only then
//! does the server answer 200. Replaced data is released after the commit.

use crate::blob::{BlobReader, BlobStore};
use crate::config::StoreConfig;
use crate::error::{StoreError, StoreResult};
use crate::meta::{
    Completion, CompletionOutcome, ExpectedPart, ListPage, ListQuery, MetadataStore,
    UploadListQuery, UploadPage,
};
use crate::model::{
    AccountRecord, BlobId, BucketRecord, CompletedPart, CompletedUpload, DataLocation, Extent,
    ObjectAttributes, ObjectChecksum, ObjectKind, ObjectPart, ObjectVersion, PartRecord,
    PutOptions, UploadChecksum, UploadRecord, WriteCondition,
};
use crate::pacing::Pacer;
use crate::pins::{BlobPins, PinGuard};
use crate::staging::{ObjectWriter, StagedData, StagedLocation};
use bytes::Bytes;
use coffer_proto::checksum::{
    combine_full_object, composite_digest, crc64_combine, decode_checksum, etag_from_md5,
    multipart_etag, ChecksumAlgorithm, ChecksumType,
};
use std::sync::Arc;
use std::time::Duration;

/// Size of the chunks an [`ObjectReader`] yields.
pub const READ_CHUNK: usize = 1 << 20;

/// The storage engine as the server sees it.
#[derive(Debug, Clone)]
pub struct Store {
    meta: Arc<dyn MetadataStore>,
    blobs: Arc<dyn BlobStore>,
    pins: BlobPins,
    config: StoreConfig,
}

/// A part as named in a CompleteMultipartUpload request.
#[derive(Debug, Clone)]
pub struct RequestedPart {
    /// Part number.
    pub part_number: u32,
    /// The ETag the client sent (quotes optional).
    pub etag: String,
    /// A checksum the client sent for the part (`<ChecksumSHA256>` …): algorithm and the
    /// base64 value as sent.
    pub checksum: Option<(ChecksumAlgorithm, String)>,
}

/// What a multipart completion must find true before it commits: the write condition on
/// the key, and what the client says of the object's checksum.
#[derive(Debug, Clone, Default)]
pub struct CompletionChecks {
    /// `If-Match` / `If-None-Match`, checked against the key's current version in the commit.
    pub condition: WriteCondition,
    /// The object's checksum as the client computed it (`x-amz-checksum-<algorithm>`):
    /// algorithm and base64 value (a composite one with or without its `-N`).
    pub checksum: Option<(ChecksumAlgorithm, String)>,
    /// The checksum type the client expects (`x-amz-checksum-type`).
    pub checksum_type: Option<ChecksumType>,
}

impl From<WriteCondition> for CompletionChecks {
    fn from(condition: WriteCondition) -> CompletionChecks {
        CompletionChecks {
            condition,
            ..CompletionChecks::default()
        }
    }
}

impl Store {
    /// Start-up recovery: deletes the blobs an earlier crash left unreferenced
    /// ([`Store::sweep_orphans`]) and prunes expired completion receipts. Run it before
    /// serving, while no write is in flight.
    pub async fn recover(&self) -> StoreResult<()> {
        let swept = self.sweep_orphans().await?;
        if swept > 0 {
            tracing::info!(
                blobs = swept,
                "reclaimed orphaned blobs left by an earlier crash"
            );
        }
        let pruned = self.prune_completed_uploads().await?;
        if pruned > 0 {
            tracing::info!(
                receipts = pruned,
                "pruned expired multipart completion receipts"
            );
        }
        Ok(())
    }

    /// A store over any pair of backends, with the default [`StoreConfig`].
    pub fn new(meta: Arc<dyn MetadataStore>, blobs: Arc<dyn BlobStore>) -> Store {
        Store::with_config(meta, blobs, StoreConfig::default())
    }

    /// A store over any pair of backends, with its clock and timing knobs.
    pub fn with_config(
        meta: Arc<dyn MetadataStore>,
        blobs: Arc<dyn BlobStore>,
        config: StoreConfig,
    ) -> Store {
        Store {
            meta,
            blobs,
            pins: BlobPins::new(config.release_grace),
            config,
        }
    }

    /// Sets how long a completed upload's receipt answers a repeated completion (default
    /// [`crate::COMPLETED_UPLOAD_RETENTION`]); applies to completions made from now on.
    pub fn with_completed_retention(mut self, retention: Duration) -> Store {
        self.config.completed_retention = retention;
        self
    }

    /// The clock and timing knobs in use.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    fn now(&self) -> i64 {
        self.config.clock.now_millis()
    }

    /// Waits until the deletions of released blobs scheduled so far have run (after the
    /// release grace; tests set it to zero). Blobs a running reader pins are deleted when
    /// it ends instead.
    pub async fn settle(&self) {
        self.pins.settled().await;
    }

    /// Removes every expired completion receipt, in bounded commits; returns how many.
    /// Completions also prune a few on their way, so this is needed only at start-up.
    pub async fn prune_completed_uploads(&self) -> StoreResult<usize> {
        let now = self.now();
        let batch = self.config.prune_batch.max(1);
        let mut total = 0;
        loop {
            let pruned = self.meta.prune_completed_uploads(now, batch).await?;
            total += pruned;
            if pruned < batch {
                return Ok(total);
            }
        }
    }

    /// The metadata backend, for account and bucket administration.
    pub fn meta(&self) -> &dyn MetadataStore {
        self.meta.as_ref()
    }

    /// Finishes queued metadata writes and releases the engine, for a clean shutdown.
    pub async fn close(&self) -> StoreResult<()> {
        self.meta.close().await
    }

    /// Deletes every blob that no record references, a page of
    /// [`StoreConfig::sweep_batch`] blobs at a time. Safe only while no write is in flight
    /// anywhere (at the start-up of the only process using the blobs): a blob being written
    /// is unreferenced until its commit. Shared blob stores use
    /// [`Store::sweep_orphans_online`].
    pub async fn sweep_orphans(&self) -> StoreResult<usize> {
        self.sweep(None).await
    }

    /// The online orphan sweep, safe while this and other nodes write: if this node holds
    /// (or takes) the metadata store's sweep lease ([`MetadataStore::try_sweep_lease`]),
    /// deletes the unreferenced blobs at least [`StoreConfig::orphan_min_age`] old and
    /// returns how many; `None` when another node holds the lease.
    pub async fn sweep_orphans_online(&self) -> StoreResult<Option<usize>> {
        if !self.meta.try_sweep_lease().await? {
            return Ok(None);
        }
        self.sweep(Some(self.config.orphan_min_age)).await.map(Some)
    }

    /// Runs [`Store::sweep_orphans_online`] every [`StoreConfig::sweep_interval`], for ever
    /// (a serving node spawns it and drops it at shutdown). Failures are logged and retried
    /// at the next round.
    pub async fn run_online_sweeps(&self) {
        let interval = self.config.sweep_interval.max(Duration::from_secs(1));
        loop {
            tokio::time::sleep(interval).await;
            match self.sweep_orphans_online().await {
                Ok(Some(swept)) if swept > 0 => {
                    tracing::info!(blobs = swept, "the online sweep deleted orphaned blobs");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the online orphan sweep failed"),
            }
        }
    }

    /// Deletes the unreferenced blobs (older than `min_age`, if given).
    async fn sweep(&self, min_age: Option<Duration>) -> StoreResult<usize> {
        let batch = self.config.sweep_batch.max(1);
        let mut after = None;
        let mut swept = 0;
        loop {
            let page = self.blob_page(after, batch).await?;
            let Some(last) = page.last().copied() else {
                return Ok(swept);
            };
            after = Some(last);
            let referenced = self.meta.blobs_referenced(&page).await?;
            let orphans: Vec<BlobId> = page
                .iter()
                .zip(referenced)
                .filter(|(_, referenced)| !referenced)
                .map(|(blob, _)| *blob)
                .collect();
            let blobs = self.blobs.clone();
            // Younger than this (by the store's clock) is left for a later round.
            let newest_ms = min_age.map(|age| {
                self.now()
                    .saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX))
            });
            swept += tokio::task::spawn_blocking(move || -> StoreResult<usize> {
                let mut deleted = 0;
                for blob in orphans {
                    if let Some(newest_ms) = newest_ms {
                        match blobs.modified_ms(blob)? {
                            Some(modified) if modified <= newest_ms => {}
                            _ => continue,
                        }
                    }
                    blobs.delete(blob)?;
                    deleted += 1;
                }
                Ok(deleted)
            })
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))??;
            if page.len() < batch {
                return Ok(swept);
            }
        }
    }

    /// A page of the blob listing, read on a blocking thread.
    async fn blob_page(&self, after: Option<BlobId>, limit: usize) -> StoreResult<Vec<BlobId>> {
        let blobs = self.blobs.clone();
        tokio::task::spawn_blocking(move || blobs.list_page(after, limit))
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))?
    }

    /// Number of blobs present (tests use it to prove nothing leaked).
    pub async fn blob_count(&self) -> StoreResult<usize> {
        let batch = self.config.sweep_batch.max(1);
        let mut after = None;
        let mut count = 0;
        loop {
            let page = self.blob_page(after, batch).await?;
            count += page.len();
            match page.last() {
                Some(last) if page.len() == batch => after = Some(*last),
                _ => return Ok(count),
            }
        }
    }

    // ----- accounts and buckets -------------------------------------------------------

    /// Looks an account up by SecretId.
    pub async fn account(&self, secret_id: &str) -> StoreResult<Option<AccountRecord>> {
        self.meta.account(secret_id).await
    }

    /// Creates a bucket.
    pub async fn create_bucket(&self, bucket: BucketRecord) -> StoreResult<BucketRecord> {
        self.meta.create_bucket(bucket).await
    }

    /// Looks a bucket up; `NoSuchBucket` if absent.
    pub async fn bucket(&self, name: &str) -> StoreResult<BucketRecord> {
        self.meta
            .bucket(name)
            .await?
            .ok_or(StoreError::NoSuchBucket)
    }

    /// Buckets owned by an account.
    pub async fn buckets_of(&self, owner_uin: &str) -> StoreResult<Vec<BucketRecord>> {
        let mut all = self.meta.buckets().await?;
        all.retain(|b| b.owner_uin == owner_uin);
        Ok(all)
    }

    /// Deletes an empty bucket.
    pub async fn delete_bucket(&self, name: &str) -> StoreResult<()> {
        self.meta.delete_bucket(name).await
    }

    // ----- objects -----------------------------------------------------------------------

    /// Starts receiving an object's bytes, computing the flexible `checksum` too if asked.
    pub fn object_writer(
        &self,
        size_hint: Option<u64>,
        checksum: Option<ChecksumAlgorithm>,
    ) -> StoreResult<ObjectWriter> {
        ObjectWriter::new(self.blobs.clone(), size_hint, true, checksum)
    }

    /// Starts receiving a part's bytes (always a blob: parts become extents), computing the
    /// flexible `checksum` too if asked.
    pub fn part_writer(
        &self,
        size_hint: Option<u64>,
        checksum: Option<ChecksumAlgorithm>,
    ) -> StoreResult<ObjectWriter> {
        ObjectWriter::new(self.blobs.clone(), size_hint, false, checksum)
    }

    /// Commits staged bytes as the current version of `key`, with the staged flexible
    /// checksum (if any) as its full-object checksum.
    pub async fn put_object(
        &self,
        bucket: &BucketRecord,
        key: &str,
        staged: StagedData,
        attributes: ObjectAttributes,
        owner_uin: &str,
        condition: WriteCondition,
    ) -> StoreResult<ObjectVersion> {
        let etag = etag_from_md5(&staged.md5);
        let checksum = staged
            .checksum
            .map(|(algorithm, digest)| ObjectChecksum::full_object(algorithm, digest));
        let (data, inline, guard) = match staged.location {
            StagedLocation::Inline(bytes) => {
                (DataLocation::Inline(rand::random()), Some(bytes), None)
            }
            StagedLocation::Blob(guard) => (
                DataLocation::Extents(vec![Extent {
                    blob: guard.id,
                    offset: 0,
                    len: staged.size,
                }]),
                None,
                Some(guard),
            ),
        };
        let version = ObjectVersion {
            version_id: None,
            size: staged.size,
            etag,
            crc64: staged.crc64,
            last_modified_ms: self.now(),
            kind: ObjectKind::Normal,
            attributes,
            owner_uin: owner_uin.to_string(),
            data,
            parts: Vec::new(),
            checksum,
        };
        let released = self
            .meta
            .put_object(
                bucket,
                key,
                version.clone(),
                inline,
                PutOptions {
                    shares_blobs: false,
                    condition,
                },
            )
            .await?;
        // Committed: the blob now belongs to the metadata.
        if let Some(guard) = guard {
            guard.disarm();
        }
        self.release(released);
        Ok(version)
    }

    /// The current version of a key; `NoSuchKey` if absent.
    pub async fn object(&self, bucket: &BucketRecord, key: &str) -> StoreResult<ObjectVersion> {
        self.meta
            .object(bucket, key)
            .await?
            .ok_or(StoreError::NoSuchKey)
    }

    /// Deletes the current version of a key (absent keys are fine).
    pub async fn delete_object(
        &self,
        bucket: &BucketRecord,
        key: &str,
    ) -> StoreResult<Option<ObjectVersion>> {
        let (removed, released) = self.meta.delete_object(bucket, key).await?;
        self.release(released);
        Ok(removed)
    }

    /// Makes a new version of `dst_key` that shares the source's bytes (no data copied for
    /// blob-backed objects; small inline objects are duplicated).
    ///
    /// The copy keeps the source's parts and flexible checksum — the bytes are the same, so
    /// they still hold. With `checksum` naming an algorithm the source's checksum is not in,
    /// the source is read once to compute it, and the copy gets that full-object checksum
    /// (its parts keep their sizes but lose their per-part checksums, which were in the
    /// other algorithm).
    pub async fn copy_object(
        &self,
        source: &ObjectVersion,
        dst_bucket: &BucketRecord,
        dst_key: &str,
        attributes: ObjectAttributes,
        owner_uin: &str,
        checksum: Option<ChecksumAlgorithm>,
    ) -> StoreResult<ObjectVersion> {
        let mut parts = source.parts.clone();
        let object_checksum = match checksum {
            Some(algorithm) if source.checksum.as_ref().map(|c| c.algorithm) != Some(algorithm) => {
                for part in &mut parts {
                    part.checksum = None;
                }
                let digest = self.digest_of(source, algorithm).await?;
                Some(ObjectChecksum::full_object(algorithm, digest))
            }
            _ => source.checksum.clone(),
        };
        let (data, inline) = match &source.data {
            DataLocation::Inline(id) => {
                let bytes = self.inline_bytes(*id).await?;
                (DataLocation::Inline(rand::random()), Some(bytes))
            }
            DataLocation::Extents(extents) => (DataLocation::Extents(extents.clone()), None),
        };
        let version = ObjectVersion {
            version_id: None,
            size: source.size,
            etag: source.etag.clone(),
            crc64: source.crc64,
            last_modified_ms: self.now(),
            kind: match source.kind {
                ObjectKind::Appendable => ObjectKind::Normal,
                other => other,
            },
            attributes,
            owner_uin: owner_uin.to_string(),
            data,
            parts,
            checksum: object_checksum,
        };
        let released = self
            .meta
            .put_object(
                dst_bucket,
                dst_key,
                version.clone(),
                inline,
                PutOptions {
                    shares_blobs: true,
                    condition: WriteCondition::default(),
                },
            )
            .await?;
        self.release(released);
        Ok(version)
    }

    /// The flexible checksum of a version's bytes, read once (hashed off the async threads).
    async fn digest_of(
        &self,
        version: &ObjectVersion,
        algorithm: ChecksumAlgorithm,
    ) -> StoreResult<Vec<u8>> {
        let mut reader = self.read_object(version, 0, version.size).await?;
        let mut hasher = algorithm.hasher();
        while let Some(chunk) = reader.next_chunk().await? {
            hasher = tokio::task::spawn_blocking(move || {
                hasher.update(&chunk);
                hasher
            })
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        }
        Ok(hasher.finish())
    }

    /// Lists current versions.
    pub async fn list_objects(
        &self,
        bucket: &BucketRecord,
        query: &ListQuery,
    ) -> StoreResult<ListPage> {
        crate::listing::list_objects(self.meta.as_ref(), bucket, query).await
    }

    /// The inline bytes of a version looked up earlier. An overwrite or delete removes them
    /// in the commit that replaces the version, so their absence means exactly that:
    /// [`StoreError::VersionReplaced`], for the caller to look the key up again.
    async fn inline_bytes(&self, id: u128) -> StoreResult<Vec<u8>> {
        match self.meta.inline_data(id).await {
            Err(StoreError::NoSuchKey) => Err(StoreError::VersionReplaced),
            other => other,
        }
    }

    /// Streams bytes `start..start+len` of a version.
    pub async fn read_object(
        &self,
        version: &ObjectVersion,
        start: u64,
        len: u64,
    ) -> StoreResult<ObjectReader> {
        let end = start.saturating_add(len).min(version.size);
        match &version.data {
            DataLocation::Inline(id) => {
                let bytes = self.inline_bytes(*id).await?;
                let slice = bytes
                    .get(start as usize..end as usize)
                    .ok_or_else(|| StoreError::Corrupt("inline data shorter than its size".into()))?
                    .to_vec();
                Ok(ObjectReader {
                    pending: vec![Piece::Bytes(Bytes::from(slice))],
                    blobs: self.blobs.clone(),
                    _pins: None,
                    pacing: None,
                    ahead: None,
                    open: OpenBlob::default(),
                })
            }
            DataLocation::Extents(extents) => {
                let pieces = slice_extents(extents, start, end - start.min(end));
                let pins = self
                    .pins
                    .pin(pieces.iter().map(|e| e.blob).collect(), self.blobs.clone());
                let mut pending: Vec<Piece> = pieces.into_iter().map(Piece::Extent).collect();
                pending.reverse();
                Ok(ObjectReader {
                    pending,
                    blobs: self.blobs.clone(),
                    _pins: Some(pins),
                    pacing: None,
                    ahead: None,
                    open: OpenBlob::default(),
                })
            }
        }
    }

    // ----- multipart ---------------------------------------------------------------------

    /// Records a new upload whose parts and object get `checksum`; returns its id (sortable
    /// by initiation time).
    pub async fn create_upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        attributes: ObjectAttributes,
        owner_uin: &str,
        checksum: UploadChecksum,
    ) -> StoreResult<UploadRecord> {
        let now = self.now();
        let nanos = self.config.clock.now_nanos();
        let upload_id = format!("{:020x}{:016x}", nanos, rand::random::<u64>());
        let upload = UploadRecord {
            upload_id,
            key: key.to_string(),
            initiated_ms: now,
            attributes,
            owner_uin: owner_uin.to_string(),
            checksum: Some(checksum),
        };
        self.meta.create_upload(bucket, upload.clone()).await?;
        Ok(upload)
    }

    /// Looks an upload up; `NoSuchUpload` if absent.
    pub async fn upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
    ) -> StoreResult<UploadRecord> {
        self.meta
            .upload(bucket, key, upload_id)
            .await?
            .ok_or(StoreError::NoSuchUpload)
    }

    /// Commits a staged part. Its staged flexible checksum, if any, must be in the upload's
    /// algorithm: it becomes the part's checksum.
    pub async fn put_part(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
        part_number: u32,
        staged: StagedData,
    ) -> StoreResult<PartRecord> {
        let (extents, guard) = match staged.location {
            StagedLocation::Blob(guard) => (
                vec![Extent {
                    blob: guard.id,
                    offset: 0,
                    len: staged.size,
                }],
                Some(guard),
            ),
            StagedLocation::Inline(_) => {
                return Err(StoreError::Internal("parts are never staged inline".into()))
            }
        };
        let part = PartRecord {
            part_number,
            size: staged.size,
            md5: staged.md5,
            crc64: staged.crc64,
            last_modified_ms: self.now(),
            extents,
            checksum: staged.checksum.map(|(_, digest)| digest),
        };
        let released = self
            .meta
            .put_part(bucket, key, upload_id, part.clone(), false)
            .await?;
        if let Some(guard) = guard {
            guard.disarm();
        }
        self.release(released);
        Ok(part)
    }

    /// Makes a part from a byte range of an existing object. Blob-backed sources are shared
    /// (the range is read once to compute the part's MD5, CRC and the upload's flexible
    /// checksum, never written again).
    pub async fn copy_part(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
        part_number: u32,
        source: &ObjectVersion,
        (start, len): (u64, u64),
    ) -> StoreResult<PartRecord> {
        // Fail fast before reading data.
        let upload = self.upload(bucket, key, upload_id).await?;
        let algorithm = upload.checksum.map(|c| c.algorithm);
        let mut reader = self.read_object(source, start, len).await?;
        match &source.data {
            DataLocation::Inline(_) => {
                let mut writer = self.part_writer(Some(len), algorithm)?;
                while let Some(chunk) = reader.next_chunk().await? {
                    writer.write(chunk).await?;
                }
                let staged = writer.finish().await?;
                self.put_part(bucket, key, upload_id, part_number, staged)
                    .await
            }
            DataLocation::Extents(extents) => {
                let mut md5 = <md5::Md5 as md5::Digest>::new();
                let mut crc = coffer_proto::checksum::Crc64::new();
                let mut flexible = algorithm.map(ChecksumAlgorithm::hasher);
                while let Some(chunk) = reader.next_chunk().await? {
                    let (digest, sum, checksum) = tokio::task::spawn_blocking(move || {
                        md5::Digest::update(&mut md5, &chunk);
                        crc.update(&chunk);
                        if let Some(flexible) = flexible.as_mut() {
                            flexible.update(&chunk);
                        }
                        (md5, crc, flexible)
                    })
                    .await
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                    md5 = digest;
                    crc = sum;
                    flexible = checksum;
                }
                let part = PartRecord {
                    part_number,
                    size: len,
                    md5: md5::Digest::finalize(md5).into(),
                    crc64: crc.value(),
                    last_modified_ms: self.now(),
                    extents: slice_extents(extents, start, len),
                    checksum: flexible.map(|f| f.finish()),
                };
                let released = self
                    .meta
                    .put_part(bucket, key, upload_id, part.clone(), true)
                    .await?;
                self.release(released);
                Ok(part)
            }
        }
    }

    /// Lists parts after `after`, at most `max`.
    pub async fn parts(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
        after: u32,
        max: usize,
    ) -> StoreResult<(Vec<PartRecord>, bool)> {
        self.meta.parts(bucket, key, upload_id, after, max).await
    }

    /// Fails with `NoSuchUpload` unless the upload is in progress or was completed recently
    /// (a completion may be sent again); a completion checks this before its body.
    pub async fn check_completable(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
    ) -> StoreResult<()> {
        if self.meta.upload(bucket, key, upload_id).await?.is_some() {
            return Ok(());
        }
        let now = self.now();
        match self.meta.completed_upload(bucket, key, upload_id).await? {
            Some(receipt) if receipt.is_live(now) => Ok(()),
            _ => Err(StoreError::NoSuchUpload),
        }
    }

    /// Completes an upload from the listed parts: checks each part exists with that ETag
    /// (and the checksum, when one is given) and that every part but the last is at least
    /// `min_part_size`, then commits an object whose extents are the parts' extents — no
    /// data is read or copied. The ETag is the multipart ETag, the CRC-64 is combined from
    /// the parts' CRCs, and the flexible checksum is the composite of the part checksums or
    /// the full-object CRC combined from them, as the upload says; the object records its
    /// parts. `checks` are a condition checked against the key's current version inside the
    /// commit, and what the client says the object's checksum is.
    ///
    /// Idempotent: the completion keeps a receipt (for [`StoreConfig::completed_retention`]), and
    /// the same completion sent again — the same part numbers and ETags — answers with it,
    /// whatever its condition, even while the first is still committing. Any other part
    /// list for a completed upload is `NoSuchUpload`, as is every other operation on it.
    pub async fn complete_upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
        requested: &[RequestedPart],
        min_part_size: u64,
        checks: impl Into<CompletionChecks>,
    ) -> StoreResult<CompletedUpload> {
        let checks = checks.into();
        let upload = match self.meta.upload(bucket, key, upload_id).await? {
            Some(upload) => upload,
            None => {
                return self
                    .replay_completion(bucket, key, upload_id, requested)
                    .await
            }
        };
        let mut stored = Vec::new();
        let mut after = 0;
        loop {
            let (page, more) = self.meta.parts(bucket, key, upload_id, after, 1000).await?;
            after = page.last().map_or(after, |p| p.part_number);
            stored.extend(page);
            if !more {
                break;
            }
        }
        let chosen = match choose_parts(&stored, requested, min_part_size) {
            Ok(chosen) => chosen,
            Err(error) => {
                // A completion racing this one may have committed between the lookups of
                // the upload and of its parts, taking the parts with it: answer as a retry.
                if self.meta.upload(bucket, key, upload_id).await?.is_none() {
                    return self
                        .replay_completion(bucket, key, upload_id, requested)
                        .await;
                }
                return Err(error);
            }
        };
        let completion = completion_of(
            &upload,
            &chosen,
            checks.condition.clone(),
            self.config.completed_retention,
            self.now(),
        );
        // The stated object checksum first: a wrong one is BadDigest whatever the parts say.
        check_object_checksum(
            upload.checksum.as_ref(),
            completion.version.checksum.as_ref(),
            &checks,
        )?;
        check_part_checksums(upload.checksum.as_ref(), &chosen, requested)?;
        let receipt = completion.receipt.clone();
        let outcome = self
            .meta
            .complete_upload(bucket, key, upload_id, completion)
            .await?;
        match outcome {
            CompletionOutcome::Completed(released) => {
                self.release(released);
                Ok(receipt)
            }
            CompletionOutcome::AlreadyCompleted(receipt) => {
                tracing::info!(
                    upload_id,
                    "completion sent again while the first was committing: answered from its receipt"
                );
                Ok(receipt)
            }
        }
    }

    /// A completion of an upload that is gone: the receipt of its completion if that named
    /// the same parts and is still kept, else `NoSuchUpload`.
    async fn replay_completion(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
        requested: &[RequestedPart],
    ) -> StoreResult<CompletedUpload> {
        let now = self.now();
        let receipt = self.meta.completed_upload(bucket, key, upload_id).await?;
        match receipt {
            Some(receipt)
                if receipt.is_live(now)
                    && receipt.names_same_parts(
                        requested.iter().map(|p| (p.part_number, p.etag.as_str())),
                    ) =>
            {
                tracing::info!(
                    upload_id,
                    "completion sent again: answered from the receipt of the completed upload"
                );
                Ok(receipt)
            }
            _ => Err(StoreError::NoSuchUpload),
        }
    }

    /// Abandons an upload and its parts.
    pub async fn abort_upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
    ) -> StoreResult<()> {
        let released = self.meta.abort_upload(bucket, key, upload_id).await?;
        self.release(released);
        Ok(())
    }

    /// Lists uploads in progress.
    pub async fn list_uploads(
        &self,
        bucket: &BucketRecord,
        query: &UploadListQuery,
    ) -> StoreResult<UploadPage> {
        crate::listing::list_uploads(self.meta.as_ref(), bucket, query).await
    }

    fn release(&self, blobs: Vec<BlobId>) {
        self.pins.release(blobs, self.blobs.clone());
    }
}

/// The stored parts a completion names, in its order: each must exist with the ETag given
/// (`InvalidPart`), and all but the last must be at least `min_part_size` (`EntityTooSmall`).
fn choose_parts<'a>(
    stored: &'a [PartRecord],
    requested: &[RequestedPart],
    min_part_size: u64,
) -> StoreResult<Vec<&'a PartRecord>> {
    use coffer_proto::checksum::normalize_etag;
    let mut chosen: Vec<&PartRecord> = Vec::with_capacity(requested.len());
    for wanted in requested {
        let found = stored
            .binary_search_by_key(&wanted.part_number, |p| p.part_number)
            .ok()
            .and_then(|i| stored.get(i))
            .filter(|p| normalize_etag(&p.etag()) == normalize_etag(&wanted.etag));
        match found {
            Some(part) => chosen.push(part),
            None => return Err(StoreError::InvalidPart(wanted.part_number)),
        }
    }
    if let Some((_, all_but_last)) = chosen.split_last() {
        if let Some(small) = all_but_last.iter().find(|p| p.size < min_part_size) {
            return Err(StoreError::EntityTooSmall(small.part_number));
        }
    }
    Ok(chosen)
}

/// What completing `upload` from `chosen` commits: the object version (extents of the
/// parts, multipart ETag, combined CRC-64) and the receipt kept for `retention`.
fn completion_of(
    upload: &UploadRecord,
    chosen: &[&PartRecord],
    condition: WriteCondition,
    retention: Duration,
    now: i64,
) -> Completion {
    let mut size = 0u64;
    let mut crc = 0u64;
    let mut extents = Vec::new();
    let mut parts = Vec::with_capacity(chosen.len());
    for part in chosen {
        crc = crc64_combine(crc, part.crc64, part.size);
        size += part.size;
        extents.extend(part.extents.iter().copied().filter(|e| e.len > 0));
        parts.push(ObjectPart {
            part_number: part.part_number,
            size: part.size,
            checksum: part.checksum.clone(),
        });
    }
    let checksum = upload
        .checksum
        .and_then(|kind| multipart_checksum(kind, chosen));
    let version = ObjectVersion {
        version_id: None,
        size,
        etag: multipart_etag(chosen.iter().map(|p| &p.md5)),
        crc64: crc,
        last_modified_ms: now,
        kind: ObjectKind::Multipart,
        attributes: upload.attributes.clone(),
        owner_uin: upload.owner_uin.clone(),
        data: DataLocation::Extents(extents),
        parts,
        checksum,
    };
    let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    let receipt = CompletedUpload {
        upload_id: upload.upload_id.clone(),
        key: upload.key.clone(),
        parts: chosen
            .iter()
            .map(|p| CompletedPart {
                part_number: p.part_number,
                md5: p.md5,
            })
            .collect(),
        etag: version.etag.clone(),
        crc64: version.crc64,
        size: version.size,
        completed_ms: now,
        expires_ms: now.saturating_add(retention_ms),
        checksum: version.checksum.clone(),
    };
    Completion {
        expected: chosen
            .iter()
            .map(|p| ExpectedPart {
                part_number: p.part_number,
                md5: p.md5,
            })
            .collect(),
        version,
        condition,
        receipt,
    }
}

/// The object checksum of a multipart upload from its parts' checksums: the composite
/// digest, or the full-object CRC combined from the part CRCs and sizes. `None` if a part
/// has no checksum (uploaded before checksums were recorded).
fn multipart_checksum(upload: UploadChecksum, chosen: &[&PartRecord]) -> Option<ObjectChecksum> {
    let algorithm = upload.algorithm;
    let digests: Vec<&[u8]> = chosen
        .iter()
        .map(|p| p.checksum.as_deref())
        .collect::<Option<_>>()?;
    let digest = match upload.kind {
        ChecksumType::Composite => composite_digest(algorithm, digests.iter().copied()),
        ChecksumType::FullObject => {
            let mut pieces = digests.iter().zip(chosen);
            let (first, _) = pieces.next()?;
            let mut combined = first.to_vec();
            for (digest, part) in pieces {
                combined = combine_full_object(algorithm, &combined, digest, part.size)?;
            }
            combined
        }
    };
    Some(ObjectChecksum {
        algorithm,
        kind: upload.kind,
        digest,
        parts: u32::try_from(chosen.len()).unwrap_or(u32::MAX),
    })
}

/// The part checksums a completion names must be the stored ones (`InvalidPart`); an
/// upload with a COMPOSITE checksum the client chose needs one for every part.
fn check_part_checksums(
    upload: Option<&UploadChecksum>,
    chosen: &[&PartRecord],
    requested: &[RequestedPart],
) -> StoreResult<()> {
    let Some(upload) = upload else {
        return Ok(());
    };
    for (part, wanted) in chosen.iter().zip(requested) {
        match &wanted.checksum {
            Some((algorithm, value)) if *algorithm == upload.algorithm => {
                let given = decode_checksum(*algorithm, value);
                if given.is_none() || given != part.checksum {
                    return Err(StoreError::InvalidPart(part.part_number));
                }
            }
            // A checksum in another algorithm than the upload's cannot be the part's.
            Some(_) if upload.requested => return Err(StoreError::InvalidPart(part.part_number)),
            Some(_) => {}
            None if upload.requested && upload.kind == ChecksumType::Composite => {
                return Err(StoreError::PartChecksumMissing {
                    part_number: part.part_number,
                    algorithm: upload.algorithm,
                });
            }
            None => {}
        }
    }
    Ok(())
}

/// What the client says of the object's checksum must hold: the same type and algorithm as
/// the upload's, and the same value (a composite one with or without its `-N`).
fn check_object_checksum(
    upload: Option<&UploadChecksum>,
    made: Option<&ObjectChecksum>,
    checks: &CompletionChecks,
) -> StoreResult<()> {
    let Some(upload) = upload else {
        return Ok(());
    };
    if let Some(kind) = checks.checksum_type {
        if kind != upload.kind {
            return Err(StoreError::ChecksumTypeMismatch {
                expected: upload.kind,
            });
        }
    }
    let Some((algorithm, value)) = &checks.checksum else {
        return Ok(());
    };
    if *algorithm != upload.algorithm {
        return Err(StoreError::ChecksumAlgorithmMismatch {
            expected: upload.algorithm,
            actual: *algorithm,
        });
    }
    let matches = made.is_some_and(|made| {
        let value = value.trim();
        let full = made.value();
        value == full
            || full
                .split_once('-')
                .is_some_and(|(digest, _)| value == digest)
    });
    if matches {
        Ok(())
    } else {
        Err(StoreError::ChecksumMismatch(*algorithm))
    }
}

/// The extents covering bytes `start..start+len` of a concatenation of `extents`.
pub fn slice_extents(extents: &[Extent], start: u64, len: u64) -> Vec<Extent> {
    let mut out = Vec::new();
    let end = start.saturating_add(len);
    let mut position = 0u64;
    for extent in extents {
        let extent_end = position + extent.len;
        if extent_end > start && position < end {
            let from = start.max(position);
            let to = end.min(extent_end);
            out.push(Extent {
                blob: extent.blob,
                offset: extent.offset + (from - position),
                len: to - from,
            });
        }
        position = extent_end;
        if position >= end {
            break;
        }
    }
    out
}

#[derive(Debug)]
enum Piece {
    Bytes(Bytes),
    Extent(Extent),
}

/// Streams an object's bytes in chunks of at most [`READ_CHUNK`].
#[derive(Debug)]
pub struct ObjectReader {
    /// Remaining pieces, last first.
    pending: Vec<Piece>,
    blobs: Arc<dyn BlobStore>,
    _pins: Option<PinGuard>,
    /// The pacer and the bytes yielded so far, when the rate is limited.
    pacing: Option<(Pacer, u64)>,
    /// The chunk being read ahead.
    ahead: Option<ReadJob>,
    /// The blob file in use.
    open: OpenBlob,
}

/// Chunk size while rate-limited, so pacing is smooth.
const PACED_CHUNK: u64 = 64 * 1024;

impl ObjectReader {
    /// Limits the reader to `bits_per_second` (COS `x-cos-traffic-limit`).
    pub fn limit_rate(&mut self, bits_per_second: u64) {
        self.pacing = Some((Pacer::new(bits_per_second), 0));
    }

    /// The next chunk, or `None` at the end.
    pub async fn next_chunk(&mut self) -> StoreResult<Option<Bytes>> {
        if let Some((pacer, sent)) = self.pacing {
            pacer.pace(sent).await;
        }
        let chunk = self.next_unpaced().await?;
        if let (Some(pacing), Some(chunk)) = (self.pacing.as_mut(), chunk.as_ref()) {
            pacing.1 += chunk.len() as u64;
        }
        Ok(chunk)
    }

    async fn next_unpaced(&mut self) -> StoreResult<Option<Bytes>> {
        let current = match self.ahead.take() {
            Some(job) => job,
            None => match self.next_job() {
                Some(job) => job,
                None => return Ok(None),
            },
        };
        // Start reading the following chunk now, so disk reads overlap with the caller
        // sending this one.
        self.ahead = self.next_job();
        match current {
            ReadJob::Ready(bytes) => Ok(Some(bytes)),
            ReadJob::Reading(handle) => {
                let bytes = handle
                    .await
                    .map_err(|e| StoreError::Internal(e.to_string()))??;
                Ok(Some(bytes))
            }
        }
    }

    /// Takes the next chunk's worth of the pending pieces and starts producing it.
    fn next_job(&mut self) -> Option<ReadJob> {
        let chunk_limit = if self.pacing.is_some() {
            PACED_CHUNK
        } else {
            READ_CHUNK as u64
        };
        loop {
            match self.pending.pop()? {
                Piece::Bytes(mut bytes) => {
                    if bytes.is_empty() {
                        continue;
                    }
                    if bytes.len() as u64 > chunk_limit {
                        let rest = bytes.split_off(chunk_limit as usize);
                        self.pending.push(Piece::Bytes(rest));
                    }
                    return Some(ReadJob::Ready(bytes));
                }
                Piece::Extent(extent) => {
                    if extent.len == 0 {
                        continue;
                    }
                    let take = extent.len.min(chunk_limit);
                    if extent.len > take {
                        self.pending.push(Piece::Extent(Extent {
                            blob: extent.blob,
                            offset: extent.offset + take,
                            len: extent.len - take,
                        }));
                    }
                    let blobs = self.blobs.clone();
                    let open = self.open.clone();
                    let handle = tokio::task::spawn_blocking(move || {
                        read_exact_at(&blobs, &open, extent.blob, extent.offset, take as usize)
                    });
                    return Some(ReadJob::Reading(handle));
                }
            }
        }
    }
}

/// A chunk being produced.
#[derive(Debug)]
enum ReadJob {
    Ready(Bytes),
    Reading(tokio::task::JoinHandle<StoreResult<Bytes>>),
}

/// The blob file most recently opened by a reader, reused for its next chunks.
type OpenBlob = Arc<std::sync::Mutex<Option<(BlobId, Arc<dyn BlobReader>)>>>;

fn read_exact_at(
    blobs: &Arc<dyn BlobStore>,
    open: &OpenBlob,
    blob: BlobId,
    offset: u64,
    len: usize,
) -> StoreResult<Bytes> {
    let cached = open.lock().ok().and_then(|guard| {
        guard
            .as_ref()
            .filter(|(id, _)| *id == blob)
            .map(|(_, r)| r.clone())
    });
    let reader: Arc<dyn BlobReader> = match cached {
        Some(reader) => reader,
        None => {
            let reader: Arc<dyn BlobReader> = Arc::from(blobs.open(blob)?);
            if let Ok(mut guard) = open.lock() {
                *guard = Some((blob, reader.clone()));
            }
            reader
        }
    };
    let mut buf = vec![0u8; len];
    let mut filled = 0;
    while filled < len {
        let slot = buf.get_mut(filled..).unwrap_or_default();
        let n = reader.read_at(offset + filled as u64, slot)?;
        if n == 0 {
            return Err(StoreError::Corrupt(format!(
                "blob {} is shorter than its extents",
                blob.to_hex()
            )));
        }
        filled += n;
    }
    Ok(Bytes::from(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_extents() {
        let a = BlobId(1);
        let b = BlobId(2);
        let extents = [
            Extent {
                blob: a,
                offset: 0,
                len: 10,
            },
            Extent {
                blob: b,
                offset: 5,
                len: 10,
            },
        ];
        assert_eq!(
            slice_extents(&extents, 8, 4),
            vec![
                Extent {
                    blob: a,
                    offset: 8,
                    len: 2
                },
                Extent {
                    blob: b,
                    offset: 5,
                    len: 2
                }
            ]
        );
        assert_eq!(
            slice_extents(&extents, 10, 10),
            vec![Extent {
                blob: b,
                offset: 5,
                len: 10
            }]
        );
        assert_eq!(slice_extents(&extents, 0, 0), vec![]);
    }
}

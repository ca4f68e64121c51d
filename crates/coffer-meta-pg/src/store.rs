//! The [`MetadataStore`] operations as SQL transactions.

use crate::fault::{Fault, Res};
use crate::refs::{all_referenced, blob_bytes, RefChanges};
use crate::sql::Sql;
use crate::{read, transact, PgMetadata};
use async_trait::async_trait;
use coffer_store::codec::{self, Record};
use coffer_store::listing::prefix_end;
use coffer_store::meta::{Completion, CompletionOutcome, MetadataStore, Seek, UploadSeek};
use coffer_store::model::{
    AccountRecord, BlobId, BucketRecord, CompletedUpload, ConditionFailure, DataLocation,
    ObjectVersion, PartRecord, PutOptions, UploadRecord, WriteCondition,
};
use coffer_store::{StoreError, StoreResult};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// Most expired completion receipts a completion prunes on its way (as the embedded store).
const LAZY_PRUNE: i64 = 8;

/// Above every key: keys are UTF-8, and no UTF-8 string holds the byte 0xFF, so this is the
/// upper bound of a scan whose prefix has no end of its own (the empty prefix).
const ABOVE_EVERY_KEY: &[u8] = &[0xff];

fn decode<T: Record>(bytes: &[u8]) -> Res<T> {
    Ok(codec::decode(bytes)?)
}

fn encode<T: Record>(value: &T) -> Res<Vec<u8>> {
    Ok(codec::encode(value)?)
}

/// The record in column `index` of a row.
fn record<T: Record>(row: &Row, index: usize) -> Res<T> {
    let bytes: &[u8] = row.try_get(index)?;
    decode(bytes)
}

/// Bucket ids are allocated by a sequence starting at 1, so they fit both types.
fn db_id(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// The advisory-lock id of an object key: FNV-1a (64 bits) over the bucket id and the key.
/// Stable across builds and nodes (every node must compute the same id); a collision only
/// makes two keys wait for each other.
fn key_lock_id(bucket_id: u64, key: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bucket_id.to_be_bytes().iter().chain(key.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

/// Takes the advisory lock of an object key.
const LOCK_KEY: &str = "SELECT pg_advisory_xact_lock($1)";
/// Finds this incarnation of a bucket and holds its row against deletion.
const CHECK_BUCKET: &str = "SELECT 1 FROM coffer_buckets WHERE name = $1 AND id = $2 FOR KEY SHARE";
/// The current version of a key.
const CURRENT_VERSION: &str = "SELECT record FROM coffer_objects WHERE bucket_id = $1 AND key = $2";
/// Removes the current version of a key, returning it.
const DELETE_OBJECT: &str =
    "DELETE FROM coffer_objects WHERE bucket_id = $1 AND key = $2 RETURNING record";
/// Makes a version the current one of its key.
const UPSERT_OBJECT: &str =
    "INSERT INTO coffer_objects (bucket_id, key, record) VALUES ($1, $2, $3)
     ON CONFLICT (bucket_id, key) DO UPDATE SET record = EXCLUDED.record";
/// Stores inline bytes.
const PUT_INLINE: &str = "INSERT INTO coffer_inline (id, data) VALUES ($1, $2)
     ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data";
/// Drops inline bytes.
const DELETE_INLINE: &str = "DELETE FROM coffer_inline WHERE id = $1";

/// Serializes every writer of one object key across all nodes, until the transaction ends.
async fn lock_key(txn: &impl Sql, bucket: &BucketRecord, key: &str) -> Res<()> {
    txn.run(LOCK_KEY, &[&key_lock_id(bucket.id, key)]).await?;
    Ok(())
}

/// The opening of every transaction that writes an object key, in one round trip: the key
/// lock, then — pipelined behind it, so PostgreSQL runs them once the lock is held — the
/// bucket check and `then` (the read of the key's current state). Errors are reported in
/// statement order, so a failed lock (deadlock, lost connection) is the error returned,
/// not the "transaction aborted" of the statements queued behind it.
async fn lock_key_and_read<T>(
    txn: &impl Sql,
    bucket: &BucketRecord,
    key: &str,
    then_sql: &str,
    then: impl std::future::Future<Output = Res<T>>,
) -> Res<T> {
    txn.prepare_all(&[LOCK_KEY, CHECK_BUCKET, then_sql]).await?;
    let (locked, found, value) = tokio::join!(
        biased;
        lock_key(txn, bucket, key),
        check_bucket(txn, bucket),
        then,
    );
    locked?;
    found?;
    value
}

/// Fails with `NoSuchBucket` unless the bucket (this incarnation of the name) exists, and
/// keeps it from being deleted until the transaction ends.
async fn check_bucket(txn: &impl Sql, bucket: &BucketRecord) -> Res<()> {
    let found = txn
        .row_opt(CHECK_BUCKET, &[&bucket.name, &db_id(bucket.id)])
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::NoSuchBucket.into()),
    }
}

/// The current version of a key.
async fn current_version(
    txn: &impl Sql,
    bucket: &BucketRecord,
    key: &str,
) -> Res<Option<ObjectVersion>> {
    let row = txn
        .row_opt(CURRENT_VERSION, &[&db_id(bucket.id), &key.as_bytes()])
        .await?;
    row.map(|row| record(&row, 0)).transpose()
}

/// Fails unless `condition` holds of `current`: `NoSuchKey` for an `If-Match` on a key
/// without a current version, else `PreconditionFailed`.
fn check_condition(condition: &WriteCondition, current: Option<&ObjectVersion>) -> Res<()> {
    condition
        .check(current.map(|v| v.etag.as_str()))
        .map_err(|failure| {
            match failure {
                ConditionFailure::NoCurrentVersion => StoreError::NoSuchKey,
                ConditionFailure::Mismatch => StoreError::PreconditionFailed,
            }
            .into()
        })
}

/// Drops a version's data: its inline bytes now, its blob references into `refs`.
async fn release_version(
    txn: &impl Sql,
    version: &ObjectVersion,
    refs: &mut RefChanges,
) -> Res<()> {
    match &version.data {
        DataLocation::Inline(id) => {
            txn.run(DELETE_INLINE, &[&blob_bytes(*id).as_slice()])
                .await?;
        }
        DataLocation::Extents(_) => refs.drop_refs(version.data.blobs()),
    }
    Ok(())
}

/// Makes `version` the key's current version (the key lock is held), storing its inline
/// bytes (`inline`) and releasing `previous`: the statements are independent, so they go
/// out pipelined, in one round trip.
async fn install_version(
    txn: &impl Sql,
    bucket: &BucketRecord,
    key: &str,
    version: &ObjectVersion,
    inline: Option<&[u8]>,
    previous: Option<&ObjectVersion>,
    refs: &mut RefChanges,
) -> Res<()> {
    let encoded = encode(version)?;
    txn.prepare_all(&[PUT_INLINE, UPSERT_OBJECT, DELETE_INLINE])
        .await?;
    let store_inline = async {
        if let (DataLocation::Inline(id), Some(bytes)) = (&version.data, inline) {
            txn.run(PUT_INLINE, &[&blob_bytes(*id).as_slice(), &bytes])
                .await?;
        }
        Ok::<_, Fault>(())
    };
    let upsert = async {
        let params: [&(dyn ToSql + Sync); 3] = [&db_id(bucket.id), &key.as_bytes(), &encoded];
        txn.run(UPSERT_OBJECT, &params).await
    };
    let release = async {
        if let Some(previous) = previous {
            release_version(txn, previous, refs).await?;
        }
        Ok::<_, Fault>(())
    };
    let (stored, upserted, released) = tokio::join!(biased; store_inline, upsert, release);
    stored?;
    upserted?;
    released
}

/// Every part of an upload.
async fn upload_parts(
    txn: &impl Sql,
    bucket: &BucketRecord,
    key: &str,
    upload_id: &str,
) -> Res<Vec<PartRecord>> {
    let rows = txn
        .rows(
            "SELECT record FROM coffer_parts
             WHERE bucket_id = $1 AND key = $2 AND upload_id = $3 ORDER BY part_number",
            &[&db_id(bucket.id), &key.as_bytes(), &upload_id.as_bytes()],
        )
        .await?;
    rows.iter().map(|row| record(row, 0)).collect()
}

/// Removes an upload and its parts, dropping the parts' references into `refs`.
async fn remove_upload(
    txn: &impl Sql,
    bucket: &BucketRecord,
    key: &str,
    upload_id: &str,
    refs: &mut RefChanges,
) -> Res<bool> {
    let id = db_id(bucket.id);
    let rows = txn
        .rows(
            "DELETE FROM coffer_parts WHERE bucket_id = $1 AND key = $2 AND upload_id = $3
             RETURNING record",
            &[&id, &key.as_bytes(), &upload_id.as_bytes()],
        )
        .await?;
    for row in &rows {
        let part: PartRecord = record(row, 0)?;
        refs.drop_refs(part.extents.iter().map(|e| e.blob));
    }
    let removed = txn
        .run(
            "DELETE FROM coffer_uploads WHERE bucket_id = $1 AND key = $2 AND upload_id = $3",
            &[&id, &key.as_bytes(), &upload_id.as_bytes()],
        )
        .await?;
    Ok(removed > 0)
}

/// A completion of an upload that is gone: the kept receipt, if it is live and names the
/// same parts (a retry of the completion that removed the upload), else `NoSuchUpload`.
async fn replay_receipt(
    txn: &impl Sql,
    bucket: &BucketRecord,
    key: &str,
    upload_id: &str,
    completion: &Completion,
) -> Res<CompletedUpload> {
    let row = txn
        .row_opt(
            "SELECT record FROM coffer_completed
             WHERE bucket_id = $1 AND key = $2 AND upload_id = $3",
            &[&db_id(bucket.id), &key.as_bytes(), &upload_id.as_bytes()],
        )
        .await?;
    let Some(row) = row else {
        return Err(StoreError::NoSuchUpload.into());
    };
    let receipt: CompletedUpload = record(&row, 0)?;
    if completion.is_answered_by(&receipt) {
        Ok(receipt)
    } else {
        Err(StoreError::NoSuchUpload.into())
    }
}

/// Removes at most `max` receipts that expired at or before `now_ms`. Rows another
/// transaction is pruning are skipped, not waited for.
async fn prune_receipts(txn: &impl Sql, now_ms: i64, max: i64) -> Res<usize> {
    let removed = txn
        .run(
            "DELETE FROM coffer_completed WHERE (bucket_id, key, upload_id) IN (
                 SELECT bucket_id, key, upload_id FROM coffer_completed
                 WHERE expires_ms <= $1 ORDER BY expires_ms LIMIT $2
                 FOR UPDATE SKIP LOCKED)",
            &[&now_ms, &max],
        )
        .await?;
    Ok(usize::try_from(removed).unwrap_or(usize::MAX))
}

/// The `(key, upload id)` an upload scan starts from, and whether it is included.
fn upload_lower_bound(from: UploadSeek<'_>) -> Option<(Vec<u8>, Vec<u8>, bool)> {
    match from {
        UploadSeek::AfterUpload { key, upload_id } => Some((
            key.as_bytes().to_vec(),
            upload_id.as_bytes().to_vec(),
            false,
        )),
        UploadSeek::Key(seek) => seek.lower_bound().map(|lower| (lower, Vec::new(), true)),
    }
}

/// The exclusive upper bound of the keys beginning with `prefix`.
fn prefix_upper_bound(prefix: &str) -> Vec<u8> {
    prefix_end(prefix.as_bytes()).unwrap_or_else(|| ABOVE_EVERY_KEY.to_vec())
}

/// A key read back from the database.
fn key_string(row: &Row, index: usize) -> Res<String> {
    let bytes: Vec<u8> = row.try_get(index)?;
    String::from_utf8(bytes).map_err(|e| StoreError::Corrupt(e.to_string()).into())
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[async_trait]
impl MetadataStore for PgMetadata {
    async fn create_account(&self, account: AccountRecord) -> StoreResult<()> {
        let encoded = encode(&account).map_err(Fault::into_store)?;
        transact!(self, |txn| {
            let inserted = txn
                .run(
                    "INSERT INTO coffer_accounts (secret_id, uin, record) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                    &[&account.secret_id, &account.uin, &encoded],
                )
                .await?;
            if inserted == 0 {
                let same_id = txn
                    .row_opt(
                        "SELECT 1 FROM coffer_accounts WHERE secret_id = $1",
                        &[&account.secret_id],
                    )
                    .await?;
                let same_uin = txn
                    .row_opt(
                        "SELECT 1 FROM coffer_accounts WHERE uin = $1",
                        &[&account.uin],
                    )
                    .await?;
                return Err(match (same_id, same_uin) {
                    (Some(_), _) => StoreError::AccountExists.into(),
                    (None, Some(_)) => StoreError::UinInUse.into(),
                    // The conflicting account was deleted meanwhile: try again.
                    (None, None) => Fault::Retry,
                });
            }
        })
    }

    async fn account(&self, secret_id: &str) -> StoreResult<Option<AccountRecord>> {
        if let Some(account) = self.accounts.get(secret_id) {
            return Ok(Some(account));
        }
        let found = read!(self, |txn| {
            let row = txn
                .row_opt(
                    "SELECT record FROM coffer_accounts WHERE secret_id = $1",
                    &[&secret_id],
                )
                .await?;
            row.map(|row| record::<AccountRecord>(&row, 0))
                .transpose()?
        })?;
        if let Some(account) = &found {
            self.accounts.put(account);
        }
        Ok(found)
    }

    async fn accounts(&self) -> StoreResult<Vec<AccountRecord>> {
        read!(self, |txn| {
            let rows = txn
                .rows("SELECT record FROM coffer_accounts ORDER BY secret_id", &[])
                .await?;
            rows.iter()
                .map(|row| record(row, 0))
                .collect::<Res<Vec<_>>>()?
        })
    }

    async fn delete_account(&self, secret_id: &str) -> StoreResult<()> {
        self.accounts.forget(secret_id);
        let deleted = transact!(self, |txn| {
            let removed = txn
                .run(
                    "DELETE FROM coffer_accounts WHERE secret_id = $1",
                    &[&secret_id],
                )
                .await?;
            if removed == 0 {
                return Err(StoreError::NoSuchAccount.into());
            }
        });
        // Again after the commit: a lookup racing the deletion may have read the row
        // before it went and cached it since.
        self.accounts.forget(secret_id);
        deleted
    }

    async fn create_bucket(&self, bucket: BucketRecord) -> StoreResult<BucketRecord> {
        transact!(self, |txn| {
            let existing = txn
                .row_opt(
                    "SELECT record FROM coffer_buckets WHERE name = $1",
                    &[&bucket.name],
                )
                .await?;
            if let Some(row) = existing {
                let existing: BucketRecord = record(&row, 0)?;
                return Err(StoreError::BucketAlreadyExists {
                    owned_by_caller: existing.owner_uin == bucket.owner_uin,
                }
                .into());
            }
            let row = txn
                .row_one("SELECT nextval('coffer_bucket_ids')", &[])
                .await?;
            let id: i64 = row.try_get(0)?;
            let created = BucketRecord {
                id: u64::try_from(id)
                    .map_err(|_| StoreError::Corrupt(format!("bucket id {id} out of range")))?,
                ..bucket.clone()
            };
            let inserted = txn
                .run(
                    "INSERT INTO coffer_buckets (name, id, record) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO NOTHING",
                    &[&created.name, &id, &encode(&created)?],
                )
                .await?;
            if inserted == 0 {
                // Created by another node since the check: answer as if it came first.
                return Err(Fault::Retry);
            }
            created
        })
    }

    async fn bucket(&self, name: &str) -> StoreResult<Option<BucketRecord>> {
        read!(self, |txn| {
            let row = txn
                .row_opt(
                    "SELECT record FROM coffer_buckets WHERE name = $1",
                    &[&name],
                )
                .await?;
            row.map(|row| record(&row, 0)).transpose()?
        })
    }

    async fn buckets(&self) -> StoreResult<Vec<BucketRecord>> {
        read!(self, |txn| {
            let rows = txn
                .rows("SELECT record FROM coffer_buckets ORDER BY name", &[])
                .await?;
            rows.iter()
                .map(|row| record(row, 0))
                .collect::<Res<Vec<_>>>()?
        })
    }

    async fn delete_bucket(&self, name: &str) -> StoreResult<()> {
        transact!(self, |txn| {
            let row = txn
                .row_opt(
                    "SELECT id FROM coffer_buckets WHERE name = $1 FOR UPDATE",
                    &[&name],
                )
                .await?;
            let Some(row) = row else {
                return Err(StoreError::NoSuchBucket.into());
            };
            let id: i64 = row.try_get(0)?;
            let busy = txn
                .row_opt(
                    "SELECT 1 WHERE EXISTS (SELECT 1 FROM coffer_objects WHERE bucket_id = $1)
                        OR EXISTS (SELECT 1 FROM coffer_uploads WHERE bucket_id = $1)",
                    &[&id],
                )
                .await?;
            if busy.is_some() {
                return Err(StoreError::BucketNotEmpty.into());
            }
            txn.run("DELETE FROM coffer_buckets WHERE name = $1", &[&name])
                .await?;
        })
    }

    async fn object(&self, bucket: &BucketRecord, key: &str) -> StoreResult<Option<ObjectVersion>> {
        read!(self, |txn| { current_version(txn, bucket, key).await? })
    }

    async fn inline_data(&self, id: u128) -> StoreResult<Vec<u8>> {
        read!(self, |txn| {
            let row = txn
                .row_opt(
                    "SELECT data FROM coffer_inline WHERE id = $1",
                    &[&blob_bytes(id).as_slice()],
                )
                .await?;
            match row {
                Some(row) => row.try_get::<_, Vec<u8>>(0)?,
                None => return Err(StoreError::NoSuchKey.into()),
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
        transact!(self, |txn| {
            let read = current_version(&txn, bucket, key);
            let previous = lock_key_and_read(&txn, bucket, key, CURRENT_VERSION, read).await?;
            if options.shares_blobs && !all_referenced(&txn, version.data.blobs()).await? {
                return Err(StoreError::VersionReplaced.into());
            }
            check_condition(&options.condition, previous.as_ref())?;
            let mut refs = RefChanges::default();
            refs.add(version.data.blobs(), options.shares_blobs);
            let inline = inline.as_deref();
            let previous = previous.as_ref();
            install_version(&txn, bucket, key, &version, inline, previous, &mut refs).await?;
            refs.apply(&txn).await?
        })
    }

    async fn delete_object(
        &self,
        bucket: &BucketRecord,
        key: &str,
    ) -> StoreResult<(Option<ObjectVersion>, Vec<BlobId>)> {
        transact!(self, |txn| {
            let delete = async {
                let params: [&(dyn ToSql + Sync); 2] = [&db_id(bucket.id), &key.as_bytes()];
                txn.row_opt(DELETE_OBJECT, &params).await
            };
            let row = lock_key_and_read(&txn, bucket, key, DELETE_OBJECT, delete).await?;
            let previous: Option<ObjectVersion> = row.map(|row| record(&row, 0)).transpose()?;
            let mut refs = RefChanges::default();
            if let Some(previous) = &previous {
                release_version(&txn, previous, &mut refs).await?;
            }
            (previous, refs.apply(&txn).await?)
        })
    }

    async fn scan_objects(
        &self,
        bucket: &BucketRecord,
        prefix: &str,
        from: Seek<'_>,
        limit: usize,
    ) -> StoreResult<Vec<(String, ObjectVersion)>> {
        let Some(lower) = from.lower_bound() else {
            return Ok(Vec::new());
        };
        let lower = lower.max(prefix.as_bytes().to_vec());
        let upper = prefix_upper_bound(prefix);
        if lower >= upper || limit == 0 {
            return Ok(Vec::new());
        }
        read!(self, |txn| {
            let rows = txn
                .rows(
                    "SELECT key, record FROM coffer_objects
                     WHERE bucket_id = $1 AND key >= $2 AND key < $3
                     ORDER BY key LIMIT $4",
                    &[&db_id(bucket.id), &lower, &upper, &limit_of(limit)],
                )
                .await?;
            rows.iter()
                .map(|row| Ok((key_string(row, 0)?, record(row, 1)?)))
                .collect::<Res<Vec<_>>>()?
        })
    }

    async fn create_upload(&self, bucket: &BucketRecord, upload: UploadRecord) -> StoreResult<()> {
        transact!(self, |txn| {
            check_bucket(&txn, bucket).await?;
            txn.run(
                "INSERT INTO coffer_uploads (bucket_id, key, upload_id, record)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (bucket_id, key, upload_id) DO UPDATE SET record = EXCLUDED.record",
                &[
                    &db_id(bucket.id),
                    &upload.key.as_bytes(),
                    &upload.upload_id.as_bytes(),
                    &encode(&upload)?,
                ],
            )
            .await?;
        })
    }

    async fn upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
    ) -> StoreResult<Option<UploadRecord>> {
        read!(self, |txn| {
            let row = txn
                .row_opt(
                    "SELECT record FROM coffer_uploads
                     WHERE bucket_id = $1 AND key = $2 AND upload_id = $3",
                    &[&db_id(bucket.id), &key.as_bytes(), &upload_id.as_bytes()],
                )
                .await?;
            row.map(|row| record(&row, 0)).transpose()?
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
        let encoded = encode(&part).map_err(Fault::into_store)?;
        let number = i32::try_from(part.part_number).unwrap_or(i32::MAX);
        transact!(self, |txn| {
            let id = db_id(bucket.id);
            // FOR SHARE: parts of one upload go in side by side, while completion and abort
            // (FOR UPDATE, DELETE) wait for them and they for completion and abort.
            let upload = txn
                .row_opt(
                    "SELECT 1 FROM coffer_uploads
                     WHERE bucket_id = $1 AND key = $2 AND upload_id = $3 FOR SHARE",
                    &[&id, &key.as_bytes(), &upload_id.as_bytes()],
                )
                .await?;
            if upload.is_none() {
                return Err(StoreError::NoSuchUpload.into());
            }
            let blobs = || part.extents.iter().map(|e| e.blob);
            if shares_blobs && !all_referenced(&txn, blobs()).await? {
                return Err(StoreError::VersionReplaced.into());
            }
            let mut refs = RefChanges::default();
            refs.add(blobs(), shares_blobs);
            let inserted = txn
                .run(
                    "INSERT INTO coffer_parts (bucket_id, key, upload_id, part_number, record)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    &[
                        &id,
                        &key.as_bytes(),
                        &upload_id.as_bytes(),
                        &number,
                        &encoded,
                    ],
                )
                .await?;
            if inserted == 0 {
                // Replacing a part: lock the row, then release what it referenced.
                let row = txn
                    .row_opt(
                        "SELECT record FROM coffer_parts WHERE bucket_id = $1 AND key = $2
                         AND upload_id = $3 AND part_number = $4 FOR UPDATE",
                        &[&id, &key.as_bytes(), &upload_id.as_bytes(), &number],
                    )
                    .await?;
                let Some(row) = row else {
                    return Err(Fault::Retry);
                };
                let previous: PartRecord = record(&row, 0)?;
                refs.drop_refs(previous.extents.iter().map(|e| e.blob));
                txn.run(
                    "UPDATE coffer_parts SET record = $5 WHERE bucket_id = $1 AND key = $2
                     AND upload_id = $3 AND part_number = $4",
                    &[
                        &id,
                        &key.as_bytes(),
                        &upload_id.as_bytes(),
                        &number,
                        &encoded,
                    ],
                )
                .await?;
            }
            refs.apply(&txn).await?
        })
    }

    async fn parts(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
        after: u32,
        max: usize,
    ) -> StoreResult<(Vec<PartRecord>, bool)> {
        let after = i64::from(after);
        read!(self, |txn| {
            let rows = txn
                .rows(
                    "SELECT record FROM coffer_parts
                     WHERE bucket_id = $1 AND key = $2 AND upload_id = $3 AND part_number > $4
                     ORDER BY part_number LIMIT $5",
                    &[
                        &db_id(bucket.id),
                        &key.as_bytes(),
                        &upload_id.as_bytes(),
                        &i32::try_from(after).unwrap_or(i32::MAX),
                        &limit_of(max.saturating_add(1)),
                    ],
                )
                .await?;
            let mut parts = rows
                .iter()
                .map(|row| record(row, 0))
                .collect::<Res<Vec<PartRecord>>>()?;
            let truncated = parts.len() > max;
            parts.truncate(max);
            (parts, truncated)
        })
    }

    async fn complete_upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
        completion: Completion,
    ) -> StoreResult<CompletionOutcome> {
        let receipt = encode(&completion.receipt).map_err(Fault::into_store)?;
        transact!(self, |txn| {
            let id = db_id(bucket.id);
            const LOCK_UPLOAD: &str = "SELECT 1 FROM coffer_uploads
                 WHERE bucket_id = $1 AND key = $2 AND upload_id = $3 FOR UPDATE";
            let read = async {
                let params: [&(dyn ToSql + Sync); 3] =
                    [&id, &key.as_bytes(), &upload_id.as_bytes()];
                txn.row_opt(LOCK_UPLOAD, &params).await
            };
            let upload = lock_key_and_read(&txn, bucket, key, LOCK_UPLOAD, read).await?;
            if upload.is_none() {
                // Gone: completed by a transaction committed before this one (this may be
                // its retry, racing it), or aborted, or never there.
                let kept = replay_receipt(&txn, bucket, key, upload_id, &completion).await?;
                return Ok(CompletionOutcome::AlreadyCompleted(kept));
            }
            let parts = upload_parts(&txn, bucket, key, upload_id).await?;
            for wanted in &completion.expected {
                match parts.iter().find(|p| p.part_number == wanted.part_number) {
                    Some(part) if part.md5 == wanted.md5 => {}
                    _ => return Err(StoreError::InvalidPart(wanted.part_number).into()),
                }
            }
            let previous = current_version(&txn, bucket, key).await?;
            check_condition(&completion.condition, previous.as_ref())?;
            let mut refs = RefChanges::default();
            refs.add(completion.version.data.blobs(), false);
            remove_upload(&txn, bucket, key, upload_id, &mut refs).await?;
            let version = &completion.version;
            let previous = previous.as_ref();
            install_version(&txn, bucket, key, version, None, previous, &mut refs).await?;
            // Prune before keeping this receipt, which never counts as expired on its way in.
            prune_receipts(&txn, completion.receipt.completed_ms, LAZY_PRUNE).await?;
            txn.run(
                "INSERT INTO coffer_completed (bucket_id, key, upload_id, expires_ms, record)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (bucket_id, key, upload_id)
                 DO UPDATE SET expires_ms = EXCLUDED.expires_ms, record = EXCLUDED.record",
                &[
                    &id,
                    &key.as_bytes(),
                    &upload_id.as_bytes(),
                    &completion.receipt.expires_ms,
                    &receipt,
                ],
            )
            .await?;
            CompletionOutcome::Completed(refs.apply(&txn).await?)
        })
    }

    async fn completed_upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
    ) -> StoreResult<Option<CompletedUpload>> {
        read!(self, |txn| {
            let row = txn
                .row_opt(
                    "SELECT record FROM coffer_completed
                     WHERE bucket_id = $1 AND key = $2 AND upload_id = $3",
                    &[&db_id(bucket.id), &key.as_bytes(), &upload_id.as_bytes()],
                )
                .await?;
            row.map(|row| record(&row, 0)).transpose()?
        })
    }

    async fn prune_completed_uploads(&self, now_ms: i64, max: usize) -> StoreResult<usize> {
        transact!(self, |txn| {
            prune_receipts(&txn, now_ms, limit_of(max)).await?
        })
    }

    async fn abort_upload(
        &self,
        bucket: &BucketRecord,
        key: &str,
        upload_id: &str,
    ) -> StoreResult<Vec<BlobId>> {
        transact!(self, |txn| {
            let found = txn
                .row_opt(
                    "SELECT 1 FROM coffer_uploads
                     WHERE bucket_id = $1 AND key = $2 AND upload_id = $3 FOR UPDATE",
                    &[&db_id(bucket.id), &key.as_bytes(), &upload_id.as_bytes()],
                )
                .await?;
            if found.is_none() {
                return Err(StoreError::NoSuchUpload.into());
            }
            let mut refs = RefChanges::default();
            remove_upload(&txn, bucket, key, upload_id, &mut refs).await?;
            refs.apply(&txn).await?
        })
    }

    async fn scan_uploads(
        &self,
        bucket: &BucketRecord,
        prefix: &str,
        from: UploadSeek<'_>,
        limit: usize,
    ) -> StoreResult<Vec<UploadRecord>> {
        let Some((lower_key, lower_id, inclusive)) = upload_lower_bound(from) else {
            return Ok(Vec::new());
        };
        let upper = prefix_upper_bound(prefix);
        if lower_key >= upper || limit == 0 {
            return Ok(Vec::new());
        }
        let sql = if inclusive {
            "SELECT record FROM coffer_uploads
             WHERE bucket_id = $1 AND (key, upload_id) >= ($2, $3) AND key >= $4 AND key < $5
             ORDER BY key, upload_id LIMIT $6"
        } else {
            "SELECT record FROM coffer_uploads
             WHERE bucket_id = $1 AND (key, upload_id) > ($2, $3) AND key >= $4 AND key < $5
             ORDER BY key, upload_id LIMIT $6"
        };
        read!(self, |txn| {
            let rows = txn
                .rows(
                    sql,
                    &[
                        &db_id(bucket.id),
                        &lower_key,
                        &lower_id,
                        &prefix.as_bytes(),
                        &upper,
                        &limit_of(limit),
                    ],
                )
                .await?;
            rows.iter()
                .map(|row| record(row, 0))
                .collect::<Res<Vec<_>>>()?
        })
    }

    async fn try_sweep_lease(&self) -> StoreResult<bool> {
        self.take_sweep_lease().await.map_err(Fault::into_store)
    }

    async fn release_sweep_lease(&self) -> StoreResult<()> {
        self.release_sweep_lease_now().await;
        Ok(())
    }

    async fn close(&self) -> StoreResult<()> {
        self.release_sweep_lease_now().await;
        self.pool.close();
        Ok(())
    }

    async fn blobs_referenced(&self, blobs: &[BlobId]) -> StoreResult<Vec<bool>> {
        let ids: Vec<Vec<u8>> = blobs.iter().map(|b| blob_bytes(b.0).to_vec()).collect();
        let found = read!(self, |txn| {
            let rows = txn
                .rows(
                    "SELECT blob FROM coffer_blob_refs WHERE blob = ANY($1)",
                    &[&ids],
                )
                .await?;
            rows.iter()
                .map(|row| Ok(row.try_get::<_, Vec<u8>>(0)?))
                .collect::<Res<std::collections::HashSet<Vec<u8>>>>()?
        })?;
        Ok(ids.iter().map(|id| found.contains(id)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lock_ids_are_stable_and_spread() {
        // Every node must compute the same id for a key, whatever its build.
        assert_eq!(key_lock_id(1, ""), key_lock_id(1, ""));
        assert_ne!(key_lock_id(1, "a"), key_lock_id(2, "a"));
        assert_ne!(key_lock_id(1, "a"), key_lock_id(1, "b"));
        assert_eq!(key_lock_id(0, ""), 0xa8c7_f832_281a_39c5_u64 as i64);
    }

    #[test]
    fn scan_bounds_follow_the_prefix() {
        assert_eq!(prefix_upper_bound(""), vec![0xff]);
        assert_eq!(prefix_upper_bound("a/"), b"a0".to_vec());
        assert_eq!(
            upload_lower_bound(UploadSeek::AfterUpload {
                key: "k",
                upload_id: "u"
            }),
            Some((b"k".to_vec(), b"u".to_vec(), false))
        );
        assert_eq!(
            upload_lower_bound(UploadSeek::Key(Seek::After("k"))),
            Some((b"k\0".to_vec(), Vec::new(), true))
        );
    }
}

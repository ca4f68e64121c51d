//! Blob reference counts, kept exact under concurrency.
//!
//! A transaction gathers the references it adds and drops and applies the net change per
//! blob, in blob order (so two transactions never wait for each other's rows in opposite
//! orders). An increment of a blob that must already be referenced (a copy sharing
//! extents) is an `UPDATE` that must find the row; a decrement that reaches zero deletes
//! the row in the same transaction, which holds the row lock until commit, so exactly one
//! transaction sees a blob's count reach zero and releases it.

use crate::fault::Res;
use crate::sql::Sql;
use coffer_store::model::BlobId;
use coffer_store::StoreError;
use std::collections::BTreeMap;

/// The net change of reference counts one transaction makes.
#[derive(Debug, Default)]
pub(crate) struct RefChanges {
    net: BTreeMap<u128, i64>,
    /// Blobs that must already be referenced before this transaction.
    shared: Vec<u128>,
}

impl RefChanges {
    /// References added (new blobs, or `shared` ones that must exist already).
    pub(crate) fn add(&mut self, blobs: impl Iterator<Item = BlobId>, shared: bool) {
        for blob in blobs {
            *self.net.entry(blob.0).or_default() += 1;
            if shared {
                self.shared.push(blob.0);
            }
        }
    }

    /// References dropped.
    pub(crate) fn drop_refs(&mut self, blobs: impl Iterator<Item = BlobId>) {
        for blob in blobs {
            *self.net.entry(blob.0).or_default() -= 1;
        }
    }

    /// Applies the changes; returns the blobs no longer referenced. A shared blob that is
    /// not referenced (any more) fails with `VersionReplaced`.
    pub(crate) async fn apply(self, txn: &impl Sql) -> Res<Vec<BlobId>> {
        let mut released = Vec::new();
        for (blob, delta) in self.net {
            let id = blob_bytes(blob);
            let must_exist = self.shared.contains(&blob);
            if delta == 0 && !must_exist {
                continue;
            }
            if delta > 0 && !must_exist {
                txn.run(
                    "INSERT INTO coffer_blob_refs (blob, refs) VALUES ($1, $2)
                     ON CONFLICT (blob) DO UPDATE SET refs = coffer_blob_refs.refs + EXCLUDED.refs",
                    &[&id.as_slice(), &delta],
                )
                .await?;
                continue;
            }
            let row = txn
                .row_opt(
                    "UPDATE coffer_blob_refs SET refs = refs + $2 WHERE blob = $1 RETURNING refs",
                    &[&id.as_slice(), &delta],
                )
                .await?;
            let left: Option<i64> = row.map(|row| row.try_get(0)).transpose()?;
            match left {
                None if must_exist => return Err(StoreError::VersionReplaced.into()),
                Some(left) if left > 0 => {}
                _ => {
                    txn.run(
                        "DELETE FROM coffer_blob_refs WHERE blob = $1",
                        &[&id.as_slice()],
                    )
                    .await?;
                    released.push(BlobId(blob));
                }
            }
        }
        Ok(released)
    }
}

/// A blob id (or inline-data id) as the 16 big-endian bytes stored.
pub(crate) fn blob_bytes(id: u128) -> [u8; 16] {
    id.to_be_bytes()
}

/// Whether every blob is referenced now (the early `VersionReplaced` of a copy).
pub(crate) async fn all_referenced(
    txn: &impl Sql,
    blobs: impl Iterator<Item = BlobId>,
) -> Res<bool> {
    for blob in blobs {
        let id = blob_bytes(blob.0);
        let found = txn
            .row_opt(
                "SELECT 1 FROM coffer_blob_refs WHERE blob = $1",
                &[&id.as_slice()],
            )
            .await?;
        if found.is_none() {
            return Ok(false);
        }
    }
    Ok(true)
}

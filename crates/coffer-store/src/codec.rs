//! Versioned encoding of persisted records.
//!
//! A record is one format byte followed by its postcard encoding. Postcard is not
//! self-describing — a record cannot grow a field and still be read by the same struct — so
//! every change of a record's shape takes a new format byte: [`Record::FORMAT`] is the one
//! this release writes for a type, and [`Record::decode_older`] reads the earlier ones
//! (their shapes and migrations live in [`crate::migrate`]).

use crate::error::{StoreError, StoreResult};
use serde::{de::DeserializeOwned, Serialize};

/// The first format.
pub const FORMAT_V1: u8 = 1;

/// The second format: object versions, uploads, parts and completion receipts with their
/// flexible checksums and (object versions) their parts.
pub const FORMAT_V2: u8 = 2;

/// A type persisted as a record.
pub trait Record: Serialize + DeserializeOwned {
    /// The format byte this release writes for the type.
    const FORMAT: u8;

    /// Decodes a body written in an earlier format of the type; `None` when `format` is not
    /// one of them.
    fn decode_older(format: u8, body: &[u8]) -> Option<StoreResult<Self>> {
        let _ = (format, body);
        None
    }
}

/// Encodes a record with its type's current format byte.
pub fn encode<T: Record>(value: &T) -> StoreResult<Vec<u8>> {
    let mut out = vec![T::FORMAT];
    let body = postcard::to_stdvec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes a record written in its type's current format or an earlier one.
pub fn decode<T: Record>(bytes: &[u8]) -> StoreResult<T> {
    match bytes.split_first() {
        Some((&format, body)) if format == T::FORMAT => body_of(body),
        Some((&format, body)) => T::decode_older(format, body).unwrap_or_else(|| {
            Err(StoreError::Corrupt(format!(
                "unknown record format {format}"
            )))
        }),
        None => Err(StoreError::Corrupt("empty record".into())),
    }
}

/// The postcard body of a record, as the type `T` (current or earlier shape).
pub(crate) fn body_of<T: DeserializeOwned>(body: &[u8]) -> StoreResult<T> {
    postcard::from_bytes(body).map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BlobId, Extent};

    impl Record for Extent {
        const FORMAT: u8 = FORMAT_V1;
    }

    #[test]
    fn round_trips_and_rejects_unknown_formats() {
        let extent = Extent {
            blob: BlobId(7),
            offset: 1,
            len: 2,
        };
        let bytes = encode(&extent).expect("encodes");
        assert_eq!(bytes[0], FORMAT_V1);
        assert_eq!(decode::<Extent>(&bytes).expect("decodes"), extent);
        let mut future = bytes.clone();
        future[0] = 99;
        assert!(decode::<Extent>(&future).is_err());
        assert!(decode::<Extent>(&[]).is_err());
    }
}

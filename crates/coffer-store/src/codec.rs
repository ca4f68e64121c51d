//! Versioned encoding of persisted records.
//!
//! A record is one format byte followed by its postcard encoding. Format 1 is the first; a
//! future format adds a decoder for the old byte and migrates on read.

use crate::error::{StoreError, StoreResult};
use serde::{de::DeserializeOwned, Serialize};

/// The format byte written by this version.
pub const FORMAT_V1: u8 = 1;

/// Encodes a record with the current format byte.
pub fn encode<T: Serialize>(value: &T) -> StoreResult<Vec<u8>> {
    let mut out = vec![FORMAT_V1];
    let body = postcard::to_stdvec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes a record, checking its format byte.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> StoreResult<T> {
    match bytes.split_first() {
        Some((&FORMAT_V1, body)) => {
            postcard::from_bytes(body).map_err(|e| StoreError::Corrupt(e.to_string()))
        }
        Some((other, _)) => Err(StoreError::Corrupt(format!(
            "unknown record format {other}"
        ))),
        None => Err(StoreError::Corrupt("empty record".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BlobId, Extent};

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

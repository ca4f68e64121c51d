//! The parts of a completed object: which bytes a GET or HEAD `?partNumber=N` selects.
//!
//! Parts are addressed by the numbers they were completed with (a completion of parts 1, 3
//! and 7 makes an object whose `partNumber=3` is its second part). An object that is not a
//! multipart upload has one part, number 1: the whole object — still answered as a range
//! (206 with `Content-Range`), as S3 does.

use super::op::OpRequest;
use crate::error::{ApiError, ApiResult};
use coffer_proto::checksum::{encode_checksum, ChecksumAlgorithm, ChecksumType};
use coffer_proto::names::parse_part_number;
use coffer_proto::ErrorCode;
use coffer_store::model::{ObjectKind, ObjectVersion};

/// The bytes a part number selects, and what is said about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartSelection {
    /// First byte of the part in the object.
    pub start: u64,
    /// Its length.
    pub len: u64,
    /// The object's part count, for a multipart object (`x-amz-mp-parts-count`).
    pub parts_count: Option<u32>,
    /// The part's flexible checksum: algorithm, value, and the object's checksum type.
    pub checksum: Option<(ChecksumAlgorithm, String, ChecksumType)>,
}

/// The `partNumber` of a GET or HEAD, if any: 1 to 10000, else `400 InvalidArgument`.
pub fn part_number_param(req: &OpRequest<'_>) -> ApiResult<Option<u32>> {
    match req.param("partNumber") {
        None => Ok(None),
        Some(value) => parse_part_number(value).map(Some).map_err(|_| {
            ApiError::with_message(
                ErrorCode::InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        }),
    }
}

/// The part `number` of `version`: `416 InvalidPartNumber` if it has none.
pub fn select_part(version: &ObjectVersion, number: u32) -> ApiResult<PartSelection> {
    let not_satisfiable = || ApiError::new(ErrorCode::InvalidPartNumber);
    if version.kind != ObjectKind::Multipart {
        if number != 1 {
            return Err(not_satisfiable());
        }
        return Ok(PartSelection {
            start: 0,
            len: version.size,
            parts_count: None,
            checksum: version
                .checksum
                .as_ref()
                .map(|c| (c.algorithm, c.value(), c.kind)),
        });
    }
    let parts_count = version.part_count();
    if version.parts.is_empty() {
        // Completed by a release that did not record parts: only a one-part object's
        // layout is known.
        return match (parts_count, number) {
            (Some(1), 1) => Ok(PartSelection {
                start: 0,
                len: version.size,
                parts_count,
                checksum: None,
            }),
            (Some(count), _) if number > count => Err(not_satisfiable()),
            _ => Err(ApiError::with_message(
                ErrorCode::NotImplemented,
                "The parts of this object were not recorded (it was completed by an earlier release); read it by byte range instead.",
            )),
        };
    }
    let (part, start) = version.part(number).ok_or_else(not_satisfiable)?;
    let checksum = match (&version.checksum, &part.checksum) {
        (Some(object), Some(digest)) => {
            Some((object.algorithm, encode_checksum(digest), object.kind))
        }
        _ => None,
    };
    Ok(PartSelection {
        start,
        len: part.size,
        parts_count,
        checksum,
    })
}

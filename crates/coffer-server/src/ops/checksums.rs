//! Flexible checksums (S3's `x-amz-checksum-*`) as handlers read and write them: the
//! algorithm and type a new multipart upload asks for, the algorithm a copy asks for, what a
//! completion states of the object's checksum, the checksum mode of a GET or HEAD, and the
//! headers and XML elements that carry checksums back. The checksum of a request body itself
//! is verified by the pipeline ([`crate::payload`]).
//!
//! These are S3 headers: a COS request never sees them ([`OpRequest::header`]), so its uploads get
//! the defaults and its answers carry no `x-amz-*` header.

use super::op::OpRequest;
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use coffer_proto::checksum::{ChecksumAlgorithm, ChecksumType};
use coffer_proto::xml::XmlWriter;
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::model::{ObjectChecksum, UploadChecksum};

/// The checksum every upload and object gets when the client names none: CRC-64/NVME of the
/// whole object, as S3 adds by default.
pub const DEFAULT_ALGORITHM: ChecksumAlgorithm = ChecksumAlgorithm::Crc64Nvme;

/// Whether a GET or HEAD asks for the object's checksum (`x-amz-checksum-mode: ENABLED`).
pub fn checksum_mode_enabled(req: &OpRequest<'_>) -> bool {
    req.header("x-amz-checksum-mode")
        .is_some_and(|mode| mode.eq_ignore_ascii_case("ENABLED"))
}

/// The algorithm an `x-amz-checksum-algorithm` header names, if present; an unknown one is
/// `400 InvalidRequest`.
pub fn requested_algorithm(req: &OpRequest<'_>) -> ApiResult<Option<ChecksumAlgorithm>> {
    match req.header("x-amz-checksum-algorithm") {
        None => Ok(None),
        Some(name) => ChecksumAlgorithm::parse(name).map(Some).ok_or_else(|| {
            ApiError::with_message(
                ErrorCode::InvalidRequest,
                "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
            )
        }),
    }
}

/// The `x-amz-checksum-type` header, if present; another value than `COMPOSITE` or
/// `FULL_OBJECT` is `400 InvalidRequest`.
fn requested_type(req: &OpRequest<'_>) -> ApiResult<Option<ChecksumType>> {
    match req.header("x-amz-checksum-type") {
        None => Ok(None),
        Some(value) => ChecksumType::parse(value).map(Some).ok_or_else(|| {
            ApiError::with_message(
                ErrorCode::InvalidRequest,
                "Value for x-amz-checksum-type header is invalid.",
            )
        }),
    }
}

/// The checksum a new multipart upload computes (CreateMultipartUpload): the algorithm and
/// type the client asks for — the type defaults to FULL_OBJECT for CRC-64/NVME and to
/// COMPOSITE for the others; FULL_OBJECT needs a CRC and CRC-64/NVME is FULL_OBJECT only —
/// or, without `x-amz-checksum-algorithm`, the default full-object CRC-64/NVME.
pub fn upload_checksum(req: &OpRequest<'_>) -> ApiResult<UploadChecksum> {
    let kind = requested_type(req)?;
    let Some(algorithm) = requested_algorithm(req)? else {
        if kind.is_some() {
            return Err(ApiError::with_message(
                ErrorCode::InvalidRequest,
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
            ));
        }
        return Ok(UploadChecksum {
            algorithm: DEFAULT_ALGORITHM,
            kind: ChecksumType::FullObject,
            requested: false,
        });
    };
    let kind = kind.unwrap_or_else(|| algorithm.default_type());
    if !algorithm.supports(kind) {
        return Err(ApiError::with_message(
            ErrorCode::InvalidRequest,
            format!(
                "The {} checksum type cannot be used with the {} checksum algorithm.",
                kind.as_str(),
                algorithm.lower_name()
            ),
        ));
    }
    Ok(UploadChecksum {
        algorithm,
        kind,
        requested: true,
    })
}

/// A checksum a client states (algorithm, base64 value) and the checksum type it states.
pub type StatedChecksum = (Option<(ChecksumAlgorithm, String)>, Option<ChecksumType>);

/// What a CompleteMultipartUpload states of the object's checksum: one
/// `x-amz-checksum-<algorithm>` value (two are `400 InvalidRequest`) and the
/// `x-amz-checksum-type`.
pub fn stated_object_checksum(req: &OpRequest<'_>) -> ApiResult<StatedChecksum> {
    let mut stated = None;
    for algorithm in ChecksumAlgorithm::ALL {
        if let Some(value) = req.header(algorithm.header_name()) {
            if stated.is_some() {
                return Err(ApiError::with_message(
                    ErrorCode::InvalidRequest,
                    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
                ));
            }
            stated = Some((algorithm, value.to_string()));
        }
    }
    Ok((stated, requested_type(req)?))
}

/// Adds `x-amz-checksum-<algorithm>: <value>` and `x-amz-checksum-type` to an S3 answer
/// (COS answers carry none).
pub fn push_checksum_headers(
    dialect: Dialect,
    response: &mut Response,
    algorithm: ChecksumAlgorithm,
    value: String,
    kind: ChecksumType,
) {
    if dialect == Dialect::S3 {
        response.push_header(algorithm.header_name(), value);
        response.push_header("x-amz-checksum-type", kind.as_str());
    }
}

/// Adds an object's checksum headers to an S3 answer.
pub fn push_object_checksum(dialect: Dialect, response: &mut Response, checksum: &ObjectChecksum) {
    push_checksum_headers(
        dialect,
        response,
        checksum.algorithm,
        checksum.value(),
        checksum.kind,
    );
}

/// Writes `<ChecksumCRC32>…</ChecksumCRC32><ChecksumType>…</ChecksumType>` into an S3
/// result document (COS documents carry none).
pub fn write_checksum_elements(dialect: Dialect, w: &mut XmlWriter, checksum: &ObjectChecksum) {
    if dialect == Dialect::S3 {
        w.leaf(checksum.algorithm.xml_element(), &checksum.value())
            .leaf("ChecksumType", checksum.kind.as_str());
    }
}

//! The request payload as handlers read it: the HTTP body with the signature scheme's
//! protection applied (aws-chunked decoding with chunk signatures, or a SHA-256 that must
//! match at the end).

use crate::auth::PayloadCheck;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestBody;
use bytes::Bytes;
use coffer_proto::auth::chunked::ChunkedDecoder;
use coffer_proto::checksum::{ChecksumAlgorithm, FlexibleChecksum};
use coffer_proto::ErrorCode;
use sha2::{Digest, Sha256};

enum State {
    Plain,
    Sha256 {
        expected: String,
        hasher: Box<Sha256>,
    },
    Chunked(Box<ChunkedDecoder>),
}

/// An `x-amz-checksum-*` the payload must match: given in a header, or in the aws-chunked
/// trailer named by `x-amz-trailer`.
#[derive(Debug)]
pub struct ChecksumCheck {
    checksum: FlexibleChecksum,
    /// The header's value, or `None` when it comes in the trailer.
    expected: Option<String>,
}

/// Headers of the `x-amz-checksum-` family that do not carry a checksum of the body.
const CHECKSUM_PARAMETER_HEADERS: &[&str] = &[
    "x-amz-checksum-mode",
    "x-amz-checksum-algorithm",
    "x-amz-checksum-type",
];

impl ChecksumCheck {
    /// The check a request's headers ask for, if any: one `x-amz-checksum-<algorithm>`
    /// header, or an `x-amz-trailer` naming one. Refused (`400 InvalidRequest`, as S3): two
    /// checksum headers, an algorithm Coffer does not support, and an
    /// `x-amz-sdk-checksum-algorithm` that no checksum header or trailer carries.
    pub fn from_headers<'h>(
        headers: impl Iterator<Item = (&'h str, &'h str)>,
    ) -> ApiResult<Option<ChecksumCheck>> {
        let mut given: Option<(ChecksumAlgorithm, String)> = None;
        let mut trailer = None;
        let mut sdk_algorithm = None;
        for (name, value) in headers {
            let lower = name.to_ascii_lowercase();
            if lower == "x-amz-trailer" {
                trailer = Some(value.trim().to_string());
            } else if lower == "x-amz-sdk-checksum-algorithm" {
                sdk_algorithm = Some(value.trim().to_string());
            } else if lower.starts_with("x-amz-checksum-")
                && !CHECKSUM_PARAMETER_HEADERS.contains(&lower.as_str())
            {
                let algorithm = ChecksumAlgorithm::parse(&lower).ok_or_else(|| {
                    ApiError::with_message(
                        ErrorCode::InvalidRequest,
                        format!(
                            "The checksum header {lower} names an algorithm that is not supported."
                        ),
                    )
                })?;
                if given.is_some() {
                    return Err(ApiError::with_message(
                        ErrorCode::InvalidRequest,
                        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
                    ));
                }
                given = Some((algorithm, value.to_string()));
            }
        }
        let check = match (given, trailer) {
            (Some((algorithm, value)), _) => Some(ChecksumCheck {
                checksum: algorithm.hasher(),
                expected: Some(value),
            }),
            (None, Some(trailer)) => {
                let algorithm = ChecksumAlgorithm::parse(&trailer).ok_or_else(|| {
                    ApiError::with_message(
                        ErrorCode::InvalidRequest,
                        format!("Unsupported trailer {trailer}."),
                    )
                })?;
                Some(ChecksumCheck {
                    checksum: algorithm.hasher(),
                    expected: None,
                })
            }
            (None, None) => None,
        };
        if let Some(named) = sdk_algorithm {
            let carried = check.as_ref().map(|c| c.checksum.kind());
            if ChecksumAlgorithm::parse(&named).is_none()
                || ChecksumAlgorithm::parse(&named) != carried
            {
                return Err(ApiError::with_message(
                    ErrorCode::InvalidRequest,
                    "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
                ));
            }
        }
        Ok(check)
    }
}

/// A request body, checked as it streams.
pub struct Payload<'r, 'b> {
    body: &'r mut RequestBody<'b>,
    state: State,
    decoded_length: Option<u64>,
    finished: bool,
    checksum: Option<ChecksumCheck>,
    /// The verified algorithm and binary digest once the payload ended.
    verified_checksum: Option<(ChecksumAlgorithm, Vec<u8>)>,
}

impl std::fmt::Debug for Payload<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payload")
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl<'r, 'b> Payload<'r, 'b> {
    /// Wraps a body. `decoded_length` is `x-amz-decoded-content-length` for aws-chunked;
    /// `checksum` an `x-amz-checksum-*` to verify.
    pub fn new(
        body: &'r mut RequestBody<'b>,
        check: PayloadCheck,
        decoded_length: Option<u64>,
        checksum: Option<ChecksumCheck>,
    ) -> Self {
        let state = match check {
            PayloadCheck::None => State::Plain,
            PayloadCheck::Sha256(expected) => State::Sha256 {
                expected,
                hasher: Box::new(Sha256::new()),
            },
            PayloadCheck::AwsChunked(mode) => State::Chunked(Box::new(ChunkedDecoder::new(mode))),
        };
        let is_chunked = matches!(state, State::Chunked(_));
        Payload {
            body,
            state,
            decoded_length: if is_chunked { decoded_length } else { None },
            finished: false,
            checksum,
            verified_checksum: None,
        }
    }

    /// The algorithm of the `x-amz-checksum-*` the payload is checked against (known before
    /// the body is read).
    pub fn checksum_algorithm(&self) -> Option<ChecksumAlgorithm> {
        self.checksum.as_ref().map(|check| check.checksum.kind())
    }

    /// The flexible checksum (algorithm, binary digest) the payload was verified against,
    /// once it has been read to its end.
    pub fn verified_checksum(&self) -> Option<(ChecksumAlgorithm, Vec<u8>)> {
        self.verified_checksum.clone()
    }

    /// Feeds payload bytes to the flexible checksum, or checks it at the end.
    fn account(&mut self, chunk: Option<&Bytes>) -> ApiResult<()> {
        let Some(check) = self.checksum.as_mut() else {
            return Ok(());
        };
        match chunk {
            Some(bytes) => {
                check.checksum.update(bytes);
                Ok(())
            }
            None => {
                let name = check.checksum.header_name();
                let expected = match (&check.expected, &self.state) {
                    (Some(value), _) => Some(value.clone()),
                    (None, State::Chunked(decoder)) => decoder.trailer(&name).map(str::to_string),
                    (None, _) => None,
                };
                let Some(expected) = expected else {
                    return Err(ApiError::with_message(
                        ErrorCode::InvalidRequest,
                        format!("The trailer {name} is missing."),
                    ));
                };
                let digest = check.checksum.finish();
                let actual = coffer_proto::checksum::encode_checksum(&digest);
                if actual != expected.trim() {
                    return Err(crate::error::checksum_mismatch(check.checksum.kind()));
                }
                self.verified_checksum = Some((check.checksum.kind(), digest));
                Ok(())
            }
        }
    }

    /// The length of the payload, when known in advance.
    pub fn length(&self) -> Option<u64> {
        match self.state {
            State::Chunked(_) => self.decoded_length,
            _ => self.body.declared_length(),
        }
    }

    /// Whether the request framed a body at all (a `Content-Length` or chunked coding).
    pub fn is_framed(&self) -> bool {
        self.body.declared_length().is_some() || self.body.is_chunked()
    }

    /// The next piece of the payload, or `None` at its (verified) end.
    pub async fn next_chunk(&mut self) -> ApiResult<Option<Bytes>> {
        if self.finished {
            return Ok(None);
        }
        let chunk = self.next_checked_chunk().await?;
        self.account(chunk.as_ref())?;
        Ok(chunk)
    }

    async fn next_checked_chunk(&mut self) -> ApiResult<Option<Bytes>> {
        loop {
            let raw = self.body.next_chunk().await?;
            match &mut self.state {
                State::Plain => {
                    if raw.is_none() {
                        self.finished = true;
                    }
                    return Ok(raw);
                }
                State::Sha256 { expected, hasher } => match raw {
                    Some(chunk) => {
                        hasher.update(&chunk);
                        return Ok(Some(chunk));
                    }
                    None => {
                        self.finished = true;
                        let digest = hex::encode(std::mem::take(hasher.as_mut()).finalize());
                        if !digest.eq_ignore_ascii_case(expected) {
                            return Err(ApiError::new(ErrorCode::XAmzContentSHA256Mismatch));
                        }
                        return Ok(None);
                    }
                },
                State::Chunked(decoder) => match raw {
                    Some(chunk) => {
                        let mut input: &[u8] = &chunk;
                        let mut out = Vec::with_capacity(chunk.len());
                        decoder
                            .decode(&mut input, &mut out)
                            .map_err(|e| ApiError::with_message(e.error_code(), e.to_string()))?;
                        if !out.is_empty() {
                            return Ok(Some(Bytes::from(out)));
                        }
                    }
                    None => {
                        self.finished = true;
                        decoder
                            .finish()
                            .map_err(|e| ApiError::with_message(e.error_code(), e.to_string()))?;
                        if let Some(expected) = self.decoded_length {
                            if decoder.decoded_len() != expected {
                                return Err(ApiError::new(ErrorCode::IncompleteBody));
                            }
                        }
                        return Ok(None);
                    }
                },
            }
        }
    }

    /// Reads the whole payload into memory (XML bodies), refusing more than `limit` bytes.
    pub async fn read_to_end(&mut self, limit: usize) -> ApiResult<Vec<u8>> {
        if self.length().is_some_and(|len| len > limit as u64) {
            return Err(ApiError::new(ErrorCode::MaxMessageLengthExceeded));
        }
        let mut out = Vec::new();
        while let Some(chunk) = self.next_chunk().await? {
            if out.len() + chunk.len() > limit {
                return Err(ApiError::new(ErrorCode::MaxMessageLengthExceeded));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }
}

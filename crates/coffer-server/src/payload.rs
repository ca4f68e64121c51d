//! The request payload as handlers read it: the HTTP body with the signature scheme's
//! protection applied (aws-chunked decoding with chunk signatures, or a SHA-256 that must
//! match at the end).

use crate::auth::PayloadCheck;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestBody;
use bytes::Bytes;
use coffer_proto::auth::chunked::ChunkedDecoder;
use coffer_proto::checksum::FlexibleChecksum;
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

impl ChecksumCheck {
    /// The check a request asks for, if any.
    pub fn from_headers(
        header: impl Fn(&str) -> Option<String>,
    ) -> ApiResult<Option<ChecksumCheck>> {
        for algorithm in ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"] {
            let name = format!("x-amz-checksum-{algorithm}");
            if let Some(value) = header(&name) {
                let checksum = FlexibleChecksum::named(algorithm)
                    .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest))?;
                return Ok(Some(ChecksumCheck {
                    checksum,
                    expected: Some(value),
                }));
            }
        }
        if let Some(trailer) = header("x-amz-trailer") {
            let checksum = FlexibleChecksum::named(&trailer).ok_or_else(|| {
                ApiError::with_message(
                    ErrorCode::InvalidRequest,
                    format!("Unsupported trailer {trailer}."),
                )
            })?;
            return Ok(Some(ChecksumCheck {
                checksum,
                expected: None,
            }));
        }
        Ok(None)
    }
}

/// A request body, checked as it streams.
pub struct Payload<'r, 'b> {
    body: &'r mut RequestBody<'b>,
    state: State,
    decoded_length: Option<u64>,
    finished: bool,
    checksum: Option<ChecksumCheck>,
    /// The verified `(header name, value)` once the payload ended.
    verified_checksum: Option<(String, String)>,
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

    /// The `x-amz-checksum-*` header and value the payload was verified against, to echo.
    pub fn verified_checksum(&self) -> Option<(String, String)> {
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
                let actual = check.checksum.finish_base64();
                if actual != expected.trim() {
                    return Err(ApiError::with_message(
                        ErrorCode::BadDigest,
                        format!(
                            "The {} you specified did not match the calculated checksum.",
                            check.checksum.algorithm().to_ascii_uppercase()
                        ),
                    ));
                }
                self.verified_checksum = Some((name, actual));
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

//! The server's error type: a protocol error code with a message, rendered as the
//! dialect's `<Error>` document. Internal failures are logged with their cause and shown to
//! the client only as `InternalError`.

use crate::http::BodyError;
use coffer_proto::auth::AuthError;
use coffer_proto::checksum::ChecksumAlgorithm;
use coffer_proto::ErrorCode;
use coffer_store::StoreError;

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The protocol code (decides the HTTP status).
    pub code: ErrorCode,
    /// The message shown to the client.
    pub message: String,
    /// Extra elements for the error document, e.g. `("StringToSign", …)`.
    pub extra: Vec<(&'static str, String)>,
    /// Headers to add to the error answer, e.g. `x-cos-next-append-position`.
    pub headers: Vec<(&'static str, String)>,
    /// Whether the connection should close after answering (unread body).
    pub close: bool,
    /// Whether the object the pipeline resolved was replaced before the handler read it
    /// (see [`StoreError::VersionReplaced`]): the pipeline may resolve it again and rerun
    /// an operation that has no request body.
    pub stale: bool,
}

impl ApiError {
    /// An error with the code's default message.
    pub fn new(code: ErrorCode) -> ApiError {
        ApiError {
            code,
            message: code.default_message().to_string(),
            extra: Vec::new(),
            headers: Vec::new(),
            close: false,
            stale: false,
        }
    }

    /// An error with a specific message.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            message: message.into(),
            ..ApiError::new(code)
        }
    }

    /// A server-side failure: logs the cause, answers `InternalError`.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(ErrorCode::InternalError)
    }

    /// Marks the error as one after which the connection must close (body left unread).
    pub fn close(mut self) -> ApiError {
        self.close = true;
        self
    }

    /// Adds an element to the error document.
    pub fn extra(mut self, name: &'static str, value: impl Into<String>) -> ApiError {
        self.extra.push((name, value.into()));
        self
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        ApiError::new(code)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchBucket => ErrorCode::NoSuchBucket.into(),
            StoreError::BucketAlreadyExists { owned_by_caller } => {
                if owned_by_caller {
                    ErrorCode::BucketAlreadyOwnedByYou.into()
                } else {
                    ErrorCode::BucketAlreadyExists.into()
                }
            }
            StoreError::BucketNotEmpty => ErrorCode::BucketNotEmpty.into(),
            StoreError::NoSuchKey => ErrorCode::NoSuchKey.into(),
            StoreError::VersionReplaced => ApiError {
                stale: true,
                ..ApiError::with_message(
                    ErrorCode::SlowDown,
                    "The object was replaced while it was being read; please retry.",
                )
            },
            StoreError::NoSuchUpload => ErrorCode::NoSuchUpload.into(),
            StoreError::PreconditionFailed => ErrorCode::PreconditionFailed.into(),
            StoreError::InvalidPart(n) => ApiError::with_message(
                ErrorCode::InvalidPart,
                format!("Part {n} could not be found or its ETag does not match."),
            ),
            StoreError::EntityTooSmall(n) => ApiError::with_message(
                ErrorCode::EntityTooSmall,
                format!("Part {n} is smaller than the minimum allowed part size."),
            ),
            StoreError::PartChecksumMissing {
                part_number,
                algorithm,
            } => ApiError::with_message(
                ErrorCode::InvalidRequest,
                format!(
                    "The upload was created using a {} checksum. The complete request must include the checksum for each part. It was missing for part {part_number} in the request.",
                    algorithm.lower_name()
                ),
            ),
            StoreError::ChecksumTypeMismatch { expected } => ApiError::with_message(
                ErrorCode::InvalidRequest,
                format!(
                    "The upload was created using the {} checksum mode. The complete request must use the same checksum mode.",
                    expected.as_str()
                ),
            ),
            StoreError::ChecksumAlgorithmMismatch { expected, actual } => {
                checksum_type_mismatch(Some(expected), Some(actual))
            }
            StoreError::ChecksumMismatch(algorithm) => checksum_mismatch(algorithm),
            other => ApiError::internal(other),
        }
    }
}

impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> Self {
        let mut error = match e {
            BodyError::Timeout => ApiError::new(ErrorCode::RequestTimeout),
            BodyError::Malformed => {
                ApiError::with_message(ErrorCode::BadRequest, "Malformed chunked body.")
            }
            BodyError::Incomplete | BodyError::Io(_) => ApiError::new(ErrorCode::IncompleteBody),
            BodyError::TooLarge => ApiError::new(ErrorCode::MaxMessageLengthExceeded),
        };
        error.close = true;
        error
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let code = e.error_code();
        let mut error = ApiError::with_message(code, e.to_string());
        if let AuthError::SignatureMismatch {
            string_to_sign,
            canonical_request,
        } = e
        {
            error.message = ErrorCode::SignatureDoesNotMatch
                .default_message()
                .to_string();
            error = error.extra("StringToSign", string_to_sign);
            if let Some(canonical) = canonical_request {
                error = error.extra("CanonicalRequest", canonical);
            }
        }
        error
    }
}

/// `400 InvalidRequest` for a checksum in another algorithm than the one expected (`None`:
/// no checksum), in S3's words.
pub fn checksum_type_mismatch(
    expected: Option<ChecksumAlgorithm>,
    actual: Option<ChecksumAlgorithm>,
) -> ApiError {
    let name = |a: Option<ChecksumAlgorithm>| a.map_or("null", ChecksumAlgorithm::lower_name);
    ApiError::with_message(
        ErrorCode::InvalidRequest,
        format!(
            "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
            name(expected),
            name(actual)
        ),
    )
}

/// `400 BadDigest` for a checksum that does not match the data, in S3's words.
pub fn checksum_mismatch(algorithm: ChecksumAlgorithm) -> ApiError {
    ApiError::with_message(
        ErrorCode::BadDigest,
        format!(
            "The {} you specified did not match the calculated checksum.",
            algorithm.name()
        ),
    )
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

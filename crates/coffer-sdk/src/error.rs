//! The SDK's errors: [`ClientError`] for what went wrong on this side (the Python SDK's
//! `CosClientError`), [`ServiceError`] for an error answer from the service
//! (`CosServiceError`), and [`Error`], either of them.

use std::fmt;
use std::io;
use std::path::PathBuf;

use reqwest::header::HeaderMap;

use crate::crypto::CryptoError;

/// Result alias of the SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Any failure of an SDK call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request could not be made or its answer not read.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The service answered with an error.
    #[error(transparent)]
    Service(#[from] Box<ServiceError>),
}

impl From<ServiceError> for Error {
    fn from(e: ServiceError) -> Self {
        Error::Service(Box::new(e))
    }
}

impl From<CryptoError> for Error {
    fn from(e: CryptoError) -> Self {
        Error::Client(ClientError::Crypto(e))
    }
}

impl Error {
    /// The service error, if this is one.
    pub fn as_service(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(e) => Some(e),
            Error::Client(_) => None,
        }
    }

    /// HTTP status of a service error.
    pub fn status_code(&self) -> Option<u16> {
        self.as_service().map(|e| e.status_code)
    }

    /// Error code of a service error (`NoSuchKey`, …).
    pub fn error_code(&self) -> Option<&str> {
        self.as_service().map(|e| e.code.as_str())
    }

    /// True for a 404 answer (missing bucket, key or upload).
    pub fn is_not_found(&self) -> bool {
        self.status_code() == Some(404)
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Client(ClientError::Io {
            context: context.into(),
            source,
        })
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::Client(ClientError::InvalidArgument(message.into()))
    }
}

/// A failure on the client side: the Python SDK's `CosClientError`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Connecting, sending or receiving failed (after the configured retries).
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// No byte arrived within the configured timeout (after the configured retries).
    #[error("request timed out: {0}")]
    Timeout(#[source] reqwest::Error),
    /// A local file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What the SDK was doing (names the path).
        context: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A parameter is invalid (rejected before anything is sent).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Credentials could not be obtained.
    #[error("credentials: {0}")]
    Credentials(String),
    /// The answer does not have the shape the protocol promises.
    #[error("unexpected response: {0}")]
    InvalidResponse(String),
    /// Downloaded or uploaded data failed an integrity check (CRC-64, length, MD5).
    #[error("integrity check failed for {path}: {detail}")]
    Integrity {
        /// The local file or object concerned.
        path: PathBuf,
        /// What differed.
        detail: String,
    },
    /// Client-side encryption failed.
    #[error("client-side encryption: {0}")]
    Crypto(#[from] CryptoError),
    /// A transfer was cancelled by its caller.
    #[error("cancelled")]
    Cancelled,
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            ClientError::Timeout(e)
        } else {
            ClientError::Transport(e)
        }
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        Error::Client(e.into())
    }
}

/// An error answer of the service: the Python SDK's `CosServiceError`, with the same
/// accessors as public fields.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// The HTTP method of the failed request.
    pub method: String,
    /// HTTP status (`get_status_code`); 200 for an error inside a 200 answer (§5.2).
    pub status_code: u16,
    /// Error code (`get_error_code`): `NoSuchKey`, `AccessDenied`…; `NoSuchResource` for a
    /// HEAD answered 404, `Unknown` when the body carried none.
    pub code: String,
    /// Message (`get_error_msg`).
    pub message: String,
    /// Resource (`get_resource_location`); the URL for a HEAD without body.
    pub resource: String,
    /// `x-cos-request-id` (`get_request_id`), from the body or the headers.
    pub request_id: String,
    /// `x-cos-trace-id` (`get_trace_id`).
    pub trace_id: String,
    /// The raw answer body (`get_origin_msg`).
    pub raw: String,
    /// The answer's headers.
    pub headers: HeaderMap,
}

impl fmt::Debug for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceError")
            .field("method", &self.method)
            .field("status_code", &self.status_code)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("resource", &self.resource)
            .field("request_id", &self.request_id)
            .field("trace_id", &self.trace_id)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} (HTTP {}, resource {}, request id {})",
            self.method,
            self.code,
            self.message,
            self.status_code,
            if self.resource.is_empty() {
                "-"
            } else {
                &self.resource
            },
            if self.request_id.is_empty() {
                "-"
            } else {
                &self.request_id
            },
        )
    }
}

impl std::error::Error for ServiceError {}

impl ServiceError {
    /// Builds the error from an answer (§5.1–§5.2). `url` is the request URL (the resource of
    /// a body-less HEAD error).
    pub(crate) fn from_response(
        method: &str,
        status: u16,
        headers: HeaderMap,
        body: &[u8],
        url: &str,
    ) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let mut error = ServiceError {
            method: method.to_string(),
            status_code: status,
            code: "Unknown".into(),
            message: String::new(),
            resource: String::new(),
            request_id: header("x-cos-request-id"),
            trace_id: header("x-cos-trace-id"),
            raw: String::from_utf8_lossy(body).into_owned(),
            headers: HeaderMap::new(),
        };
        if method == "HEAD" {
            if status == 404 {
                error.code = "NoSuchResource".into();
                error.message = "The Resource You Head Not Exist".into();
            }
            error.resource = url.to_string();
        } else if let Ok(root) = coffer_proto::xml::parse(body) {
            let find = |name: &str| find_text(&root, name).filter(|t| !t.is_empty());
            if let Some(code) = find("Code") {
                error.code = code;
            }
            error.message = find("Message").unwrap_or_default();
            error.resource = find("Resource").unwrap_or_else(|| url.to_string());
            if let Some(id) = find("RequestId") {
                error.request_id = id;
            }
            if let Some(id) = find("TraceId") {
                error.trace_id = id;
            }
        } else {
            error.resource = url.to_string();
        }
        if error.request_id.is_empty() {
            error.request_id = header("x-amz-request-id");
        }
        if error.message.is_empty() {
            error.message = reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error")
                .to_string();
        }
        error.headers = headers;
        error
    }
}

/// Depth-first search for the first element named `name` (the SDK's DOM lookup, §5.1).
fn find_text(element: &coffer_proto::xml::Element, name: &str) -> Option<String> {
    if element.name == name {
        return Some(element.text.clone());
    }
    element.children.iter().find_map(|c| find_text(c, name))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_error_body() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Resource>examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/exampleobject</Resource><RequestId>NjA</RequestId><TraceId>OGVm</TraceId></Error>"#;
        let e = ServiceError::from_response("GET", 404, HeaderMap::new(), body, "http://x/y");
        assert_eq!(e.code, "NoSuchKey");
        assert_eq!(e.message, "The specified key does not exist.");
        assert_eq!(
            e.resource,
            "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/exampleobject"
        );
        assert_eq!(e.request_id, "NjA");
        assert_eq!(e.trace_id, "OGVm");
        assert!(e.raw.contains("<Code>NoSuchKey</Code>"));
    }

    #[test]
    fn head_404_is_no_such_resource() {
        let mut headers = HeaderMap::new();
        headers.insert("x-cos-request-id", "rid".parse().unwrap());
        let e = ServiceError::from_response("HEAD", 404, headers, b"", "http://h/k");
        assert_eq!(e.code, "NoSuchResource");
        assert_eq!(e.request_id, "rid");
        assert_eq!(e.resource, "http://h/k");
    }

    #[test]
    fn garbage_body_is_unknown() {
        let e = ServiceError::from_response("GET", 502, HeaderMap::new(), b"<html>bad", "u");
        assert_eq!(e.code, "Unknown");
        assert_eq!(e.message, "Bad Gateway");
    }
}

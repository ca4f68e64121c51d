//! Responses with header names written byte-exact.

use bytes::Bytes;
use coffer_store::ObjectReader;
use std::borrow::Cow;

/// A response body.
#[derive(Debug, Default)]
pub enum ResponseBody {
    /// No body (`Content-Length: 0` unless overridden).
    #[default]
    Empty,
    /// A body in memory.
    Bytes(Bytes),
    /// A streamed object range of known length.
    Stream {
        /// Exact number of bytes the reader yields.
        len: u64,
        /// The bytes.
        reader: ObjectReader,
    },
}

/// A response. Header names are written exactly as given.
#[derive(Debug, Default)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Headers in order, names in their exact wire spelling.
    pub headers: Vec<(Cow<'static, str>, Vec<u8>)>,
    /// The body.
    pub body: ResponseBody,
    /// `Content-Length` to announce instead of the body's (HEAD answers).
    pub content_length_override: Option<u64>,
    /// Close the connection after this response.
    pub close: bool,
}

impl Response {
    /// A response with a status and no body.
    pub fn new(status: u16) -> Response {
        Response {
            status,
            ..Response::default()
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a header in place.
    pub fn push_header(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<Vec<u8>>) {
        self.headers.push((name.into(), value.into()));
    }

    /// Whether a header is already present (case-insensitive).
    pub fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// An `application/xml` response.
    pub fn xml(status: u16, document: String) -> Response {
        Response {
            status,
            headers: vec![(Cow::Borrowed("Content-Type"), b"application/xml".to_vec())],
            body: ResponseBody::Bytes(Bytes::from(document)),
            ..Response::default()
        }
    }

    /// The length announced in `Content-Length`.
    pub fn content_length(&self) -> u64 {
        if let Some(len) = self.content_length_override {
            return len;
        }
        match &self.body {
            ResponseBody::Empty => 0,
            ResponseBody::Bytes(b) => b.len() as u64,
            ResponseBody::Stream { len, .. } => *len,
        }
    }
}

/// The reason phrase for a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        416 => "Requested Range Not Satisfiable",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

//! Request authentication: the COS "q-sign" signature and AWS Signature Version 4.
//!
//! Everything here is a pure function over a [`RequestView`]: the HTTP layer extracts the
//! view from the wire, looks up the secret key by access key id, and asks these functions
//! whether the signature holds. The SDK uses the same functions to sign.

pub mod cos;
pub mod sigv4;
pub mod chunked;

/// What a verifier needs to know of a request, already split from the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// The HTTP method in upper case, e.g. `GET`.
    pub method: &'a str,
    /// The percent-decoded request path, starting with `/` (for path-style requests it
    /// includes the bucket segment). COS signs this; SigV4 re-encodes it.
    pub decoded_path: &'a str,
    /// The raw query string as received, without the leading `?` (may be empty).
    pub raw_query: &'a str,
    /// Request headers: names exactly as received (any case), values as raw bytes.
    pub headers: &'a [(&'a str, &'a [u8])],
}

impl<'a> RequestView<'a> {
    /// The first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

//! Request authentication: the COS "q-sign" signature and AWS Signature Versions 4 and 2.
//!
//! Everything here is a pure function over a [`RequestView`]: the HTTP layer extracts the
//! view from the wire, looks up the secret key by access key id, and asks these functions
//! whether the signature holds. The SDK uses the same functions to sign.

pub mod chunked;
pub mod cos;
pub mod sigv2;
pub mod sigv4;

pub use crate::query::{form_decode, Query};

/// What a verifier needs to know of a request, already split from the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// The HTTP method in upper case, e.g. `GET`.
    pub method: &'a str,
    /// The percent-decoded request path, starting with `/` (for path-style requests it
    /// includes the bucket segment). COS signs this; SigV4 re-encodes it.
    pub decoded_path: &'a str,
    /// The query string, split and decoded once (by whoever built the view).
    pub query: &'a Query<'a>,
    /// Request headers: names exactly as received (any case), values as raw bytes.
    pub headers: &'a [(&'a str, &'a [u8])],
}

impl<'a> RequestView<'a> {
    /// A view of a request: method, decoded path, parsed query and headers.
    pub fn new(
        method: &'a str,
        decoded_path: &'a str,
        query: &'a Query<'a>,
        headers: &'a [(&'a str, &'a [u8])],
    ) -> Self {
        RequestView {
            method,
            decoded_path,
            query,
            headers,
        }
    }

    /// The first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Why a request's authentication failed. The HTTP layer maps each variant onto a protocol
/// error (see the variant docs); an unknown access key is the caller's business.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The authorization header or query is unparsable or inconsistent
    /// (→ 400 `InvalidArgument` / `AuthorizationHeaderMalformed` /
    /// `AuthorizationQueryParametersError`).
    #[error("malformed authorization: {0}")]
    Malformed(String),
    /// The request names a signature algorithm this server does not implement
    /// (→ 400 `InvalidArgument`, or 501 `NotImplemented` for ECDSA streaming payloads).
    #[error("unsupported signature algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// A field the signature scheme requires is absent (→ 400 `InvalidArgument` /
    /// `AuthorizationQueryParametersError`); the string names the field.
    #[error("missing security field: {0}")]
    MissingSecurityField(String),
    /// The requested validity of a presigned URL is outside what the scheme allows
    /// (SigV4: `X-Amz-Expires` of 0 or over 604800 s) (→ 403 `AccessDenied`).
    #[error("{0}")]
    LifetimeOutOfRange(String),
    /// The signature's validity window has ended (→ 403 `AccessDenied`, "Request has expired").
    #[error("Request has expired")]
    Expired,
    /// The signature's validity window has not started yet, even allowing for clock skew
    /// (→ 403 `AccessDenied`, "Request is not valid yet").
    #[error("Request is not valid yet")]
    NotYetValid,
    /// The request's `Date` / `x-amz-date` is missing or unreadable (→ 403 `AccessDenied`,
    /// "AWS authentication requires a valid Date or x-amz-date header").
    #[error("AWS authentication requires a valid Date or x-amz-date header: {0}")]
    InvalidDate(String),
    /// The request's timestamp is too far from the server clock
    /// (→ 403 `RequestTimeTooSkewed`).
    #[error("The difference between the request time and the server's time is too large.")]
    TimeTooSkewed,
    /// A request header that must be signed was not (SigV4: every `x-amz-*` header)
    /// (→ 403 `AccessDenied`, "There were headers present in the request which were not
    /// signed"); the string names the header.
    #[error("There were headers present in the request which were not signed: {0}")]
    UnsignedHeader(String),
    /// The computed signature differs from the one given (→ 403 `SignatureDoesNotMatch`).
    /// Carries what the server signed so the error body can echo it (`StringToSign`,
    /// `CanonicalRequest`; for COS the canonical request is the FormatString).
    #[error("The request signature we calculated does not match the signature you provided.")]
    SignatureMismatch {
        /// The string-to-sign the server computed.
        string_to_sign: String,
        /// The canonical request (SigV4) or FormatString (COS) the server computed.
        canonical_request: Option<String>,
    },
}

impl AuthError {
    /// The HTTP status this error is normally answered with.
    pub fn http_status(&self) -> u16 {
        match self {
            AuthError::Malformed(_)
            | AuthError::UnsupportedAlgorithm(_)
            | AuthError::MissingSecurityField(_) => 400,
            AuthError::Expired
            | AuthError::LifetimeOutOfRange(_)
            | AuthError::NotYetValid
            | AuthError::InvalidDate(_)
            | AuthError::TimeTooSkewed
            | AuthError::UnsignedHeader(_)
            | AuthError::SignatureMismatch { .. } => 403,
        }
    }

    /// The protocol error code this error is normally answered with. The HTTP layer may
    /// refine [`AuthError::Malformed`] per dialect (S3: `AuthorizationHeaderMalformed` for
    /// the header form, `AuthorizationQueryParametersError` for presigned URLs).
    pub fn error_code(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode;
        match self {
            AuthError::Malformed(_)
            | AuthError::UnsupportedAlgorithm(_)
            | AuthError::MissingSecurityField(_) => ErrorCode::InvalidArgument,
            AuthError::Expired
            | AuthError::LifetimeOutOfRange(_)
            | AuthError::NotYetValid
            | AuthError::InvalidDate(_)
            | AuthError::UnsignedHeader(_) => ErrorCode::AccessDenied,
            AuthError::TimeTooSkewed => ErrorCode::RequestTimeTooSkewed,
            AuthError::SignatureMismatch { .. } => ErrorCode::SignatureDoesNotMatch,
        }
    }
}

/// Which authentication scheme a request uses, decided from its `Authorization` header or,
/// when there is none, from the names of its query parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// No credentials at all: the ACL decides.
    Anonymous,
    /// COS `q-sign-algorithm=sha1&…` in the `Authorization` header.
    CosHeader,
    /// COS presigned URL (`q-signature` / `q-ak` query parameters).
    CosQuery,
    /// `Authorization: AWS4-HMAC-SHA256 …`.
    SigV4Header,
    /// SigV4 presigned URL (`X-Amz-Algorithm` / `X-Amz-Signature` query parameters).
    SigV4Query,
    /// AWS Signature Version 2 (`Authorization: AWS ak:sig` or `?AWSAccessKeyId=…&Signature=`),
    /// verified by [`sigv2`].
    SigV2,
    /// An `Authorization` header of a form not recognised.
    Unknown,
}

/// Decides which authentication scheme `req` uses (see [`AuthScheme`]).
pub fn detect_scheme(req: &RequestView<'_>) -> AuthScheme {
    if let Some(value) = req.header("authorization") {
        let value = trim_ascii(value);
        if value.is_empty() {
            // An empty header is the same as none; fall through to the query.
        } else if value.starts_with(b"AWS4-") {
            return AuthScheme::SigV4Header;
        } else if value.starts_with(b"AWS ") {
            return AuthScheme::SigV2;
        } else if contains(value, b"q-sign-algorithm=") || contains(value, b"q-ak=") {
            return AuthScheme::CosHeader;
        } else {
            return AuthScheme::Unknown;
        }
    }
    let mut cos = false;
    let mut v4 = false;
    let mut v2 = false;
    for param in req.query.params() {
        match &*param.name {
            b"X-Amz-Algorithm" | b"X-Amz-Signature" | b"X-Amz-Credential" => v4 = true,
            b"q-signature" | b"q-ak" | b"q-sign-algorithm" => cos = true,
            b"AWSAccessKeyId" | b"Signature" => v2 = true,
            _ => {}
        }
    }
    if v4 {
        AuthScheme::SigV4Query
    } else if cos {
        AuthScheme::CosQuery
    } else if v2 {
        AuthScheme::SigV2
    } else {
        AuthScheme::Anonymous
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `s` without leading and trailing spaces and tabs.
pub(crate) fn trim_ascii(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| *b != b' ' && *b != b'\t')
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| *b != b' ' && *b != b'\t')
        .map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

/// Form-encodes bytes the way Python's `quote_plus` does (the COS SDK's query encoding):
/// `A–Z a–z 0–9 _ . - ~` kept, space → `+`, everything else `%XX` (upper-case hex).
pub fn form_encode(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~') {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push('+');
        } else {
            push_pct(&mut out, b);
        }
    }
    out
}

/// Appends `%XX` (upper-case hex) for `b`.
pub(crate) fn push_pct(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0x0f)]));
}

/// Constant-time equality of two byte strings (the lengths are not secret).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// True when `s` is non-empty and all ASCII digits.
pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    fn view<'a>(headers: &'a [(&'a str, &'a [u8])], raw_query: &'a str) -> RequestView<'a> {
        RequestView {
            method: "GET",
            decoded_path: "/",
            query: Box::leak(Box::new(Query::parse(raw_query))),
            headers,
        }
    }

    #[test]
    fn form_encoding_is_quote_plus() {
        assert_eq!(form_encode(b"a b/c;d~e_f.g-h"), "a+b%2Fc%3Bd~e_f.g-h");
        assert_eq!(form_encode("中".as_bytes()), "%E4%B8%AD");
    }

    #[test]
    fn scheme_detection() {
        let h: &[(&str, &[u8])] = &[("Authorization", b"AWS4-HMAC-SHA256 Credential=x")];
        assert_eq!(detect_scheme(&view(h, "")), AuthScheme::SigV4Header);
        let h: &[(&str, &[u8])] = &[("authorization", b"q-sign-algorithm=sha1&q-ak=x")];
        assert_eq!(detect_scheme(&view(h, "")), AuthScheme::CosHeader);
        let h: &[(&str, &[u8])] = &[("AUTHORIZATION", b"AWS ak:sig")];
        assert_eq!(detect_scheme(&view(h, "")), AuthScheme::SigV2);
        let h: &[(&str, &[u8])] = &[("Authorization", b"Bearer x")];
        assert_eq!(detect_scheme(&view(h, "")), AuthScheme::Unknown);
        let h: &[(&str, &[u8])] = &[("Authorization", b"  ")];
        assert_eq!(detect_scheme(&view(h, "acl")), AuthScheme::Anonymous);
        assert_eq!(
            detect_scheme(&view(
                &[],
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=1"
            )),
            AuthScheme::SigV4Query
        );
        assert_eq!(
            detect_scheme(&view(&[], "q-sign-algorithm=sha1&q-ak=a&q-signature=b")),
            AuthScheme::CosQuery
        );
        assert_eq!(
            detect_scheme(&view(&[], "AWSAccessKeyId=a&Signature=b&Expires=1")),
            AuthScheme::SigV2
        );
        assert_eq!(detect_scheme(&view(&[], "")), AuthScheme::Anonymous);
    }

    #[test]
    fn error_mapping() {
        assert_eq!(AuthError::Expired.http_status(), 403);
        assert_eq!(AuthError::Expired.error_code().as_str(), "AccessDenied");
        assert_eq!(AuthError::Expired.to_string(), "Request has expired");
        assert_eq!(
            AuthError::TimeTooSkewed.error_code().as_str(),
            "RequestTimeTooSkewed"
        );
        assert_eq!(AuthError::Malformed("x".into()).http_status(), 400);
        let m = AuthError::SignatureMismatch {
            string_to_sign: String::new(),
            canonical_request: None,
        };
        assert_eq!(
            (m.http_status(), m.error_code().as_str()),
            (403, "SignatureDoesNotMatch")
        );
    }

    #[test]
    fn trimming() {
        assert_eq!(trim_ascii(b" \ta b\t "), b"a b");
        assert_eq!(trim_ascii(b"   "), b"");
        assert_eq!(trim_ascii(b""), b"");
    }
}

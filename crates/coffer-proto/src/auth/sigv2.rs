//! AWS Signature Version 2, S3 flavour: parsing `Authorization: AWS <AccessKeyId>:<Signature>`
//! and the presigned query (`AWSAccessKeyId`, `Expires`, `Signature`), verifying a request,
//! and signing (for tests and tools).
//!
//! Verification is two-step so the caller owns the key store: [`SigV2Auth::from_request`]
//! yields the access key; the caller looks up its secret and calls [`verify`].
//!
//! ```text
//! Signature    = Base64( HMAC-SHA1( SecretKey, StringToSign ) )
//! StringToSign = HTTP-Verb "\n" Content-MD5 "\n" Content-Type "\n" Date "\n"
//!                CanonicalizedAmzHeaders CanonicalizedResource
//! ```
//!
//! * `Date` is the `Date` header; empty when an `x-amz-date` header is present (which then
//!   appears among the amz headers); the `Expires` value for a presigned URL.
//! * `CanonicalizedAmzHeaders`: every `x-amz-*` header, name lower-cased, sorted, values
//!   trimmed, repeated headers joined with `,`, each written `name:value\n`. For a presigned
//!   URL, `x-amz-*` *query parameters* count as headers too (boto3 and the JavaScript SDK
//!   move signed headers such as `x-amz-security-token` into the URL), and so do
//!   `content-type` / `content-md5` parameters when the request lacks those headers;
//!   `x-amz-date` plays no part in a presigned URL.
//! * `CanonicalizedResource`: the request path exactly as sent on the wire (percent-encoded,
//!   bucket included — the caller prepends `/bucket` for virtual-host requests), then the
//!   [`SUBRESOURCES`] and [`RESPONSE_OVERRIDES`] present in the query, sorted by name, as
//!   `?name[=value]&…`. Sub-resource values are signed as sent; response overrides decoded.
//!
//! Clients disagree on a few details, so when the first StringToSign does not match,
//! [`verify`] also tries the variants below and accepts the request if any matches. Each
//! variant signs at least what the first does, so none weakens the check:
//! * sub-resource values form-decoded (boto3 decodes every value, not only overrides);
//! * any combination of the [`EXTRA_SUBRESOURCES`] present signed too (boto3, minio-go and
//!   the JavaScript SDK each sign some of these);
//! * with `x-amz-date`: its value in the `Date` position and not among the amz headers, as
//!   the S3 documentation's "Delete" example shows.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::{all_digits, ct_eq, form_encode, trim_ascii, AuthError, Query, RequestView};

/// Largest accepted difference between a header-signed request's time and the server clock.
pub const MAX_SKEW_SECS: u64 = 900;

/// Sub-resources that are part of the CanonicalizedResource when present in the query
/// (sorted). Their values are signed as they appear in the request.
pub const SUBRESOURCES: &[&str] = &[
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// Response header overrides that are part of the CanonicalizedResource when present in the
/// query (sorted). Their values are signed decoded.
pub const RESPONSE_OVERRIDES: &[&str] = &[
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
];

/// Query parameters some clients sign as sub-resources and others do not (boto3:
/// `accelerate`, `analytics`, `inventory`, `metrics`, `object-lock`, `replication`,
/// `select`, `select-type`, `storageClass`, …; minio-go: `encryption`, `legal-hold`,
/// `retention`, `select-type`, …). [`verify`] accepts them signed or unsigned.
pub const EXTRA_SUBRESOURCES: &[&str] = &[
    "accelerate",
    "analytics",
    "defaultObjectAcl",
    "encryption",
    "inventory",
    "legal-hold",
    "metrics",
    "object-lock",
    "replication",
    "retention",
    "select",
    "select-type",
    "storageClass",
];

/// Whether a SigV2 signature always covers the query parameter `name` when present: the
/// sub-resources and response overrides of the CanonicalizedResource. (The
/// [`EXTRA_SUBRESOURCES`] are accepted signed or unsigned, so they are not covered.)
pub fn signs_param(name: &str) -> bool {
    SUBRESOURCES.contains(&name) || RESPONSE_OVERRIDES.contains(&name)
}

/// Beyond this many distinct [`EXTRA_SUBRESOURCES`] in one request, only "none signed" and
/// "all signed" are tried instead of every combination.
const MAX_EXTRA_COMBINATIONS: usize = 3;

type HmacSha1 = Hmac<Sha1>;

/// A parsed SigV2 authorization, from the `Authorization` header or a presigned query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV2Auth {
    /// The access key id to look the secret up by.
    pub access_key: String,
    /// The signature as given: base64 of an HMAC-SHA1 digest when well-formed.
    pub signature: String,
    /// `Some(Expires)` (Unix seconds) for a presigned URL; `None` for the header form.
    pub expires: Option<u64>,
}

impl SigV2Auth {
    /// Parses an `Authorization` value `AWS <AccessKeyId>:<Signature>`. The signature is the
    /// text after the last `:`.
    pub fn parse_header(value: &str) -> Result<Self, AuthError> {
        let value = value.trim();
        let rest = if value == "AWS" {
            Some("")
        } else {
            value.strip_prefix("AWS ")
        };
        let Some(rest) = rest else {
            let scheme = value.split([' ', '\t']).next().unwrap_or_default();
            return Err(AuthError::UnsupportedAlgorithm(scheme.to_string()));
        };
        let (access_key, signature) = rest.trim().rsplit_once(':').ok_or_else(|| {
            AuthError::Malformed("expected Authorization: AWS <AccessKeyId>:<Signature>".into())
        })?;
        let (access_key, signature) = (access_key.trim(), signature.trim());
        let blank = |s: &str| s.is_empty() || s.bytes().any(|b| b.is_ascii_whitespace());
        if blank(access_key) {
            return Err(AuthError::Malformed(
                "empty or malformed access key in Authorization".into(),
            ));
        }
        if blank(signature) {
            return Err(AuthError::Malformed(
                "empty or malformed signature in Authorization".into(),
            ));
        }
        Ok(SigV2Auth {
            access_key: access_key.to_string(),
            signature: signature.to_string(),
            expires: None,
        })
    }

    /// Extracts a presigned authorization from form-decoded query pairs. `Ok(None)` when
    /// neither `AWSAccessKeyId` nor `Signature` is present. A `+` of the signature that
    /// reached us as a space (an unencoded `+` in the URL) is restored.
    pub fn from_query(query: &Query<'_>) -> Result<Option<Self>, AuthError> {
        let pairs = query.text_pairs();
        let get = |name: &str| -> Result<Option<&str>, AuthError> {
            let mut found = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
            let first = found.next();
            if found.next().is_some() {
                return Err(AuthError::Malformed(format!(
                    "duplicate query parameter {name}"
                )));
            }
            Ok(first.map(String::as_str))
        };
        let access_key = get("AWSAccessKeyId")?;
        let signature = get("Signature")?;
        if access_key.is_none() && signature.is_none() {
            return Ok(None);
        }
        let missing = |n: &str| AuthError::MissingSecurityField(n.to_string());
        let access_key = access_key
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("AWSAccessKeyId"))?;
        let signature = signature
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("Signature"))?;
        let expires = get("Expires")?.ok_or_else(|| missing("Expires"))?;
        let expires = parse_expires(expires)?;
        Ok(Some(SigV2Auth {
            access_key: access_key.to_string(),
            signature: signature.replace(' ', "+"),
            expires: Some(expires),
        }))
    }

    /// Finds the SigV2 authorization of a request: the `Authorization` header if present and
    /// non-empty, else the presigned query. `Ok(None)` = no SigV2 credentials (including an
    /// `Authorization` header of another scheme, which takes precedence over the query).
    pub fn from_request(req: &RequestView<'_>) -> Result<Option<Self>, AuthError> {
        if let Some(value) = req.header("authorization") {
            let value = trim_ascii(value);
            if !value.is_empty() {
                if !value.starts_with(b"AWS ") {
                    return Ok(None);
                }
                let value = std::str::from_utf8(value)
                    .map_err(|_| AuthError::Malformed("Authorization is not UTF-8".into()))?;
                return Self::parse_header(value).map(Some);
            }
        }
        Self::from_query(req.query)
    }

    /// The access key id to look the secret up by.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// Whether this is a presigned URL (query form).
    pub fn is_presigned(&self) -> bool {
        self.expires.is_some()
    }
}

fn parse_expires(s: &str) -> Result<u64, AuthError> {
    if !all_digits(s) {
        return Err(AuthError::Malformed(format!(
            "Expires must be a non-negative integer, not {s:?}"
        )));
    }
    s.parse()
        .map_err(|_| AuthError::Malformed(format!("Expires {s:?} is out of range")))
}

/// Parses a SigV2 timestamp (`Date` / `x-amz-date`) into Unix seconds: an HTTP date (IMF
/// fixdate, RFC 850, asctime), an RFC 2822 date with a numeric zone (`+0000`, as in the AWS
/// examples), or ISO 8601 basic `YYYYMMDDTHHMMSSZ`. `None` for anything else or a time
/// before 1970.
pub fn parse_date(s: &str) -> Option<u64> {
    let s = s.trim();
    // HTTP dates and RFC 2822 with numeric zones, tolerating a wrong weekday.
    if let Some(t) = crate::time::parse_http_date(s) {
        return u64::try_from(t).ok();
    }
    super::sigv4::parse_amz_date(s)
}

/// Whether the request is signed as a presigned URL (with this `Expires` text) or by header.
#[derive(Debug, Clone, Copy)]
enum Form<'a> {
    Header,
    Query { expires: &'a str },
}

/// One of the StringToSign variants [`verify`] accepts (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
struct Variant {
    /// Bit `i` set: the `i`-th extra sub-resource present in the query is signed.
    extras: u32,
    /// Sub-resource values form-decoded rather than as sent.
    decode_values: bool,
    /// Header form with `x-amz-date`: its value in the Date position, not among amz headers.
    amz_date_line: bool,
}

/// The header `name` (first occurrence), trimmed; if absent and `query` is given, the
/// form-decoded query parameter of that name (case-insensitive), trimmed.
fn header_or_param(req: &RequestView<'_>, name: &str, query: bool) -> Vec<u8> {
    if let Some(v) = req.header(name) {
        return trim_ascii(v).to_vec();
    }
    if query {
        for param in req.query.params() {
            if param.name.eq_ignore_ascii_case(name.as_bytes()) {
                return trim_ascii(&param.value).to_vec();
            }
        }
    }
    Vec::new()
}

/// Appends the CanonicalizedAmzHeaders. `skip_amz_date` leaves `x-amz-date` out;
/// `with_query` adds `x-amz-*` query parameters whose name no header has.
fn push_amz_headers(
    req: &RequestView<'_>,
    skip_amz_date: bool,
    with_query: bool,
    out: &mut Vec<u8>,
) {
    use std::collections::BTreeMap;
    let wanted =
        |lower: &str| lower.starts_with("x-amz-") && !(skip_amz_date && lower == "x-amz-date");
    let mut amz: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (name, value) in req.headers {
        let lower = name.to_ascii_lowercase();
        if !wanted(&lower) {
            continue;
        }
        let joined = amz.entry(lower).or_default();
        if !joined.is_empty() {
            joined.push(b',');
        }
        joined.extend_from_slice(trim_ascii(value));
    }
    if with_query {
        let mut from_query: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for param in req.query.params() {
            let lower = param.name_text().to_ascii_lowercase();
            if !wanted(&lower) || amz.contains_key(&lower) {
                continue;
            }
            let joined = from_query.entry(lower).or_default();
            if !joined.is_empty() {
                joined.push(b',');
            }
            joined.extend_from_slice(trim_ascii(&param.value));
        }
        amz.extend(from_query);
    }
    for (name, value) in &amz {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        out.extend_from_slice(value);
        out.push(b'\n');
    }
}

/// The distinct [`EXTRA_SUBRESOURCES`] present in the query, in list order.
fn present_extras(query: &Query<'_>) -> Vec<&'static str> {
    EXTRA_SUBRESOURCES
        .iter()
        .copied()
        .filter(|e| query.params().iter().any(|p| *p.name == *e.as_bytes()))
        .collect()
}

/// Appends the CanonicalizedResource: `raw_path` (or `/` if empty) and the signed
/// sub-resources, sorted by name (stable for repeated names).
fn push_resource(
    raw_path: &str,
    query: &Query<'_>,
    extras: &[&'static str],
    decode_values: bool,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(if raw_path.is_empty() { "/" } else { raw_path }.as_bytes());
    let mut subs: Vec<(&'static str, &[u8])> = Vec::new();
    for param in query.params() {
        let find =
            |list: &[&'static str]| list.iter().copied().find(|s| *s.as_bytes() == *param.name);
        if let Some(n) = find(RESPONSE_OVERRIDES) {
            subs.push((n, &*param.value));
        } else if let Some(n) = find(SUBRESOURCES).or_else(|| find(extras)) {
            let value = if decode_values {
                &*param.value
            } else {
                param.raw_value.as_bytes()
            };
            subs.push((n, value));
        }
    }
    subs.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (name, value)) in subs.iter().enumerate() {
        out.push(if i == 0 { b'?' } else { b'&' });
        out.extend_from_slice(name.as_bytes());
        if !value.is_empty() {
            out.push(b'=');
            out.extend_from_slice(value);
        }
    }
}

fn build(
    req: &RequestView<'_>,
    raw_path: &str,
    form: Form<'_>,
    extras: &[&'static str],
    v: Variant,
) -> Vec<u8> {
    let query = matches!(form, Form::Query { .. });
    let mut out = Vec::with_capacity(128 + raw_path.len());
    out.extend_from_slice(req.method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&header_or_param(req, "content-md5", query));
    out.push(b'\n');
    out.extend_from_slice(&header_or_param(req, "content-type", query));
    out.push(b'\n');
    let amz_date = req.header("x-amz-date");
    let skip_amz_date = match form {
        Form::Query { expires } => {
            out.extend_from_slice(expires.as_bytes());
            true
        }
        Form::Header => match amz_date {
            Some(d) if v.amz_date_line => {
                out.extend_from_slice(trim_ascii(d));
                true
            }
            Some(_) => false,
            None => {
                out.extend_from_slice(trim_ascii(req.header("date").unwrap_or_default()));
                false
            }
        },
    };
    out.push(b'\n');
    push_amz_headers(req, skip_amz_date, query, &mut out);
    let signed_extras: Vec<&'static str> = extras
        .iter()
        .enumerate()
        .filter(|(i, _)| u32::try_from(*i).is_ok_and(|i| i < 32 && v.extras & (1 << i) != 0))
        .map(|(_, e)| *e)
        .collect();
    push_resource(
        raw_path,
        req.query,
        &signed_extras,
        v.decode_values,
        &mut out,
    );
    out
}

/// The StringToSign of `req` in its primary form (see the module docs; [`verify`] also
/// accepts a few variants). `raw_path` is the CanonicalizedResource path: the path as sent,
/// percent-encoded, starting with `/bucket` (prepend it for virtual-host requests).
/// `expires` is `Some(Expires text)` for a presigned URL, `None` for the header form. Bytes,
/// as header values may be any octets.
pub fn string_to_sign(req: &RequestView<'_>, raw_path: &str, expires: Option<&str>) -> Vec<u8> {
    let form = match expires {
        Some(expires) => Form::Query { expires },
        None => Form::Header,
    };
    build(req, raw_path, form, &[], Variant::default())
}

/// Base64 HMAC-SHA1 of the string to sign under the secret key.
pub fn signature(secret_key: &str, string_to_sign: &[u8]) -> String {
    // HMAC takes keys of any length: `new_from_slice` cannot fail. Never panic anyway.
    match HmacSha1::new_from_slice(secret_key.as_bytes()) {
        Ok(mut mac) => {
            mac.update(string_to_sign);
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Every StringToSign `verify` accepts for this request, primary first, without repeats.
fn candidates(req: &RequestView<'_>, raw_path: &str, form: Form<'_>) -> Vec<Vec<u8>> {
    let extras = present_extras(req.query);
    let all = u32::try_from(extras.len())
        .ok()
        .and_then(|n| 1u32.checked_shl(n))
        .map_or(u32::MAX, |x| x - 1);
    let masks: Vec<u32> = if extras.len() <= MAX_EXTRA_COMBINATIONS {
        (0..=all).collect()
    } else {
        vec![0, all]
    };
    let date_lines: &[bool] = match form {
        Form::Header if req.header("x-amz-date").is_some() => &[false, true],
        _ => &[false],
    };
    let mut out: Vec<Vec<u8>> = Vec::new();
    for &amz_date_line in date_lines {
        for decode_values in [false, true] {
            for &mask in &masks {
                let v = Variant {
                    extras: mask,
                    decode_values,
                    amz_date_line,
                };
                let sts = build(req, raw_path, form, &extras, v);
                if !out.contains(&sts) {
                    out.push(sts);
                }
            }
        }
    }
    out
}

/// Verifies a SigV2-signed request. `secret_key` is the secret for
/// [`SigV2Auth::access_key`]; `raw_path` the request path as it appeared on the wire
/// (percent-encoded, including the bucket for path-style requests; for virtual-host requests
/// pass `/bucket` followed by the raw path); `now_unix` the server clock.
///
/// Checks the time first: header form — `x-amz-date`, else `Date`, must be present
/// ([`AuthError::MissingSecurityField`]), parse ([`AuthError::Malformed`]) and lie within
/// 15 minutes of now ([`AuthError::TimeTooSkewed`]); presigned — now ≤ `Expires`
/// ([`AuthError::Expired`]). Then the signature, compared in constant time against the
/// primary StringToSign and the variants of the module docs; on failure
/// [`AuthError::SignatureMismatch`] carries the primary StringToSign.
pub fn verify(
    auth: &SigV2Auth,
    secret_key: &str,
    req: &RequestView<'_>,
    raw_path: &str,
    now_unix: u64,
) -> Result<(), AuthError> {
    let expires_text;
    let form = match auth.expires {
        Some(expires) => {
            if now_unix > expires {
                return Err(AuthError::Expired);
            }
            // Sign the Expires text as sent (it is what the client signed).
            expires_text = req.query.get("Expires").map_or_else(
                || expires.to_string(),
                |v| String::from_utf8_lossy(v).into_owned(),
            );
            Form::Query {
                expires: &expires_text,
            }
        }
        None => {
            let (name, value) = match (req.header("x-amz-date"), req.header("date")) {
                (Some(v), _) => ("x-amz-date", v),
                (None, Some(v)) => ("Date", v),
                (None, None) => return Err(AuthError::InvalidDate("none given".into())),
            };
            let text = std::str::from_utf8(trim_ascii(value))
                .map_err(|_| AuthError::InvalidDate(format!("{name} is not UTF-8")))?;
            let time = parse_date(text)
                .ok_or_else(|| AuthError::InvalidDate(format!("bad {name} {text:?}")))?;
            if time.abs_diff(now_unix) > MAX_SKEW_SECS {
                return Err(AuthError::TimeTooSkewed);
            }
            Form::Header
        }
    };

    let given = auth.signature.as_bytes();
    let candidates = candidates(req, raw_path, form);
    for sts in &candidates {
        if ct_eq(signature(secret_key, sts).as_bytes(), given) {
            return Ok(());
        }
    }
    Err(AuthError::SignatureMismatch {
        string_to_sign: candidates
            .first()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default(),
        canonical_request: None,
    })
}

/// The result of [`sign`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedV2 {
    /// The `Authorization` header value, `AWS <AccessKeyId>:<Signature>`.
    pub authorization: String,
    /// The signature (base64).
    pub signature: String,
    /// The StringToSign that was signed (lossy UTF-8).
    pub string_to_sign: String,
}

/// Signs `req` for the header form. The request must already carry its `Date` (or
/// `x-amz-date`) header and every `x-amz-*`, `Content-Type` and `Content-MD5` header it will
/// be sent with; `raw_path` as for [`verify`].
pub fn sign(access_key: &str, secret_key: &str, req: &RequestView<'_>, raw_path: &str) -> SignedV2 {
    let sts = string_to_sign(req, raw_path, None);
    let sig = signature(secret_key, &sts);
    SignedV2 {
        authorization: format!("AWS {access_key}:{sig}"),
        signature: sig,
        string_to_sign: String::from_utf8_lossy(&sts).into_owned(),
    }
}

/// Presigns `req` and returns its complete new raw query: the request's own query, then
/// `AWSAccessKeyId`, `Expires` and `Signature` (form-encoded). `x-amz-*` headers of `req` are
/// signed and must be sent along (as headers, or as query parameters); `raw_path` as for
/// [`verify`].
pub fn presign(
    access_key: &str,
    secret_key: &str,
    req: &RequestView<'_>,
    raw_path: &str,
    expires: u64,
) -> String {
    let expires = expires.to_string();
    let sts = string_to_sign(req, raw_path, Some(&expires));
    let sig = signature(secret_key, &sts);
    let mut query = req.query.raw().to_string();
    for (k, v) in [
        ("AWSAccessKeyId", access_key),
        ("Expires", expires.as_str()),
        ("Signature", sig.as_str()),
    ] {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(k);
        query.push('=');
        query.push_str(&form_encode(v.as_bytes()));
    }
    query
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    const AK: &str = "AKIAIOSFODNN7EXAMPLE";
    const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    /// Tue, 27 Mar 2007 19:36:42 +0000.
    const GET_TIME: u64 = 1_175_024_202;

    type Headers<'a> = Vec<(&'a str, &'a [u8])>;

    fn req<'a>(
        method: &'a str,
        query: &'a str,
        headers: &'a [(&'a str, &'a [u8])],
    ) -> RequestView<'a> {
        RequestView {
            method,
            decoded_path: "/",
            query: Box::leak(Box::new(Query::parse(query))),
            headers,
        }
    }

    fn check(r: &RequestView<'_>, raw_path: &str, now: u64) -> Result<(), AuthError> {
        let auth =
            SigV2Auth::from_request(r)?.ok_or(AuthError::MissingSecurityField("none".into()))?;
        assert_eq!(auth.access_key(), AK);
        verify(&auth, SK, r, raw_path, now)
    }

    fn is_mismatch(r: Result<(), AuthError>) -> bool {
        matches!(r, Err(AuthError::SignatureMismatch { .. }))
    }

    fn sts(r: &RequestView<'_>, raw_path: &str, expires: Option<&str>) -> String {
        String::from_utf8(string_to_sign(r, raw_path, expires)).unwrap()
    }

    fn with_auth<'a>(headers: &[(&'a str, &'a [u8])], auth: &'a str) -> Headers<'a> {
        let mut h = headers.to_vec();
        h.push(("Authorization", auth.as_bytes()));
        h
    }

    fn time_of(date: &str) -> u64 {
        parse_date(date).unwrap()
    }

    /// One example of "Signing and authenticating REST requests (AWS signature version 2)".
    struct Example {
        method: &'static str,
        raw_path: &'static str,
        query: &'static str,
        headers: &'static [(&'static str, &'static [u8])],
        date: &'static str,
        string_to_sign: &'static str,
        signature: &'static str,
    }

    const EXAMPLES: &[Example] = &[
        // Object GET (virtual-host: the bucket comes from the Host header).
        Example {
            method: "GET",
            raw_path: "/awsexamplebucket1/photos/puppy.jpg",
            query: "",
            headers: &[
                ("Host", b"awsexamplebucket1.us-west-1.s3.amazonaws.com"),
                ("Date", b"Tue, 27 Mar 2007 19:36:42 +0000"),
            ],
            date: "Tue, 27 Mar 2007 19:36:42 +0000",
            string_to_sign:
                "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg",
            signature: "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
        },
        // Object PUT.
        Example {
            method: "PUT",
            raw_path: "/awsexamplebucket1/photos/puppy.jpg",
            query: "",
            headers: &[
                ("Content-Type", b"image/jpeg"),
                ("Content-Length", b"94328"),
                ("Host", b"awsexamplebucket1.s3.us-west-1.amazonaws.com"),
                ("Date", b"Tue, 27 Mar 2007 21:15:45 +0000"),
            ],
            date: "Tue, 27 Mar 2007 21:15:45 +0000",
            string_to_sign:
                "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/awsexamplebucket1/photos/puppy.jpg",
            signature: "iqRzw+ileNPu1fhspnRs8nOjjIA=",
        },
        // List: ordinary query parameters are not signed.
        Example {
            method: "GET",
            raw_path: "/awsexamplebucket1/",
            query: "prefix=photos&max-keys=50&marker=puppy",
            headers: &[
                ("User-Agent", b"Mozilla/5.0"),
                ("Host", b"awsexamplebucket1.s3.us-west-1.amazonaws.com"),
                ("Date", b"Tue, 27 Mar 2007 19:42:41 +0000"),
            ],
            date: "Tue, 27 Mar 2007 19:42:41 +0000",
            string_to_sign: "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/awsexamplebucket1/",
            signature: "m0WP8eCtspQl5Ahe6L1SozdX9YA=",
        },
        // Fetch ?acl: the sub-resource is signed.
        Example {
            method: "GET",
            raw_path: "/awsexamplebucket1/",
            query: "acl",
            headers: &[
                ("Host", b"awsexamplebucket1.s3.us-west-1.amazonaws.com"),
                ("Date", b"Tue, 27 Mar 2007 19:44:46 +0000"),
            ],
            date: "Tue, 27 Mar 2007 19:44:46 +0000",
            string_to_sign: "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl",
            signature: "82ZHiFIjc+WbcwFKGUVEQspPn+0=",
        },
        // Upload: CNAME-style bucket, amz headers lower-cased, sorted, repeated ones joined.
        // (The current page shows `example.com` names beside this signature; it was computed
        // with the `awsexamplebucket1.net` names of the page's previous revision.)
        Example {
            method: "PUT",
            raw_path: "/static.awsexamplebucket1.net/db-backup.dat.gz",
            query: "",
            headers: &[
                ("User-Agent", b"curl/7.15.5"),
                ("Host", b"static.awsexamplebucket1.net:8080"),
                ("Date", b"Tue, 27 Mar 2007 21:06:08 +0000"),
                ("x-amz-acl", b"public-read"),
                ("content-type", b"application/x-download"),
                ("Content-MD5", b"4gJE4saaMU4BqNR0kLY+lw=="),
                ("X-Amz-Meta-ReviewedBy", b"joe@awsexamplebucket1.net"),
                ("X-Amz-Meta-ReviewedBy", b"jane@awsexamplebucket1.net"),
                ("X-Amz-Meta-FileChecksum", b"0x02661779"),
                ("X-Amz-Meta-ChecksumAlgorithm", b"crc32"),
                ("Content-Disposition", b"attachment; filename=database.dat"),
                ("Content-Encoding", b"gzip"),
                ("Content-Length", b"5913339"),
            ],
            date: "Tue, 27 Mar 2007 21:06:08 +0000",
            string_to_sign: "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\nx-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\nx-amz-meta-reviewedby:joe@awsexamplebucket1.net,jane@awsexamplebucket1.net\n/static.awsexamplebucket1.net/db-backup.dat.gz",
            signature: "dKZcB+bz2EPXgSdXZp9ozGeOM4I=",
        },
        // List all my buckets.
        Example {
            method: "GET",
            raw_path: "/",
            query: "",
            headers: &[
                ("Host", b"s3.us-west-1.amazonaws.com"),
                ("Date", b"Wed, 28 Mar 2007 01:29:59 +0000"),
            ],
            date: "Wed, 28 Mar 2007 01:29:59 +0000",
            string_to_sign: "GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/",
            signature: "qGdzdERIC03wnaRNKh6OqZehG9s=",
        },
        // Unicode keys: the path is signed as sent, escapes and their case included.
        Example {
            method: "GET",
            raw_path: "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
            query: "",
            headers: &[
                ("Host", b"s3.us-west-1.amazonaws.com"),
                ("Date", b"Wed, 28 Mar 2007 01:49:49 +0000"),
            ],
            date: "Wed, 28 Mar 2007 01:49:49 +0000",
            string_to_sign:
                "GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
            signature: "DNEZGsoieTZ92F3bUfSPQcbGmlM=",
        },
    ];

    #[test]
    fn published_examples() {
        for ex in EXAMPLES {
            let r = req(ex.method, ex.query, ex.headers);
            assert_eq!(
                sts(&r, ex.raw_path, None),
                ex.string_to_sign,
                "{}",
                ex.raw_path
            );
            let signed = sign(AK, SK, &r, ex.raw_path);
            assert_eq!(signed.signature, ex.signature, "{}", ex.raw_path);
            assert_eq!(signed.string_to_sign, ex.string_to_sign);
            assert_eq!(signed.authorization, format!("AWS {AK}:{}", ex.signature));

            let auth = format!("AWS {AK}:{}", ex.signature);
            let h = with_auth(ex.headers, &auth);
            let r = req(ex.method, ex.query, &h);
            let now = time_of(ex.date);
            assert_eq!(check(&r, ex.raw_path, now), Ok(()), "{}", ex.raw_path);
            // The Authorization header itself is not signed.
            assert_eq!(sts(&r, ex.raw_path, None), ex.string_to_sign);
            // One bit off is refused.
            let bad = format!(
                "AWS {AK}:{}",
                ex.signature.replacen(char::is_alphabetic, "0", 1)
            );
            let h = with_auth(ex.headers, &bad);
            assert!(is_mismatch(check(
                &req(ex.method, ex.query, &h),
                ex.raw_path,
                now
            )));
        }
        assert_eq!(time_of(EXAMPLES[0].date), GET_TIME);
    }

    #[test]
    fn published_delete_with_x_amz_date() {
        // Path-style DELETE with both Date and x-amz-date: x-amz-date governs.
        let headers: Headers = vec![
            ("User-Agent", b"dotnet"),
            ("Host", b"s3.us-west-1.amazonaws.com"),
            ("Date", b"Tue, 27 Mar 2007 21:20:27 +0000"),
            ("x-amz-date", b"Tue, 27 Mar 2007 21:20:26 +0000"),
        ];
        let path = "/awsexamplebucket1/photos/puppy.jpg";
        let now = time_of("Tue, 27 Mar 2007 21:20:26 +0000");
        let r = req("DELETE", "", &headers);
        // What SDKs sign (and this module first): empty Date line, x-amz-date as amz header.
        let primary = "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/awsexamplebucket1/photos/puppy.jpg";
        assert_eq!(sts(&r, path, None), primary);
        let signed = sign(AK, SK, &r, path);
        assert_eq!(signed.signature, "Ri1hpB1zpS9pGqR7y8kuNFCl4sE=");
        let h = with_auth(&headers, &signed.authorization);
        assert_eq!(check(&req("DELETE", "", &h), path, now), Ok(()));
        // The documentation's StringToSign puts the x-amz-date value on the Date line; its
        // published signature is accepted too.
        assert_eq!(
            signature(
                SK,
                b"DELETE\n\n\nTue, 27 Mar 2007 21:20:26 +0000\n/awsexamplebucket1/photos/puppy.jpg"
            ),
            "XbyTlbQdu9Xw5o8P4iMwPktxQd8="
        );
        let auth = format!("AWS {AK}:XbyTlbQdu9Xw5o8P4iMwPktxQd8=");
        let h = with_auth(&headers, &auth);
        assert_eq!(check(&req("DELETE", "", &h), path, now), Ok(()));
        // The skew is measured against x-amz-date, not Date.
        let mut far = h.clone();
        far[2] = ("Date", b"Sun, 01 Jan 2034 00:00:00 GMT");
        assert_eq!(check(&req("DELETE", "", &far), path, now), Ok(()));
        assert_eq!(
            check(&req("DELETE", "", &h), path, now + MAX_SKEW_SECS + 2),
            Err(AuthError::TimeTooSkewed)
        );
        // Tampering with x-amz-date breaks both forms.
        let mut t = h.clone();
        t[3] = ("x-amz-date", b"Tue, 27 Mar 2007 21:20:27 +0000");
        match check(&req("DELETE", "", &t), path, now) {
            Err(AuthError::SignatureMismatch {
                string_to_sign,
                canonical_request,
            }) => {
                assert_eq!(string_to_sign, primary.replace(":26 ", ":27 "));
                assert_eq!(canonical_request, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn previous_revision_examples() {
        // The same examples with the bucket `johnsmith`, as first published.
        for (method, path, query, date, ctype, sig) in [
            (
                "GET",
                "/johnsmith/photos/puppy.jpg",
                "",
                "Tue, 27 Mar 2007 19:36:42 +0000",
                "",
                "bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
            ),
            (
                "PUT",
                "/johnsmith/photos/puppy.jpg",
                "",
                "Tue, 27 Mar 2007 21:15:45 +0000",
                "image/jpeg",
                "MyyxeRY7whkBe+bq8fHCL/2kKUg=",
            ),
            (
                "GET",
                "/johnsmith/",
                "prefix=photos&max-keys=50&marker=puppy",
                "Tue, 27 Mar 2007 19:42:41 +0000",
                "",
                "htDYFYduRNen8P9ZfE/s9SuKy0U=",
            ),
            (
                "GET",
                "/johnsmith/",
                "acl",
                "Tue, 27 Mar 2007 19:44:46 +0000",
                "",
                "c2WLPFtWHVgbEmeEG93a4cG37dM=",
            ),
        ] {
            let auth = format!("AWS {AK}:{sig}");
            let mut headers: Headers = vec![
                ("Date", date.as_bytes()),
                ("Authorization", auth.as_bytes()),
            ];
            if !ctype.is_empty() {
                headers.push(("Content-Type", ctype.as_bytes()));
            }
            assert_eq!(
                check(&req(method, query, &headers), path, time_of(date)),
                Ok(()),
                "{sig}"
            );
        }
        // Delete, in the documentation's Date-line form.
        let headers: Headers = vec![
            ("Date", b"Tue, 27 Mar 2007 21:20:27 +0000"),
            ("x-amz-date", b"Tue, 27 Mar 2007 21:20:26 +0000"),
            (
                "Authorization",
                b"AWS AKIAIOSFODNN7EXAMPLE:lx3byBScXR6KzyMaifNkardMwNk=",
            ),
        ];
        let now = time_of("Tue, 27 Mar 2007 21:20:26 +0000");
        assert_eq!(
            check(
                &req("DELETE", "", &headers),
                "/johnsmith/photos/puppy.jpg",
                now
            ),
            Ok(())
        );
    }

    #[test]
    fn published_query_string_example() {
        // The page's presigned example. Its signature was computed for the bucket
        // `johnsmith` (the page's StringToSign now names awsexamplebucket1).
        let q = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620";
        let headers: Headers = vec![("Host", b"johnsmith.s3.amazonaws.com")];
        let r = req("GET", q, &headers);
        let path = "/johnsmith/photos/puppy.jpg";
        let auth = SigV2Auth::from_request(&r).unwrap().unwrap();
        assert_eq!(
            auth,
            SigV2Auth {
                access_key: AK.into(),
                signature: "NpgCjnDzrM+WFzoENXmpNDUsSn8=".into(),
                expires: Some(1_175_139_620),
            }
        );
        assert!(auth.is_presigned());
        assert_eq!(
            sts(&r, path, Some("1175139620")),
            "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg"
        );
        assert_eq!(check(&r, path, 1_175_139_620), Ok(()));
        assert_eq!(check(&r, path, 0), Ok(()));
        assert_eq!(check(&r, path, 1_175_139_621), Err(AuthError::Expired));
        // The auth parameters themselves are not signed; the Date header is ignored.
        let h: Headers = vec![("Host", b"x"), ("Date", b"Thu, 01 Jan 1970 00:00:00 GMT")];
        assert_eq!(check(&req("GET", q, &h), path, 1_175_139_620), Ok(()));
        // Another bucket, key or method; an added sub-resource or amz parameter.
        assert!(is_mismatch(check(
            &r,
            "/awsexamplebucket1/photos/puppy.jpg",
            0
        )));
        assert!(is_mismatch(check(&r, "/johnsmith/photos/kitten.jpg", 0)));
        assert!(is_mismatch(check(&req("HEAD", q, &headers), path, 0)));
        let extra = format!("{q}&acl");
        assert!(is_mismatch(check(&req("GET", &extra, &headers), path, 0)));
        let extra = format!("{q}&x-amz-acl=public-read");
        assert!(is_mismatch(check(&req("GET", &extra, &headers), path, 0)));
        // Expires is signed.
        let later = q.replace("1175139620", "1175139621");
        assert!(is_mismatch(check(&req("GET", &later, &headers), path, 0)));
        // An unencoded '+' in the signature arrives as a space and is restored.
        let plus = q.replace("%2B", "+");
        assert_eq!(check(&req("GET", &plus, &headers), path, 0), Ok(()));

        // With the awsexamplebucket1 StringToSign of the current page.
        let r = req("GET", "", &headers);
        let path = "/awsexamplebucket1/photos/puppy.jpg";
        assert_eq!(
            presign(AK, SK, &r, path, 1_175_139_620),
            "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=1No4mq5ETf02z8aet9voy6gui6E%3D"
        );
    }

    #[test]
    fn presigned_round_trip_with_overrides_and_token() {
        // As boto3 presigns: sub-resources and response overrides in the query (encoded on
        // the wire, overrides signed decoded), x-amz-* headers moved into the query.
        let base = "response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22&versionId=3%2Fb&prefix=x";
        let headers: Headers = vec![
            ("Host", b"b.example.com"),
            ("x-amz-security-token", b"tok/en+=="),
        ];
        let path = "/b/dir/a%20b.txt";
        let r = req("GET", base, &headers);
        assert_eq!(
            sts(&r, path, Some("1700000000")),
            "GET\n\n\n1700000000\nx-amz-security-token:tok/en+==\n/b/dir/a%20b.txt?response-content-disposition=attachment; filename=\"a b.txt\"&versionId=3%2Fb"
        );
        let q = presign(AK, SK, &r, path, 1_700_000_000);
        assert!(q.starts_with(base));
        // Sent with the token header.
        assert_eq!(
            check(&req("GET", &q, &headers), path, 1_700_000_000),
            Ok(())
        );
        // Sent with the token moved into the query instead.
        let moved = format!("{q}&x-amz-security-token=tok%2Fen%2B%3D%3D");
        let host: Headers = vec![("Host", b"b.example.com")];
        assert_eq!(
            check(&req("GET", &moved, &host), path, 1_700_000_000),
            Ok(())
        );
        // Without the token at all, or with another one.
        assert!(is_mismatch(check(&req("GET", &q, &host), path, 0)));
        let other = format!("{q}&x-amz-security-token=evil");
        assert!(is_mismatch(check(&req("GET", &other, &host), path, 0)));
        // Overrides and sub-resources are signed; other parameters are not.
        let tampered = q.replace("a%20b.txt%22", "c.txt%22");
        assert!(is_mismatch(check(
            &req("GET", &tampered, &headers),
            path,
            0
        )));
        let tampered = q.replace("versionId=3%2Fb", "versionId=4");
        assert!(is_mismatch(check(
            &req("GET", &tampered, &headers),
            path,
            0
        )));
        let tampered = q.replace("prefix=x", "prefix=y");
        assert_eq!(check(&req("GET", &tampered, &headers), path, 0), Ok(()));
        let added = format!("{q}&response-content-type=text%2Fhtml");
        assert!(is_mismatch(check(&req("GET", &added, &headers), path, 0)));
        // Expired.
        assert_eq!(
            check(&req("GET", &q, &headers), path, 1_700_000_001),
            Err(AuthError::Expired)
        );
    }

    #[test]
    fn presigned_content_headers_from_query() {
        // boto3 moves Content-Type / Content-MD5 into the URL; the uploader may or may not
        // send them as headers.
        let headers: Headers = vec![("Content-Type", b"text/plain"), ("Content-MD5", b"bWQ1")];
        let path = "/b/k";
        let r = req("PUT", "", &headers);
        let q = presign(AK, SK, &r, path, 100);
        let moved = format!("{q}&content-type=text%2Fplain&content-md5=bWQ1");
        assert_eq!(check(&req("PUT", &moved, &[]), path, 100), Ok(()));
        assert_eq!(check(&req("PUT", &moved, &headers), path, 100), Ok(()));
        assert_eq!(check(&req("PUT", &q, &headers), path, 100), Ok(()));
        // The header wins over the parameter.
        let h: Headers = vec![("Content-Type", b"text/html"), ("Content-MD5", b"bWQ1")];
        assert!(is_mismatch(check(&req("PUT", &moved, &h), path, 100)));
        assert!(is_mismatch(check(&req("PUT", &q, &[]), path, 100)));
    }

    #[test]
    fn header_form_tampering() {
        let headers: Headers = vec![
            ("Host", b"b.s3.example.com"),
            ("Date", b"Tue, 27 Mar 2007 19:36:42 GMT"),
            ("Content-Type", b"text/plain"),
            ("Content-MD5", b"1B2M2Y8AsgTpgAmY7PhCfg=="),
            ("x-amz-meta-a", b"  one  "),
            ("X-Amz-Meta-A", b"two"),
            ("x-amz-acl", b"private"),
        ];
        let path = "/b/photos/a+b%2Fc.jpg";
        let query = "uploadId=abc&partNumber=2&prefix=ignored";
        let r = req("PUT", query, &headers);
        assert_eq!(
            sts(&r, path, None),
            "PUT\n1B2M2Y8AsgTpgAmY7PhCfg==\ntext/plain\nTue, 27 Mar 2007 19:36:42 GMT\nx-amz-acl:private\nx-amz-meta-a:one,two\n/b/photos/a+b%2Fc.jpg?partNumber=2&uploadId=abc"
        );
        let signed = sign(AK, SK, &r, path);
        let good = with_auth(&headers, &signed.authorization);
        let ok = |h: &[(&str, &[u8])], q: &str, p: &str| check(&req("PUT", q, h), p, GET_TIME);
        assert_eq!(ok(&good, query, path), Ok(()));
        // Unsigned things may change: other headers, ordinary parameters.
        let mut h = good.clone();
        h.push(("User-Agent", b"x"));
        assert_eq!(ok(&h, "uploadId=abc&partNumber=2", path), Ok(()));
        // Everything signed may not.
        for i in 1..7 {
            let mut h = good.clone();
            h[i].1 = b"Tue, 27 Mar 2007 19:36:43 GMT";
            assert!(is_mismatch(ok(&h, query, path)), "header {i}");
        }
        let mut h = good.clone();
        h.push(("x-amz-storage-class", b"STANDARD"));
        assert!(is_mismatch(ok(&h, query, path)));
        let mut h = good.clone();
        h.retain(|(n, _)| *n != "Content-Type");
        assert!(is_mismatch(ok(&h, query, path)));
        assert!(is_mismatch(ok(&good, "uploadId=abc&partNumber=3", path)));
        assert!(is_mismatch(ok(
            &good,
            "uploadId=abc&partNumber=2&acl",
            path
        )));
        assert!(is_mismatch(ok(
            &good,
            "uploadId=abc&partNumber=2&response-expires=0",
            path
        )));
        assert!(is_mismatch(ok(&good, query, "/b/photos/a%2Bb%2Fc.jpg")));
        assert!(is_mismatch(ok(&good, query, "/b2/photos/a+b%2Fc.jpg")));
        assert!(is_mismatch(check(
            &req("POST", query, &good),
            path,
            GET_TIME
        )));
        let a = SigV2Auth::from_request(&req("PUT", query, &good))
            .unwrap()
            .unwrap();
        assert!(is_mismatch(verify(
            &a,
            "wrong",
            &req("PUT", query, &good),
            path,
            GET_TIME
        )));
        // The key id is not part of the StringToSign: what binds it to the signature is the
        // caller looking the secret up by it.
        let other = signed.authorization.replace(AK, "OTHERKEY");
        let h = with_auth(&headers, &other);
        let r = req("PUT", query, &h);
        let a = SigV2Auth::from_request(&r).unwrap().unwrap();
        assert_eq!(a.access_key, "OTHERKEY");
        assert_eq!(verify(&a, SK, &r, path, GET_TIME), Ok(()));
    }

    #[test]
    fn subresource_canonicalisation() {
        let h: Headers = vec![("Date", b"Tue, 27 Mar 2007 19:36:42 GMT")];
        let resource = |q: &str| {
            let s = sts(&req("GET", q, &h), "/b/k", None);
            s.rsplit('\n').next().unwrap().to_string()
        };
        assert_eq!(resource(""), "/b/k");
        assert_eq!(resource("uploads&foo=1"), "/b/k?uploads");
        assert_eq!(resource("uploads="), "/b/k?uploads");
        assert_eq!(
            resource("versioning&website&versions&versionId=v&uploads&uploadId=u&torrent&tagging&restore&requestPayment&policy&partNumber=1&notification&logging&location&lifecycle&delete&cors&acl"),
            "/b/k?acl&cors&delete&lifecycle&location&logging&notification&partNumber=1&policy&requestPayment&restore&tagging&torrent&uploadId=u&uploads&versionId=v&versioning&versions&website"
        );
        assert_eq!(
            resource("response-expires=Thu%2C%2001%20Dec&response-content-type=a%2Bb+c&response-cache-control=no-cache&response-content-language=en&response-content-encoding=gzip&response-content-disposition=inline"),
            "/b/k?response-cache-control=no-cache&response-content-disposition=inline&response-content-encoding=gzip&response-content-language=en&response-content-type=a+b c&response-expires=Thu, 01 Dec"
        );
        // Names are case-sensitive; extras are not signed in the primary form.
        assert_eq!(resource("ACL&select&select-type=2"), "/b/k");
        // Empty path.
        assert_eq!(
            sts(&req("GET", "", &h), "", None).rsplit('\n').next(),
            Some("/")
        );
    }

    #[test]
    fn variants_for_client_differences() {
        let date: &[u8] = b"Tue, 27 Mar 2007 19:36:42 GMT";
        let path = "/b/k";
        let signed_with = |sts: &str| format!("AWS {AK}:{}", signature(SK, sts.as_bytes()));
        let run = |q: &str, auth: &str| {
            let h: Headers = vec![("Date", date), ("Authorization", auth.as_bytes())];
            check(&req("POST", q, &h), path, GET_TIME)
        };
        let head = "POST\n\n\nTue, 27 Mar 2007 19:36:42 GMT\n/b/k";
        // SelectObjectContent: boto3 signs select and select-type, minio-go only
        // select-type, the AWS list neither.
        let q = "select&select-type=2";
        for resource in ["", "?select&select-type=2", "?select-type=2", "?select"] {
            assert_eq!(
                run(q, &signed_with(&format!("{head}{resource}"))),
                Ok(()),
                "{resource}"
            );
        }
        assert!(is_mismatch(run(
            q,
            &signed_with(&format!("{head}?select-type=3"))
        )));
        // Sub-resource values: as sent (AWS docs, JavaScript SDK) or decoded (boto3).
        let q = "versionId=a%2Bb";
        assert_eq!(
            run(q, &signed_with(&format!("{head}?versionId=a%2Bb"))),
            Ok(())
        );
        assert_eq!(
            run(q, &signed_with(&format!("{head}?versionId=a+b"))),
            Ok(())
        );
        assert!(is_mismatch(run(
            q,
            &signed_with(&format!("{head}?versionId=a%2bb"))
        )));
        assert!(is_mismatch(run(q, &signed_with(head))));
        // Response overrides are always decoded.
        let q = "response-content-type=a%2Fb";
        assert!(is_mismatch(run(
            q,
            &signed_with(&format!("{head}?response-content-type=a%2Fb"))
        )));
        assert_eq!(
            run(
                q,
                &signed_with(&format!("{head}?response-content-type=a/b"))
            ),
            Ok(())
        );
        // Many extras at once: none or all.
        let q = "accelerate&analytics&inventory&metrics";
        assert_eq!(run(q, &signed_with(head)), Ok(()));
        assert_eq!(
            run(
                q,
                &signed_with(&format!("{head}?accelerate&analytics&inventory&metrics"))
            ),
            Ok(())
        );
        assert!(is_mismatch(run(
            q,
            &signed_with(&format!("{head}?accelerate"))
        )));
        // (Values are empty, so decoding adds no variant.)
        assert_eq!(candidates(&req("GET", q, &[]), path, Form::Header).len(), 2);
        // The candidate list has no repeats and starts with the primary form.
        let h: Headers = vec![("x-amz-date", date)];
        let c = candidates(&req("GET", "acl", &h), path, Form::Header);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0], string_to_sign(&req("GET", "acl", &h), path, None));
    }

    #[test]
    fn time_window() {
        let ex = &EXAMPLES[0];
        let auth = format!("AWS {AK}:{}", ex.signature);
        let h = with_auth(ex.headers, &auth);
        let r = req("GET", "", &h);
        let path = ex.raw_path;
        assert_eq!(check(&r, path, GET_TIME + 900), Ok(()));
        assert_eq!(check(&r, path, GET_TIME - 900), Ok(()));
        assert_eq!(
            check(&r, path, GET_TIME + 901),
            Err(AuthError::TimeTooSkewed)
        );
        assert_eq!(
            check(&r, path, GET_TIME - 901),
            Err(AuthError::TimeTooSkewed)
        );
        assert_eq!(check(&r, path, 0), Err(AuthError::TimeTooSkewed));
        assert_eq!(check(&r, path, u64::MAX), Err(AuthError::TimeTooSkewed));
        // No date at all.
        let h: Headers = vec![("Authorization", auth.as_bytes())];
        assert_eq!(
            check(&req("GET", "", &h), path, GET_TIME),
            Err(AuthError::InvalidDate("none given".into()))
        );
        // Unparsable dates, in either header.
        let cases: [(&str, &[u8]); 5] = [
            ("Date", b"yesterday"),
            ("Date", b""),
            ("Date", b"\xff\xfe"),
            ("x-amz-date", b"2007-03-27"),
            ("x-amz-date", b"Tue, 27 Mar 1907 19:36:42 GMT"),
        ];
        for (name, bad) in cases {
            let h: Headers = vec![(name, bad), ("Authorization", auth.as_bytes())];
            assert!(
                matches!(
                    check(&req("GET", "", &h), path, GET_TIME),
                    Err(AuthError::InvalidDate(_))
                ),
                "{name}: {bad:?}"
            );
        }
        // Header-form skew is checked before the signature.
        let h: Headers = vec![
            ("Date", b"Tue, 27 Mar 2007 19:36:42 GMT"),
            ("Authorization", b"AWS AKIAIOSFODNN7EXAMPLE:bogus"),
        ];
        assert_eq!(
            check(&req("GET", "", &h), path, GET_TIME + 901),
            Err(AuthError::TimeTooSkewed)
        );
        assert!(is_mismatch(check(&req("GET", "", &h), path, GET_TIME)));
    }

    #[test]
    fn date_formats() {
        for (text, secs) in [
            ("Tue, 27 Mar 2007 19:36:42 +0000", GET_TIME),
            ("Tue, 27 Mar 2007 19:36:42 GMT", GET_TIME),
            ("Tuesday, 27-Mar-07 19:36:42 GMT", GET_TIME),
            ("Tue Mar 27 19:36:42 2007", GET_TIME),
            ("Tue, 27 Mar 2007 21:36:42 +0200", GET_TIME),
            ("20070327T193642Z", GET_TIME),
            ("  Tue, 27 Mar 2007 19:36:42 GMT ", GET_TIME),
            ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
        ] {
            assert_eq!(parse_date(text), Some(secs), "{text}");
        }
        for bad in [
            "",
            "0",
            "1175024202",
            "Tue, 27 Mar 2007",
            "Wed, 31 Dec 1969 23:59:59 GMT",
            "Tue, 32 Mar 2007 19:36:42 GMT",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        // A request dated in GMT signs its Date text as sent.
        let h: Headers = vec![("Date", b"Tue, 27 Mar 2007 19:36:42 GMT")];
        let r = req("GET", "", &h);
        let s = sign(AK, SK, &r, "/b/k");
        assert_ne!(s.signature, EXAMPLES[0].signature);
        let h = with_auth(&h, &s.authorization);
        assert_eq!(check(&req("GET", "", &h), "/b/k", GET_TIME), Ok(()));
    }

    #[test]
    fn header_parsing() {
        let ok = SigV2Auth::parse_header("AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=")
            .unwrap();
        assert_eq!(
            ok,
            SigV2Auth {
                access_key: AK.into(),
                signature: "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=".into(),
                expires: None,
            }
        );
        assert!(!ok.is_presigned());
        assert_eq!(
            SigV2Auth::parse_header("  AWS  ak : sig  ")
                .unwrap()
                .signature,
            "sig"
        );
        assert_eq!(
            SigV2Auth::parse_header("AWS a:b:sig").unwrap().access_key,
            "a:b"
        );
        for bad in [
            "AWS ",
            "AWS ak",
            "AWS :sig",
            "AWS ak:",
            "AWS a k:sig",
            "AWS ak:s ig",
            "AWS ak: ",
        ] {
            assert!(
                matches!(SigV2Auth::parse_header(bad), Err(AuthError::Malformed(_))),
                "{bad:?}"
            );
        }
        for other in [
            "AWS4-HMAC-SHA256 Credential=x",
            "AWSak:sig",
            "aws ak:sig",
            "",
            "Bearer x",
        ] {
            assert!(
                matches!(
                    SigV2Auth::parse_header(other),
                    Err(AuthError::UnsupportedAlgorithm(_))
                ),
                "{other:?}"
            );
        }
    }

    #[test]
    fn query_parsing() {
        fn pairs(q: &str) -> Query<'_> {
            Query::parse(q)
        }
        assert_eq!(SigV2Auth::from_query(&pairs("acl&Expires=5")), Ok(None));
        assert_eq!(
            SigV2Auth::from_query(&pairs("AWSAccessKeyId=a&Signature=b&Expires=0")),
            Ok(Some(SigV2Auth {
                access_key: "a".into(),
                signature: "b".into(),
                expires: Some(0)
            }))
        );
        for (q, field) in [
            ("Signature=b&Expires=1", "AWSAccessKeyId"),
            ("AWSAccessKeyId=&Signature=b&Expires=1", "AWSAccessKeyId"),
            ("AWSAccessKeyId=a&Expires=1", "Signature"),
            ("AWSAccessKeyId=a&Signature&Expires=1", "Signature"),
            ("AWSAccessKeyId=a&Signature=b", "Expires"),
        ] {
            assert_eq!(
                SigV2Auth::from_query(&pairs(q)),
                Err(AuthError::MissingSecurityField(field.into())),
                "{q}"
            );
        }
        for q in [
            "AWSAccessKeyId=a&Signature=b&Expires=",
            "AWSAccessKeyId=a&Signature=b&Expires=-1",
            "AWSAccessKeyId=a&Signature=b&Expires=1.5",
            "AWSAccessKeyId=a&Signature=b&Expires=%2B1",
            "AWSAccessKeyId=a&Signature=b&Expires=99999999999999999999999",
            "AWSAccessKeyId=a&Signature=b&Expires=1&Expires=2",
            "AWSAccessKeyId=a&AWSAccessKeyId=a&Signature=b&Expires=1",
            "AWSAccessKeyId=a&Signature=b&Signature=c&Expires=1",
        ] {
            assert!(
                matches!(
                    SigV2Auth::from_query(&pairs(q)),
                    Err(AuthError::Malformed(_))
                ),
                "{q}"
            );
        }
    }

    #[test]
    fn request_dispatch() {
        use super::super::{detect_scheme, AuthScheme};
        let q = "AWSAccessKeyId=a&Signature=b&Expires=1";
        // Header form.
        let h: Headers = vec![("authorization", b"AWS ak:sig")];
        let r = req("GET", q, &h);
        assert_eq!(detect_scheme(&r), AuthScheme::SigV2);
        assert_eq!(
            SigV2Auth::from_request(&r).unwrap().unwrap().access_key,
            "ak"
        );
        // An empty header falls through to the query.
        let h: Headers = vec![("Authorization", b"  ")];
        let r = req("GET", q, &h);
        assert_eq!(detect_scheme(&r), AuthScheme::SigV2);
        assert_eq!(
            SigV2Auth::from_request(&r).unwrap().unwrap().expires,
            Some(1)
        );
        // Another scheme's header: not ours, and the query is not looked at.
        let h: Headers = vec![("Authorization", b"AWS4-HMAC-SHA256 Credential=x")];
        assert_eq!(SigV2Auth::from_request(&req("GET", q, &h)), Ok(None));
        // Nothing at all.
        assert_eq!(SigV2Auth::from_request(&req("GET", "acl", &[])), Ok(None));
        // A SigV2 header that is not UTF-8 or not well-formed.
        let h: Headers = vec![("Authorization", b"AWS \xffak:sig")];
        assert!(matches!(
            SigV2Auth::from_request(&req("GET", "", &h)),
            Err(AuthError::Malformed(_))
        ));
        let h: Headers = vec![("Authorization", b"AWS aksig")];
        assert!(matches!(
            SigV2Auth::from_request(&req("GET", "", &h)),
            Err(AuthError::Malformed(_))
        ));
    }

    #[test]
    fn amz_header_canonicalisation() {
        let headers: Headers = vec![
            ("X-AMZ-Meta-Zed", b"\t z \t"),
            ("x-amz-meta-a", b"1"),
            ("X-Amz-Meta-A", b""),
            ("x-amz-meta-a", b" 3 "),
            ("x-amzfoo", b"not amz"),
            ("x-amz-meta-bin", b"\xe4\xb8\xad"),
            ("Date", b"Tue, 27 Mar 2007 19:36:42 GMT"),
        ];
        let r = req("GET", "", &headers);
        let s = string_to_sign(&r, "/b", None);
        assert_eq!(
            s,
            "GET\n\n\nTue, 27 Mar 2007 19:36:42 GMT\nx-amz-meta-a:1,,3\nx-amz-meta-bin:中\nx-amz-meta-zed:z\n/b".as_bytes()
        );
        // Query form: x-amz-date plays no part; x-amz-* parameters fill in missing headers.
        let headers: Headers = vec![("x-amz-date", b"whatever"), ("x-amz-acl", b"private")];
        let r = req(
            "GET",
            "X-Amz-Acl=public-read&x-amz-meta-q=%20v%20&x-amz-meta-q=w&x-amz-date=1",
            &headers,
        );
        assert_eq!(
            sts(&r, "/b", Some("9")),
            "GET\n\n\n9\nx-amz-acl:private\nx-amz-meta-q:v,w\n/b"
        );
    }

    #[test]
    fn no_panic_on_arbitrary_input() {
        // A small deterministic generator over awkward bytes and fragments.
        let pieces: &[&[u8]] = &[
            b"AWS ",
            b":",
            b" ",
            b"%",
            b"%2",
            b"%zz",
            b"+",
            b"=",
            b"&",
            b"\xff",
            b"\0",
            b"\n",
            b"acl",
            b"Expires",
            b"=1",
            b"AWSAccessKeyId",
            b"Signature",
            b"x-amz-date",
            b"99999999999999999999",
            b"Tue, 27 Mar 2007 19:36:42 +0000",
            b"select",
            b"versionId",
            "中".as_bytes(),
            b"response-expires",
            b"uploads",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut bytes = |n: u64| -> Vec<u8> {
            let mut out = Vec::new();
            for _ in 0..n {
                let i = usize::try_from(next() % pieces.len() as u64).unwrap();
                out.extend_from_slice(pieces[i]);
            }
            out
        };
        for _ in 0..2000 {
            let auth = bytes(6);
            let date = bytes(3);
            let amz = bytes(2);
            let query = String::from_utf8_lossy(&bytes(8)).into_owned();
            let path = String::from_utf8_lossy(&bytes(3)).into_owned();
            let headers: Vec<(&str, &[u8])> = vec![
                ("Authorization", auth.as_slice()),
                ("Date", date.as_slice()),
                ("x-amz-date", amz.as_slice()),
                ("x-amz-meta-x", amz.as_slice()),
            ];
            for h in [&headers[..], &headers[1..], &headers[..1]] {
                let r = req("GET", &query, h);
                let _ = string_to_sign(&r, &path, None);
                let _ = string_to_sign(&r, &path, Some("1"));
                let _ = sign(AK, SK, &r, &path);
                let _ = presign(AK, SK, &r, &path, u64::MAX);
                let _ = parse_date(&String::from_utf8_lossy(&date));
                let forced = SigV2Auth {
                    access_key: AK.into(),
                    signature: String::from_utf8_lossy(&auth).into_owned(),
                    expires: Some(u64::MAX),
                };
                let _ = verify(&forced, SK, &r, &path, 0);
                if let Ok(Some(a)) = SigV2Auth::from_request(&r) {
                    for now in [0, GET_TIME, u64::MAX] {
                        let _ = verify(&a, SK, &r, &path, now);
                    }
                }
            }
        }
    }
}

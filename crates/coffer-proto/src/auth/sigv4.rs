//! AWS Signature Version 4, S3 flavour: parsing the `Authorization` header and presigned
//! query, verifying a request, and signing (for tests and the SDK).
//!
//! Verification is two-step so the caller owns the key store:
//! [`SigV4Auth::from_request`] (or [`SigV4Auth::parse_header`] / [`SigV4Auth::from_query`])
//! yields the access key; the caller looks up its secret and calls [`verify`], which returns
//! a [`SigV4Context`] telling the body reader how the payload is protected.
//!
//! S3 specifics: the canonical URI is the decoded path URI-encoded once (no normalisation, no
//! double encoding); the payload hash is the `x-amz-content-sha256` value (a hex digest,
//! `UNSIGNED-PAYLOAD` or a `STREAMING-*` token).

use std::fmt;

use chrono::{DateTime, NaiveDateTime};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{all_digits, ct_eq, trim_ascii, AuthError, Query, RequestView};

/// The only SigV4 algorithm implemented.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The credential scope terminator.
pub const TERMINATOR: &str = "aws4_request";
/// The service name S3 requests must be scoped to.
pub const SERVICE: &str = "s3";
/// Largest accepted difference between a header-signed request's time and the server clock.
pub const MAX_SKEW_SECS: u64 = 900;
/// Largest accepted `X-Amz-Expires` (seven days).
pub const MAX_PRESIGN_EXPIRES: u64 = 604_800;
/// Hex SHA-256 of the empty string.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// Payload hash meaning "the body is not signed".
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Payload hash of an `aws-chunked` body with per-chunk signatures.
pub const STREAMING_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// Payload hash of an `aws-chunked` body with per-chunk signatures and a signed trailer.
pub const STREAMING_PAYLOAD_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// Payload hash of an `aws-chunked` body without signatures, with a trailer.
pub const STREAMING_UNSIGNED_PAYLOAD_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `msg` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length: `new_from_slice` cannot fail. Never panic anyway.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(msg);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

/// Hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// AWS URI encoding: keeps `A–Z a–z 0–9 - _ . ~` (and `/` unless `encode_slash`), writes
/// every other byte as `%XX` with upper-case hex.
pub fn aws_uri_encode(input: &[u8], encode_slash: bool) -> String {
    let mut out = String::with_capacity(input.len());
    for &b in input {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (b == b'/' && !encode_slash)
        {
            out.push(char::from(b));
        } else {
            super::push_pct(&mut out, b);
        }
    }
    out
}

/// Parses an ISO 8601 basic timestamp `YYYYMMDDTHHMMSSZ` into Unix seconds.
pub fn parse_amz_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 16
        && b.get(8) == Some(&b'T')
        && b.get(15) == Some(&b'Z')
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || i == 15 || c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    let t = NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%SZ").ok()?;
    let unix = u64::try_from(t.and_utc().timestamp()).ok()?;
    // One text per instant: chrono reads second 60 (a leap second) as the second before, so
    // `…235960Z` would stand for `…235959Z`. Only the canonical spelling is a valid time.
    (format_amz_date(unix).as_deref() == Some(s)).then_some(unix)
}

/// Formats Unix seconds as `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(unix: u64) -> Option<String> {
    let t = DateTime::from_timestamp(i64::try_from(unix).ok()?, 0)?;
    Some(t.format("%Y%m%dT%H%M%SZ").to_string())
}

/// The credential of a SigV4 signature: `AK/YYYYMMDD/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The access key id.
    pub access_key: String,
    /// The scope date, `YYYYMMDD`.
    pub date: String,
    /// The scope region (any value is accepted and reported to the caller).
    pub region: String,
    /// The scope service (must be `s3` to verify).
    pub service: String,
}

impl Credential {
    /// Parses `AK/YYYYMMDD/region/service/aws4_request`. The access key is everything before
    /// the last four `/`-separated components.
    pub fn parse(s: &str) -> Result<Self, AuthError> {
        let bad = |why: &str| AuthError::Malformed(format!("credential {s:?}: {why}"));
        let mut parts = s.rsplitn(5, '/');
        let (Some(terminator), Some(service), Some(region), Some(date), Some(access_key)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad("expected AK/date/region/service/aws4_request"));
        };
        if terminator != TERMINATOR {
            return Err(bad("terminator must be aws4_request"));
        }
        if access_key.is_empty() {
            return Err(bad("empty access key"));
        }
        if date.len() != 8 || !all_digits(date) {
            return Err(bad("date must be YYYYMMDD"));
        }
        if region.is_empty() || service.is_empty() {
            return Err(bad("empty region or service"));
        }
        Ok(Credential {
            access_key: access_key.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
        })
    }

    /// The credential scope `YYYYMMDD/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{TERMINATOR}",
            self.date, self.region, self.service
        )
    }
}

/// The presigned-URL-only parts of a SigV4 authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    /// `X-Amz-Date`, `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// `X-Amz-Expires`, 1..=604800 seconds.
    pub expires: u64,
    /// `X-Amz-Security-Token`, if given.
    pub security_token: Option<String>,
    /// `X-Amz-Content-Sha256` in the query, if given (else the header, else
    /// `UNSIGNED-PAYLOAD`).
    pub content_sha256: Option<String>,
}

/// A parsed SigV4 authorization, from the `Authorization` header or a presigned query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4Auth {
    /// The credential (access key and scope).
    pub credential: Credential,
    /// Signed header names, lower-cased, in the order given.
    pub signed_headers: Vec<String>,
    /// The signature, as given (64 hex digits if well-formed).
    pub signature: String,
    /// `Some` for a presigned URL.
    pub presigned: Option<Presigned>,
}

fn parse_signed_headers(s: &str) -> Result<Vec<String>, AuthError> {
    let list: Vec<String> = s
        .split(';')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if list.is_empty() {
        return Err(AuthError::Malformed("empty SignedHeaders".into()));
    }
    Ok(list)
}

fn check_algorithm(alg: &str) -> Result<(), AuthError> {
    if alg == ALGORITHM {
        Ok(())
    } else {
        Err(AuthError::UnsupportedAlgorithm(alg.to_string()))
    }
}

impl SigV4Auth {
    /// Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` (components in
    /// any order, with or without spaces after the commas).
    pub fn parse_header(value: &str) -> Result<Self, AuthError> {
        let value = value.trim();
        let (alg, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
        check_algorithm(alg)?;
        let mut credential = None;
        let mut signed = None;
        let mut signature = None;
        for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| AuthError::Malformed(format!("component without '=': {part:?}")))?;
            let slot = match k.trim() {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed,
                "Signature" => &mut signature,
                other => {
                    return Err(AuthError::Malformed(format!(
                        "unknown Authorization component {other:?}"
                    )))
                }
            };
            if slot.replace(v.trim()).is_some() {
                return Err(AuthError::Malformed(format!("duplicate component {k}")));
            }
        }
        let missing = |n: &str| AuthError::Malformed(format!("Authorization lacks {n}"));
        let credential = Credential::parse(credential.ok_or_else(|| missing("Credential"))?)?;
        let signed_headers = parse_signed_headers(signed.ok_or_else(|| missing("SignedHeaders"))?)?;
        let signature = signature
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("Signature"))?;
        Ok(SigV4Auth {
            credential,
            signed_headers,
            signature: signature.to_string(),
            presigned: None,
        })
    }

    /// Extracts a presigned authorization from form-decoded query pairs. `Ok(None)` when none
    /// of `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Signature` is present.
    pub fn from_query(query: &Query<'_>) -> Result<Option<Self>, AuthError> {
        let pairs = query.text_pairs();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let alg = get("X-Amz-Algorithm");
        let cred = get("X-Amz-Credential");
        let sig = get("X-Amz-Signature");
        if alg.is_none() && cred.is_none() && sig.is_none() {
            return Ok(None);
        }
        let missing = |n: &str| AuthError::MissingSecurityField(n.to_string());
        check_algorithm(alg.ok_or_else(|| missing("X-Amz-Algorithm"))?)?;
        let credential = Credential::parse(cred.ok_or_else(|| missing("X-Amz-Credential"))?)?;
        let amz_date = get("X-Amz-Date").ok_or_else(|| missing("X-Amz-Date"))?;
        let expires = get("X-Amz-Expires").ok_or_else(|| missing("X-Amz-Expires"))?;
        let signed = get("X-Amz-SignedHeaders").ok_or_else(|| missing("X-Amz-SignedHeaders"))?;
        let signature = sig
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("X-Amz-Signature"))?;
        let expires: u64 = if all_digits(expires) {
            expires.parse().unwrap_or(u64::MAX)
        } else if expires.strip_prefix('-').is_some_and(all_digits) {
            // A negative lifetime (what SDKs produce for an expiry in the past) has expired.
            return Err(AuthError::Expired);
        } else {
            return Err(AuthError::Malformed(
                "X-Amz-Expires must be a non-negative integer".into(),
            ));
        };
        if expires == 0 {
            return Err(AuthError::LifetimeOutOfRange(
                "X-Amz-Expires must be non-zero.".into(),
            ));
        }
        if expires > MAX_PRESIGN_EXPIRES {
            return Err(AuthError::LifetimeOutOfRange(format!(
                "X-Amz-Expires must be less than a week (in seconds) that is; {MAX_PRESIGN_EXPIRES} seconds"
            )));
        }
        if parse_amz_date(amz_date).is_none() {
            return Err(AuthError::Malformed(format!("bad X-Amz-Date {amz_date:?}")));
        }
        Ok(Some(SigV4Auth {
            credential,
            signed_headers: parse_signed_headers(signed)?,
            signature: signature.to_string(),
            presigned: Some(Presigned {
                amz_date: amz_date.to_string(),
                expires,
                security_token: get("X-Amz-Security-Token").map(str::to_string),
                content_sha256: get("X-Amz-Content-Sha256").map(str::to_string),
            }),
        }))
    }

    /// Finds the SigV4 authorization of a request: the `Authorization` header if present and
    /// non-empty, else the presigned query. `Ok(None)` = no SigV4 credentials.
    pub fn from_request(req: &RequestView<'_>) -> Result<Option<Self>, AuthError> {
        if let Some(value) = req.header("authorization") {
            let value = std::str::from_utf8(value)
                .map_err(|_| AuthError::Malformed("Authorization is not UTF-8".into()))?;
            if !value.trim().is_empty() {
                return Self::parse_header(value).map(Some);
            }
        }
        Self::from_query(req.query)
    }

    /// The access key id to look the secret up by.
    pub fn access_key(&self) -> &str {
        &self.credential.access_key
    }
}

/// What the chunk decoder needs to check `aws-chunked` chunk signatures. Its `Debug` hides
/// the signing key.
#[derive(Clone, PartialEq, Eq)]
pub struct StreamingSigning {
    /// The request's own signature, which seeds the chunk signature chain.
    pub seed_signature: String,
    /// The derived signing key.
    pub signing_key: [u8; 32],
    /// The request timestamp, `YYYYMMDDTHHMMSSZ`.
    pub timestamp: String,
    /// The credential scope `date/region/service/aws4_request`.
    pub scope: String,
}

impl fmt::Debug for StreamingSigning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamingSigning")
            .field("seed_signature", &self.seed_signature)
            .field("signing_key", &"<redacted>")
            .field("timestamp", &self.timestamp)
            .field("scope", &self.scope)
            .finish()
    }
}

/// How the request body is protected, i.e. what the body reader must check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadMode {
    /// `UNSIGNED-PAYLOAD`: nothing to check.
    Unsigned,
    /// The body must hash (SHA-256) to this lower-case hex digest, else
    /// `XAmzContentSHA256Mismatch`. A header-signed request without
    /// `x-amz-content-sha256` gets the empty-body digest.
    Sha256(String),
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: `aws-chunked` body, signed chunks.
    StreamingSigned(StreamingSigning),
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: `aws-chunked` body, unsigned chunks, trailer.
    StreamingUnsignedTrailer,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks and a signed trailer.
    StreamingSignedTrailer(StreamingSigning),
}

/// The payload hash token before the streaming context is known.
enum PayloadKind {
    Unsigned,
    Sha256(String),
    Streaming,
    StreamingUnsignedTrailer,
    StreamingTrailer,
}

fn parse_payload_hash(value: &str) -> Result<PayloadKind, AuthError> {
    Ok(match value {
        UNSIGNED_PAYLOAD => PayloadKind::Unsigned,
        STREAMING_PAYLOAD => PayloadKind::Streaming,
        STREAMING_PAYLOAD_TRAILER => PayloadKind::StreamingTrailer,
        STREAMING_UNSIGNED_PAYLOAD_TRAILER => PayloadKind::StreamingUnsignedTrailer,
        v if v.starts_with("STREAMING-") => {
            return Err(AuthError::UnsupportedAlgorithm(v.to_string()));
        }
        v if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
            PayloadKind::Sha256(v.to_ascii_lowercase())
        }
        v => {
            return Err(AuthError::Malformed(format!(
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value or a SHA-256 hex digest, not {v:?}"
            )))
        }
    })
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4Context {
    /// The access key id that signed.
    pub access_key: String,
    /// The region of the credential scope (not checked here).
    pub region: String,
    /// How the body is protected.
    pub payload: PayloadMode,
    /// `x-amz-security-token` (header) or `X-Amz-Security-Token` (query), for temporary
    /// credentials; validating it is the caller's business.
    pub security_token: Option<String>,
    /// Whether the request was a presigned URL.
    pub presigned: bool,
    /// The signed timestamp, `YYYYMMDDTHHMMSSZ`.
    pub timestamp: String,
}

/// The canonical header value: trimmed, runs of spaces/tabs collapsed to one space.
fn canonical_header_value(v: &[u8], out: &mut Vec<u8>) {
    let mut in_space = false;
    for &b in trim_ascii(v) {
        if b == b' ' || b == b'\t' {
            in_space = true;
        } else {
            if in_space {
                out.push(b' ');
                in_space = false;
            }
            out.push(b);
        }
    }
}

/// The canonical query string: every parameter (but `X-Amz-Signature` when `presigned`),
/// name and value form-decoded then URI-encoded (`/` too), sorted by name then value,
/// joined with `&`.
pub fn canonical_query(query: &Query<'_>, presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = query
        .params()
        .iter()
        .filter(|p| !(presigned && *p.name == *b"X-Amz-Signature"))
        .map(|p| {
            (
                aws_uri_encode(&p.name, true),
                aws_uri_encode(&p.value, true),
            )
        })
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// The canonical URI of a decoded path: URI-encoded once, `/` kept; empty → `/`.
pub fn canonical_uri(decoded_path: &str) -> String {
    if decoded_path.is_empty() {
        "/".to_string()
    } else {
        aws_uri_encode(decoded_path.as_bytes(), false)
    }
}

/// Builds the canonical request (bytes: header values may be any octets). `signed_headers`
/// are lower-case names; they are sorted here. A signed header the request lacks gets an
/// empty value; repeated headers are joined with `,`.
pub fn canonical_request(
    req: &RequestView<'_>,
    signed_headers: &[String],
    payload_hash: &str,
    presigned: bool,
) -> Vec<u8> {
    let mut names: Vec<&str> = signed_headers.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(req.method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(req.decoded_path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(req.query, presigned).as_bytes());
    out.push(b'\n');
    for name in &names {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        let mut first = true;
        for (_, v) in req
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            if !first {
                out.push(b',');
            }
            first = false;
            canonical_header_value(v, &mut out);
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(names.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

/// The string to sign: `AWS4-HMAC-SHA256\n<timestamp>\n<scope>\n<hex sha256(canonical)>`.
pub fn string_to_sign(timestamp: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
        sha256_hex(canonical_request)
    )
}

/// The SigV4 signing key: HMAC chain over `"AWS4"+secret`, date, region, service,
/// `aws4_request`.
pub fn signing_key(secret_key: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret_key}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, TERMINATOR.as_bytes())
}

/// Lower-case hex HMAC-SHA256 of the string to sign under the signing key.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(signing_key, string_to_sign.as_bytes()))
}

fn header_str<'a>(req: &RequestView<'a>, name: &str) -> Result<Option<&'a str>, AuthError> {
    match req.header(name) {
        None => Ok(None),
        Some(v) => std::str::from_utf8(trim_ascii(v))
            .map(Some)
            .map_err(|_| AuthError::Malformed(format!("{name} is not UTF-8"))),
    }
}

/// Verifies a SigV4-signed request. `secret_key` is the secret for
/// [`SigV4Auth::access_key`]; `now_unix` the server clock.
///
/// Checks, in order: service `s3`; the timestamp (`x-amz-date`, else `Date`, for the header
/// form; `X-Amz-Date` for presigned) parses and its date equals the credential date; header
/// form: |now − time| ≤ 15 min ([`AuthError::TimeTooSkewed`]); presigned: time ≤ now + 15 min
/// ([`AuthError::NotYetValid`]) and now ≤ time + expires ([`AuthError::Expired`]); `host` is
/// signed; every `x-amz-*` header but `x-amz-content-sha256` is signed, presigned or not
/// ([`AuthError::UnsignedHeader`]); the payload hash token is valid; then the signature
/// (constant-time).
pub fn verify(
    auth: &SigV4Auth,
    secret_key: &str,
    req: &RequestView<'_>,
    now_unix: u64,
) -> Result<SigV4Context, AuthError> {
    let cred = &auth.credential;
    if cred.service != SERVICE {
        return Err(AuthError::Malformed(format!(
            "credential scope service must be s3, not {:?}",
            cred.service
        )));
    }

    // Timestamp.
    let (timestamp, time) = match &auth.presigned {
        Some(p) => {
            let t = parse_amz_date(&p.amz_date)
                .ok_or_else(|| AuthError::Malformed(format!("bad X-Amz-Date {:?}", p.amz_date)))?;
            (p.amz_date.clone(), t)
        }
        None => {
            if let Some(d) = header_str(req, "x-amz-date")? {
                let t = parse_amz_date(d)
                    .ok_or_else(|| AuthError::InvalidDate(format!("bad x-amz-date {d:?}")))?;
                (d.to_string(), t)
            } else if let Some(d) = header_str(req, "date")? {
                let t = crate::time::parse_http_date(d)
                    .and_then(|t| u64::try_from(t).ok())
                    .ok_or_else(|| AuthError::InvalidDate(format!("bad Date {d:?}")))?;
                let ts = format_amz_date(t)
                    .ok_or_else(|| AuthError::InvalidDate(format!("bad Date {d:?}")))?;
                (ts, t)
            } else {
                return Err(AuthError::InvalidDate("no x-amz-date or Date".into()));
            }
        }
    };
    if timestamp.get(..8) != Some(cred.date.as_str()) {
        return Err(AuthError::Malformed(format!(
            "credential date {} does not match the request date {timestamp}",
            cred.date
        )));
    }

    // Time window.
    match &auth.presigned {
        Some(p) => {
            if time > now_unix.saturating_add(MAX_SKEW_SECS) {
                return Err(AuthError::NotYetValid);
            }
            if now_unix > time.saturating_add(p.expires) {
                return Err(AuthError::Expired);
            }
        }
        None => {
            if time.abs_diff(now_unix) > MAX_SKEW_SECS {
                return Err(AuthError::TimeTooSkewed);
            }
        }
    }

    // Signed header policy.
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(AuthError::Malformed(
            "SignedHeaders must include host".into(),
        ));
    }
    // Every x-amz-* header must be signed, presigned URLs included: an unsigned
    // `x-amz-copy-source` or `x-amz-acl` added by whoever holds a URL must not act.
    // `x-amz-content-sha256` is covered by the signature anyway (it is the payload hash).
    for (name, _) in req.headers.iter() {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("x-amz-")
            && lower != "x-amz-content-sha256"
            && !auth.signed_headers.contains(&lower)
        {
            return Err(AuthError::UnsignedHeader(lower));
        }
    }

    // Payload hash.
    let header_hash = header_str(req, "x-amz-content-sha256")?;
    let payload_hash = match &auth.presigned {
        Some(p) => p
            .content_sha256
            .as_deref()
            .or(header_hash)
            .unwrap_or(UNSIGNED_PAYLOAD),
        None => header_hash.unwrap_or(EMPTY_SHA256),
    };
    let kind = parse_payload_hash(payload_hash)?;

    // Signature.
    let canonical = canonical_request(
        req,
        &auth.signed_headers,
        payload_hash,
        auth.presigned.is_some(),
    );
    let scope = cred.scope();
    let sts = string_to_sign(&timestamp, &scope, &canonical);
    let key = signing_key(secret_key, &cred.date, &cred.region, &cred.service);
    let expected = signature(&key, &sts);
    if !ct_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(AuthError::SignatureMismatch {
            string_to_sign: sts,
            canonical_request: Some(String::from_utf8_lossy(&canonical).into_owned()),
        });
    }

    let streaming = || StreamingSigning {
        seed_signature: expected.clone(),
        signing_key: key,
        timestamp: timestamp.clone(),
        scope: scope.clone(),
    };
    let payload = match kind {
        PayloadKind::Unsigned => PayloadMode::Unsigned,
        PayloadKind::Sha256(h) => PayloadMode::Sha256(h),
        PayloadKind::Streaming => PayloadMode::StreamingSigned(streaming()),
        PayloadKind::StreamingTrailer => PayloadMode::StreamingSignedTrailer(streaming()),
        PayloadKind::StreamingUnsignedTrailer => PayloadMode::StreamingUnsignedTrailer,
    };
    let security_token = match &auth.presigned {
        Some(p) => p.security_token.clone(),
        None => header_str(req, "x-amz-security-token")?.map(str::to_string),
    };
    Ok(SigV4Context {
        access_key: cred.access_key.clone(),
        region: cred.region.clone(),
        payload,
        security_token,
        presigned: auth.presigned.is_some(),
        timestamp,
    })
}

/// The result of signing a request with [`SigV4Signer::sign`]. Its `Debug` hides the
/// signing key.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The `Authorization` header value.
    pub authorization: String,
    /// The signature (hex).
    pub signature: String,
    /// The canonical request that was signed (lossy UTF-8).
    pub canonical_request: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// The derived signing key.
    pub signing_key: [u8; 32],
    /// The timestamp used.
    pub timestamp: String,
    /// The credential scope used.
    pub scope: String,
}

impl SignedRequest {
    /// The context for signing `aws-chunked` chunks that follow this request.
    pub fn streaming(&self) -> StreamingSigning {
        StreamingSigning {
            seed_signature: self.signature.clone(),
            signing_key: self.signing_key,
            timestamp: self.timestamp.clone(),
            scope: self.scope.clone(),
        }
    }
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest")
            .field("authorization", &self.authorization)
            .field("canonical_request", &self.canonical_request)
            .field("string_to_sign", &self.string_to_sign)
            .field("signing_key", &"<redacted>")
            .finish()
    }
}

/// A SigV4 signer (its `Debug` hides the secret).
#[derive(Clone, Copy)]
pub struct SigV4Signer<'a> {
    /// Access key id.
    pub access_key: &'a str,
    /// Secret access key.
    pub secret_key: &'a str,
    /// Region of the credential scope.
    pub region: &'a str,
    /// Service of the credential scope (`s3`).
    pub service: &'a str,
}

impl fmt::Debug for SigV4Signer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Signer")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("region", &self.region)
            .field("service", &self.service)
            .finish()
    }
}

impl<'a> SigV4Signer<'a> {
    /// A signer for service `s3`.
    pub fn new(access_key: &'a str, secret_key: &'a str, region: &'a str) -> Self {
        SigV4Signer {
            access_key,
            secret_key,
            region,
            service: SERVICE,
        }
    }

    fn credential(&self, amz_date: &str) -> Result<(String, String), AuthError> {
        if parse_amz_date(amz_date).is_none() {
            return Err(AuthError::Malformed(format!("bad amz date {amz_date:?}")));
        }
        let date = amz_date.get(..8).unwrap_or_default();
        let scope = format!("{date}/{}/{}/{TERMINATOR}", self.region, self.service);
        Ok((format!("{}/{scope}", self.access_key), scope))
    }

    /// Signs `req` for the header form. The request must already carry every header named
    /// in `signed_headers` (typically `host`, `x-amz-date` = `amz_date`,
    /// `x-amz-content-sha256` = `payload_hash`); `amz_date` is `YYYYMMDDTHHMMSSZ`.
    pub fn sign(
        &self,
        req: &RequestView<'_>,
        signed_headers: &[&str],
        payload_hash: &str,
        amz_date: &str,
    ) -> Result<SignedRequest, AuthError> {
        let (credential, scope) = self.credential(amz_date)?;
        let mut names: Vec<String> = signed_headers
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        names.sort();
        names.dedup();
        let canonical = canonical_request(req, &names, payload_hash, false);
        let sts = string_to_sign(amz_date, &scope, &canonical);
        let date = amz_date.get(..8).unwrap_or_default();
        let key = signing_key(self.secret_key, date, self.region, self.service);
        let sig = signature(&key, &sts);
        Ok(SignedRequest {
            authorization: format!(
                "{ALGORITHM} Credential={credential}, SignedHeaders={}, Signature={sig}",
                names.join(";")
            ),
            signature: sig,
            canonical_request: String::from_utf8_lossy(&canonical).into_owned(),
            string_to_sign: sts,
            signing_key: key,
            timestamp: amz_date.to_string(),
            scope,
        })
    }

    /// Presigns `req` and returns its complete new raw query: the request's own query, then
    /// `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
    /// `X-Amz-SignedHeaders`, optional `X-Amz-Security-Token`, and `X-Amz-Signature`. The
    /// payload is `UNSIGNED-PAYLOAD`.
    pub fn presign(
        &self,
        req: &RequestView<'_>,
        signed_headers: &[&str],
        amz_date: &str,
        expires: u64,
        security_token: Option<&str>,
    ) -> Result<String, AuthError> {
        if expires == 0 || expires > MAX_PRESIGN_EXPIRES {
            return Err(AuthError::Malformed("expires out of range".into()));
        }
        let (credential, scope) = self.credential(amz_date)?;
        let mut names: Vec<String> = signed_headers
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        names.sort();
        names.dedup();
        let mut query = req.query.raw().to_string();
        let mut add = |k: &str, v: &str| {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(k);
            query.push('=');
            query.push_str(&aws_uri_encode(v.as_bytes(), true));
        };
        add("X-Amz-Algorithm", ALGORITHM);
        add("X-Amz-Credential", &credential);
        add("X-Amz-Date", amz_date);
        add("X-Amz-Expires", &expires.to_string());
        add("X-Amz-SignedHeaders", &names.join(";"));
        if let Some(token) = security_token {
            add("X-Amz-Security-Token", token);
        }
        let parsed = Query::parse(&query);
        let view = RequestView {
            query: &parsed,
            ..*req
        };
        let canonical = canonical_request(&view, &names, UNSIGNED_PAYLOAD, true);
        let sts = string_to_sign(amz_date, &scope, &canonical);
        let date = amz_date.get(..8).unwrap_or_default();
        let key = signing_key(self.secret_key, date, self.region, self.service);
        let sig = signature(&key, &sts);
        query.push_str("&X-Amz-Signature=");
        query.push_str(&sig);
        Ok(query)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    const AK: &str = "AKIAIOSFODNN7EXAMPLE";
    const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const HOST: &str = "examplebucket.s3.amazonaws.com";
    const DATE: &str = "20130524T000000Z";
    /// 2013-05-24T00:00:00Z.
    const NOW: u64 = 1_369_353_600;

    fn req<'a>(
        method: &'a str,
        path: &'a str,
        query: &'a str,
        headers: &'a [(&'a str, &'a [u8])],
    ) -> RequestView<'a> {
        RequestView::new(
            method,
            path,
            Box::leak(Box::new(Query::parse(query))),
            headers,
        )
    }

    fn signer() -> SigV4Signer<'static> {
        SigV4Signer::new(AK, SK, "us-east-1")
    }

    fn check(r: &RequestView<'_>, now: u64) -> Result<SigV4Context, AuthError> {
        let auth =
            SigV4Auth::from_request(r)?.ok_or(AuthError::MissingSecurityField("none".into()))?;
        assert_eq!(auth.access_key(), AK);
        verify(&auth, SK, r, now)
    }

    fn is_mismatch<T: fmt::Debug>(r: Result<T, AuthError>) -> bool {
        matches!(r, Err(AuthError::SignatureMismatch { .. }))
    }

    // ---- GET object with Range ------------------------------------------------------

    const GET_SIG: &str = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

    fn get_auth(sep: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,{sep}SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,{sep}Signature={GET_SIG}")
    }

    #[test]
    fn get_object_with_range() {
        let unsigned: Vec<(&str, &[u8])> = vec![
            ("Host", HOST.as_bytes()),
            ("Range", b"bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256.as_bytes()),
            ("x-amz-date", DATE.as_bytes()),
        ];
        let r = req("GET", "/test.txt", "", &unsigned);
        let signed = signer()
            .sign(
                &r,
                &["host", "range", "x-amz-content-sha256", "x-amz-date"],
                EMPTY_SHA256,
                DATE,
            )
            .unwrap();
        assert_eq!(
            signed.canonical_request,
            format!("GET\n/test.txt\n\nhost:{HOST}\nrange:bytes=0-9\nx-amz-content-sha256:{EMPTY_SHA256}\nx-amz-date:{DATE}\n\nhost;range;x-amz-content-sha256;x-amz-date\n{EMPTY_SHA256}")
        );
        assert_eq!(
            signed.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
        );
        assert_eq!(signed.signature, GET_SIG);
        assert_eq!(signed.authorization, get_auth(" "));

        for sep in ["", " ", "  "] {
            let auth = get_auth(sep);
            let mut headers = unsigned.clone();
            headers.push(("Authorization", auth.as_bytes()));
            let r = req("GET", "/test.txt", "", &headers);
            let ctx = check(&r, NOW).unwrap();
            assert_eq!(ctx.access_key, AK);
            assert_eq!(ctx.region, "us-east-1");
            assert_eq!(ctx.payload, PayloadMode::Sha256(EMPTY_SHA256.to_string()));
            assert!(!ctx.presigned);
            assert_eq!(ctx.timestamp, DATE);
            assert_eq!(ctx.security_token, None);
        }
    }

    #[test]
    fn get_object_rejections() {
        let auth = get_auth("");
        let base: Vec<(&str, &[u8])> = vec![
            ("Host", HOST.as_bytes()),
            ("Range", b"bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256.as_bytes()),
            ("x-amz-date", DATE.as_bytes()),
            ("Authorization", auth.as_bytes()),
        ];
        let ok = req("GET", "/test.txt", "", &base);
        // Skew: ±15 minutes inclusive.
        assert!(check(&ok, NOW + 900).is_ok());
        assert!(check(&ok, NOW - 900).is_ok());
        assert_eq!(check(&ok, NOW + 901), Err(AuthError::TimeTooSkewed));
        assert_eq!(check(&ok, NOW - 901), Err(AuthError::TimeTooSkewed));
        // Tampered header, path, method, query, signature, secret.
        let mut h = base.clone();
        h[1] = ("Range", b"bytes=0-10");
        assert!(is_mismatch(check(&req("GET", "/test.txt", "", &h), NOW)));
        assert!(is_mismatch(check(
            &req("GET", "/test2.txt", "", &base),
            NOW
        )));
        assert!(is_mismatch(check(
            &req("HEAD", "/test.txt", "", &base),
            NOW
        )));
        assert!(is_mismatch(check(
            &req("GET", "/test.txt", "x=1", &base),
            NOW
        )));
        let bad_sig = auth.replace("Signature=f0", "Signature=f1");
        let mut h = base.clone();
        h[4] = ("Authorization", bad_sig.as_bytes());
        assert!(is_mismatch(check(&req("GET", "/test.txt", "", &h), NOW)));
        let a = SigV4Auth::parse_header(&auth).unwrap();
        match verify(&a, "wrong", &ok, NOW) {
            Err(AuthError::SignatureMismatch {
                string_to_sign,
                canonical_request,
            }) => {
                assert!(string_to_sign
                    .ends_with("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"));
                assert!(canonical_request
                    .unwrap()
                    .starts_with("GET\n/test.txt\n\nhost:"));
            }
            other => panic!("{other:?}"),
        }
        // Signatures compare exactly: upper-case hex is not the signature.
        let upper = auth.replace(GET_SIG, &GET_SIG.to_ascii_uppercase());
        let mut h = base.clone();
        h[4] = ("Authorization", upper.as_bytes());
        assert!(matches!(
            check(&req("GET", "/test.txt", "", &h), NOW),
            Err(AuthError::SignatureMismatch { .. })
        ));
        // An unsigned x-amz-* header is refused.
        let mut h = base.clone();
        h.push(("X-Amz-Acl", b"public-read"));
        assert_eq!(
            check(&req("GET", "/test.txt", "", &h), NOW),
            Err(AuthError::UnsignedHeader("x-amz-acl".into()))
        );
        // Unsigned non-amz headers are fine.
        let mut h = base.clone();
        h.push(("User-Agent", b"curl"));
        assert!(check(&req("GET", "/test.txt", "", &h), NOW).is_ok());
        // No date at all.
        let h: Vec<_> = base
            .iter()
            .filter(|(n, _)| *n != "x-amz-date")
            .copied()
            .collect();
        assert_eq!(
            check(&req("GET", "/test.txt", "", &h), NOW),
            Err(AuthError::InvalidDate("no x-amz-date or Date".into()))
        );
        // A garbage date.
        let mut h = base.clone();
        h[3] = ("x-amz-date", b"2013-05-24T00:00:00Z");
        assert!(matches!(
            check(&req("GET", "/test.txt", "", &h), NOW),
            Err(AuthError::InvalidDate(_))
        ));
    }

    // ---- PUT object -----------------------------------------------------------------

    #[test]
    fn put_object() {
        let body_hash = sha256_hex(b"Welcome to Amazon S3.");
        assert_eq!(
            body_hash,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        let auth = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd";
        let headers: Vec<(&str, &[u8])> = vec![
            ("Host", HOST.as_bytes()),
            ("Date", b"Fri, 24 May 2013 00:00:00 GMT"),
            ("Authorization", auth.as_bytes()),
            ("x-amz-date", DATE.as_bytes()),
            ("x-amz-storage-class", b"REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", body_hash.as_bytes()),
        ];
        let r = req("PUT", "/test$file.text", "", &headers);
        let signed = signer()
            .sign(
                &r,
                &[
                    "date",
                    "host",
                    "x-amz-content-sha256",
                    "x-amz-date",
                    "x-amz-storage-class",
                ],
                &body_hash,
                DATE,
            )
            .unwrap();
        assert!(signed
            .canonical_request
            .starts_with("PUT\n/test%24file.text\n\n"));
        assert_eq!(
            signed.signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
        let ctx = check(&r, NOW).unwrap();
        assert_eq!(ctx.payload, PayloadMode::Sha256(body_hash.clone()));
        // Storage class changed in transit.
        let mut h = headers.clone();
        h[4] = ("x-amz-storage-class", b"STANDARD");
        assert!(is_mismatch(check(
            &req("PUT", "/test$file.text", "", &h),
            NOW
        )));
    }

    // ---- GET bucket lifecycle / list objects ------------------------------------------

    fn bucket_get(query: &str, sig: &str) {
        let auth = format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature={sig}");
        let headers: Vec<(&str, &[u8])> = vec![
            ("Host", HOST.as_bytes()),
            ("x-amz-date", DATE.as_bytes()),
            ("x-amz-content-sha256", EMPTY_SHA256.as_bytes()),
            ("Authorization", auth.as_bytes()),
        ];
        let r = req("GET", "/", query, &headers);
        let signed = signer()
            .sign(
                &r,
                &["host", "x-amz-content-sha256", "x-amz-date"],
                EMPTY_SHA256,
                DATE,
            )
            .unwrap();
        assert_eq!(signed.signature, sig, "{query}");
        assert!(check(&r, NOW).is_ok(), "{query}");
    }

    #[test]
    fn get_bucket_lifecycle() {
        bucket_get(
            "lifecycle",
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
        );
        bucket_get(
            "lifecycle=",
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
        );
    }

    #[test]
    fn list_objects() {
        let sig = "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7";
        bucket_get("max-keys=2&prefix=J", sig);
        // Order on the wire is irrelevant.
        bucket_get("prefix=J&max-keys=2", sig);
        assert_eq!(
            canonical_query(&Query::parse("prefix=J&max-keys=2"), false),
            "max-keys=2&prefix=J"
        );
    }

    // ---- presigned URL --------------------------------------------------------------

    const PRESIGNED_QUERY: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

    #[test]
    fn presigned_get() {
        let headers: &[(&str, &[u8])] = &[("Host", HOST.as_bytes())];
        let q = signer()
            .presign(
                &req("GET", "/test.txt", "", headers),
                &["host"],
                DATE,
                86400,
                None,
            )
            .unwrap();
        assert_eq!(q, PRESIGNED_QUERY);

        let r = req("GET", "/test.txt", PRESIGNED_QUERY, headers);
        let ctx = check(&r, NOW).unwrap();
        assert!(ctx.presigned);
        assert_eq!(ctx.payload, PayloadMode::Unsigned);
        assert!(check(&r, NOW + 86400).is_ok());
        assert_eq!(check(&r, NOW + 86401), Err(AuthError::Expired));
        assert!(check(&r, NOW - 900).is_ok());
        assert_eq!(check(&r, NOW - 901), Err(AuthError::NotYetValid));
        // Another object, another host, an added parameter.
        assert!(is_mismatch(check(
            &req("GET", "/test2.txt", PRESIGNED_QUERY, headers),
            NOW
        )));
        let other: &[(&str, &[u8])] = &[("Host", b"evil.s3.amazonaws.com")];
        assert!(is_mismatch(check(
            &req("GET", "/test.txt", PRESIGNED_QUERY, other),
            NOW
        )));
        let extra = format!("{PRESIGNED_QUERY}&response-content-type=text%2Fhtml");
        assert!(is_mismatch(check(
            &req("GET", "/test.txt", &extra, headers),
            NOW
        )));
        // An Authorization header takes precedence over the query.
        let with_auth: &[(&str, &[u8])] = &[("Host", HOST.as_bytes()), ("Authorization", b"")];
        assert!(check(&req("GET", "/test.txt", PRESIGNED_QUERY, with_auth), NOW).is_ok());
    }

    #[test]
    fn presigned_with_params_and_token() {
        let headers: &[(&str, &[u8])] = &[("host", b"127.0.0.1:9000")];
        let base = req(
            "GET",
            "/bucket/a b/ü+.txt",
            "response-content-type=text%2Fplain&versionId=x",
            headers,
        );
        let q = signer()
            .presign(&base, &["Host"], DATE, 60, Some("tok/en+=="))
            .unwrap();
        assert!(q.contains("X-Amz-Security-Token=tok%2Fen%2B%3D%3D"));
        let parsed = Query::parse(&q);
        let r = RequestView {
            query: &parsed,
            ..base
        };
        let ctx = check(&r, NOW + 60).unwrap();
        assert_eq!(ctx.security_token.as_deref(), Some("tok/en+=="));
        assert_eq!(check(&r, NOW + 61), Err(AuthError::Expired));
    }

    #[test]
    fn presigned_query_errors() {
        fn pairs(q: &str) -> Query<'_> {
            Query::parse(q)
        }
        assert_eq!(SigV4Auth::from_query(&pairs("acl&x=1")), Ok(None));
        let no_expires = PRESIGNED_QUERY.replace("X-Amz-Expires=86400&", "");
        assert_eq!(
            SigV4Auth::from_query(&pairs(&no_expires)),
            Err(AuthError::MissingSecurityField("X-Amz-Expires".into()))
        );
        let q = PRESIGNED_QUERY.replace("X-Amz-Expires=86400", "X-Amz-Expires=-7");
        assert_eq!(SigV4Auth::from_query(&pairs(&q)), Err(AuthError::Expired));
        for bad in ["-", "abc", "1e3"] {
            let q = PRESIGNED_QUERY.replace("X-Amz-Expires=86400", &format!("X-Amz-Expires={bad}"));
            assert!(
                matches!(
                    SigV4Auth::from_query(&pairs(&q)),
                    Err(AuthError::Malformed(_))
                ),
                "{bad}"
            );
        }
        for bad in ["0", "604801", "99999999999999999999999"] {
            let q = PRESIGNED_QUERY.replace("X-Amz-Expires=86400", &format!("X-Amz-Expires={bad}"));
            assert!(
                matches!(
                    SigV4Auth::from_query(&pairs(&q)),
                    Err(AuthError::LifetimeOutOfRange(_))
                ),
                "{bad}"
            );
        }
        let q = PRESIGNED_QUERY.replace("X-Amz-Expires=86400", "X-Amz-Expires=604800");
        assert!(SigV4Auth::from_query(&pairs(&q)).unwrap().is_some());
        let q = PRESIGNED_QUERY.replace("AWS4-HMAC-SHA256&", "AWS4-ECDSA-P256-SHA256&");
        assert!(matches!(
            SigV4Auth::from_query(&pairs(&q)),
            Err(AuthError::UnsupportedAlgorithm(_))
        ));
        let q = PRESIGNED_QUERY.replace("20130524T000000Z", "yesterday");
        assert!(matches!(
            SigV4Auth::from_query(&pairs(&q)),
            Err(AuthError::Malformed(_))
        ));
    }

    // ---- chunked upload seed ------------------------------------------------------------

    #[test]
    fn chunked_upload_seed_signature() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
        let headers: Vec<(&str, &[u8])> = vec![
            ("Host", b"s3.amazonaws.com"),
            ("x-amz-date", DATE.as_bytes()),
            ("x-amz-storage-class", b"REDUCED_REDUNDANCY"),
            ("Authorization", auth.as_bytes()),
            ("x-amz-content-sha256", STREAMING_PAYLOAD.as_bytes()),
            ("Content-Encoding", b"aws-chunked"),
            ("x-amz-decoded-content-length", b"66560"),
            ("Content-Length", b"66824"),
        ];
        let r = req("PUT", "/examplebucket/chunkObject.txt", "", &headers);
        let ctx = check(&r, NOW).unwrap();
        let PayloadMode::StreamingSigned(s) = &ctx.payload else {
            panic!("{:?}", ctx.payload)
        };
        assert_eq!(
            s.seed_signature,
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
        );
        assert_eq!(s.scope, "20130524/us-east-1/s3/aws4_request");
        assert_eq!(s.timestamp, DATE);
        assert_eq!(
            s.signing_key,
            signing_key(SK, "20130524", "us-east-1", "s3")
        );
        assert!(!format!("{s:?}").contains(&hex::encode(s.signing_key)));

        let signed = signer()
            .sign(
                &r,
                &[
                    "content-encoding",
                    "content-length",
                    "host",
                    "x-amz-content-sha256",
                    "x-amz-date",
                    "x-amz-decoded-content-length",
                    "x-amz-storage-class",
                ],
                STREAMING_PAYLOAD,
                DATE,
            )
            .unwrap();
        assert_eq!(signed.streaming(), *s);
    }

    #[test]
    fn payload_modes() {
        type Check = fn(&PayloadMode) -> bool;
        let cases: &[(&str, Check)] = &[
            (UNSIGNED_PAYLOAD, |p| *p == PayloadMode::Unsigned),
            (STREAMING_UNSIGNED_PAYLOAD_TRAILER, |p| {
                *p == PayloadMode::StreamingUnsignedTrailer
            }),
            (STREAMING_PAYLOAD_TRAILER, |p| {
                matches!(p, PayloadMode::StreamingSignedTrailer(_))
            }),
            (STREAMING_PAYLOAD, |p| {
                matches!(p, PayloadMode::StreamingSigned(_))
            }),
        ];
        for (token, ok) in cases {
            let headers: Vec<(&str, &[u8])> = vec![
                ("Host", b"h"),
                ("x-amz-date", DATE.as_bytes()),
                ("x-amz-content-sha256", token.as_bytes()),
            ];
            let r = req("PUT", "/b/k", "", &headers);
            let s = signer()
                .sign(
                    &r,
                    &["host", "x-amz-content-sha256", "x-amz-date"],
                    token,
                    DATE,
                )
                .unwrap();
            let mut h = headers.clone();
            h.push(("Authorization", s.authorization.as_bytes()));
            let ctx = check(&req("PUT", "/b/k", "", &h), NOW).unwrap();
            assert!(ok(&ctx.payload), "{token}: {:?}", ctx.payload);
        }
        // Invalid tokens are refused before the signature is looked at.
        for (token, unsupported) in [
            ("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", true),
            ("abc", false),
            (&EMPTY_SHA256[1..], false),
        ] {
            let headers: Vec<(&str, &[u8])> = vec![
                ("Host", b"h"),
                ("x-amz-date", DATE.as_bytes()),
                ("x-amz-content-sha256", token.as_bytes()),
            ];
            let r = req("PUT", "/b/k", "", &headers);
            let s = signer()
                .sign(
                    &r,
                    &["host", "x-amz-content-sha256", "x-amz-date"],
                    token,
                    DATE,
                )
                .unwrap();
            let mut h = headers.clone();
            h.push(("Authorization", s.authorization.as_bytes()));
            let got = check(&req("PUT", "/b/k", "", &h), NOW);
            if unsupported {
                assert!(
                    matches!(got, Err(AuthError::UnsupportedAlgorithm(_))),
                    "{got:?}"
                );
            } else {
                assert!(matches!(got, Err(AuthError::Malformed(_))), "{got:?}");
            }
        }
        // No x-amz-content-sha256 header: the empty-body digest is signed.
        let headers: Vec<(&str, &[u8])> = vec![("Host", b"h"), ("x-amz-date", DATE.as_bytes())];
        let r = req("GET", "/b/k", "", &headers);
        let s = signer()
            .sign(&r, &["host", "x-amz-date"], EMPTY_SHA256, DATE)
            .unwrap();
        let mut h = headers.clone();
        h.push(("Authorization", s.authorization.as_bytes()));
        let ctx = check(&req("GET", "/b/k", "", &h), NOW).unwrap();
        assert_eq!(ctx.payload, PayloadMode::Sha256(EMPTY_SHA256.into()));
    }

    // ---- canonicalisation details ---------------------------------------------------

    #[test]
    fn canonical_forms() {
        assert_eq!(
            canonical_uri("/a b/ü+$~!.txt"),
            "/a%20b/%C3%BC%2B%24~%21.txt"
        );
        assert_eq!(canonical_uri(""), "/");
        // No normalisation of dot segments or double slashes.
        assert_eq!(canonical_uri("/a/./b//../c"), "/a/./b//../c");
        assert_eq!(
            canonical_query(&Query::parse("b=2&a=%2F&a=1&c&d=+x%20y&e=%7E!"), false),
            "a=%2F&a=1&b=2&c=&d=%20x%20y&e=~%21"
        );
        assert_eq!(
            canonical_query(&Query::parse("X-Amz-Signature=abc&k=v"), true),
            "k=v"
        );
        assert_eq!(
            canonical_query(&Query::parse("X-Amz-Signature=abc&k=v"), false),
            "X-Amz-Signature=abc&k=v"
        );
        let headers: &[(&str, &[u8])] = &[
            ("Host", b"h"),
            ("X-Amz-Meta-A", b"  a   b \t c  "),
            ("x-amz-meta-a", b"second"),
        ];
        let c = canonical_request(
            &req("GET", "/", "", headers),
            &[
                "x-amz-meta-a".to_string(),
                "host".to_string(),
                "x-amz-missing".to_string(),
            ],
            UNSIGNED_PAYLOAD,
            false,
        );
        assert_eq!(
            String::from_utf8(c).unwrap(),
            "GET\n/\n\nhost:h\nx-amz-meta-a:a b c,second\nx-amz-missing:\n\nhost;x-amz-meta-a;x-amz-missing\nUNSIGNED-PAYLOAD"
        );
    }

    #[test]
    fn date_header_fallback() {
        let headers: Vec<(&str, &[u8])> = vec![
            ("Host", HOST.as_bytes()),
            ("Date", b"Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-content-sha256", EMPTY_SHA256.as_bytes()),
        ];
        let r = req("GET", "/k", "", &headers);
        let s = signer()
            .sign(
                &r,
                &["date", "host", "x-amz-content-sha256"],
                EMPTY_SHA256,
                DATE,
            )
            .unwrap();
        let mut h = headers.clone();
        h.push(("Authorization", s.authorization.as_bytes()));
        let ctx = check(&req("GET", "/k", "", &h), NOW + 10).unwrap();
        assert_eq!(ctx.timestamp, DATE);
        assert_eq!(
            check(&req("GET", "/k", "", &h), NOW + 1000),
            Err(AuthError::TimeTooSkewed)
        );
    }

    #[test]
    fn scope_checks() {
        let mk = |cred: &str, date: &'static [u8]| -> Result<SigV4Context, AuthError> {
            let auth = format!(
                "AWS4-HMAC-SHA256 Credential={cred}, SignedHeaders=host;x-amz-date, Signature=00"
            );
            let headers: Vec<(&str, &[u8])> = vec![
                ("Host", b"h"),
                ("x-amz-date", date),
                ("Authorization", auth.as_bytes()),
            ];
            check(&req("GET", "/", "", &headers), NOW)
        };
        assert!(matches!(
            mk("AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/sqs/aws4_request", b"20130524T000000Z"),
            Err(AuthError::Malformed(m)) if m.contains("service")
        ));
        assert!(matches!(
            mk("AKIAIOSFODNN7EXAMPLE/20130523/us-east-1/s3/aws4_request", b"20130524T000000Z"),
            Err(AuthError::Malformed(m)) if m.contains("date")
        ));
        // Any region is accepted (the signature then fails here, as it is bogus).
        assert!(is_mismatch(mk(
            "AKIAIOSFODNN7EXAMPLE/20130524/mars-north-7/s3/aws4_request",
            b"20130524T000000Z"
        )));
        // SignedHeaders must contain host.
        let auth = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=x-amz-date, Signature=00";
        let headers: Vec<(&str, &[u8])> = vec![
            ("Host", b"h"),
            ("x-amz-date", DATE.as_bytes()),
            ("Authorization", auth.as_bytes()),
        ];
        assert!(matches!(
            check(&req("GET", "/", "", &headers), NOW),
            Err(AuthError::Malformed(m)) if m.contains("host")
        ));
        // A region other than us-east-1 signs and verifies.
        let signer = SigV4Signer::new(AK, SK, "ap-guangzhou");
        let headers: Vec<(&str, &[u8])> = vec![("Host", b"h"), ("x-amz-date", DATE.as_bytes())];
        let s = signer
            .sign(
                &req("GET", "/", "", &headers),
                &["host", "x-amz-date"],
                EMPTY_SHA256,
                DATE,
            )
            .unwrap();
        let mut h = headers.clone();
        h.push(("Authorization", s.authorization.as_bytes()));
        assert_eq!(
            check(&req("GET", "/", "", &h), NOW).unwrap().region,
            "ap-guangzhou"
        );
    }

    #[test]
    fn header_parse_errors() {
        let ok = get_auth(" ");
        assert!(SigV4Auth::parse_header(&ok).is_ok());
        assert!(matches!(
            SigV4Auth::parse_header(&ok.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")),
            Err(AuthError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            SigV4Auth::parse_header("AWS AKIA:sig"),
            Err(AuthError::UnsupportedAlgorithm(_))
        ));
        for bad in [
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 ",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host",
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=, Signature=1",
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=1",
            "AWS4-HMAC-SHA256 Credential=AK/2013052/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=1",
            "AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=1",
            "AWS4-HMAC-SHA256 Credential=20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=1",
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=1, Signature=2",
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=1, Foo=2",
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature",
        ] {
            assert!(
                matches!(SigV4Auth::parse_header(bad), Err(AuthError::Malformed(_))),
                "{bad}"
            );
        }
        // An access key containing '/' is taken whole.
        let c = Credential::parse("a/b/20130524/r/s3/aws4_request").unwrap();
        assert_eq!(c.access_key, "a/b");
        assert_eq!(c.scope(), "20130524/r/s3/aws4_request");
    }

    #[test]
    fn dates() {
        assert_eq!(parse_amz_date(DATE), Some(NOW));
        assert_eq!(format_amz_date(NOW).as_deref(), Some(DATE));
        for bad in [
            "",
            "20130524T000000",
            "20130524T000000z",
            "2013052AT000000Z",
            "20131324T000000Z",
            "20130524T250000Z",
            "20130524T0000000Z",
            "+0130524T000000Z",
            // A leap second (found by the `time` fuzz target): one spelling per instant.
            "20130524T235960Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn signing_key_derivation() {
        // The AWS general reference's SigV4 example (IAM, 2015-08-30).
        assert_eq!(
            hex::encode(signing_key(
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                "20150830",
                "us-east-1",
                "iam"
            )),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        assert!(!format!("{:?}", signer()).contains(SK));
    }
}

//! The operations: each one a type implementing [`op::Op`] (or [`op::StreamOp`]) — parse
//! the request, apply it to the store, render the response —, grouped by family. Shared
//! pieces (attributes from headers, object response headers, preconditions, listing
//! encodings, bounded numbers) live here.

pub mod admin;
pub mod attributes;
pub mod bucket;
pub mod checksums;
pub mod copy;
pub mod delete_many;
pub mod list;
pub mod multipart;
pub mod object;
pub mod op;
pub mod parts;
pub mod service;

use crate::access::parse_grants;
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use coffer_proto::names::parse_storage_class;
use coffer_proto::xml::XmlWriter;
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::model::{Acl, ContentHeaders, ObjectAttributes, ObjectKind, ObjectVersion};
use op::OpRequest;

/// Reads content headers, user metadata, storage class and ACL from the request headers.
pub fn attributes_from_request(req: &OpRequest<'_>) -> ApiResult<ObjectAttributes> {
    let text = |name: &str| req.header(name).map(str::to_string);
    let content = ContentHeaders {
        content_type: text("content-type").filter(|v| !v.is_empty()),
        cache_control: text("cache-control"),
        content_disposition: text("content-disposition"),
        content_encoding: text("content-encoding").and_then(|v| stored_content_encoding(&v)),
        content_language: text("content-language"),
        expires: text("expires"),
    };
    let mut user_metadata: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, value) in req.headers() {
        let lower = name.to_ascii_lowercase();
        if let Some(short) = lower.strip_prefix(req.dialect.meta_prefix()) {
            if short.is_empty() {
                continue;
            }
            let value = trim_bytes(value).to_vec();
            match user_metadata.iter_mut().find(|(n, _)| n == short) {
                Some((_, existing)) => {
                    existing.push(b',');
                    existing.extend_from_slice(&value);
                }
                None => user_metadata.push((short.to_string(), value)),
            }
        }
    }
    let metadata_size: usize = user_metadata.iter().map(|(n, v)| n.len() + v.len()).sum();
    if metadata_size > 2048 * 4 {
        return Err(ApiError::with_message(
            ErrorCode::InvalidArgument,
            "User metadata is larger than allowed.",
        ));
    }
    let storage_class = match req.vendor_header("storage-class") {
        Some(value) => parse_storage_class(value)?.to_string(),
        None => "STANDARD".to_string(),
    };
    Ok(ObjectAttributes {
        content,
        user_metadata,
        storage_class,
        acl: acl_from_request(req, AclTarget::Object)?,
    })
}

/// What an ACL is for: the default differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclTarget {
    /// A bucket: private unless told otherwise.
    Bucket,
    /// An object: COS objects inherit the bucket ACL (`default`); S3 objects are private.
    Object,
}

/// The canned ACL and grant headers of a request.
pub fn acl_from_request(req: &OpRequest<'_>, target: AclTarget) -> ApiResult<Acl> {
    let mut canned = req.vendor_header("acl").unwrap_or_default().to_string();
    if canned.is_empty() {
        canned = match (target, req.dialect) {
            (AclTarget::Object, Dialect::Cos) => "default",
            _ => "private",
        }
        .to_string();
    }
    if !matches!(
        canned.as_str(),
        "private"
            | "public-read"
            | "public-read-write"
            | "default"
            | "authenticated-read"
            | "bucket-owner-read"
            | "bucket-owner-full-control"
    ) {
        return Err(ApiError::with_message(
            ErrorCode::InvalidArgument,
            format!("The ACL {canned:?} is not valid."),
        ));
    }
    Ok(Acl {
        canned,
        grants: parse_grants([
            req.vendor_header("grant-read"),
            req.vendor_header("grant-write"),
            req.vendor_header("grant-read-acp"),
            req.vendor_header("grant-write-acp"),
            req.vendor_header("grant-full-control"),
        ]),
    })
}

/// The Content-Encoding to store: `aws-chunked` is the transport framing of a SigV4
/// streaming upload, not an encoding of the object, so it is removed (`gzip, aws-chunked` →
/// `gzip`; `aws-chunked` alone → none).
fn stored_content_encoding(value: &str) -> Option<String> {
    let codings: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!codings.is_empty()).then(|| codings.join(", "))
}

fn trim_bytes(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    value.get(start..end).unwrap_or_default()
}

/// Validates `x-cos-traffic-limit` (bit/s, 819200–838860800) and returns it.
pub fn traffic_limit(req: &OpRequest<'_>) -> ApiResult<Option<u64>> {
    let Some(value) = req.header("x-cos-traffic-limit") else {
        return Ok(None);
    };
    match value.parse::<u64>() {
        Ok(bits) if (819_200..=838_860_800).contains(&bits) => Ok(Some(bits)),
        _ => Err(ApiError::with_message(
            ErrorCode::InvalidArgument,
            "x-cos-traffic-limit must be between 819200 and 838860800 bit/s.",
        )),
    }
}

/// The `response-*` parameters of a GET or HEAD: values that replace the stored headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseOverrides {
    /// `response-content-type`.
    pub content_type: Option<String>,
    /// `response-cache-control`.
    pub cache_control: Option<String>,
    /// `response-content-disposition`.
    pub content_disposition: Option<String>,
    /// `response-content-encoding`.
    pub content_encoding: Option<String>,
    /// `response-content-language`.
    pub content_language: Option<String>,
    /// `response-expires`.
    pub expires: Option<String>,
}

impl ResponseOverrides {
    /// Reads the `response-*` parameters.
    pub fn parse(req: &OpRequest<'_>) -> ResponseOverrides {
        let text = |name: &str| req.param(name).map(str::to_string);
        ResponseOverrides {
            content_type: text("response-content-type"),
            cache_control: text("response-cache-control"),
            content_disposition: text("response-content-disposition"),
            content_encoding: text("response-content-encoding"),
            content_language: text("response-content-language"),
            expires: text("response-expires"),
        }
    }
}

/// Adds the headers GET and HEAD return for an object version.
pub fn write_object_headers(
    dialect: Dialect,
    version: &ObjectVersion,
    overrides: &ResponseOverrides,
    response: &mut Response,
) {
    let content = &version.attributes.content;
    let default_type = match dialect {
        Dialect::Cos => "application/octet-stream",
        Dialect::S3 => "binary/octet-stream",
    };
    let content_type = overrides
        .content_type
        .clone()
        .or_else(|| content.content_type.clone())
        .unwrap_or_else(|| default_type.to_string());
    response.push_header("Content-Type", content_type);
    response.push_header("ETag", version.etag.clone());
    response.push_header(
        "Last-Modified",
        coffer_proto::time::http_date(version.last_modified_ms),
    );
    response.push_header("Accept-Ranges", "bytes");
    let optional = [
        (
            "Cache-Control",
            &overrides.cache_control,
            &content.cache_control,
        ),
        (
            "Content-Disposition",
            &overrides.content_disposition,
            &content.content_disposition,
        ),
        (
            "Content-Encoding",
            &overrides.content_encoding,
            &content.content_encoding,
        ),
        (
            "Content-Language",
            &overrides.content_language,
            &content.content_language,
        ),
        ("Expires", &overrides.expires, &content.expires),
    ];
    for (header, replaced, stored) in optional {
        if let Some(value) = replaced.clone().or_else(|| stored.clone()) {
            response.push_header(header, value);
        }
    }
    let meta_prefix = dialect.meta_prefix();
    for (name, value) in &version.attributes.user_metadata {
        response.push_header(format!("{meta_prefix}{name}"), value.clone());
    }
    match dialect {
        Dialect::Cos => {
            response.push_header("x-cos-hash-crc64ecma", version.crc64.to_string());
            response.push_header(
                "x-cos-storage-class",
                version.attributes.storage_class.clone(),
            );
            if version.kind == ObjectKind::Appendable {
                response.push_header("x-cos-object-type", "appendable");
                response.push_header("x-cos-next-append-position", version.size.to_string());
            }
        }
        Dialect::S3 => {
            if version.attributes.storage_class != "STANDARD" {
                response.push_header(
                    "x-amz-storage-class",
                    version.attributes.storage_class.clone(),
                );
            }
        }
    }
    if let Some(version_id) = &version.version_id {
        response.push_header(
            format!("{}version-id", dialect.prefix()),
            version_id.clone(),
        );
    }
}

/// The outcome of the HTTP conditional headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Serve the request.
    Proceed,
    /// Answer 304.
    NotModified,
    /// Answer 412.
    Failed,
}

/// The four conditional headers of a request (or their copy-source twins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// If-Match.
    pub if_match: Option<String>,
    /// If-None-Match.
    pub if_none_match: Option<String>,
    /// If-Modified-Since.
    pub if_modified_since: Option<String>,
    /// If-Unmodified-Since.
    pub if_unmodified_since: Option<String>,
}

impl Conditions {
    /// Reads the conditional headers named `<prefix>if-match` (…): `prefix` is empty for the
    /// request's own, the dialect's `copy-source-` vendor prefix for a copy source's.
    pub fn parse(req: &OpRequest<'_>, prefix: &str) -> Conditions {
        let text = |name: &str| req.header(&format!("{prefix}{name}")).map(str::to_string);
        Conditions {
            if_match: text("if-match"),
            if_none_match: text("if-none-match"),
            if_modified_since: text("if-modified-since"),
            if_unmodified_since: text("if-unmodified-since"),
        }
    }

    /// Evaluates the conditions per RFC 9110 §13.2.2 against an ETag and a modification
    /// time (ms). Unparseable dates are ignored, as HTTP says.
    pub fn evaluate(&self, etag: &str, last_modified_ms: i64) -> Precondition {
        use coffer_proto::checksum::etag_list_matches;
        use coffer_proto::time::parse_http_date;
        let modified = last_modified_ms / 1000;
        if let Some(list) = self.if_match.as_deref() {
            if !etag_list_matches(list, etag) {
                return Precondition::Failed;
            }
        } else if let Some(since) = self
            .if_unmodified_since
            .as_deref()
            .and_then(parse_http_date)
        {
            if modified > since {
                return Precondition::Failed;
            }
        }
        if let Some(list) = self.if_none_match.as_deref() {
            if etag_list_matches(list, etag) {
                return Precondition::NotModified;
            }
        } else if let Some(since) = self.if_modified_since.as_deref().and_then(parse_http_date) {
            if modified <= since {
                return Precondition::NotModified;
            }
        }
        Precondition::Proceed
    }
}

/// Encodes a key (or prefix, marker) for a listing: percent-encoded when the client asked
/// for `encoding-type=url`, raw otherwise. COS encodes `/` too (`%2F`, what its SDK
/// decodes); S3 leaves `/` alone (botocore does not decode every field).
pub fn listing_text(dialect: Dialect, url_encoded: bool, value: &str) -> String {
    match (url_encoded, dialect) {
        (false, _) => value.to_string(),
        (true, Dialect::Cos) => coffer_proto::encoding::encode_unreserved(value.as_bytes()),
        (true, Dialect::S3) => coffer_proto::encoding::encode_path(value),
    }
}

/// Refuses requests that ask for features not implemented yet, rather than silently
/// ignoring them: server-side encryption, object lock, tagging.
pub fn refuse_unsupported_headers(req: &OpRequest<'_>) -> ApiResult<()> {
    for (name, value) in req.headers {
        let lower = name.to_ascii_lowercase();
        let feature = if lower.starts_with("x-amz-server-side-encryption")
            || lower.starts_with("x-cos-server-side-encryption")
        {
            Some("Server-side encryption")
        } else if lower.starts_with("x-amz-object-lock-") {
            Some("Object lock")
        } else if lower == "x-amz-bucket-object-lock-enabled" {
            String::from_utf8_lossy(value)
                .trim()
                .eq_ignore_ascii_case("true")
                .then_some("Object lock")
        } else if lower == "x-amz-tagging" || lower == "x-cos-tagging" {
            Some("Object tagging")
        } else {
            None
        };
        if let Some(feature) = feature {
            return Err(ApiError::with_message(
                ErrorCode::NotImplemented,
                format!("{feature} is not implemented yet."),
            ));
        }
    }
    Ok(())
}

/// Refuses a `versionId` other than `null`: versioning is not implemented, so no other
/// version exists (and a DELETE must never remove the current one by mistake).
pub fn check_version_param(req: &OpRequest<'_>) -> ApiResult<()> {
    match req.param("versionId") {
        None | Some("") | Some("null") => Ok(()),
        Some(_) => Err(ApiError::new(ErrorCode::NoSuchVersion)),
    }
}

/// Writes `<Owner><ID/><DisplayName/></Owner>` (or another element name) for a uin.
pub fn write_owner(w: &mut XmlWriter, element: &str, dialect: Dialect, uin: &str) {
    let id = match dialect {
        Dialect::Cos => format!("qcs::cam::uin/{uin}:uin/{uin}"),
        Dialect::S3 => uin.to_string(),
    };
    w.open(element)
        .leaf("ID", &id)
        .leaf("DisplayName", uin)
        .close(element);
}

/// What a bounded count does with a value above its maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AboveMaximum {
    /// Lowers it to the maximum (`max-keys=5000` lists 1000).
    Clamp,
    /// Refuses it.
    Refuse,
}

/// A non-negative decimal count (surrounding whitespace allowed) within `maximum`, as
/// `above` says: `None` when it is not one.
pub fn bounded_count(value: &str, maximum: u64, above: AboveMaximum) -> Option<u64> {
    let n = value.trim().parse::<i64>().ok().filter(|n| *n >= 0)? as u64;
    match above {
        AboveMaximum::Clamp => Some(n.min(maximum)),
        AboveMaximum::Refuse => (n <= maximum).then_some(n),
    }
}

/// Parses `max-keys`-style parameters: absent or empty → default; invalid or negative →
/// `InvalidArgument`; above the maximum → the maximum.
pub fn parse_max(
    req: &OpRequest<'_>,
    name: &str,
    default: usize,
    maximum: usize,
) -> ApiResult<usize> {
    match req.param(name) {
        None | Some("") => Ok(default),
        Some(value) => bounded_count(value, maximum as u64, AboveMaximum::Clamp)
            .map(|n| n as usize)
            .ok_or_else(|| {
                ApiError::with_message(
                    ErrorCode::InvalidArgument,
                    format!("{name} is not a valid number."),
                )
            }),
    }
}

/// Whether `encoding-type=url` was requested (anything else is `InvalidArgument`).
pub fn url_encoding(req: &OpRequest<'_>) -> ApiResult<bool> {
    match req.param("encoding-type") {
        None | Some("") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("url") => Ok(true),
        Some(_) => Err(ApiError::with_message(
            ErrorCode::InvalidArgument,
            "encoding-type may only be url.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_counts() {
        use AboveMaximum::{Clamp, Refuse};
        assert_eq!(bounded_count(" 5 ", 10, Refuse), Some(5));
        assert_eq!(bounded_count("0", 10, Refuse), Some(0));
        assert_eq!(bounded_count("11", 10, Refuse), None);
        assert_eq!(bounded_count("11", 10, Clamp), Some(10));
        assert_eq!(bounded_count("99999999999", 1000, Clamp), Some(1000));
        for bad in ["", "-1", "x", "1.5", "99999999999999999999"] {
            assert_eq!(bounded_count(bad, 10, Clamp), None, "{bad}");
        }
    }

    #[test]
    fn aws_chunked_is_not_a_stored_encoding() {
        assert_eq!(stored_content_encoding("aws-chunked"), None);
        assert_eq!(stored_content_encoding("AWS-Chunked"), None);
        assert_eq!(
            stored_content_encoding("gzip, aws-chunked").as_deref(),
            Some("gzip")
        );
        assert_eq!(
            stored_content_encoding("aws-chunked,gzip").as_deref(),
            Some("gzip")
        );
        assert_eq!(
            stored_content_encoding("gzip, br").as_deref(),
            Some("gzip, br")
        );
        assert_eq!(stored_content_encoding(" ").as_deref(), None);
    }

    #[test]
    fn preconditions() {
        let etag = "\"abc\"";
        let t = 1_000_000_000_000; // ms
        let before = "Sat, 08 Sep 2001 01:46:39 GMT"; // 999999999
        let after = "Sun, 09 Sep 2001 01:46:41 GMT"; // 1000000001
        let case = |c: Conditions| c.evaluate(etag, t);
        assert_eq!(case(Conditions::default()), Precondition::Proceed);
        assert_eq!(
            case(Conditions {
                if_match: Some("\"abc\"".into()),
                ..Default::default()
            }),
            Precondition::Proceed
        );
        assert_eq!(
            case(Conditions {
                if_match: Some("\"x\"".into()),
                ..Default::default()
            }),
            Precondition::Failed
        );
        assert_eq!(
            case(Conditions {
                if_none_match: Some("abc".into()),
                ..Default::default()
            }),
            Precondition::NotModified
        );
        assert_eq!(
            case(Conditions {
                if_none_match: Some("\"x\"".into()),
                ..Default::default()
            }),
            Precondition::Proceed
        );
        assert_eq!(
            case(Conditions {
                if_modified_since: Some(after.into()),
                ..Default::default()
            }),
            Precondition::NotModified
        );
        assert_eq!(
            case(Conditions {
                if_modified_since: Some(before.into()),
                ..Default::default()
            }),
            Precondition::Proceed
        );
        assert_eq!(
            case(Conditions {
                if_unmodified_since: Some(before.into()),
                ..Default::default()
            }),
            Precondition::Failed
        );
        assert_eq!(
            case(Conditions {
                if_unmodified_since: Some(after.into()),
                ..Default::default()
            }),
            Precondition::Proceed
        );
        // If-Match wins over If-Unmodified-Since.
        assert_eq!(
            case(Conditions {
                if_match: Some("\"abc\"".into()),
                if_unmodified_since: Some(before.into()),
                ..Default::default()
            }),
            Precondition::Proceed
        );
        assert_eq!(
            case(Conditions {
                if_modified_since: Some("garbage".into()),
                ..Default::default()
            }),
            Precondition::Proceed
        );
    }
}

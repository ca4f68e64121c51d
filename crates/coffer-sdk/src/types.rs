//! Types shared by several operations: the optional object headers of the seeds
//! ([`ObjectOptions`]), object metadata read from answers ([`ObjectMetadata`]), and helpers.

use std::collections::BTreeMap;

use reqwest::header::HeaderMap;

/// Prefix of user-metadata headers.
pub const META_PREFIX: &str = "x-cos-meta-";

/// The optional headers an object is written with (put_object, create_multipart_upload,
/// copy_object with `Replaced`, upload_file): ACL and grants, storage class, content headers,
/// user metadata, traffic limit, and any extra header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectOptions {
    /// `x-cos-acl`: `private`, `public-read`, `default`…
    pub acl: Option<String>,
    /// `x-cos-grant-read`, e.g. `id="100000000001"`.
    pub grant_read: Option<String>,
    /// `x-cos-grant-write`.
    pub grant_write: Option<String>,
    /// `x-cos-grant-full-control`.
    pub grant_full_control: Option<String>,
    /// `x-cos-storage-class`: `STANDARD`, `STANDARD_IA`, `ARCHIVE`…
    pub storage_class: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Expires`.
    pub expires: Option<String>,
    /// User metadata as (name without `x-cos-meta-`, value).
    pub metadata: Vec<(String, String)>,
    /// `x-cos-traffic-limit` in bit/s (819,200 – 838,860,800).
    pub traffic_limit: Option<u64>,
    /// `x-cos-tagging` (`k1=v1&k2=v2`).
    pub tagging: Option<String>,
    /// Any other header, sent verbatim.
    pub extra_headers: Vec<(String, String)>,
}

impl ObjectOptions {
    /// The headers these options put on a request.
    pub(crate) fn to_headers(&self) -> Vec<(String, String)> {
        let mut h = Vec::new();
        let mut push = |name: &str, value: &Option<String>| {
            if let Some(v) = value {
                h.push((name.to_string(), v.clone()));
            }
        };
        push("Content-Type", &self.content_type);
        push("Cache-Control", &self.cache_control);
        push("Content-Disposition", &self.content_disposition);
        push("Content-Encoding", &self.content_encoding);
        push("Content-Language", &self.content_language);
        push("Expires", &self.expires);
        push("x-cos-acl", &self.acl);
        push("x-cos-grant-read", &self.grant_read);
        push("x-cos-grant-write", &self.grant_write);
        push("x-cos-grant-full-control", &self.grant_full_control);
        push("x-cos-storage-class", &self.storage_class);
        push("x-cos-tagging", &self.tagging);
        if let Some(limit) = self.traffic_limit {
            h.push(("x-cos-traffic-limit".into(), limit.to_string()));
        }
        for (name, value) in &self.metadata {
            h.push((meta_header_name(name), value.clone()));
        }
        h.extend(self.extra_headers.iter().cloned());
        h
    }
}

/// `name` → `x-cos-meta-name` (lower-case; a name that already has the prefix keeps it).
pub(crate) fn meta_header_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with(META_PREFIX) {
        lower
    } else {
        format!("{META_PREFIX}{lower}")
    }
}

/// Generates the builder setters of [`ObjectOptions`] on a request type with an `options`
/// field.
macro_rules! object_option_setters {
    () => {
        /// `x-cos-acl` (`private`, `public-read`, `public-read-write`, `default`).
        pub fn acl(mut self, acl: impl Into<String>) -> Self {
            self.options.acl = Some(acl.into());
            self
        }
        /// `x-cos-grant-read`, e.g. `id="100000000001"`.
        pub fn grant_read(mut self, grant: impl Into<String>) -> Self {
            self.options.grant_read = Some(grant.into());
            self
        }
        /// `x-cos-grant-write`.
        pub fn grant_write(mut self, grant: impl Into<String>) -> Self {
            self.options.grant_write = Some(grant.into());
            self
        }
        /// `x-cos-grant-full-control`.
        pub fn grant_full_control(mut self, grant: impl Into<String>) -> Self {
            self.options.grant_full_control = Some(grant.into());
            self
        }
        /// `x-cos-storage-class` (`STANDARD`, `STANDARD_IA`, `ARCHIVE`…).
        pub fn storage_class(mut self, class: impl Into<String>) -> Self {
            self.options.storage_class = Some(class.into());
            self
        }
        /// `Content-Type`.
        pub fn content_type(mut self, value: impl Into<String>) -> Self {
            self.options.content_type = Some(value.into());
            self
        }
        /// `Cache-Control`.
        pub fn cache_control(mut self, value: impl Into<String>) -> Self {
            self.options.cache_control = Some(value.into());
            self
        }
        /// `Content-Disposition`.
        pub fn content_disposition(mut self, value: impl Into<String>) -> Self {
            self.options.content_disposition = Some(value.into());
            self
        }
        /// `Content-Encoding` (stored; the body is sent as given).
        pub fn content_encoding(mut self, value: impl Into<String>) -> Self {
            self.options.content_encoding = Some(value.into());
            self
        }
        /// `Content-Language`.
        pub fn content_language(mut self, value: impl Into<String>) -> Self {
            self.options.content_language = Some(value.into());
            self
        }
        /// `Expires`.
        pub fn expires(mut self, value: impl Into<String>) -> Self {
            self.options.expires = Some(value.into());
            self
        }
        /// One user-metadata entry: `metadata("author", "alice")` → `x-cos-meta-author: alice`.
        pub fn metadata(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.options.metadata.push((name.into(), value.into()));
            self
        }
        /// `x-cos-traffic-limit` in bit/s.
        pub fn traffic_limit(mut self, bits_per_second: u64) -> Self {
            self.options.traffic_limit = Some(bits_per_second);
            self
        }
        /// `x-cos-tagging`.
        pub fn tagging(mut self, tagging: impl Into<String>) -> Self {
            self.options.tagging = Some(tagging.into());
            self
        }
        /// Any other header, sent verbatim.
        pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.options.extra_headers.push((name.into(), value.into()));
            self
        }
        /// Replaces all options at once.
        pub fn options(mut self, options: $crate::types::ObjectOptions) -> Self {
            self.options = options;
            self
        }
    };
}
pub(crate) use object_option_setters;

/// An object's metadata, from the headers of a HEAD or GET answer.
#[derive(Debug, Clone, Default)]
pub struct ObjectMetadata {
    /// `Content-Length` (of this answer: the range length for a ranged GET).
    pub content_length: u64,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `ETag`, quoted as sent.
    pub etag: Option<String>,
    /// `Last-Modified` as sent (RFC 1123).
    pub last_modified: Option<String>,
    /// `x-cos-hash-crc64ecma`: CRC-64 of the whole object.
    pub crc64: Option<u64>,
    /// `x-cos-storage-class` (absent means STANDARD).
    pub storage_class: Option<String>,
    /// `x-cos-version-id`.
    pub version_id: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Expires`.
    pub expires: Option<String>,
    /// `Content-Range` of a ranged GET.
    pub content_range: Option<String>,
    /// User metadata: name without `x-cos-meta-` → value.
    pub metadata: BTreeMap<String, String>,
    /// `x-cos-request-id`.
    pub request_id: Option<String>,
    /// All headers of the answer.
    pub headers: HeaderMap,
}

impl ObjectMetadata {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let get = |name: &str| header_str(headers, name);
        let mut metadata = BTreeMap::new();
        for (name, value) in headers {
            if let Some(short) = name.as_str().strip_prefix(META_PREFIX) {
                metadata.insert(
                    short.to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                );
            }
        }
        ObjectMetadata {
            content_length: get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            content_type: get("content-type"),
            etag: get("etag"),
            last_modified: get("last-modified"),
            crc64: get("x-cos-hash-crc64ecma").and_then(|v| v.parse().ok()),
            storage_class: get("x-cos-storage-class"),
            version_id: get("x-cos-version-id"),
            cache_control: get("cache-control"),
            content_disposition: get("content-disposition"),
            content_encoding: get("content-encoding"),
            content_language: get("content-language"),
            expires: get("expires"),
            content_range: get("content-range"),
            metadata,
            request_id: get("x-cos-request-id"),
            headers: headers.clone(),
        }
    }

    /// The object's total size: from `Content-Range` for a ranged answer, else the length.
    pub fn object_size(&self) -> u64 {
        self.content_range
            .as_deref()
            .and_then(|r| r.rsplit_once('/'))
            .and_then(|(_, total)| total.parse().ok())
            .unwrap_or(self.content_length)
    }

    /// The storage class, `STANDARD` when the header is absent.
    pub fn storage_class_or_standard(&self) -> &str {
        self.storage_class.as_deref().unwrap_or("STANDARD")
    }
}

/// A header as a string (lossy for non-UTF-8 values).
pub(crate) fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// An inclusive byte range, rendered `bytes=first-last` (or `bytes=first-` / `bytes=-n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-last`.
    Inclusive(u64, u64),
    /// `bytes=first-`.
    From(u64),
    /// `bytes=-n`: the last n bytes.
    Suffix(u64),
}

impl ByteRange {
    /// The `Range` header value.
    pub fn header_value(&self) -> String {
        match self {
            ByteRange::Inclusive(a, b) => format!("bytes={a}-{b}"),
            ByteRange::From(a) => format!("bytes={a}-"),
            ByteRange::Suffix(n) => format!("bytes=-{n}"),
        }
    }
}

/// Decodes a field of an `encoding-type=url` listing (`%XX`; `+` stays `+`).
pub(crate) fn url_decode(value: &str) -> String {
    coffer_proto::encoding::decode_path(value).unwrap_or_else(|| value.to_string())
}

/// The owner or initiator element of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owner {
    /// `ID`.
    pub id: String,
    /// `DisplayName`.
    pub display_name: String,
}

impl Owner {
    pub(crate) fn from_element(element: Option<&coffer_proto::xml::Element>) -> Option<Self> {
        element.map(|e| Owner {
            id: e.child_text("ID").unwrap_or_default().to_string(),
            display_name: e.child_text("DisplayName").unwrap_or_default().to_string(),
        })
    }
}

/// HTTP preconditions: `If-Match`, `If-None-Match`, `If-Modified-Since`,
/// `If-Unmodified-Since` (or their `x-cos-copy-source-` forms for a copy source).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    /// Proceed only if the ETag matches.
    pub if_match: Option<String>,
    /// Proceed only if the ETag differs (GET: 304 otherwise).
    pub if_none_match: Option<String>,
    /// Proceed only if modified since this HTTP date.
    pub if_modified_since: Option<String>,
    /// Proceed only if not modified since this HTTP date.
    pub if_unmodified_since: Option<String>,
}

impl Preconditions {
    /// The headers; `prefix` is `""` or `x-cos-copy-source-` (names spelled as the Python SDK).
    pub(crate) fn to_headers(&self, prefix: &str) -> Vec<(String, String)> {
        [
            ("If-Match", &self.if_match),
            ("If-None-Match", &self.if_none_match),
            ("If-Modified-Since", &self.if_modified_since),
            ("If-Unmodified-Since", &self.if_unmodified_since),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            value
                .as_ref()
                .map(|v| (format!("{prefix}{name}"), v.clone()))
        })
        .collect()
    }

    /// True when no condition is set.
    pub fn is_empty(&self) -> bool {
        *self == Preconditions::default()
    }
}

/// Generates `if_match`… setters for a request with a `conditions: Preconditions` field.
macro_rules! precondition_setters {
    () => {
        /// `If-Match`: proceed only if the object's ETag matches.
        pub fn if_match(mut self, etag: impl Into<String>) -> Self {
            self.conditions.if_match = Some(etag.into());
            self
        }
        /// `If-None-Match`: proceed only if the ETag differs.
        pub fn if_none_match(mut self, etag: impl Into<String>) -> Self {
            self.conditions.if_none_match = Some(etag.into());
            self
        }
        /// `If-Modified-Since` (an HTTP date).
        pub fn if_modified_since(mut self, date: impl Into<String>) -> Self {
            self.conditions.if_modified_since = Some(date.into());
            self
        }
        /// `If-Unmodified-Since` (an HTTP date).
        pub fn if_unmodified_since(mut self, date: impl Into<String>) -> Self {
            self.conditions.if_unmodified_since = Some(date.into());
            self
        }
    };
}
pub(crate) use precondition_setters;

/// Generates `copy_source_if_match`… setters (`x-cos-copy-source-If-*`) for a request with a
/// `source_conditions: Preconditions` field.
macro_rules! copy_source_condition_setters {
    () => {
        /// `x-cos-copy-source-If-Match`: copy only if the source's ETag matches.
        pub fn copy_source_if_match(mut self, etag: impl Into<String>) -> Self {
            self.source_conditions.if_match = Some(etag.into());
            self
        }
        /// `x-cos-copy-source-If-None-Match`: copy only if the source's ETag differs.
        pub fn copy_source_if_none_match(mut self, etag: impl Into<String>) -> Self {
            self.source_conditions.if_none_match = Some(etag.into());
            self
        }
        /// `x-cos-copy-source-If-Modified-Since` (an HTTP date).
        pub fn copy_source_if_modified_since(mut self, date: impl Into<String>) -> Self {
            self.source_conditions.if_modified_since = Some(date.into());
            self
        }
        /// `x-cos-copy-source-If-Unmodified-Since` (an HTTP date).
        pub fn copy_source_if_unmodified_since(mut self, date: impl Into<String>) -> Self {
            self.source_conditions.if_unmodified_since = Some(date.into());
            self
        }
    };
}
pub(crate) use copy_source_condition_setters;

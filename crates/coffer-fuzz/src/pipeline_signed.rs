//! The whole pipeline past authentication: structured requests (`arbitrary`) — method,
//! bucket and key, query parameters, headers, body and its framing — *signed correctly* with
//! a prepared account's key by the scheme the input picks (COS header or presigned, SigV4
//! header — plain, SHA-256 or `aws-chunked` payload — or presigned, SigV2 header or
//! presigned, or none), up to three on one connection into the real connection loop (see
//! [`crate::pipeline`]). Each parameter and header is marked covered by the signature or added
//! after signing.
//!
//! Invariants: those of [`crate::pipeline`] for every answer, and the signature-coverage
//! rule: a signed request carrying a vendor header of its dialect (`x-cos-*` for COS,
//! `x-amz-*` for S3; the other family is invisible to handlers) that its signature does not
//! cover, or a parameter that its operation declares and must sign that the signature does
//! not cover, is never answered 2xx.

use crate::pipeline::build::{build, Built, Payload, Scheme, Spec};
use crate::pipeline::fixture::{
    exchange, now, ADMIN, ADMIN_BUCKET, OBJECTS, OWNER, PRIVATE_BUCKET, PUBLIC_BUCKET, UPLOAD_KEY,
    UPLOAD_PLACEHOLDER,
};
use crate::pipeline::wire::Answer;
use crate::request::is_tchar;
use arbitrary::{Arbitrary, Unstructured};
use coffer_proto::query::Query;
use coffer_server::addressing::Addressing;
use coffer_server::fuzzing::scope_of;
use coffer_server::operations::{route, RouteInput};

/// Most requests per connection.
const MAX_REQUESTS: usize = 3;
/// Largest body.
const MAX_BODY: usize = 4096;

/// A word: one of a dictionary's, or any text.
#[derive(Debug, Arbitrary)]
enum Word {
    Known(u8),
    Raw(String),
}

impl Word {
    fn pick(&self, dictionary: &[&str]) -> String {
        match self {
            Word::Known(i) => dictionary[usize::from(*i) % dictionary.len()].to_string(),
            Word::Raw(text) => text.clone(),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum SchemeChoice {
    Anonymous,
    CosHeader,
    CosQuery,
    SigV4Header,
    SigV4Query,
    SigV2Header,
    SigV2Query,
}

#[derive(Debug, Arbitrary)]
enum Method {
    Get,
    Put,
    Post,
    Delete,
    Head,
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum PayloadChoice {
    Unsigned,
    Sha256,
    WrongSha256,
    Streaming(u8),
    StreamingTrailer(u8),
}

/// One request of the input.
#[derive(Debug, Arbitrary)]
struct FuzzRequest {
    scheme: SchemeChoice,
    /// Signed by the admin account rather than the buckets' owner.
    admin: bool,
    method: Method,
    virtual_host: bool,
    bucket: Word,
    key: Option<Word>,
    params: Vec<(Word, Word, bool)>,
    headers: Vec<(Word, Word, bool)>,
    body: Vec<u8>,
    /// Sent chunked, in pieces of this size.
    chunked: Option<u8>,
    payload: PayloadChoice,
    /// `Content-MD5`: `Some(true)` the body's, `Some(false)` another.
    content_md5: Option<bool>,
}

const BUCKETS: &[&str] = &[
    PRIVATE_BUCKET,
    PUBLIC_BUCKET,
    ADMIN_BUCKET,
    "newbucket-1250000000",
    "new.bucket",
    "other-1250000001",
    "-",
    "",
    "Bad_Bucket",
];

const PARAM_NAMES: &[&str] = &[
    "acl",
    "location",
    "uploads",
    "uploadId",
    "partNumber",
    "versionId",
    "delete",
    "list-type",
    "prefix",
    "delimiter",
    "marker",
    "max-keys",
    "encoding-type",
    "continuation-token",
    "start-after",
    "fetch-owner",
    "key-marker",
    "upload-id-marker",
    "max-uploads",
    "max-parts",
    "part-number-marker",
    "response-content-type",
    "response-content-disposition",
    "response-cache-control",
    "response-expires",
    "max-buckets",
    "region",
    "create-time",
    "range",
    "tagging",
    "append",
    "position",
    "x-id",
];

const PARAM_VALUES: &[&str] = &[
    "",
    "1",
    "2",
    "0",
    "10000",
    "10001",
    "-1",
    "url",
    "null",
    "/",
    "a",
    "dir/",
    UPLOAD_PLACEHOLDER,
    "text/html",
    "YS50eHQ",
    "lt",
    "1700000000",
];

/// Header names; `{p}` is the request's vendor prefix (`x-cos-` or `x-amz-`).
const HEADER_NAMES: &[&str] = &[
    "Content-Type",
    "Cache-Control",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Expires",
    "Range",
    "If-Match",
    "If-None-Match",
    "If-Modified-Since",
    "If-Unmodified-Since",
    "Expect",
    "{p}acl",
    "{p}grant-read",
    "{p}grant-full-control",
    "{p}storage-class",
    "{p}meta-color",
    "{p}copy-source",
    "{p}copy-source-range",
    "{p}copy-source-if-match",
    "{p}copy-source-if-none-match",
    "{p}metadata-directive",
    "{p}server-side-encryption",
    "{p}tagging",
    "{p}checksum-crc32",
    "{p}sdk-checksum-algorithm",
    "{p}forbid-overwrite",
    "x-cos-acl",
    "x-amz-acl",
    "x-amz-decoded-content-length",
];

const HEADER_VALUES: &[&str] = &[
    "",
    "private",
    "public-read",
    "public-read-write",
    "bytes=0-1",
    "bytes=-3",
    "bytes=5-",
    "bytes=0-0,2-3",
    "*",
    "\"etag\"",
    "Wed, 21 Oct 2015 07:28:00 GMT",
    "STANDARD",
    "ARCHIVE",
    "text/plain",
    "100-continue",
    "id=\"100000000002\"",
    "gzip",
    "aws-chunked",
    "AES256",
    "REPLACED",
    "COPY",
    "true",
    "/examplebucket-1250000000/a.txt",
    "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/big.bin",
    "/public-1250000000/dir/b.txt?versionId=null",
    "/admin-1250000001/x",
    "/examplebucket-1250000000/mp.bin",
];

fn keys() -> Vec<&'static str> {
    let mut keys: Vec<&str> = OBJECTS.to_vec();
    keys.extend([
        UPLOAD_KEY,
        "new.txt",
        "dir/",
        "admin/users",
        "admin/users/AKIDfuzzowner",
    ]);
    keys
}

/// A header value as the HTTP layer would carry it: no control characters, no surrounding
/// whitespace.
fn header_value(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
        .collect();
    clean.trim_matches([' ', '\t']).to_string()
}

fn header_name(text: &str, prefix: &str) -> String {
    let name = text.replace("{p}", prefix);
    let name: String = name
        .bytes()
        .filter(|b| is_tchar(*b))
        .map(char::from)
        .collect();
    if name.is_empty() {
        "x-fuzz".to_string()
    } else {
        name
    }
}

impl FuzzRequest {
    fn scheme(&self) -> Scheme {
        match self.scheme {
            SchemeChoice::Anonymous => Scheme::Anonymous,
            SchemeChoice::CosHeader => Scheme::CosHeader,
            SchemeChoice::CosQuery => Scheme::CosQuery,
            SchemeChoice::SigV4Header => Scheme::SigV4Header,
            SchemeChoice::SigV4Query => Scheme::SigV4Query,
            SchemeChoice::SigV2Header => Scheme::SigV2Header,
            SchemeChoice::SigV2Query => Scheme::SigV2Query,
        }
    }

    /// The request to write, with the prepared upload id in place of its placeholder.
    fn spec(&self, upload_id: &str) -> Spec {
        let scheme = self.scheme();
        let prefix = scheme.prefix();
        let (access_key, secret_key) = if self.admin { ADMIN } else { OWNER };
        let method = match &self.method {
            Method::Get => "GET".to_string(),
            Method::Put => "PUT".to_string(),
            Method::Post => "POST".to_string(),
            Method::Delete => "DELETE".to_string(),
            Method::Head => "HEAD".to_string(),
            Method::Other(text) => {
                let method: String = text
                    .bytes()
                    .filter(|b| is_tchar(*b))
                    .map(char::from)
                    .collect();
                if method.is_empty() {
                    "GET".to_string()
                } else {
                    method
                }
            }
        };
        let bucket = self.bucket.pick(BUCKETS);
        let key = self
            .key
            .as_ref()
            .map(|k| k.pick(&keys()))
            .unwrap_or_default();
        let (host, decoded_path) = if self.virtual_host && !bucket.is_empty() {
            (
                header_value(&format!("{bucket}.cos.ap-guangzhou.myqcloud.com")),
                format!("/{key}"),
            )
        } else if self.virtual_host {
            ("service.cos.myqcloud.com".to_string(), format!("/{key}"))
        } else if key.is_empty() {
            ("127.0.0.1:8080".to_string(), format!("/{bucket}"))
        } else {
            ("127.0.0.1:8080".to_string(), format!("/{bucket}/{key}"))
        };
        let upload = |text: String| text.replace(UPLOAD_PLACEHOLDER, upload_id);
        let params = self
            .params
            .iter()
            .take(8)
            .map(|(name, value, signed)| {
                (
                    name.pick(PARAM_NAMES),
                    upload(value.pick(PARAM_VALUES)),
                    *signed,
                )
            })
            .collect();
        let mut headers: Vec<(String, String, bool)> = self
            .headers
            .iter()
            .take(12)
            .map(|(name, value, signed)| {
                (
                    header_name(&name.pick(HEADER_NAMES), prefix),
                    header_value(&upload(value.pick(HEADER_VALUES))),
                    *signed,
                )
            })
            .collect();
        let body: Vec<u8> = self.body.iter().take(MAX_BODY).copied().collect();
        if let Some(correct) = self.content_md5 {
            let digest = coffer_proto::checksum::md5(if correct { &body } else { b"other" });
            use base64::Engine as _;
            let value = base64::engine::general_purpose::STANDARD.encode(digest);
            headers.push(("Content-MD5".to_string(), value, true));
        }
        let payload = match self.payload {
            PayloadChoice::Unsigned => Payload::Unsigned,
            PayloadChoice::Sha256 => Payload::Sha256,
            PayloadChoice::WrongSha256 => Payload::WrongSha256,
            PayloadChoice::Streaming(n) => Payload::Streaming(usize::from(n) + 1),
            PayloadChoice::StreamingTrailer(n) => Payload::StreamingTrailer(usize::from(n) + 1),
        };
        Spec {
            scheme,
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
            method,
            host,
            decoded_path,
            params,
            headers,
            body,
            chunked: self.chunked.map(|n| usize::from(n) + 1),
            payload,
        }
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut input = Unstructured::new(data);
    let Ok(requests) = Vec::<FuzzRequest>::arbitrary(&mut input) else {
        return;
    };
    let requests: Vec<&FuzzRequest> = requests.iter().take(MAX_REQUESTS).collect();
    if requests.is_empty() {
        return;
    }
    let mut sent: Vec<(Spec, Built)> = Vec::new();
    let exchange = exchange(|upload_id| {
        let time = now();
        let mut bytes = Vec::new();
        for request in &requests {
            let spec = request.spec(upload_id);
            let built = build(&spec, time);
            bytes.extend_from_slice(&built.bytes);
            sent.push((spec, built));
        }
        bytes
    });
    for ((spec, built), answer) in sent.iter().zip(&exchange.answers) {
        check_coverage(spec, built, answer);
    }
}

/// A signed request that its signature does not fully cover is never answered 2xx.
fn check_coverage(spec: &Spec, built: &Built, answer: &Answer) {
    if spec.scheme == Scheme::Anonymous || !(200..300).contains(&answer.status) {
        return;
    }
    let prefix = spec.scheme.prefix();
    for (name, _) in &built.headers {
        let lower = name.to_ascii_lowercase();
        assert!(
            !lower.starts_with(prefix)
                || lower == "x-amz-content-sha256"
                || built.signed_headers.contains(&lower),
            "{} answered {} with the unsigned header {name}: {spec:?}",
            spec.method,
            answer.status
        );
    }
    let addressing = Addressing {
        domains: Vec::new(),
    };
    let Ok(target) = addressing.resolve(&spec.host, &built.raw_path) else {
        return;
    };
    let query = Query::parse(&built.raw_query).text_pairs();
    let names: Vec<&str> = query.iter().map(|(n, _)| n.as_str()).collect();
    let copy_source = format!("{prefix}copy-source");
    let Ok(operation) = route(RouteInput {
        method: &spec.method,
        scope: scope_of(&target),
        params: &names,
        has_copy_source: built
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(&copy_source)),
    }) else {
        return;
    };
    let sigv2 = matches!(spec.scheme, Scheme::SigV2Header | Scheme::SigV2Query);
    let cos = matches!(spec.scheme, Scheme::CosHeader | Scheme::CosQuery);
    for name in &built.unsigned_params {
        assert!(
            !(operation.reads_param(name) && operation.must_sign_param(name, sigv2, cos)),
            "{} answered {} with the unsigned parameter {name}: {spec:?}",
            operation.name,
            answer.status
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The harness signs correctly: a plain GET of a prepared object succeeds under every
    /// scheme (anonymous: only in the public bucket).
    #[test]
    fn signed_requests_reach_the_handlers() {
        for (scheme, bucket) in [
            (Scheme::Anonymous, PUBLIC_BUCKET),
            (Scheme::CosHeader, PRIVATE_BUCKET),
            (Scheme::CosQuery, PRIVATE_BUCKET),
            (Scheme::SigV4Header, PRIVATE_BUCKET),
            (Scheme::SigV4Query, PRIVATE_BUCKET),
            (Scheme::SigV2Header, PRIVATE_BUCKET),
            (Scheme::SigV2Query, PRIVATE_BUCKET),
        ] {
            for virtual_host in [false, true] {
                let host = if virtual_host {
                    format!("{bucket}.cos.ap-guangzhou.myqcloud.com")
                } else {
                    "127.0.0.1:8080".to_string()
                };
                let path = if virtual_host {
                    "/dir/b.txt".to_string()
                } else {
                    format!("/{bucket}/dir/b.txt")
                };
                let spec = Spec {
                    scheme,
                    access_key: OWNER.0.into(),
                    secret_key: OWNER.1.into(),
                    method: "GET".into(),
                    host,
                    decoded_path: path,
                    params: vec![("response-content-type".into(), "text/html".into(), true)],
                    headers: vec![("Range".into(), "bytes=0-2".into(), true)],
                    body: Vec::new(),
                    chunked: None,
                    payload: Payload::Sha256,
                };
                let exchange = exchange(|_| build(&spec, now()).bytes);
                let status = exchange.answers.first().map(|a| a.status);
                let expected = if scheme == Scheme::Anonymous {
                    // Response overrides need a signed request.
                    400
                } else {
                    206
                };
                assert_eq!(
                    status,
                    Some(expected),
                    "{scheme:?} {virtual_host}: {exchange:?}"
                );
            }
        }
    }

    /// Uploads of every payload kind and framing succeed, and the coverage rule fires on an
    /// unsigned vendor header.
    #[test]
    fn uploads_and_unsigned_headers() {
        for payload in [
            Payload::Unsigned,
            Payload::Sha256,
            Payload::Streaming(3),
            Payload::StreamingTrailer(4),
        ] {
            for chunked in [None, Some(5)] {
                let spec = Spec {
                    scheme: Scheme::SigV4Header,
                    access_key: OWNER.0.into(),
                    secret_key: OWNER.1.into(),
                    method: "PUT".into(),
                    host: "127.0.0.1:8080".into(),
                    decoded_path: format!("/{PRIVATE_BUCKET}/up.txt"),
                    params: Vec::new(),
                    headers: vec![("x-amz-meta-a".into(), "b".into(), true)],
                    body: b"some bytes to store".to_vec(),
                    chunked,
                    payload,
                };
                let exchange = exchange(|_| build(&spec, now()).bytes);
                let status = exchange.answers.first().map(|a| a.status);
                assert_eq!(status, Some(200), "{payload:?} {chunked:?}: {exchange:?}");
            }
        }
        for scheme in [Scheme::CosHeader, Scheme::SigV4Header, Scheme::SigV4Query] {
            let prefix = scheme.prefix();
            let spec = Spec {
                scheme,
                access_key: OWNER.0.into(),
                secret_key: OWNER.1.into(),
                method: "PUT".into(),
                host: "127.0.0.1:8080".into(),
                decoded_path: format!("/{PRIVATE_BUCKET}/up.txt"),
                params: Vec::new(),
                headers: vec![(format!("{prefix}acl"), "public-read".into(), false)],
                body: b"x".to_vec(),
                chunked: None,
                payload: Payload::Unsigned,
            };
            let exchange = exchange(|_| build(&spec, now()).bytes);
            let status = exchange.answers.first().map(|a| a.status);
            assert_eq!(status, Some(403), "{scheme:?}: {exchange:?}");
        }
    }
}

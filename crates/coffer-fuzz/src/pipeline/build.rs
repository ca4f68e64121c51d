//! Writes requests as a client would send them, signed correctly by any of the schemes:
//! the fixture uses it to prepare the store, `pipeline_signed` to reach the handlers past
//! authentication.

use base64::Engine as _;
use coffer_proto::auth::chunked::{ChunkedEncoder, ChunkedMode};
use coffer_proto::auth::cos::{self, CosSigner};
use coffer_proto::auth::sigv4::{self, SigV4Signer};
use coffer_proto::auth::{form_encode, sigv2, Query, RequestView};
use coffer_server::addressing::Addressing;
use sha2::{Digest, Sha256};

/// How a request is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// Not at all.
    Anonymous,
    /// COS q-sign in the `Authorization` header.
    CosHeader,
    /// A COS presigned URL.
    CosQuery,
    /// SigV4 in the `Authorization` header.
    SigV4Header,
    /// A SigV4 presigned URL.
    SigV4Query,
    /// SigV2 in the `Authorization` header.
    SigV2Header,
    /// A SigV2 presigned URL.
    SigV2Query,
}

impl Scheme {
    /// The vendor header prefix of the scheme's dialect.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Scheme::CosHeader | Scheme::CosQuery => "x-cos-",
            _ => "x-amz-",
        }
    }
}

/// How a SigV4 header-signed body is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Payload {
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
    /// The body's SHA-256.
    Sha256,
    /// Some other SHA-256.
    WrongSha256,
    /// `aws-chunked` with signed chunks of this size.
    Streaming(usize),
    /// `aws-chunked`, unsigned chunks of this size, a checksum trailer.
    StreamingTrailer(usize),
}

/// A request to write: everything but the signature.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub(crate) scheme: Scheme,
    pub(crate) access_key: String,
    pub(crate) secret_key: String,
    pub(crate) method: String,
    pub(crate) host: String,
    /// The key or bucket path, decoded; encoded when written.
    pub(crate) decoded_path: String,
    /// Query parameters, decoded, and whether the signature covers each.
    pub(crate) params: Vec<(String, String, bool)>,
    /// Headers and whether the signature covers each (values without CR/LF/NUL).
    pub(crate) headers: Vec<(String, String, bool)>,
    pub(crate) body: Vec<u8>,
    /// `Some(piece)`: sent with `Transfer-Encoding: chunked` in pieces of this size.
    pub(crate) chunked: Option<usize>,
    pub(crate) payload: Payload,
}

/// A written request and what its signature covers.
#[derive(Debug, Clone)]
pub(crate) struct Built {
    pub(crate) bytes: Vec<u8>,
    pub(crate) raw_path: String,
    pub(crate) raw_query: String,
    /// Every header sent, as sent.
    pub(crate) headers: Vec<(String, String)>,
    /// Lower-case names of the headers the signature covers.
    pub(crate) signed_headers: Vec<String>,
    /// Decoded names of the parameters added after signing.
    pub(crate) unsigned_params: Vec<String>,
}

fn query_of(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                form_encode(k.as_bytes()),
                form_encode(v.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn append(query: &mut String, more: &str) {
    if !more.is_empty() {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(more);
    }
}

/// Writes `spec` signed at `now` (Unix seconds).
pub(crate) fn build(spec: &Spec, now: u64) -> Built {
    let raw_path = sigv4::aws_uri_encode(spec.decoded_path.as_bytes(), false);
    let signed_params: Vec<(String, String)> = spec
        .params
        .iter()
        .filter(|p| p.2)
        .map(|(k, v, _)| (k.clone(), v.clone()))
        .collect();
    let unsigned: Vec<(String, String)> = spec
        .params
        .iter()
        .filter(|p| !p.2)
        .map(|(k, v, _)| (k.clone(), v.clone()))
        .collect();
    let mut query = query_of(&signed_params);
    let mut body = spec.body.clone();
    let mut headers: Vec<(String, String)> = vec![("Host".to_string(), spec.host.clone())];
    let mut signed_names: Vec<String> = vec!["host".to_string()];
    for (name, value, signed) in &spec.headers {
        headers.push((name.clone(), value.clone()));
        if *signed {
            signed_names.push(name.to_ascii_lowercase());
        }
    }
    let unsigned_headers: Vec<(String, String)> = spec
        .headers
        .iter()
        .filter(|h| !h.2)
        .map(|(n, v, _)| (n.clone(), v.clone()))
        .collect();
    // Headers present when signing: all but the unsigned vendor ones of SigV2 (which signs
    // every x-amz-* header present, so those are added after).
    let refs = |headers: &[(String, String)]| -> Vec<(String, Vec<u8>)> {
        headers
            .iter()
            .map(|(n, v)| (n.clone(), v.as_bytes().to_vec()))
            .collect()
    };

    match spec.scheme {
        Scheme::Anonymous => {
            signed_names.clear();
        }
        Scheme::CosHeader | Scheme::CosQuery => {
            let signer = CosSigner::new(&spec.access_key, &spec.secret_key);
            let cos_headers: Vec<(String, String)> = headers
                .iter()
                .filter(|(n, _)| signed_names.contains(&n.to_ascii_lowercase()))
                .map(|(n, v)| {
                    let v = if n.eq_ignore_ascii_case("host") {
                        String::from_utf8_lossy(cos::strip_port(v.as_bytes())).into_owned()
                    } else {
                        v.clone()
                    };
                    (n.clone(), v)
                })
                .collect();
            let path = decoded_signing_path(&spec.decoded_path);
            let (start, end) = (now - 60, now + 3600);
            if spec.scheme == Scheme::CosHeader {
                let signed = signer.sign(
                    &spec.method,
                    &path,
                    &signed_params,
                    &cos_headers,
                    start,
                    end,
                );
                headers.push(("Authorization".to_string(), signed.header_value()));
            } else {
                query = signer.presign_query(
                    &spec.method,
                    &path,
                    &signed_params,
                    &cos_headers,
                    start,
                    end,
                );
            }
        }
        Scheme::SigV4Header | Scheme::SigV4Query => {
            let signer = SigV4Signer::new(&spec.access_key, &spec.secret_key, "ap-guangzhou");
            let amz_date = sigv4::format_amz_date(now).unwrap_or_default();
            if spec.scheme == Scheme::SigV4Header {
                let hash = payload_hash(spec.payload, &body);
                let streaming = matches!(
                    spec.payload,
                    Payload::Streaming(_) | Payload::StreamingTrailer(_)
                );
                if streaming {
                    headers.push(("Content-Encoding".into(), "aws-chunked".into()));
                    headers.push((
                        "x-amz-decoded-content-length".into(),
                        body.len().to_string(),
                    ));
                    signed_names.push("x-amz-decoded-content-length".into());
                    if matches!(spec.payload, Payload::StreamingTrailer(_)) {
                        headers.push(("x-amz-trailer".into(), "x-amz-checksum-crc32".into()));
                        signed_names.push("x-amz-trailer".into());
                    }
                }
                headers.push(("x-amz-date".into(), amz_date.clone()));
                headers.push(("x-amz-content-sha256".into(), hash.clone()));
                signed_names.push("x-amz-date".into());
                signed_names.push("x-amz-content-sha256".into());
                let owned = refs(&headers);
                let view_headers: Vec<(&str, &[u8])> = owned
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_slice()))
                    .collect();
                let parsed_query = Query::parse(&query);
                let view = RequestView::new(
                    &spec.method,
                    &spec.decoded_path,
                    &parsed_query,
                    &view_headers,
                );
                let names: Vec<&str> = signed_names.iter().map(String::as_str).collect();
                if let Ok(signed) = signer.sign(&view, &names, &hash, &amz_date) {
                    if streaming {
                        body = streaming_body(spec.payload, &spec.body, signed.streaming());
                    }
                    headers.push(("Authorization".into(), signed.authorization));
                }
            } else {
                let owned = refs(&headers);
                let view_headers: Vec<(&str, &[u8])> = owned
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_slice()))
                    .collect();
                let parsed_query = Query::parse(&query);
                let view = RequestView::new(
                    &spec.method,
                    &spec.decoded_path,
                    &parsed_query,
                    &view_headers,
                );
                let names: Vec<&str> = signed_names.iter().map(String::as_str).collect();
                if let Ok(presigned) = signer.presign(&view, &names, &amz_date, 3600, None) {
                    query = presigned;
                }
            }
        }
        Scheme::SigV2Header | Scheme::SigV2Query => {
            headers.retain(|(n, _)| {
                !(n.to_ascii_lowercase().starts_with("x-amz-")
                    && unsigned_headers.iter().any(|(u, _)| u == n))
            });
            if spec.scheme == Scheme::SigV2Header {
                headers.push((
                    "Date".into(),
                    coffer_proto::time::http_date(now as i64 * 1000),
                ));
            }
            let resource = sigv2_resource(&spec.host, &raw_path);
            let owned = refs(&headers);
            let view_headers: Vec<(&str, &[u8])> = owned
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_slice()))
                .collect();
            let parsed_query = Query::parse(&query);
            let view = RequestView::new(
                &spec.method,
                &spec.decoded_path,
                &parsed_query,
                &view_headers,
            );
            // SigV2 covers every x-amz-* header present when signing.
            signed_names = headers
                .iter()
                .map(|(n, _)| n.to_ascii_lowercase())
                .filter(|n| n.starts_with("x-amz-"))
                .collect();
            if spec.scheme == Scheme::SigV2Header {
                let signed = sigv2::sign(&spec.access_key, &spec.secret_key, &view, &resource);
                headers.push(("Authorization".into(), signed.authorization));
            } else {
                query = sigv2::presign(
                    &spec.access_key,
                    &spec.secret_key,
                    &view,
                    &resource,
                    now + 600,
                );
            }
            for (name, value) in &unsigned_headers {
                if name.to_ascii_lowercase().starts_with("x-amz-") {
                    headers.push((name.clone(), value.clone()));
                }
            }
        }
    }
    append(&mut query, &query_of(&unsigned));

    let mut bytes = Vec::with_capacity(256 + body.len());
    bytes.extend_from_slice(spec.method.as_bytes());
    bytes.push(b' ');
    bytes.extend_from_slice(raw_path.as_bytes());
    if !query.is_empty() {
        bytes.push(b'?');
        bytes.extend_from_slice(query.as_bytes());
    }
    bytes.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in &headers {
        bytes.extend_from_slice(name.as_bytes());
        bytes.extend_from_slice(b": ");
        bytes.extend_from_slice(value.as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    match spec.chunked {
        None => {
            if !body.is_empty() || matches!(spec.method.as_str(), "PUT" | "POST") {
                bytes.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
            }
            bytes.extend_from_slice(b"\r\n");
            bytes.extend_from_slice(&body);
        }
        Some(piece) => {
            bytes.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            for chunk in body.chunks(piece.max(1)) {
                bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                bytes.extend_from_slice(chunk);
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(b"0\r\n\r\n");
        }
    }
    let unsigned_params = unsigned.into_iter().map(|(k, _)| k).collect();
    Built {
        bytes,
        raw_path,
        raw_query: query,
        headers,
        signed_headers: signed_names,
        unsigned_params,
    }
}

/// The path COS signs: the decoded path, with a leading `/`.
fn decoded_signing_path(decoded: &str) -> String {
    if decoded.starts_with('/') {
        decoded.to_string()
    } else {
        format!("/{decoded}")
    }
}

/// The CanonicalizedResource path SigV2 signs for this request, as the server computes it.
fn sigv2_resource(host: &str, raw_path: &str) -> String {
    let addressing = Addressing {
        domains: Vec::new(),
    };
    match addressing.resolve(host, raw_path) {
        Ok(target) => match (&target.bucket, &target.key, target.virtual_host) {
            (Some(bucket), None, _) => format!("/{bucket}/"),
            (Some(bucket), Some(_), true) => format!("/{bucket}{raw_path}"),
            _ => raw_path.to_string(),
        },
        Err(_) => raw_path.to_string(),
    }
}

/// The `x-amz-content-sha256` value of a header-signed SigV4 request.
fn payload_hash(payload: Payload, body: &[u8]) -> String {
    match payload {
        Payload::Unsigned => sigv4::UNSIGNED_PAYLOAD.into(),
        Payload::Sha256 => hex::encode(Sha256::digest(body)),
        Payload::WrongSha256 => hex::encode(Sha256::digest(b"something else")),
        Payload::Streaming(_) => sigv4::STREAMING_PAYLOAD.into(),
        Payload::StreamingTrailer(_) => sigv4::STREAMING_UNSIGNED_PAYLOAD_TRAILER.into(),
    }
}

/// `body` encoded as `aws-chunked` for a streaming payload (signed chunks chained from the
/// request's signature, or unsigned chunks and a CRC-32 trailer).
fn streaming_body(payload: Payload, body: &[u8], signing: sigv4::StreamingSigning) -> Vec<u8> {
    let (mode, size) = match payload {
        Payload::Streaming(size) => (ChunkedMode::Signed(signing), size),
        Payload::StreamingTrailer(size) => (ChunkedMode::UnsignedTrailer, size),
        _ => return body.to_vec(),
    };
    let mut encoder = ChunkedEncoder::new(mode);
    let mut out = Vec::new();
    for chunk in body.chunks(size.max(1)) {
        encoder.chunk(chunk, &mut out);
    }
    let crc = coffer_proto::checksum::crc32(body).to_be_bytes();
    let trailer = (
        "x-amz-checksum-crc32".to_string(),
        base64::engine::general_purpose::STANDARD.encode(crc),
    );
    encoder.finish(&[trailer], &mut out);
    out
}

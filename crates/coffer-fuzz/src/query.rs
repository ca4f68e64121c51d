//! Query strings and percent-decoding: the server parses a request's query once
//! (`coffer_proto::query::Query`), and routing, every signature scheme and the handlers read
//! that parse; paths are decoded by `encoding::decode_path`.
//!
//! Input: one raw query (or path). Invariants:
//! - never a panic;
//! - the parse keeps every non-empty segment, in order, with its raw forms, and its decoded
//!   forms are `form_decode` of the raw ones (so what a handler reads is what was signed);
//! - every encoder round-trips through its decoder: `form_encode`, `cos_encode`,
//!   `aws_uri_encode`, `encode_unreserved` through `form_decode`, `encode_path` through
//!   `decode_path`;
//! - the SigV4 canonical query is a fixed point: canonicalising it again changes nothing.

use coffer_proto::auth::sigv4::{aws_uri_encode, canonical_query};
use coffer_proto::auth::{cos::cos_encode, form_decode, form_encode, Query};
use coffer_proto::encoding::{decode_path, encode_path, encode_unreserved};

/// Runs one input.
pub fn run(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    let query = Query::parse(&raw);
    let segments: Vec<&str> = raw.split('&').filter(|s| !s.is_empty()).collect();
    assert_eq!(query.params().len(), segments.len());
    assert_eq!(query.text_pairs().len(), segments.len());
    for (param, segment) in query.params().iter().zip(&segments) {
        let (raw_name, raw_value) = segment.split_once('=').unwrap_or((segment, ""));
        assert_eq!((param.raw_name, param.raw_value), (raw_name, raw_value));
        for (component, decoded) in [(raw_name, &param.name), (raw_value, &param.value)] {
            let bytes = form_decode(component.as_bytes());
            assert_eq!(&bytes, decoded);
            for encoded in [
                form_encode(&bytes),
                cos_encode(&bytes),
                aws_uri_encode(&bytes, true),
                encode_unreserved(&bytes),
            ] {
                assert_eq!(form_decode(encoded.as_bytes()), bytes, "{encoded:?}");
            }
        }
    }
    for presigned in [false, true] {
        let canonical = canonical_query(&query, presigned);
        assert_eq!(
            canonical_query(&Query::parse(&canonical), presigned),
            canonical
        );
    }
    if let Some(path) = decode_path(&raw) {
        assert_eq!(
            decode_path(&encode_path(&path)).as_deref(),
            Some(path.as_str())
        );
        let _ = decode_path(&encode_path(&raw));
    }
}

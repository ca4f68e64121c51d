//! Query strings and percent-decoding: the server's router splits the query with
//! `coffer_proto::encoding::parse_query`, the signature schemes with
//! `coffer_proto::auth::{split_query, decode_query, form_decode}`; paths are decoded by
//! `encoding::decode_path`.
//!
//! Input: one raw query (or path). Invariants:
//! - never a panic;
//! - the router and the signature schemes read the same parameters, in the same order, with
//!   the same names and values (if they disagreed, a handler could act on a value other than
//!   the one signed);
//! - every encoder round-trips through its decoder: `form_encode`, `cos_encode`,
//!   `aws_uri_encode`, `encode_unreserved` through `form_decode`, `encode_path` through
//!   `decode_path`;
//! - the SigV4 canonical query is a fixed point: canonicalising it again changes nothing.

use coffer_proto::auth::sigv4::{aws_uri_encode, canonical_query};
use coffer_proto::auth::{cos::cos_encode, decode_query, form_decode, form_encode, split_query};
use coffer_proto::encoding::{
    decode_path, decode_query_component, encode_path, encode_unreserved, parse_query,
};

/// Runs one input.
pub fn run(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    let routed = parse_query(&raw);
    assert_eq!(routed, decode_query(&raw), "router and signatures disagree");
    assert_eq!(routed.len(), split_query(&raw).count());
    for (name, value) in split_query(&raw) {
        for component in [name, value] {
            let bytes = form_decode(component.as_bytes());
            assert_eq!(
                decode_query_component(component),
                String::from_utf8_lossy(&bytes)
            );
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
        let canonical = canonical_query(&raw, presigned);
        assert_eq!(canonical_query(&canonical, presigned), canonical);
    }
    if let Some(path) = decode_path(&raw) {
        assert_eq!(
            decode_path(&encode_path(&path)).as_deref(),
            Some(path.as_str())
        );
        let _ = decode_path(&encode_path(&raw));
    }
}

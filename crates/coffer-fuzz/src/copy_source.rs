//! Copy-source values (`coffer_server::fuzzing::parse_copy_source`): `x-cos-copy-source`
//! (`<bucket>.cos.<region>.myqcloud.com/<key>`, with or without a scheme) and
//! `x-amz-copy-source` (`[/]<bucket>/<key>`), both with `?versionId=`.
//!
//! Input: one header value. Invariants:
//! - never a panic; a refusal is `400 InvalidArgument`;
//! - a parsed source has a non-empty bucket and key;
//! - the source written back in the S3 form (path-style, percent-encoded) parses to the same
//!   source, and so does the COS host form when the bucket is a plain host label: both
//!   dialects name the same object the same way.

use coffer_proto::encoding::{encode_path, encode_unreserved};
use coffer_proto::ErrorCode;
use coffer_server::addressing::Addressing;
use coffer_server::fuzzing::parse_copy_source;
use coffer_server::ops::copy::CopySourceRef;

fn addressing() -> Addressing {
    Addressing {
        domains: vec!["s3.local".to_string()],
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let value = String::from_utf8_lossy(data);
    let addressing = addressing();
    let source = match parse_copy_source(&addressing, &value) {
        Ok(source) => source,
        Err(error) => {
            assert_eq!(error.code, ErrorCode::InvalidArgument);
            return;
        }
    };
    assert!(!source.bucket.is_empty() && !source.key.is_empty());
    let version = source
        .version_id
        .as_deref()
        .map(|v| format!("?versionId={}", encode_unreserved(v.as_bytes())))
        .unwrap_or_default();
    // Dots encoded too, so the bucket is never mistaken for a host name.
    let bucket = encode_unreserved(source.bucket.as_bytes()).replace('.', "%2E");
    let s3_form = format!("/{bucket}/{}{version}", encode_path(&source.key));
    assert_same(&addressing, &s3_form, &source);
    let label = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
    if source.bucket.bytes().all(label) {
        let cos_form = format!(
            "https://{}.cos.ap-guangzhou.myqcloud.com/{}{version}",
            source.bucket,
            encode_path(&source.key)
        );
        assert_same(&addressing, &cos_form, &source);
    }
}

fn assert_same(addressing: &Addressing, written: &str, source: &CopySourceRef) {
    let again = parse_copy_source(addressing, written)
        .unwrap_or_else(|e| panic!("{written:?} does not parse: {e:?}"));
    assert_eq!(&again, source, "written back as {written:?}");
}

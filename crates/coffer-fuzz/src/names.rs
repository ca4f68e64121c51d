//! Names from the network: bucket names (COS `<name>-<APPID>` and S3 rules), object keys,
//! part numbers, storage classes, and host-based addressing (Host header and path → bucket,
//! key; APPID and region from the host name).
//!
//! Input: line 1 is a Host value, line 2 a raw path, and both are also tried as names.
//! Invariants:
//! - never a panic;
//! - a valid COS bucket name is a valid S3 bucket name ending in `-<its APPID>`, all digits;
//!   every valid bucket name passes the router's `looks_like_bucket_name`;
//! - part numbers parse into 1..=10000; storage classes into their canonical spelling;
//! - addressing: the resolved host is lower-case; a virtual-host bucket is the host's first
//!   label; a path-style bucket and key are the decoded path's first segment and the rest;
//!   keys are never empty and no path holds NUL;
//! - one host: the host addressing resolves is the host a COS signature covers (both strip
//!   the same port), so a signature cannot be verified against one host while the bucket is
//!   taken from another.

use coffer_proto::auth::cos;
use coffer_proto::names::{
    looks_like_bucket_name, parse_part_number, parse_storage_class, validate_cos_bucket_name,
    validate_object_key, validate_s3_bucket_name, PART_NUMBER_RANGE, STORAGE_CLASSES,
};
use coffer_server::addressing::{strip_port, Addressing};

/// Runs one input.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (host, path) = text.split_once('\n').unwrap_or((&text, "/"));
    for name in [host, path, text.as_ref()] {
        check_name(name);
    }
    check_addressing(host, path);
}

fn check_name(name: &str) {
    if let Ok(appid) = validate_cos_bucket_name(name) {
        assert!(validate_s3_bucket_name(name).is_ok(), "{name:?}");
        assert!(!appid.is_empty() && appid.bytes().all(|b| b.is_ascii_digit()));
        assert!(name.ends_with(&format!("-{appid}")), "{name:?}");
    }
    if validate_s3_bucket_name(name).is_ok() {
        assert!(looks_like_bucket_name(name), "{name:?} is not routed");
    }
    let _ = validate_object_key(name);
    if let Ok(n) = parse_part_number(name) {
        assert!(PART_NUMBER_RANGE.contains(&n));
    }
    if let Ok(class) = parse_storage_class(name) {
        assert!(STORAGE_CLASSES.contains(&class));
        assert!(class.eq_ignore_ascii_case(name.trim()));
    }
}

fn check_addressing(host: &str, path: &str) {
    let addressing = Addressing {
        domains: vec!["s3.local".to_string()],
    };
    let signed_host = cos::strip_port(host.as_bytes());
    assert!(
        strip_port(host)
            .as_bytes()
            .eq_ignore_ascii_case(signed_host),
        "addressing resolves {:?} but a COS signature covers {:?}",
        strip_port(host),
        String::from_utf8_lossy(signed_host)
    );
    let Ok(target) = addressing.resolve(host, path) else {
        return;
    };
    assert_eq!(target.host, target.host.to_ascii_lowercase());
    assert!(!target.decoded_path.contains('\0'));
    assert!(target.key.as_deref() != Some(""), "empty key");
    let rest = target
        .decoded_path
        .strip_prefix('/')
        .unwrap_or(&target.decoded_path);
    if target.virtual_host {
        let bucket = target
            .bucket
            .as_deref()
            .expect("a virtual host names a bucket");
        assert_eq!(
            addressing.bucket_from_host(&target.host).as_deref(),
            Some(bucket)
        );
        assert_eq!(target.key.as_deref().unwrap_or_default(), rest);
    } else if let Some(bucket) = &target.bucket {
        let (first, key) = rest.split_once('/').unwrap_or((rest, ""));
        assert_eq!(first, bucket);
        assert_eq!(target.key.as_deref().unwrap_or_default(), key);
    } else {
        assert!(rest.is_empty() || rest.starts_with('/'), "{target:?}");
    }
}

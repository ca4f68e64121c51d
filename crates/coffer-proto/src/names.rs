//! Validated bucket names, object keys, part numbers and storage classes.

use crate::error::ErrorCode;

/// The longest object key accepted, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// Lowest and highest multipart part numbers.
pub const PART_NUMBER_RANGE: std::ops::RangeInclusive<u32> = 1..=10_000;

/// Validates a bucket name for a COS client: `<name>-<appid>`, lower-case letters, digits
/// and hyphens, starting and ending with a letter or digit, at most 63 characters in all.
/// Returns the APPID suffix.
pub fn validate_cos_bucket_name(name: &str) -> Result<&str, ErrorCode> {
    validate_s3_bucket_name(name)?;
    if name.contains('.') {
        return Err(ErrorCode::InvalidBucketName);
    }
    let (short, appid) = name.rsplit_once('-').ok_or(ErrorCode::InvalidBucketName)?;
    if short.is_empty() || appid.is_empty() || !appid.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ErrorCode::InvalidBucketName);
    }
    Ok(appid)
}

/// Validates a bucket name by the S3 rules: 3–63 characters of lower-case letters, digits,
/// dots and hyphens, beginning and ending with a letter or digit, no `..`, not an IPv4 address.
pub fn validate_s3_bucket_name(name: &str) -> Result<(), ErrorCode> {
    let bytes = name.as_bytes();
    let ok_len = (3..=63).contains(&bytes.len());
    let ok_chars = bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'.');
    let alnum = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let ok_ends = alnum(bytes.first()) && alnum(bytes.last());
    let ok_dots = !name.contains("..") && !name.contains(".-") && !name.contains("-.");
    let is_ip = name.parse::<std::net::Ipv4Addr>().is_ok();
    if ok_len && ok_chars && ok_ends && ok_dots && !is_ip {
        Ok(())
    } else {
        Err(ErrorCode::InvalidBucketName)
    }
}

/// Whether a string could name a bucket at all (used when routing path-style requests).
pub fn looks_like_bucket_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

/// The host of an authority (`Host` header value or absolute-form authority) without its
/// port: `host:80` → `host`, `[::1]:80` → `[::1]`. Only digits after the one colon are a port
/// (`host:` counts, with an empty port); anything else — `host:abc`, a bare IPv6 literal with
/// several colons — is returned whole. The one rule for the host a request is addressed to,
/// the host a COS signature covers and the host the SDK signs, so that no request can be
/// verified against one host and served from another.
pub fn host_without_port(authority: &[u8]) -> &[u8] {
    if authority.first() == Some(&b'[') {
        return match authority.iter().position(|b| *b == b']') {
            Some(i) => authority.get(..=i).unwrap_or(authority),
            None => authority,
        };
    }
    let mut colons = authority.iter().enumerate().filter(|(_, b)| **b == b':');
    match (colons.next(), colons.next()) {
        (Some((i, _)), None)
            if authority
                .get(i + 1..)
                .is_some_and(|port| port.iter().all(u8::is_ascii_digit)) =>
        {
            authority.get(..i).unwrap_or(authority)
        }
        _ => authority,
    }
}

/// [`host_without_port`] of text.
pub fn host_without_port_str(authority: &str) -> &str {
    // Only ASCII `:` and `]` are cut at, so the prefix is always UTF-8.
    std::str::from_utf8(host_without_port(authority.as_bytes())).unwrap_or(authority)
}

/// Validates an object key: non-empty and at most [`MAX_KEY_BYTES`].
pub fn validate_object_key(key: &str) -> Result<(), ErrorCode> {
    if key.is_empty() {
        return Err(ErrorCode::InvalidURI);
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(ErrorCode::KeyTooLong);
    }
    Ok(())
}

/// Parses a `partNumber` parameter (1..=10000).
pub fn parse_part_number(value: &str) -> Result<u32, ErrorCode> {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| PART_NUMBER_RANGE.contains(n))
        .ok_or(ErrorCode::InvalidArgument)
}

/// The storage classes a client may name, in their canonical (upper-case) spelling.
pub const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "STANDARD_IA",
    "ARCHIVE",
    "DEEP_ARCHIVE",
    "INTELLIGENT_TIERING",
    "MAZ_STANDARD",
    "MAZ_STANDARD_IA",
    "MAZ_INTELLIGENT_TIERING",
    // S3 names, accepted from S3 clients.
    "REDUCED_REDUNDANCY",
    "GLACIER",
    "GLACIER_IR",
    "ONEZONE_IA",
    "OUTPOSTS",
    "SNOW",
    "EXPRESS_ONEZONE",
];

/// Canonicalises a storage class name (compared case-insensitively; `Standard_IA` →
/// `STANDARD_IA`). Unknown names are `InvalidStorageClass`.
pub fn parse_storage_class(value: &str) -> Result<&'static str, ErrorCode> {
    let value = value.trim();
    STORAGE_CLASSES
        .iter()
        .find(|class| class.eq_ignore_ascii_case(value))
        .copied()
        .ok_or(ErrorCode::InvalidStorageClass)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        assert_eq!(
            validate_cos_bucket_name("examplebucket-1250000000"),
            Ok("1250000000")
        );
        for bad in [
            "Example-125",
            "bucket",
            "-b-125",
            "b-",
            "bucket-12a",
            "a.b-125",
            "ab",
        ] {
            assert!(validate_cos_bucket_name(bad).is_err(), "{bad}");
        }
        for good in ["abc", "my.bucket", "a-b-c", "b12"] {
            assert!(validate_s3_bucket_name(good).is_ok(), "{good}");
        }
        for bad in [
            "ab",
            "ABC",
            "a..b",
            "-ab",
            "ab-",
            "192.168.1.1",
            "a_b",
            &"a".repeat(64),
        ] {
            assert!(validate_s3_bucket_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ports_are_stripped_by_one_rule() {
        for (authority, host) in [
            ("[::1]:9000", "[::1]"),
            ("[::1]", "[::1]"),
            ("[::1", "[::1"),
            ("::1", "::1"),
            ("127.0.0.1:80", "127.0.0.1"),
            ("example.com", "example.com"),
            ("example.com:", "example.com"),
            ("", ""),
            // Not a port: kept whole (found by the `names` fuzz target, where the COS
            // verifier and addressing disagreed about it).
            ("b.cos.r.myqcloud.com:abc", "b.cos.r.myqcloud.com:abc"),
            ("h:90\u{fffd}00", "h:90\u{fffd}00"),
        ] {
            assert_eq!(host_without_port_str(authority), host, "{authority}");
            assert_eq!(host_without_port(authority.as_bytes()), host.as_bytes());
        }
    }

    #[test]
    fn keys_parts_classes() {
        assert_eq!(validate_object_key(""), Err(ErrorCode::InvalidURI));
        assert_eq!(
            validate_object_key(&"k".repeat(1025)),
            Err(ErrorCode::KeyTooLong)
        );
        assert!(validate_object_key("a/b/").is_ok());
        assert_eq!(parse_part_number("1"), Ok(1));
        assert_eq!(parse_part_number("10000"), Ok(10000));
        assert!(parse_part_number("0").is_err());
        assert!(parse_part_number("10001").is_err());
        assert!(parse_part_number("x").is_err());
        assert_eq!(parse_storage_class("Standard_IA"), Ok("STANDARD_IA"));
        assert_eq!(parse_storage_class("archive"), Ok("ARCHIVE"));
        assert!(parse_storage_class("COLD").is_err());
    }
}

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

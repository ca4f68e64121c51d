//! Integrity values: CRC-64/XZ (`x-cos-hash-crc64ecma`), MD5 and ETags; the S3 flexible
//! checksums (`x-amz-checksum-*`) are in [`flexible`].

mod flexible;

pub use flexible::{
    checksum_value, combine_full_object, composite_digest, decode_checksum, encode_checksum,
    ChecksumAlgorithm, ChecksumType, FlexibleChecksum,
};

use base64::Engine as _;
use crc_fast::CrcAlgorithm;
use md5::{Digest as _, Md5};

/// Streaming CRC-64/XZ ("CRC64-ECMA" in COS headers), SIMD-accelerated.
#[derive(Clone)]
pub struct Crc64 {
    inner: crc_fast::Digest,
}

impl std::fmt::Debug for Crc64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crc64")
            .field("value", &self.value())
            .finish()
    }
}

impl Default for Crc64 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc64 {
    /// A CRC over no bytes yet.
    pub fn new() -> Self {
        Crc64 {
            inner: crc_fast::Digest::new(CrcAlgorithm::Crc64Xz),
        }
    }

    /// Feeds more bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// The CRC of everything fed so far.
    pub fn value(&self) -> u64 {
        self.inner.finalize()
    }
}

/// CRC-64/XZ of a byte slice.
pub fn crc64(data: &[u8]) -> u64 {
    crc_fast::checksum(CrcAlgorithm::Crc64Xz, data)
}

/// The CRC of `A ‖ B` from `crc(A)`, `crc(B)` and `len(B)`, without reading any data. This is
/// how multipart completion and append derive the whole object's CRC from its pieces.
pub fn crc64_combine(crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
    if len_b == 0 {
        return crc_a;
    }
    crc_fast::checksum_combine(CrcAlgorithm::Crc64Xz, crc_a, crc_b, len_b)
}

/// CRC-32 (IEEE, as zlib) used by event-stream framing and `x-amz-checksum-crc32`.
pub fn crc32(data: &[u8]) -> u32 {
    // The IEEE CRC-32 is 32 bits wide; the library returns it in a u64.
    (crc_fast::checksum(CrcAlgorithm::Crc32IsoHdlc, data) & 0xffff_ffff) as u32
}

/// The 16-byte MD5 of a slice.
pub fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

/// Quoted lower-case hex, the ETag of a simple object or a part: `"5eb63bbbe01eeed093cb22bb8f5acdc3"`.
pub fn etag_from_md5(md5: &[u8; 16]) -> String {
    format!("\"{}\"", hex::encode(md5))
}

/// The ETag of a completed multipart upload: MD5 of the concatenated binary part MD5s, then
/// `-<part count>`, quoted.
pub fn multipart_etag<'a>(part_md5s: impl IntoIterator<Item = &'a [u8; 16]>) -> String {
    let mut hasher = Md5::new();
    let mut count = 0usize;
    for part in part_md5s {
        hasher.update(part);
        count += 1;
    }
    format!("\"{}-{}\"", hex::encode(hasher.finalize()), count)
}

/// Why a `Content-MD5` header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentMd5Error {
    /// Not base64 of exactly 16 bytes (→ `InvalidDigest`).
    Invalid,
}

/// Decodes a `Content-MD5` header: base64 of the 16-byte binary MD5.
pub fn parse_content_md5(value: &str) -> Result<[u8; 16], ContentMd5Error> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| ContentMd5Error::Invalid)?;
    bytes.try_into().map_err(|_| ContentMd5Error::Invalid)
}

/// Strips surrounding quotes (and a weak `W/` prefix) from an ETag for comparison.
pub fn normalize_etag(etag: &str) -> &str {
    let etag = etag.trim();
    let etag = etag.strip_prefix("W/").unwrap_or(etag);
    etag.trim_matches('"')
}

/// Whether an `If-Match`/`If-None-Match` list matches an ETag (`*` matches anything).
pub fn etag_list_matches(list: &str, etag: &str) -> bool {
    let etag = normalize_etag(etag);
    list.split(',').any(|candidate| {
        let candidate = candidate.trim();
        candidate == "*" || normalize_etag(candidate) == etag
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_vectors() {
        assert_eq!(crc64(b""), 0);
        assert_eq!(crc64(b"123456789"), 11_051_210_869_376_104_954);
        assert_eq!(crc64(b"hello world"), 5_981_764_153_023_615_706);
        assert_eq!(crc64(&vec![b'a'; 1_048_576]), 6_701_094_182_323_390_671);
        let mut streaming = Crc64::new();
        streaming.update(b"hello ");
        streaming.update(b"world");
        assert_eq!(streaming.value(), 5_981_764_153_023_615_706);
    }

    #[test]
    fn crc64_combines() {
        let a = crc64(b"hello ");
        let b = crc64(b"world");
        assert_eq!(crc64_combine(a, b, 5), crc64(b"hello world"));
        assert_eq!(crc64_combine(a, 0, 0), a);
        assert_eq!(crc64_combine(0, crc64(b"abc"), 3), crc64(b"abc"));
    }

    #[test]
    fn etags() {
        assert_eq!(
            etag_from_md5(&md5(b"hello world")),
            "\"5eb63bbbe01eeed093cb22bb8f5acdc3\""
        );
        let a = md5(&vec![b'a'; 1_048_576]);
        let b = md5(&[b'b'; 10]);
        assert_eq!(
            multipart_etag([&a, &b]),
            "\"4075b7e9311da7fee8b3df13ccfc203c-2\""
        );
        assert_eq!(
            parse_content_md5("XrY7u+Ae7tCTyyK7j1rNww=="),
            Ok(md5(b"hello world"))
        );
        assert_eq!(parse_content_md5("abc"), Err(ContentMd5Error::Invalid));
        assert!(etag_list_matches("\"x\", \"abc\"", "\"abc\""));
        assert!(etag_list_matches("*", "\"abc\""));
        assert!(etag_list_matches("abc", "\"abc\""));
        assert!(!etag_list_matches("\"abd\"", "\"abc\""));
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }
}

//! Integrity values: CRC-64/XZ (`x-cos-hash-crc64ecma`), MD5 and ETags.

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

/// An S3 "flexible checksum" (`x-amz-checksum-<algorithm>`), computed while streaming.
#[derive(Clone)]
pub enum FlexibleChecksum {
    /// CRC-32 (IEEE).
    Crc32(crc_fast::Digest),
    /// CRC-32C (Castagnoli).
    Crc32c(crc_fast::Digest),
    /// CRC-64/NVME.
    Crc64Nvme(crc_fast::Digest),
    /// SHA-1.
    Sha1(sha1::Sha1),
    /// SHA-256.
    Sha256(sha2::Sha256),
}

impl std::fmt::Debug for FlexibleChecksum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.algorithm())
    }
}

impl FlexibleChecksum {
    /// The checksum named by an algorithm (`crc32`, `CRC32C`, `sha256`, …) or by its header
    /// name (`x-amz-checksum-crc32`).
    pub fn named(name: &str) -> Option<FlexibleChecksum> {
        let lower = name.trim().to_ascii_lowercase();
        let algorithm = lower.strip_prefix("x-amz-checksum-").unwrap_or(&lower);
        Some(match algorithm {
            "crc32" => FlexibleChecksum::Crc32(crc_fast::Digest::new(CrcAlgorithm::Crc32IsoHdlc)),
            "crc32c" => FlexibleChecksum::Crc32c(crc_fast::Digest::new(CrcAlgorithm::Crc32Iscsi)),
            "crc64nvme" => {
                FlexibleChecksum::Crc64Nvme(crc_fast::Digest::new(CrcAlgorithm::Crc64Nvme))
            }
            "sha1" => FlexibleChecksum::Sha1(sha1::Sha1::new()),
            "sha256" => FlexibleChecksum::Sha256(sha2::Sha256::new()),
            _ => return None,
        })
    }

    /// The algorithm's name as in header names, e.g. `crc32c`.
    pub fn algorithm(&self) -> &'static str {
        match self {
            FlexibleChecksum::Crc32(_) => "crc32",
            FlexibleChecksum::Crc32c(_) => "crc32c",
            FlexibleChecksum::Crc64Nvme(_) => "crc64nvme",
            FlexibleChecksum::Sha1(_) => "sha1",
            FlexibleChecksum::Sha256(_) => "sha256",
        }
    }

    /// The header carrying it, e.g. `x-amz-checksum-crc32c`.
    pub fn header_name(&self) -> String {
        format!("x-amz-checksum-{}", self.algorithm())
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            FlexibleChecksum::Crc32(d)
            | FlexibleChecksum::Crc32c(d)
            | FlexibleChecksum::Crc64Nvme(d) => d.update(data),
            FlexibleChecksum::Sha1(h) => sha1::Digest::update(h, data),
            FlexibleChecksum::Sha256(h) => sha2::Digest::update(h, data),
        }
    }

    /// The value as S3 writes it: base64 of the big-endian checksum bytes.
    pub fn finish_base64(&self) -> String {
        let engine = &base64::engine::general_purpose::STANDARD;
        match self {
            FlexibleChecksum::Crc32(d) | FlexibleChecksum::Crc32c(d) => {
                engine.encode(((d.finalize() & 0xffff_ffff) as u32).to_be_bytes())
            }
            FlexibleChecksum::Crc64Nvme(d) => engine.encode(d.finalize().to_be_bytes()),
            FlexibleChecksum::Sha1(h) => engine.encode(sha1::Digest::finalize(h.clone())),
            FlexibleChecksum::Sha256(h) => engine.encode(sha2::Digest::finalize(h.clone())),
        }
    }
}

#[cfg(test)]
mod flexible_tests {
    use super::*;

    #[test]
    fn flexible_checksum_vectors() {
        let value = |name: &str| {
            let mut c = FlexibleChecksum::named(name).expect("known");
            c.update(b"hello ");
            c.update(b"world");
            c.finish_base64()
        };
        assert_eq!(value("crc32"), "DUoRhQ==");
        assert_eq!(value("CRC32C"), "yZRlqg==");
        assert_eq!(value("x-amz-checksum-sha1"), "Kq5sNclPz7QV2+lfQIuc6R7oRu0=");
        assert_eq!(
            value("sha256"),
            "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="
        );
        assert!(FlexibleChecksum::named("md5").is_none());
    }
}

//! S3 "flexible checksums": the algorithms of `x-amz-checksum-<algorithm>`, their values
//! (base64 of the big-endian digest), and how a multipart object's checksum follows from its
//! parts' checksums without reading the data again:
//!
//! - **COMPOSITE** (any algorithm but CRC-64/NVME): the algorithm applied to the
//!   concatenated binary part digests, served as `<base64>-<part count>`;
//! - **FULL_OBJECT** (the CRCs only): the CRC of the whole object, combined from the part
//!   CRCs and part lengths (CRC combination over GF(2)), served as a plain value.

use base64::Engine as _;
use crc_fast::CrcAlgorithm;

/// A checksum algorithm of the S3 API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumAlgorithm {
    /// CRC-32 (IEEE, as zlib).
    Crc32,
    /// CRC-32C (Castagnoli).
    Crc32c,
    /// CRC-64/NVME, S3's default.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every supported algorithm, in the order S3 lists them.
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// The algorithm named `CRC32`, `crc32c`, … (any case), or by its header name
    /// (`x-amz-checksum-sha256`).
    pub fn parse(name: &str) -> Option<ChecksumAlgorithm> {
        let lower = name.trim().to_ascii_lowercase();
        let short = lower.strip_prefix("x-amz-checksum-").unwrap_or(&lower);
        ChecksumAlgorithm::ALL
            .into_iter()
            .find(|algorithm| algorithm.lower_name() == short)
    }

    /// The name as S3 writes it in values and XML: `CRC32`, `CRC64NVME`, `SHA256`.
    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// The name in lower case, as in header names and error messages: `crc32c`.
    pub fn lower_name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "crc32",
            ChecksumAlgorithm::Crc32c => "crc32c",
            ChecksumAlgorithm::Crc64Nvme => "crc64nvme",
            ChecksumAlgorithm::Sha1 => "sha1",
            ChecksumAlgorithm::Sha256 => "sha256",
        }
    }

    /// The header carrying a value: `x-amz-checksum-crc32c`.
    pub fn header_name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The XML element carrying a value: `ChecksumCRC32C`.
    pub fn xml_element(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "ChecksumCRC32",
            ChecksumAlgorithm::Crc32c => "ChecksumCRC32C",
            ChecksumAlgorithm::Crc64Nvme => "ChecksumCRC64NVME",
            ChecksumAlgorithm::Sha1 => "ChecksumSHA1",
            ChecksumAlgorithm::Sha256 => "ChecksumSHA256",
        }
    }

    /// Length of a binary digest in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
            ChecksumAlgorithm::Crc64Nvme => 8,
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 => 32,
        }
    }

    /// Whether the algorithm can make this kind of multipart checksum: FULL_OBJECT needs a
    /// CRC (they combine), and CRC-64/NVME is FULL_OBJECT only.
    pub fn supports(self, kind: ChecksumType) -> bool {
        match kind {
            ChecksumType::FullObject => self.crc().is_some(),
            ChecksumType::Composite => self != ChecksumAlgorithm::Crc64Nvme,
        }
    }

    /// The kind of multipart checksum an upload gets when it names only the algorithm:
    /// FULL_OBJECT for CRC-64/NVME, COMPOSITE for the others.
    pub fn default_type(self) -> ChecksumType {
        if self == ChecksumAlgorithm::Crc64Nvme {
            ChecksumType::FullObject
        } else {
            ChecksumType::Composite
        }
    }

    /// A streaming hasher for the algorithm.
    pub fn hasher(self) -> FlexibleChecksum {
        match self {
            ChecksumAlgorithm::Crc32 => {
                FlexibleChecksum::Crc32(crc_fast::Digest::new(CrcAlgorithm::Crc32IsoHdlc))
            }
            ChecksumAlgorithm::Crc32c => {
                FlexibleChecksum::Crc32c(crc_fast::Digest::new(CrcAlgorithm::Crc32Iscsi))
            }
            ChecksumAlgorithm::Crc64Nvme => {
                FlexibleChecksum::Crc64Nvme(crc_fast::Digest::new(CrcAlgorithm::Crc64Nvme))
            }
            ChecksumAlgorithm::Sha1 => FlexibleChecksum::Sha1(sha1::Digest::new()),
            ChecksumAlgorithm::Sha256 => FlexibleChecksum::Sha256(sha2::Digest::new()),
        }
    }

    /// The digest of a byte slice.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let mut hasher = self.hasher();
        hasher.update(data);
        hasher.finish()
    }

    /// The CRC the algorithm is, if it is one.
    fn crc(self) -> Option<CrcAlgorithm> {
        match self {
            ChecksumAlgorithm::Crc32 => Some(CrcAlgorithm::Crc32IsoHdlc),
            ChecksumAlgorithm::Crc32c => Some(CrcAlgorithm::Crc32Iscsi),
            ChecksumAlgorithm::Crc64Nvme => Some(CrcAlgorithm::Crc64Nvme),
            ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => None,
        }
    }
}

/// How a multipart object's checksum is derived from its parts (`x-amz-checksum-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumType {
    /// A checksum of the part checksums, `<base64>-<parts>`.
    Composite,
    /// The checksum of the whole object (single PUTs, and CRC multipart uploads).
    FullObject,
}

impl ChecksumType {
    /// `COMPOSITE` or `FULL_OBJECT` (exactly; S3 does not accept other spellings).
    pub fn parse(value: &str) -> Option<ChecksumType> {
        match value.trim() {
            "COMPOSITE" => Some(ChecksumType::Composite),
            "FULL_OBJECT" => Some(ChecksumType::FullObject),
            _ => None,
        }
    }

    /// The name as in headers and XML.
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumType::Composite => "COMPOSITE",
            ChecksumType::FullObject => "FULL_OBJECT",
        }
    }
}

/// Base64 (standard alphabet, padded) of a binary digest.
pub fn encode_checksum(digest: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// The binary digest a client sent as base64, if it is exactly one digest of `algorithm`.
pub fn decode_checksum(algorithm: ChecksumAlgorithm, value: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .filter(|digest| digest.len() == algorithm.digest_len())
}

/// A checksum as served: base64 of the digest, with `-<parts>` for a composite one.
pub fn checksum_value(digest: &[u8], kind: ChecksumType, parts: u32) -> String {
    match kind {
        ChecksumType::FullObject => encode_checksum(digest),
        ChecksumType::Composite => format!("{}-{parts}", encode_checksum(digest)),
    }
}

/// The COMPOSITE checksum's digest: `algorithm` over the concatenated binary part digests.
pub fn composite_digest<'a>(
    algorithm: ChecksumAlgorithm,
    part_digests: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<u8> {
    let mut hasher = algorithm.hasher();
    for digest in part_digests {
        hasher.update(digest);
    }
    hasher.finish()
}

/// The FULL_OBJECT CRC of `A ‖ B` from the CRC digests of `A` and `B` and the length of
/// `B`, without reading any data; `None` if the algorithm is not a CRC or a digest has the
/// wrong length.
pub fn combine_full_object(
    algorithm: ChecksumAlgorithm,
    first: &[u8],
    second: &[u8],
    second_len: u64,
) -> Option<Vec<u8>> {
    let crc = algorithm.crc()?;
    let a = crc_from_digest(first, algorithm.digest_len())?;
    let b = crc_from_digest(second, algorithm.digest_len())?;
    let combined = if second_len == 0 {
        a
    } else {
        crc_fast::checksum_combine(crc, a, b, second_len)
    };
    Some(crc_to_digest(combined, algorithm.digest_len()))
}

/// A CRC's big-endian digest bytes as a number.
fn crc_from_digest(digest: &[u8], len: usize) -> Option<u64> {
    if digest.len() != len {
        return None;
    }
    Some(
        digest
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
    )
}

/// A CRC as its big-endian digest of `len` bytes (4 for the CRC-32s, 8 for CRC-64).
fn crc_to_digest(value: u64, len: usize) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    bytes.get(8 - len..).unwrap_or(&bytes).to_vec()
}

/// An S3 flexible checksum (`x-amz-checksum-<algorithm>`), computed while streaming.
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
        ChecksumAlgorithm::parse(name).map(ChecksumAlgorithm::hasher)
    }

    /// The algorithm computed.
    pub fn kind(&self) -> ChecksumAlgorithm {
        match self {
            FlexibleChecksum::Crc32(_) => ChecksumAlgorithm::Crc32,
            FlexibleChecksum::Crc32c(_) => ChecksumAlgorithm::Crc32c,
            FlexibleChecksum::Crc64Nvme(_) => ChecksumAlgorithm::Crc64Nvme,
            FlexibleChecksum::Sha1(_) => ChecksumAlgorithm::Sha1,
            FlexibleChecksum::Sha256(_) => ChecksumAlgorithm::Sha256,
        }
    }

    /// The algorithm's name as in header names, e.g. `crc32c`.
    pub fn algorithm(&self) -> &'static str {
        self.kind().lower_name()
    }

    /// The header carrying it, e.g. `x-amz-checksum-crc32c`.
    pub fn header_name(&self) -> String {
        self.kind().header_name().to_string()
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

    /// The binary digest of everything fed so far (big-endian for the CRCs).
    pub fn finish(&self) -> Vec<u8> {
        match self {
            FlexibleChecksum::Crc32(d) | FlexibleChecksum::Crc32c(d) => {
                crc_to_digest(d.finalize(), 4)
            }
            FlexibleChecksum::Crc64Nvme(d) => crc_to_digest(d.finalize(), 8),
            FlexibleChecksum::Sha1(h) => sha1::Digest::finalize(h.clone()).to_vec(),
            FlexibleChecksum::Sha256(h) => sha2::Digest::finalize(h.clone()).to_vec(),
        }
    }

    /// The value as S3 writes it: base64 of the big-endian checksum bytes.
    pub fn finish_base64(&self) -> String {
        encode_checksum(&self.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(algorithm: ChecksumAlgorithm, data: &[u8]) -> String {
        encode_checksum(&algorithm.digest(data))
    }

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
        // 1 KiB of 'A' (the Ceph s3-tests values).
        let a = vec![b'A'; 1024];
        assert_eq!(b64(ChecksumAlgorithm::Crc64Nvme, &a), "Qeh8oXvGiSo=");
        assert_eq!(
            b64(ChecksumAlgorithm::Sha256, &a),
            "arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0="
        );
        // The CRC-64/NVME check value (the CRC of "123456789").
        assert_eq!(
            ChecksumAlgorithm::Crc64Nvme.digest(b"123456789"),
            0xae8b_1486_0a79_9888u64.to_be_bytes()
        );
    }

    #[test]
    fn names_and_types() {
        for algorithm in ChecksumAlgorithm::ALL {
            assert_eq!(ChecksumAlgorithm::parse(algorithm.name()), Some(algorithm));
            assert_eq!(
                ChecksumAlgorithm::parse(algorithm.header_name()),
                Some(algorithm)
            );
            assert_eq!(algorithm.digest(b"x").len(), algorithm.digest_len());
            assert_eq!(algorithm.hasher().kind(), algorithm);
        }
        assert_eq!(ChecksumAlgorithm::parse("md5"), None);
        assert!(!ChecksumAlgorithm::Sha1.supports(ChecksumType::FullObject));
        assert!(!ChecksumAlgorithm::Crc64Nvme.supports(ChecksumType::Composite));
        assert!(ChecksumAlgorithm::Crc32.supports(ChecksumType::FullObject));
        assert!(ChecksumAlgorithm::Crc32.supports(ChecksumType::Composite));
        assert_eq!(
            ChecksumAlgorithm::Crc64Nvme.default_type(),
            ChecksumType::FullObject
        );
        assert_eq!(
            ChecksumAlgorithm::Crc32.default_type(),
            ChecksumType::Composite
        );
        assert_eq!(
            ChecksumType::parse("FULL_OBJECT"),
            Some(ChecksumType::FullObject)
        );
        assert_eq!(ChecksumType::parse("composite"), None);
        let digest = ChecksumAlgorithm::Crc32.digest(b"x");
        assert_eq!(
            decode_checksum(ChecksumAlgorithm::Crc32, &encode_checksum(&digest)),
            Some(digest)
        );
        assert_eq!(
            decode_checksum(ChecksumAlgorithm::Crc64Nvme, "DUoRhQ=="),
            None
        );
        assert_eq!(decode_checksum(ChecksumAlgorithm::Crc32, "bad"), None);
    }

    /// Full-object CRCs combined from parts equal the CRC of the concatenation, for every
    /// CRC, every split (including empty pieces) and several part counts.
    #[test]
    fn full_object_crcs_combine_like_a_direct_crc() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for algorithm in [
            ChecksumAlgorithm::Crc32,
            ChecksumAlgorithm::Crc32c,
            ChecksumAlgorithm::Crc64Nvme,
        ] {
            for cuts in [
                vec![0, 10_000],
                vec![0, 1, 10_000],
                vec![0, 4096, 4096, 9999, 10_000],
                vec![0, 3, 17, 5000, 10_000],
            ] {
                let mut combined: Option<Vec<u8>> = None;
                for piece in cuts.windows(2) {
                    let bytes = &data[piece[0]..piece[1]];
                    let digest = algorithm.digest(bytes);
                    combined = Some(match combined {
                        None => digest,
                        Some(so_far) => {
                            combine_full_object(algorithm, &so_far, &digest, bytes.len() as u64)
                                .expect("a CRC")
                        }
                    });
                }
                assert_eq!(
                    combined,
                    Some(algorithm.digest(&data)),
                    "{algorithm:?} {cuts:?}"
                );
            }
        }
        assert_eq!(
            combine_full_object(ChecksumAlgorithm::Sha1, &[0; 20], &[0; 20], 1),
            None
        );
    }

    /// Three parts of 5 MiB of 'A', 'B', 'C': the values the Ceph s3-tests check, for the
    /// full-object CRCs and the SHA composites.
    #[test]
    fn multipart_values_of_the_conformance_suite() {
        let parts: Vec<Vec<u8>> = [b'A', b'B', b'C']
            .iter()
            .map(|c| vec![*c; 5 << 20])
            .collect();
        let full = |algorithm: ChecksumAlgorithm| {
            let digests: Vec<Vec<u8>> = parts.iter().map(|p| algorithm.digest(p)).collect();
            let mut combined = digests[0].clone();
            for (digest, part) in digests.iter().zip(&parts).skip(1) {
                combined = combine_full_object(algorithm, &combined, digest, part.len() as u64)
                    .expect("a CRC");
            }
            (
                digests
                    .iter()
                    .map(|d| encode_checksum(d))
                    .collect::<Vec<_>>(),
                checksum_value(&combined, ChecksumType::FullObject, 3),
            )
        };
        assert_eq!(
            full(ChecksumAlgorithm::Crc32),
            (
                vec!["JRTCyQ==".into(), "QoZTGg==".into(), "YAgjqw==".into()],
                "WgDhBQ==".to_string()
            )
        );
        assert_eq!(full(ChecksumAlgorithm::Crc32c).1, "xU+Krw==");
        assert_eq!(
            full(ChecksumAlgorithm::Crc64Nvme),
            (
                vec![
                    "L/E4WYn8v98=".into(),
                    "xW1l19VobYM=".into(),
                    "cK5MnNaWrW4=".into()
                ],
                "i+6LR0y3eFo=".to_string()
            )
        );
        let composite = |algorithm: ChecksumAlgorithm| {
            let digests: Vec<Vec<u8>> = parts.iter().map(|p| algorithm.digest(p)).collect();
            let digest = composite_digest(algorithm, digests.iter().map(Vec::as_slice));
            checksum_value(&digest, ChecksumType::Composite, 3)
        };
        assert_eq!(
            composite(ChecksumAlgorithm::Sha256),
            "uWBwpe1dxI4Vw8Gf0X9ynOdw/SS6VBzfWm9giiv1sf4=-3"
        );
        assert_eq!(
            composite(ChecksumAlgorithm::Sha1),
            "sizjvY4eud3MrcHdZM3cQ/ol39o=-3"
        );
        let one = ChecksumAlgorithm::Sha256.digest(&[b'A'; 1024]);
        assert_eq!(
            checksum_value(
                &composite_digest(ChecksumAlgorithm::Sha256, [one.as_slice()]),
                ChecksumType::Composite,
                1
            ),
            "Ok6Cs5b96ux6+MWQkJO7UBT5sKPBeXBLwvj/hK89smg=-1"
        );
    }
}

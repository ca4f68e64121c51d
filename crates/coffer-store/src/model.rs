//! The records the store persists: accounts, buckets, object versions, uploads and parts.
//!
//! Every record is written with a leading format-version byte (see [`crate::codec`]) so that
//! later releases can migrate old data instead of misreading it; the older formats and how
//! they are read are in [`crate::migrate`].

use coffer_proto::checksum::{checksum_value, ChecksumAlgorithm, ChecksumType};
use serde::{Deserialize, Serialize};

/// A blob's identity: 128 random bits, written as 32 hex digits in file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BlobId(pub u128);

impl BlobId {
    /// A fresh random id.
    pub fn random() -> BlobId {
        BlobId(rand::random())
    }

    /// 32 lower-case hex digits.
    pub fn to_hex(self) -> String {
        format!("{:032x}", self.0)
    }

    /// Parses 32 hex digits.
    pub fn from_hex(s: &str) -> Option<BlobId> {
        if s.len() != 32 {
            return None;
        }
        u128::from_str_radix(s, 16).ok().map(BlobId)
    }
}

/// A byte range of an immutable blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extent {
    /// The blob holding the bytes.
    pub blob: BlobId,
    /// First byte within the blob.
    pub offset: u64,
    /// Number of bytes.
    pub len: u64,
}

/// Where an object's (or part's) bytes are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataLocation {
    /// Small data kept in the metadata engine under this id.
    Inline(u128),
    /// Concatenation of these extents, in order.
    Extents(Vec<Extent>),
}

impl DataLocation {
    /// The blobs this location references (with repetition).
    pub fn blobs(&self) -> impl Iterator<Item = BlobId> + '_ {
        let extents: &[Extent] = match self {
            DataLocation::Inline(_) => &[],
            DataLocation::Extents(extents) => extents,
        };
        extents.iter().map(|e| e.blob)
    }
}

/// An account: who may sign requests and what it owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// SecretId / access key id.
    pub secret_id: String,
    /// SecretKey.
    pub secret_key: String,
    /// Tencent APPID (decimal digits); bucket names of COS clients end in `-<appid>`.
    pub appid: String,
    /// The account's uin; its owner id is `qcs::cam::uin/<uin>:uin/<uin>`.
    pub uin: String,
    /// Milliseconds since the epoch.
    pub created_ms: i64,
    /// Whether the account may manage other accounts through the admin API.
    pub admin: bool,
}

impl AccountRecord {
    /// The COS owner id, `qcs::cam::uin/<uin>:uin/<uin>`.
    pub fn owner_id(&self) -> String {
        format!("qcs::cam::uin/{0}:uin/{0}", self.uin)
    }
}

/// A canned ACL or explicit grants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acl {
    /// `private`, `public-read`, `public-read-write`, `default` (objects), or empty.
    pub canned: String,
    /// Explicit grants as (permission, grantee) pairs, e.g. (`READ`, `id="100000000001"`).
    pub grants: Vec<(String, String)>,
}

/// A bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketRecord {
    /// Full bucket name.
    pub name: String,
    /// Internal numeric id, the prefix of the bucket's keys in the metadata engine.
    pub id: u64,
    /// The owning account's uin.
    pub owner_uin: String,
    /// Region the bucket was created in.
    pub region: String,
    /// Milliseconds since the epoch.
    pub created_ms: i64,
    /// The bucket ACL.
    pub acl: Acl,
}

/// The HTTP content headers stored with an object and returned on GET/HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentHeaders {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Expires`.
    pub expires: Option<String>,
}

/// Everything a client sets on an object besides its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectAttributes {
    /// Content headers.
    pub content: ContentHeaders,
    /// User metadata: lower-case names without the vendor prefix (`author` for
    /// `x-cos-meta-author`), raw byte values.
    pub user_metadata: Vec<(String, Vec<u8>)>,
    /// Canonical storage class, e.g. `STANDARD`.
    pub storage_class: String,
    /// The object ACL.
    pub acl: Acl,
}

/// How an object came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectKind {
    /// A single PUT or a copy of one.
    Normal,
    /// A completed multipart upload.
    Multipart,
    /// Created by APPEND.
    Appendable,
}

/// One version of an object: its metadata and where its bytes are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectVersion {
    /// Version id; `None` for the null version of an unversioned bucket.
    pub version_id: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Quoted ETag as served.
    pub etag: String,
    /// CRC-64/XZ of the whole object.
    pub crc64: u64,
    /// Milliseconds since the epoch.
    pub last_modified_ms: i64,
    /// Normal, multipart or appendable.
    pub kind: ObjectKind,
    /// Content headers, metadata, class and ACL.
    pub attributes: ObjectAttributes,
    /// The owning account's uin.
    pub owner_uin: String,
    /// The bytes.
    pub data: DataLocation,
    /// For a completed multipart upload, its parts in order (empty for other objects, and
    /// for multipart objects completed before parts were recorded: see
    /// [`ObjectVersion::part_count`]).
    pub parts: Vec<ObjectPart>,
    /// The S3 flexible checksum (`x-amz-checksum-*`), if the object has one (objects written
    /// before checksums were recorded have none).
    pub checksum: Option<ObjectChecksum>,
}

impl ObjectVersion {
    /// The number of parts of a multipart object: its recorded parts, or for an object
    /// completed before parts were recorded, the `-N` of its ETag. `None` for other objects.
    pub fn part_count(&self) -> Option<u32> {
        if self.kind != ObjectKind::Multipart {
            return None;
        }
        if !self.parts.is_empty() {
            return u32::try_from(self.parts.len()).ok();
        }
        self.etag
            .trim_matches('"')
            .rsplit_once('-')
            .and_then(|(_, count)| count.parse().ok())
    }

    /// The part numbered `part_number` (as completed: numbers may have gaps) and the offset
    /// of its first byte in the object.
    pub fn part(&self, part_number: u32) -> Option<(&ObjectPart, u64)> {
        let mut offset = 0;
        for part in &self.parts {
            if part.part_number == part_number {
                return Some((part, offset));
            }
            offset += part.size;
        }
        None
    }
}

/// One part of a completed multipart object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectPart {
    /// The number it was uploaded and completed with (1..=10000).
    pub part_number: u32,
    /// Size in bytes.
    pub size: u64,
    /// Its binary digest in the object's checksum algorithm, when the object has one.
    pub checksum: Option<Vec<u8>>,
}

/// An object's flexible checksum. The algorithm is persisted by name, so the order of
/// [`ChecksumAlgorithm`]'s variants never changes what a record means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectChecksum {
    /// The algorithm.
    #[serde(with = "algorithm_by_name")]
    pub algorithm: ChecksumAlgorithm,
    /// Full-object, or composite of the part checksums.
    #[serde(with = "type_by_name")]
    pub kind: ChecksumType,
    /// The binary digest (for a composite checksum, the digest of the part digests).
    pub digest: Vec<u8>,
    /// For a composite checksum, how many parts it was made from (its `-N`).
    pub parts: u32,
}

impl ObjectChecksum {
    /// The full-object checksum `digest` of `algorithm` (single PUTs).
    pub fn full_object(algorithm: ChecksumAlgorithm, digest: Vec<u8>) -> ObjectChecksum {
        ObjectChecksum {
            algorithm,
            kind: ChecksumType::FullObject,
            digest,
            parts: 0,
        }
    }

    /// The value as served in `x-amz-checksum-<algorithm>`: base64, with `-N` when composite.
    pub fn value(&self) -> String {
        checksum_value(&self.digest, self.kind, self.parts)
    }
}

/// The checksum a multipart upload computes for its parts and the object it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadChecksum {
    /// The algorithm.
    #[serde(with = "algorithm_by_name")]
    pub algorithm: ChecksumAlgorithm,
    /// How the object's checksum is derived from the parts'.
    #[serde(with = "type_by_name")]
    pub kind: ChecksumType,
    /// Whether the client chose it (`x-amz-checksum-algorithm`); `false` for the default
    /// CRC-64/NVME every other upload gets, which parts need not carry and which is not
    /// echoed as the upload's algorithm.
    pub requested: bool,
}

/// Serde for a [`ChecksumAlgorithm`] as its name (`CRC32C`).
mod algorithm_by_name {
    use coffer_proto::checksum::ChecksumAlgorithm;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        algorithm: &ChecksumAlgorithm,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(algorithm.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<ChecksumAlgorithm, D::Error> {
        let name = String::deserialize(deserializer)?;
        ChecksumAlgorithm::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown checksum algorithm {name}")))
    }
}

/// Serde for a [`ChecksumType`] as its name (`FULL_OBJECT`).
mod type_by_name {
    use coffer_proto::checksum::ChecksumType;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(kind: &ChecksumType, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(kind.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<ChecksumType, D::Error> {
        let name = String::deserialize(deserializer)?;
        ChecksumType::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown checksum type {name}")))
    }
}

/// An in-progress multipart upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    /// The upload id (sorts by initiation time).
    pub upload_id: String,
    /// The object key.
    pub key: String,
    /// Milliseconds since the epoch.
    pub initiated_ms: i64,
    /// The attributes the completed object will carry.
    pub attributes: ObjectAttributes,
    /// Who initiated it.
    pub owner_uin: String,
    /// The checksum its parts and object get (`None` for uploads begun before checksums
    /// were recorded).
    pub checksum: Option<UploadChecksum>,
}

/// One uploaded part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    /// 1..=10000.
    pub part_number: u32,
    /// Size in bytes.
    pub size: u64,
    /// Binary MD5 of the part.
    pub md5: [u8; 16],
    /// CRC-64/XZ of the part.
    pub crc64: u64,
    /// Milliseconds since the epoch.
    pub last_modified_ms: i64,
    /// The part's bytes.
    pub extents: Vec<Extent>,
    /// Its binary digest in the upload's checksum algorithm (`None` for parts uploaded
    /// before checksums were recorded).
    pub checksum: Option<Vec<u8>>,
}

impl PartRecord {
    /// The part's quoted ETag.
    pub fn etag(&self) -> String {
        coffer_proto::checksum::etag_from_md5(&self.md5)
    }
}

/// A part of a completed upload: its number and binary MD5 (its ETag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedPart {
    /// Part number.
    pub part_number: u32,
    /// Binary MD5 of the part.
    pub md5: [u8; 16],
}

/// The receipt of a completed multipart upload, written in the completion's own metadata
/// transaction and kept until `expires_ms`, so that a completion sent again (a client whose
/// first answer was lost retries) gets the same answer instead of `NoSuchUpload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedUpload {
    /// The upload id.
    pub upload_id: String,
    /// The object key.
    pub key: String,
    /// The parts the completion named, in order.
    pub parts: Vec<CompletedPart>,
    /// Quoted multipart ETag of the object made.
    pub etag: String,
    /// CRC-64/XZ of the object made.
    pub crc64: u64,
    /// Size of the object made.
    pub size: u64,
    /// Milliseconds since the epoch.
    pub completed_ms: i64,
    /// When the receipt stops answering retries and may be pruned (milliseconds since the
    /// epoch).
    pub expires_ms: i64,
    /// The flexible checksum of the object made, if it has one.
    pub checksum: Option<ObjectChecksum>,
}

impl CompletedUpload {
    /// Whether the receipt still answers retries at `now_ms`.
    pub fn is_live(&self, now_ms: i64) -> bool {
        now_ms < self.expires_ms
    }

    /// Whether a completion naming `requested` (part number, ETag as the client sent it) names
    /// exactly these parts. ETags are compared normalised (quotes and `W/` ignored), as the
    /// first completion compared them.
    pub fn names_same_parts<'a>(
        &self,
        requested: impl ExactSizeIterator<Item = (u32, &'a str)>,
    ) -> bool {
        use coffer_proto::checksum::{etag_from_md5, normalize_etag};
        requested.len() == self.parts.len()
            && requested.zip(&self.parts).all(|((number, etag), part)| {
                number == part.part_number
                    && normalize_etag(etag) == normalize_etag(&etag_from_md5(&part.md5))
            })
    }
}

/// Preconditions on the current version that a write checks atomically with the write
/// (`If-Match` / `If-None-Match` on PUT). Lists are ETag lists; `*` matches any version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteCondition {
    /// The current version must exist with one of these ETags.
    pub if_match: Option<String>,
    /// The current version must not exist with one of these ETags (`*`: must not exist).
    pub if_none_match: Option<String>,
}

impl WriteCondition {
    /// Whether the write is unconditional.
    pub fn is_none(&self) -> bool {
        self.if_match.is_none() && self.if_none_match.is_none()
    }

    /// Whether the condition holds given the current version's ETag.
    pub fn holds(&self, current_etag: Option<&str>) -> bool {
        self.check(current_etag).is_ok()
    }

    /// Checks the condition against the current version's ETag, saying why it fails: an
    /// `If-Match` with no current version to match is [`ConditionFailure::NoCurrentVersion`]
    /// (S3 answers 404 `NoSuchKey`), any other failure [`ConditionFailure::Mismatch`] (412).
    pub fn check(&self, current_etag: Option<&str>) -> Result<(), ConditionFailure> {
        use coffer_proto::checksum::etag_list_matches;
        match (&self.if_match, current_etag) {
            (Some(_), None) => return Err(ConditionFailure::NoCurrentVersion),
            (Some(list), Some(etag)) if !etag_list_matches(list, etag) => {
                return Err(ConditionFailure::Mismatch)
            }
            _ => {}
        }
        match (&self.if_none_match, current_etag) {
            (Some(list), Some(etag)) if etag_list_matches(list, etag) => {
                Err(ConditionFailure::Mismatch)
            }
            _ => Ok(()),
        }
    }
}

/// Why a [`WriteCondition`] does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionFailure {
    /// `If-Match` names a version, and the key has none.
    NoCurrentVersion,
    /// The current version's ETag is not what the condition asks for.
    Mismatch,
}

/// How a version is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// The version's extents reference blobs that already exist (a copy): each must still be
    /// referenced, else the write fails with `VersionReplaced` (the source was replaced or
    /// deleted meanwhile, and the caller may look it up again).
    pub shares_blobs: bool,
    /// A precondition on the current version.
    pub condition: WriteCondition,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_conditions() {
        let cond = |m: Option<&str>, n: Option<&str>| WriteCondition {
            if_match: m.map(str::to_string),
            if_none_match: n.map(str::to_string),
        };
        assert!(cond(None, None).holds(None));
        assert!(cond(None, Some("*")).holds(None));
        assert!(!cond(None, Some("*")).holds(Some("\"a\"")));
        assert!(cond(None, Some("\"b\"")).holds(Some("\"a\"")));
        assert!(!cond(None, Some("\"a\"")).holds(Some("\"a\"")));
        assert!(!cond(Some("*"), None).holds(None));
        assert!(cond(Some("\"a\""), None).holds(Some("\"a\"")));
        assert!(!cond(Some("\"b\""), None).holds(Some("\"a\"")));
        assert_eq!(
            cond(Some("\"a\""), None).check(None),
            Err(ConditionFailure::NoCurrentVersion)
        );
        assert_eq!(
            cond(Some("\"b\""), None).check(Some("\"a\"")),
            Err(ConditionFailure::Mismatch)
        );
        assert_eq!(
            cond(None, Some("*")).check(Some("\"a\"")),
            Err(ConditionFailure::Mismatch)
        );
    }

    #[test]
    fn completed_uploads_recognise_the_same_part_list() {
        let md5 = |b: u8| [b; 16];
        let receipt = CompletedUpload {
            upload_id: "u".into(),
            key: "k".into(),
            parts: vec![
                CompletedPart {
                    part_number: 1,
                    md5: md5(0xab),
                },
                CompletedPart {
                    part_number: 3,
                    md5: md5(0x01),
                },
            ],
            etag: "\"e-2\"".into(),
            crc64: 1,
            size: 2,
            completed_ms: 10,
            expires_ms: 20,
            checksum: Some(ObjectChecksum {
                algorithm: ChecksumAlgorithm::Sha256,
                kind: ChecksumType::Composite,
                digest: vec![7; 32],
                parts: 2,
            }),
        };
        let ab = "ab".repeat(16);
        let one = "01".repeat(16);
        let quoted = format!("\"{ab}\"");
        let same = |parts: &[(u32, &str)]| receipt.names_same_parts(parts.iter().copied());
        assert!(same(&[(1, &ab), (3, &one)]));
        assert!(same(&[(1, &quoted), (3, &format!("W/\"{one}\""))]));
        assert!(!same(&[(1, &ab)]));
        assert!(!same(&[(1, &ab), (2, &one)]));
        assert!(!same(&[(1, &ab), (3, &ab)]));
        assert!(!same(&[(1, &ab), (3, &one), (4, &one)]));
        assert!(receipt.is_live(19) && !receipt.is_live(20));
        let bytes = crate::codec::encode(&receipt).expect("encodes");
        assert_eq!(bytes[0], crate::codec::FORMAT_V2);
        assert_eq!(
            crate::codec::decode::<CompletedUpload>(&bytes).expect("decodes"),
            receipt
        );
        assert_eq!(
            receipt.checksum.map(|c| c.value()),
            Some("BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=-2".to_string())
        );
    }
}

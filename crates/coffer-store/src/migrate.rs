//! The persisted formats of every record type, the earlier shapes, and how a record written
//! by an earlier release is read by this one.
//!
//! Format 2 added the flexible checksums (object versions, uploads, parts, completion
//! receipts) and the part list of a completed multipart object. A format-1 record reads as
//! the same record without them: no checksum, and for a multipart object no recorded parts
//! (its part count still follows from its ETag, see
//! [`crate::model::ObjectVersion::part_count`]). Records are migrated when read and written
//! back in the current format only when they are next written.

use crate::codec::{body_of, Record, FORMAT_V1, FORMAT_V2};
use crate::error::StoreResult;
use crate::model::{
    AccountRecord, BucketRecord, CompletedPart, CompletedUpload, DataLocation, Extent,
    ObjectAttributes, ObjectKind, ObjectVersion, PartRecord, UploadRecord,
};
use serde::Deserialize;

impl Record for AccountRecord {
    const FORMAT: u8 = FORMAT_V1;
}

impl Record for BucketRecord {
    const FORMAT: u8 = FORMAT_V1;
}

impl Record for ObjectVersion {
    const FORMAT: u8 = FORMAT_V2;

    fn decode_older(format: u8, body: &[u8]) -> Option<StoreResult<Self>> {
        (format == FORMAT_V1).then(|| body_of::<ObjectVersionV1>(body).map(Into::into))
    }
}

impl Record for UploadRecord {
    const FORMAT: u8 = FORMAT_V2;

    fn decode_older(format: u8, body: &[u8]) -> Option<StoreResult<Self>> {
        (format == FORMAT_V1).then(|| body_of::<UploadRecordV1>(body).map(Into::into))
    }
}

impl Record for PartRecord {
    const FORMAT: u8 = FORMAT_V2;

    fn decode_older(format: u8, body: &[u8]) -> Option<StoreResult<Self>> {
        (format == FORMAT_V1).then(|| body_of::<PartRecordV1>(body).map(Into::into))
    }
}

impl Record for CompletedUpload {
    const FORMAT: u8 = FORMAT_V2;

    fn decode_older(format: u8, body: &[u8]) -> Option<StoreResult<Self>> {
        (format == FORMAT_V1).then(|| body_of::<CompletedUploadV1>(body).map(Into::into))
    }
}

/// [`ObjectVersion`] in format 1: without parts and checksum.
#[derive(Deserialize)]
struct ObjectVersionV1 {
    version_id: Option<String>,
    size: u64,
    etag: String,
    crc64: u64,
    last_modified_ms: i64,
    kind: ObjectKind,
    attributes: ObjectAttributes,
    owner_uin: String,
    data: DataLocation,
}

impl From<ObjectVersionV1> for ObjectVersion {
    fn from(v1: ObjectVersionV1) -> ObjectVersion {
        ObjectVersion {
            version_id: v1.version_id,
            size: v1.size,
            etag: v1.etag,
            crc64: v1.crc64,
            last_modified_ms: v1.last_modified_ms,
            kind: v1.kind,
            attributes: v1.attributes,
            owner_uin: v1.owner_uin,
            data: v1.data,
            parts: Vec::new(),
            checksum: None,
        }
    }
}

/// [`UploadRecord`] in format 1: without checksum.
#[derive(Deserialize)]
struct UploadRecordV1 {
    upload_id: String,
    key: String,
    initiated_ms: i64,
    attributes: ObjectAttributes,
    owner_uin: String,
}

impl From<UploadRecordV1> for UploadRecord {
    fn from(v1: UploadRecordV1) -> UploadRecord {
        UploadRecord {
            upload_id: v1.upload_id,
            key: v1.key,
            initiated_ms: v1.initiated_ms,
            attributes: v1.attributes,
            owner_uin: v1.owner_uin,
            checksum: None,
        }
    }
}

/// [`PartRecord`] in format 1: without checksum.
#[derive(Deserialize)]
struct PartRecordV1 {
    part_number: u32,
    size: u64,
    md5: [u8; 16],
    crc64: u64,
    last_modified_ms: i64,
    extents: Vec<Extent>,
}

impl From<PartRecordV1> for PartRecord {
    fn from(v1: PartRecordV1) -> PartRecord {
        PartRecord {
            part_number: v1.part_number,
            size: v1.size,
            md5: v1.md5,
            crc64: v1.crc64,
            last_modified_ms: v1.last_modified_ms,
            extents: v1.extents,
            checksum: None,
        }
    }
}

/// [`CompletedUpload`] in format 1: without checksum.
#[derive(Deserialize)]
struct CompletedUploadV1 {
    upload_id: String,
    key: String,
    parts: Vec<CompletedPart>,
    etag: String,
    crc64: u64,
    size: u64,
    completed_ms: i64,
    expires_ms: i64,
}

impl From<CompletedUploadV1> for CompletedUpload {
    fn from(v1: CompletedUploadV1) -> CompletedUpload {
        CompletedUpload {
            upload_id: v1.upload_id,
            key: v1.key,
            parts: v1.parts,
            etag: v1.etag,
            crc64: v1.crc64,
            size: v1.size,
            completed_ms: v1.completed_ms,
            expires_ms: v1.expires_ms,
            checksum: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode, encode};
    use crate::model::{Acl, BlobId, ContentHeaders, ObjectChecksum, UploadChecksum};
    use coffer_proto::checksum::{ChecksumAlgorithm, ChecksumType};

    /// Records as the release before format 2 wrote them (its `codec::encode` of these
    /// values, captured byte for byte): a multipart object, an upload, a part, a receipt.
    const V1_OBJECT: &str = "01000f242230313233343536373839616263646566303132333435363738396162636465662d32222a80a0abfef96201010a746578742f706c61696e00000000000106617574686f7205616c696365085354414e444152440770726976617465000c313030303030303030303031010201000a020505";
    const V1_UPLOAD: &str = "010875706c6f61642d31016b80a0abfef962010a746578742f706c61696e00000000000106617574686f7205616c696365085354414e444152440770726976617465000c313030303030303030303031";
    const V1_PART: &str = "01030aabababababababababababababababab0782a0abfef9620101000a";
    const V1_RECEIPT: &str =
        "010875706c6f61642d31016b0103abababababababababababababababab0522652d3122070a0204";

    fn bytes(fixture: &str) -> Vec<u8> {
        hex::decode(fixture).expect("hex")
    }

    fn attributes() -> ObjectAttributes {
        ObjectAttributes {
            content: ContentHeaders {
                content_type: Some("text/plain".into()),
                ..Default::default()
            },
            user_metadata: vec![("author".into(), b"alice".to_vec())],
            storage_class: "STANDARD".into(),
            acl: Acl {
                canned: "private".into(),
                grants: vec![],
            },
        }
    }

    #[test]
    fn format_1_records_read_as_records_without_checksums() {
        let object: ObjectVersion = decode(&bytes(V1_OBJECT)).expect("object");
        assert_eq!(
            object,
            ObjectVersion {
                version_id: None,
                size: 15,
                etag: "\"0123456789abcdef0123456789abcdef-2\"".into(),
                crc64: 42,
                last_modified_ms: 1_700_000_000_000,
                kind: ObjectKind::Multipart,
                attributes: attributes(),
                owner_uin: "100000000001".into(),
                data: DataLocation::Extents(vec![
                    Extent {
                        blob: BlobId(1),
                        offset: 0,
                        len: 10
                    },
                    Extent {
                        blob: BlobId(2),
                        offset: 5,
                        len: 5
                    },
                ]),
                parts: vec![],
                checksum: None,
            }
        );
        // Its parts were not recorded, but their count follows from the ETag.
        assert_eq!(object.part_count(), Some(2));
        assert!(object.part(1).is_none());

        let upload: UploadRecord = decode(&bytes(V1_UPLOAD)).expect("upload");
        assert_eq!(upload.upload_id, "upload-1");
        assert_eq!(upload.attributes, attributes());
        assert_eq!(upload.checksum, None);

        let part: PartRecord = decode(&bytes(V1_PART)).expect("part");
        assert_eq!(
            (
                part.part_number,
                part.size,
                part.md5,
                part.crc64,
                part.checksum
            ),
            (3, 10, [0xab; 16], 7, None)
        );
        assert_eq!(part.extents.len(), 1);

        let receipt: CompletedUpload = decode(&bytes(V1_RECEIPT)).expect("receipt");
        assert_eq!(receipt.etag, "\"e-1\"");
        assert_eq!(receipt.parts.len(), 1);
        assert_eq!(receipt.checksum, None);
    }

    #[test]
    fn records_are_written_in_format_2_and_read_back() {
        let mut object: ObjectVersion = decode(&bytes(V1_OBJECT)).expect("object");
        object.checksum = Some(ObjectChecksum {
            algorithm: ChecksumAlgorithm::Crc32c,
            kind: ChecksumType::FullObject,
            digest: vec![1, 2, 3, 4],
            parts: 2,
        });
        object.parts = vec![
            crate::model::ObjectPart {
                part_number: 1,
                size: 10,
                checksum: Some(vec![9; 4]),
            },
            crate::model::ObjectPart {
                part_number: 7,
                size: 5,
                checksum: None,
            },
        ];
        let encoded = encode(&object).expect("encode");
        assert_eq!(encoded[0], FORMAT_V2);
        assert_eq!(decode::<ObjectVersion>(&encoded).expect("decode"), object);
        assert_eq!(
            object.part(7).map(|(p, offset)| (p.size, offset)),
            Some((5, 10))
        );

        let mut upload: UploadRecord = decode(&bytes(V1_UPLOAD)).expect("upload");
        upload.checksum = Some(UploadChecksum {
            algorithm: ChecksumAlgorithm::Sha256,
            kind: ChecksumType::Composite,
            requested: true,
        });
        let encoded = encode(&upload).expect("encode");
        assert_eq!(decode::<UploadRecord>(&encoded).expect("decode"), upload);
        // Accounts and buckets keep format 1.
        let bucket = BucketRecord {
            name: "b".into(),
            id: 1,
            owner_uin: "1".into(),
            region: "r".into(),
            created_ms: 0,
            acl: Acl::default(),
        };
        assert_eq!(encode(&bucket).expect("encode")[0], FORMAT_V1);
        // A format this release does not know is refused, not misread.
        let mut future = encoded.clone();
        future[0] = 3;
        assert!(decode::<UploadRecord>(&future).is_err());
    }
}

//! Multipart upload: initiate, upload part, upload part copy, list parts, complete, abort,
//! and list uploads.

use super::checksums::{
    push_checksum_headers, stated_object_checksum, upload_checksum, write_checksum_elements,
};
use super::copy::{checked_source, CopySourceChecks};
use super::object::{stage_payload, staged_etag, Staging};
use super::op::{Env, Op, OpRequest, StreamOp};
use super::{
    attributes_from_request, listing_text, parse_max, refuse_unsupported_headers, url_encoding,
    write_owner,
};
use crate::error::{checksum_type_mismatch, ApiError, ApiResult};
use crate::http::Response;
use crate::payload::Payload;
use coffer_proto::checksum::{encode_checksum, ChecksumAlgorithm, ChecksumType};
use coffer_proto::names::{parse_part_number, validate_object_key};
use coffer_proto::range::ByteRange;
use coffer_proto::xml::XmlWriter;
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::meta::{UploadEntry, UploadListQuery, UploadPage};
use coffer_store::model::{
    ObjectAttributes, ObjectChecksum, PartRecord, UploadChecksum, UploadRecord, WriteCondition,
};
use coffer_store::{CompletionChecks, RequestedPart};

/// The `uploadId` parameter (empty or absent: `NoSuchUpload`).
fn upload_id(req: &OpRequest<'_>) -> ApiResult<String> {
    match req.param("uploadId") {
        Some(id) if !id.is_empty() => Ok(id.to_string()),
        _ => Err(ErrorCode::NoSuchUpload.into()),
    }
}

/// The key and upload id a request on an upload names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRef {
    /// The object key.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
}

impl UploadRef {
    fn parse(req: &OpRequest<'_>) -> ApiResult<UploadRef> {
        let key = req.key()?.to_string();
        Ok(UploadRef {
            key,
            upload_id: upload_id(req)?,
        })
    }
}

/// What a CreateMultipartUpload asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateUploadInput {
    /// The key (valid).
    pub key: String,
    /// The object's attributes.
    pub attributes: ObjectAttributes,
    /// The checksum the upload computes.
    pub checksum: UploadChecksum,
}

/// A new upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateUploadOutput {
    /// The bucket name.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The new upload id.
    pub upload_id: String,
    /// Its checksum.
    pub checksum: UploadChecksum,
}

/// `POST /key?uploads`.
#[derive(Debug)]
pub struct CreateMultipartUpload;

impl Op for CreateMultipartUpload {
    type Input = CreateUploadInput;
    type Output<'a> = CreateUploadOutput;

    fn parse(req: &OpRequest<'_>) -> ApiResult<CreateUploadInput> {
        let key = req.key()?;
        validate_object_key(key)?;
        refuse_unsupported_headers(req)?;
        Ok(CreateUploadInput {
            key: key.to_string(),
            attributes: attributes_from_request(req)?,
            checksum: upload_checksum(req)?,
        })
    }

    async fn apply(env: &Env<'_>, input: CreateUploadInput) -> ApiResult<CreateUploadOutput> {
        let bucket = env.bucket()?;
        let upload = env
            .store
            .create_upload(
                bucket,
                &input.key,
                input.attributes,
                env.caller_uin(),
                input.checksum,
            )
            .await?;
        Ok(CreateUploadOutput {
            bucket: bucket.name.clone(),
            key: input.key,
            upload_id: upload.upload_id,
            checksum: input.checksum,
        })
    }

    fn render(output: CreateUploadOutput, dialect: Dialect) -> Response {
        let mut w = XmlWriter::new();
        w.open("InitiateMultipartUploadResult")
            .leaf("Bucket", &output.bucket)
            .leaf("Key", &output.key)
            .leaf("UploadId", &output.upload_id)
            .close("InitiateMultipartUploadResult");
        let mut response = Response::xml(200, w.finish());
        if output.checksum.requested && dialect == Dialect::S3 {
            response.push_header("x-amz-checksum-algorithm", output.checksum.algorithm.name());
            response.push_header("x-amz-checksum-type", output.checksum.kind.as_str());
        }
        response
    }
}

/// Which checksum a part must get, given the upload's and the one the client sends: the
/// upload's algorithm is the part's. A client may send none when the upload computes the
/// checksum itself (FULL_OBJECT, or the default), or another algorithm only to a default
/// upload; otherwise `400 InvalidRequest`, as S3. Returns the algorithm staging must
/// compute (`None` when the client's checksum, verified as the body streams, is the one).
fn part_checksum_plan(
    upload: Option<&UploadChecksum>,
    sent: Option<ChecksumAlgorithm>,
) -> ApiResult<Option<ChecksumAlgorithm>> {
    let Some(upload) = upload else {
        // An upload begun before checksums were recorded keeps none.
        return Ok(None);
    };
    match sent {
        Some(algorithm) if algorithm == upload.algorithm => Ok(None),
        Some(other) if upload.requested => {
            Err(checksum_type_mismatch(Some(upload.algorithm), Some(other)))
        }
        None if upload.requested && upload.kind == ChecksumType::Composite => {
            Err(checksum_type_mismatch(Some(upload.algorithm), None))
        }
        _ => Ok(Some(upload.algorithm)),
    }
}

/// What an UploadPart asks for (its body aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPartInput {
    /// Key and upload id.
    pub upload: UploadRef,
    /// 1 to 10000.
    pub part_number: u32,
    /// How the body is received.
    pub staging: Staging,
}

/// A stored part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPartOutput {
    /// The part's ETag.
    pub etag: String,
    /// CRC-64/XZ of the part (COS `x-cos-hash-crc64ecma`).
    pub crc64: u64,
    /// The checksum the client sent and the body was verified against.
    pub sent: Option<(ChecksumAlgorithm, Vec<u8>)>,
    /// The upload's checksum and the part's digest in it, when the client sent another (or
    /// none).
    pub own: Option<(UploadChecksum, Vec<u8>)>,
}

/// `PUT /key?partNumber&uploadId`.
#[derive(Debug)]
pub struct UploadPart;

impl StreamOp for UploadPart {
    type Input = UploadPartInput;
    type Output = UploadPartOutput;

    fn parse(req: &OpRequest<'_>) -> ApiResult<UploadPartInput> {
        let part_number = parse_part_number(req.param("partNumber").unwrap_or_default())?;
        let upload = UploadRef::parse(req)?;
        refuse_unsupported_headers(req)?;
        Ok(UploadPartInput {
            upload,
            part_number,
            staging: Staging::parse(req)?,
        })
    }

    async fn apply(
        env: &Env<'_>,
        input: UploadPartInput,
        payload: &mut Payload<'_, '_>,
    ) -> ApiResult<UploadPartOutput> {
        let bucket = env.bucket()?;
        let UploadRef { key, upload_id } = &input.upload;
        // Refuse early, before receiving a body destined for nothing.
        let upload = env.store.upload(bucket, key, upload_id).await?;
        let compute = part_checksum_plan(upload.checksum.as_ref(), payload.checksum_algorithm())?;
        let writer = env.store.part_writer(payload.length(), compute)?;
        let mut staged = stage_payload(input.staging, payload, writer).await?;
        let sent = payload.verified_checksum();
        if compute.is_none() {
            staged.checksum = sent.clone().filter(|_| upload.checksum.is_some());
        }
        let etag = staged_etag(&staged);
        let crc64 = staged.crc64;
        let part = env
            .store
            .put_part(bucket, key, upload_id, input.part_number, staged)
            .await?;
        let own = match (upload.checksum, part.checksum) {
            (Some(checksum), Some(digest))
                if sent.as_ref().map(|(a, _)| *a) != Some(checksum.algorithm) =>
            {
                Some((checksum, digest))
            }
            _ => None,
        };
        Ok(UploadPartOutput {
            etag,
            crc64,
            sent,
            own,
        })
    }

    fn render(output: UploadPartOutput, dialect: Dialect) -> Response {
        let mut response = Response::new(200).header("ETag", output.etag);
        if dialect == Dialect::Cos {
            response.push_header("x-cos-hash-crc64ecma", output.crc64.to_string());
        }
        // The checksum the client sent, and the part's own when it is in another algorithm.
        if let Some((algorithm, digest)) = &output.sent {
            response.push_header(algorithm.header_name(), encode_checksum(digest));
        }
        if let Some((checksum, digest)) = &output.own {
            push_checksum_headers(
                dialect,
                &mut response,
                checksum.algorithm,
                encode_checksum(digest),
                checksum.kind,
            );
        }
        response
    }
}

/// The `copy-source-range` of an UploadPartCopy: absent or empty (the whole source), or
/// `bytes=first-last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyRange {
    /// The whole source.
    Whole,
    /// `bytes=first-last`, both given.
    Bytes {
        /// First byte.
        first: u64,
        /// Last byte, inclusive.
        last: u64,
    },
    /// Another byte range form (`bytes=5-`, `bytes=-5`): answered `InvalidRange`.
    Unsupported,
}

/// What an UploadPartCopy asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPartCopyInput {
    /// Key and upload id.
    pub upload: UploadRef,
    /// 1 to 10000.
    pub part_number: u32,
    /// The bytes of the source.
    pub range: CopyRange,
    /// The `copy-source-If-*` conditions.
    pub source: CopySourceChecks,
}

/// A part copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPartCopyOutput {
    /// The part.
    pub part: PartRecord,
    /// The upload's checksum, if it has one.
    pub checksum: Option<UploadChecksum>,
}

/// `PUT /key?partNumber&uploadId` with a copy source.
#[derive(Debug)]
pub struct UploadPartCopy;

impl Op for UploadPartCopy {
    type Input = UploadPartCopyInput;
    type Output<'a> = UploadPartCopyOutput;

    fn parse(req: &OpRequest<'_>) -> ApiResult<UploadPartCopyInput> {
        let part_number = parse_part_number(req.param("partNumber").unwrap_or_default())?;
        let upload = UploadRef::parse(req)?;
        let range = match req
            .vendor_header("copy-source-range")
            .filter(|r| !r.is_empty())
        {
            None => CopyRange::Whole,
            Some(range) => match ByteRange::parse(range) {
                Some(ByteRange::FromTo {
                    first,
                    last: Some(last),
                }) => CopyRange::Bytes { first, last },
                Some(_) => CopyRange::Unsupported,
                None => {
                    return Err(ApiError::with_message(
                        ErrorCode::InvalidArgument,
                        "The copy-source-range value must be of the form bytes=first-last.",
                    ))
                }
            },
        };
        Ok(UploadPartCopyInput {
            upload,
            part_number,
            range,
            source: CopySourceChecks::parse(req),
        })
    }

    async fn apply(env: &Env<'_>, input: UploadPartCopyInput) -> ApiResult<UploadPartCopyOutput> {
        let bucket = env.bucket()?;
        let UploadRef { key, upload_id } = &input.upload;
        let upload = env.store.upload(bucket, key, upload_id).await?;
        let source = &checked_source(env, &input.source)?.version;
        let (start, len) = match input.range {
            CopyRange::Whole => (0, source.size),
            CopyRange::Bytes { first, last } if last < source.size => (first, last - first + 1),
            CopyRange::Bytes { .. } | CopyRange::Unsupported => {
                return Err(ApiError::new(ErrorCode::InvalidRange))
            }
        };
        let part = env
            .store
            .copy_part(
                bucket,
                key,
                upload_id,
                input.part_number,
                source,
                (start, len),
            )
            .await?;
        Ok(UploadPartCopyOutput {
            part,
            checksum: upload.checksum,
        })
    }

    fn render(output: UploadPartCopyOutput, dialect: Dialect) -> Response {
        let part = &output.part;
        let mut w = XmlWriter::new();
        w.open("CopyPartResult").leaf("ETag", &part.etag()).leaf(
            "LastModified",
            &coffer_proto::time::iso8601_millis(part.last_modified_ms),
        );
        write_part_checksum(dialect, &mut w, output.checksum.as_ref(), part);
        w.close("CopyPartResult");
        Response::xml(200, w.finish())
    }
}

/// What a ListParts asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPartsInput {
    /// Key and upload id.
    pub upload: UploadRef,
    /// `part-number-marker`: list parts after this one.
    pub marker: u32,
    /// `max-parts` (0–1000, default 1000).
    pub max: usize,
    /// `encoding-type=url`.
    pub url_encoded: bool,
}

/// A page of an upload's parts.
#[derive(Debug, Clone)]
pub struct ListPartsOutput {
    /// The bucket name.
    pub bucket: String,
    /// What was asked.
    pub input: ListPartsInput,
    /// The upload.
    pub upload: UploadRecord,
    /// The page.
    pub parts: Vec<PartRecord>,
    /// Whether more follow.
    pub truncated: bool,
}

/// `GET /key?uploadId`.
#[derive(Debug)]
pub struct ListParts;

impl Op for ListParts {
    type Input = ListPartsInput;
    type Output<'a> = ListPartsOutput;

    fn parse(req: &OpRequest<'_>) -> ApiResult<ListPartsInput> {
        let upload = UploadRef::parse(req)?;
        let marker = match req.param("part-number-marker") {
            None | Some("") => 0,
            Some(m) => m.trim().parse::<u32>().map_err(|_| {
                ApiError::with_message(
                    ErrorCode::InvalidArgument,
                    "part-number-marker is not a valid number.",
                )
            })?,
        };
        Ok(ListPartsInput {
            upload,
            marker,
            max: parse_max(req, "max-parts", 1000, 1000)?,
            url_encoded: url_encoding(req)?,
        })
    }

    async fn apply(env: &Env<'_>, input: ListPartsInput) -> ApiResult<ListPartsOutput> {
        let bucket = env.bucket()?;
        let UploadRef { key, upload_id } = &input.upload;
        let upload = env.store.upload(bucket, key, upload_id).await?;
        let (parts, truncated) = env
            .store
            .parts(bucket, key, upload_id, input.marker, input.max)
            .await?;
        Ok(ListPartsOutput {
            bucket: bucket.name.clone(),
            input,
            upload,
            parts,
            truncated,
        })
    }

    fn render(output: ListPartsOutput, dialect: Dialect) -> Response {
        let ListPartsOutput {
            bucket,
            input,
            upload,
            parts,
            truncated,
        } = &output;
        let encode = input.url_encoded;
        let mut w = XmlWriter::new();
        w.open("ListPartsResult").leaf("Bucket", bucket);
        if encode {
            w.leaf("EncodingType", "url");
        }
        w.leaf("Key", &listing_text(dialect, encode, &input.upload.key))
            .leaf("UploadId", &input.upload.upload_id);
        write_owner(&mut w, "Initiator", dialect, &upload.owner_uin);
        write_owner(&mut w, "Owner", dialect, &upload.owner_uin);
        w.leaf("StorageClass", &upload.attributes.storage_class);
        if let Some(checksum) = upload.checksum.filter(|c| c.requested) {
            if dialect == Dialect::S3 {
                w.leaf("ChecksumAlgorithm", checksum.algorithm.name())
                    .leaf("ChecksumType", checksum.kind.as_str());
            }
        }
        w.leaf("PartNumberMarker", &input.marker.to_string());
        let next = parts.last().map_or(input.marker, |p| p.part_number);
        w.leaf("NextPartNumberMarker", &next.to_string())
            .leaf("MaxParts", &input.max.to_string())
            .leaf("IsTruncated", if *truncated { "true" } else { "false" });
        for part in parts {
            w.open("Part")
                .leaf("PartNumber", &part.part_number.to_string())
                .leaf(
                    "LastModified",
                    &coffer_proto::time::iso8601_millis(part.last_modified_ms),
                )
                .leaf("ETag", &part.etag())
                .leaf("Size", &part.size.to_string());
            write_part_checksum(dialect, &mut w, upload.checksum.as_ref(), part);
            w.close("Part");
        }
        w.close("ListPartsResult");
        Response::xml(200, w.finish())
    }
}

/// Writes a part's `<ChecksumCRC32>` (…) into an S3 document.
fn write_part_checksum(
    dialect: Dialect,
    w: &mut XmlWriter,
    upload: Option<&UploadChecksum>,
    part: &PartRecord,
) {
    if let (Dialect::S3, Some(upload), Some(digest)) = (dialect, upload, &part.checksum) {
        w.leaf(upload.algorithm.xml_element(), &encode_checksum(digest));
    }
}

/// Parses a CompleteMultipartUpload body: a `<CompleteMultipartUpload>` root with at least
/// one `<Part>` (each with a numeric `<PartNumber>` and an `<ETag>`), part numbers strictly
/// ascending.
pub fn parse_complete(body: &[u8]) -> ApiResult<Vec<RequestedPart>> {
    let root = coffer_proto::xml::parse(body)?;
    if root.name != "CompleteMultipartUpload" {
        return Err(ErrorCode::MalformedXML.into());
    }
    let mut parts = Vec::new();
    for part in root.children_named("Part") {
        let number = part
            .child_text("PartNumber")
            .and_then(|n| n.trim().parse::<u32>().ok())
            .ok_or(ErrorCode::MalformedXML)?;
        let etag = part.child_text("ETag").ok_or(ErrorCode::MalformedXML)?;
        let checksum = ChecksumAlgorithm::ALL.into_iter().find_map(|algorithm| {
            part.child_text(algorithm.xml_element())
                .map(|value| (algorithm, value.trim().to_string()))
        });
        parts.push(RequestedPart {
            part_number: number,
            etag: etag.trim().to_string(),
            checksum,
        });
    }
    if parts.is_empty() {
        return Err(ApiError::with_message(
            ErrorCode::MalformedXML,
            "You must specify at least one part.",
        ));
    }
    if parts
        .windows(2)
        .any(|w| w[0].part_number >= w[1].part_number)
    {
        return Err(ErrorCode::InvalidPartOrder.into());
    }
    Ok(parts)
}

/// The conditional-write headers of a completion, checked atomically with its commit:
/// `If-Match` (an ETag list) and `If-None-Match`, which S3 accepts only as `*` (other values
/// answer 501, as S3 does).
fn completion_condition(req: &OpRequest<'_>) -> ApiResult<WriteCondition> {
    let if_none_match = req.header("if-none-match").map(str::trim);
    if if_none_match.is_some_and(|value| value != "*") {
        return Err(ApiError::with_message(
            ErrorCode::NotImplemented,
            "CompleteMultipartUpload accepts only If-None-Match: *.",
        ));
    }
    Ok(WriteCondition {
        if_match: req.header("if-match").map(str::to_string),
        if_none_match: if_none_match.map(str::to_string),
    })
}

/// What a completion asks for: its conditions and stated checksum, and the parts.
#[derive(Debug, Clone)]
pub struct Completion {
    /// Conditions and the stated object checksum.
    pub checks: CompletionChecks,
    /// The parts, ascending.
    pub parts: Vec<RequestedPart>,
}

/// What a CompleteMultipartUpload asks for.
#[derive(Debug, Clone)]
pub struct CompleteInput {
    /// Key and upload id.
    pub upload: UploadRef,
    /// The completion, or why the request cannot complete anything: S3 answers
    /// `NoSuchUpload` for an unknown upload before judging headers and document, so apply
    /// raises this error only once the upload is known to be completable.
    pub completion: ApiResult<Completion>,
}

/// A completed upload.
#[derive(Debug, Clone)]
pub struct CompleteOutput {
    /// The object's `<Location>` (COS: its host and key; S3: its path).
    pub location: String,
    /// The bucket name.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The object's ETag.
    pub etag: String,
    /// CRC-64/XZ of the object.
    pub crc64: u64,
    /// Its flexible checksum.
    pub checksum: Option<ObjectChecksum>,
}

/// `POST /key?uploadId`. Sent again with the same parts after it succeeded (a client whose
/// answer was lost retries), it answers the same document again.
#[derive(Debug)]
pub struct CompleteMultipartUpload;

impl Op for CompleteMultipartUpload {
    type Input = CompleteInput;
    type Output<'a> = CompleteOutput;

    fn parse(req: &OpRequest<'_>) -> ApiResult<CompleteInput> {
        let upload = UploadRef::parse(req)?;
        let completion = (|| {
            let condition = completion_condition(req)?;
            let (checksum, checksum_type) = stated_object_checksum(req)?;
            Ok(Completion {
                checks: CompletionChecks {
                    condition,
                    checksum,
                    checksum_type,
                },
                parts: parse_complete(req.body)?,
            })
        })();
        Ok(CompleteInput { upload, completion })
    }

    async fn apply(env: &Env<'_>, input: CompleteInput) -> ApiResult<CompleteOutput> {
        let bucket = env.bucket()?;
        let UploadRef { key, upload_id } = input.upload;
        env.store
            .check_completable(bucket, &key, &upload_id)
            .await?;
        let Completion { checks, parts } = input.completion?;
        let completed = env
            .store
            .complete_upload(
                bucket,
                &key,
                &upload_id,
                &parts,
                env.config.min_part_size,
                checks,
            )
            .await?;
        Ok(CompleteOutput {
            location: format!(
                "{}.cos.{}.myqcloud.com/{}",
                bucket.name, env.config.region, key
            ),
            bucket: bucket.name.clone(),
            key,
            etag: completed.etag,
            crc64: completed.crc64,
            checksum: completed.checksum,
        })
    }

    fn render(output: CompleteOutput, dialect: Dialect) -> Response {
        let location = match dialect {
            Dialect::Cos => output.location.clone(),
            Dialect::S3 => format!("/{}/{}", output.bucket, output.key),
        };
        let mut w = XmlWriter::new();
        w.open("CompleteMultipartUploadResult")
            .leaf("Location", &location)
            .leaf("Bucket", &output.bucket)
            .leaf("Key", &output.key)
            .leaf("ETag", &output.etag);
        if let Some(checksum) = &output.checksum {
            write_checksum_elements(dialect, &mut w, checksum);
        }
        w.close("CompleteMultipartUploadResult");
        let mut response = Response::xml(200, w.finish());
        if dialect == Dialect::Cos {
            response.push_header("x-cos-hash-crc64ecma", output.crc64.to_string());
        }
        response
    }
}

/// `DELETE /key?uploadId`.
#[derive(Debug)]
pub struct AbortMultipartUpload;

impl Op for AbortMultipartUpload {
    type Input = UploadRef;
    type Output<'a> = ();

    fn parse(req: &OpRequest<'_>) -> ApiResult<UploadRef> {
        UploadRef::parse(req)
    }

    async fn apply(env: &Env<'_>, upload: UploadRef) -> ApiResult<()> {
        env.store
            .abort_upload(env.bucket()?, &upload.key, &upload.upload_id)
            .await?;
        Ok(())
    }

    fn render((): (), _: Dialect) -> Response {
        Response::new(204)
    }
}

/// What a ListMultipartUploads asks for.
#[derive(Debug, Clone)]
pub struct ListUploadsInput {
    /// `prefix`, `delimiter`, `key-marker`, `upload-id-marker`, `max-uploads`.
    pub query: UploadListQuery,
    /// `encoding-type=url`.
    pub url_encoded: bool,
}

/// A page of uploads.
#[derive(Debug, Clone)]
pub struct ListUploadsOutput {
    /// The bucket name.
    pub bucket: String,
    /// What was asked.
    pub input: ListUploadsInput,
    /// The page.
    pub page: UploadPage,
}

/// `GET /?uploads`.
#[derive(Debug)]
pub struct ListMultipartUploads;

impl Op for ListMultipartUploads {
    type Input = ListUploadsInput;
    type Output<'a> = ListUploadsOutput;

    fn parse(req: &OpRequest<'_>) -> ApiResult<ListUploadsInput> {
        let url_encoded = url_encoding(req)?;
        let query = UploadListQuery {
            prefix: req.param("prefix").unwrap_or_default().to_string(),
            delimiter: req
                .param("delimiter")
                .filter(|d| !d.is_empty())
                .map(str::to_string),
            key_marker: req.param("key-marker").map(str::to_string),
            upload_id_marker: req.param("upload-id-marker").map(str::to_string),
            max_uploads: parse_max(req, "max-uploads", 1000, 1000)?,
        };
        Ok(ListUploadsInput { query, url_encoded })
    }

    async fn apply(env: &Env<'_>, input: ListUploadsInput) -> ApiResult<ListUploadsOutput> {
        let bucket = env.bucket()?;
        let page = env.store.list_uploads(bucket, &input.query).await?;
        Ok(ListUploadsOutput {
            bucket: bucket.name.clone(),
            input,
            page,
        })
    }

    fn render(output: ListUploadsOutput, dialect: Dialect) -> Response {
        let ListUploadsOutput {
            bucket,
            input: ListUploadsInput { query, url_encoded },
            page,
        } = &output;
        let text = |v: &str| listing_text(dialect, *url_encoded, v);
        let mut w = XmlWriter::new();
        w.open("ListMultipartUploadsResult").leaf("Bucket", bucket);
        if *url_encoded {
            w.leaf("EncodingType", "url");
        }
        w.leaf(
            "KeyMarker",
            &text(query.key_marker.as_deref().unwrap_or_default()),
        )
        .leaf(
            "UploadIdMarker",
            query.upload_id_marker.as_deref().unwrap_or_default(),
        );
        if page.is_truncated {
            w.leaf(
                "NextKeyMarker",
                &text(page.next_key_marker.as_deref().unwrap_or_default()),
            )
            .leaf(
                "NextUploadIdMarker",
                page.next_upload_id_marker.as_deref().unwrap_or_default(),
            );
        }
        w.leaf("MaxUploads", &query.max_uploads.to_string())
            .leaf("Prefix", &text(&query.prefix));
        if let Some(d) = &query.delimiter {
            w.leaf("Delimiter", d);
        }
        w.leaf(
            "IsTruncated",
            if page.is_truncated { "true" } else { "false" },
        );
        let mut prefixes = Vec::new();
        for entry in &page.entries {
            match entry {
                UploadEntry::Upload(upload) => {
                    w.open("Upload")
                        .leaf("Key", &text(&upload.key))
                        .leaf("UploadId", &upload.upload_id)
                        .leaf("StorageClass", &upload.attributes.storage_class);
                    write_owner(&mut w, "Initiator", dialect, &upload.owner_uin);
                    write_owner(&mut w, "Owner", dialect, &upload.owner_uin);
                    w.leaf(
                        "Initiated",
                        &coffer_proto::time::iso8601_millis(upload.initiated_ms),
                    )
                    .close("Upload");
                }
                UploadEntry::CommonPrefix(prefix) => prefixes.push(prefix),
            }
        }
        for prefix in prefixes {
            w.open("CommonPrefixes")
                .leaf("Prefix", &text(prefix))
                .close("CommonPrefixes");
        }
        w.close("ListMultipartUploadsResult");
        Response::xml(200, w.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::op::testing::{body_text, code, header, req, TempEnv};

    #[test]
    fn parses_upload_requests() {
        let r = req("UploadPart", Dialect::S3)
            .q("partNumber", "7")
            .q("uploadId", "u")
            .h("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==");
        let input = UploadPart::parse(&r.view()).expect("part");
        assert_eq!(input.part_number, 7);
        assert_eq!(
            input.upload,
            UploadRef {
                key: "k".into(),
                upload_id: "u".into()
            }
        );
        assert!(input.staging.content_md5.is_some());
        for (part, upload, expected) in [
            ("0", "u", ErrorCode::InvalidArgument),
            ("10001", "u", ErrorCode::InvalidArgument),
            ("x", "u", ErrorCode::InvalidArgument),
            ("1", "", ErrorCode::NoSuchUpload),
        ] {
            let r = req("UploadPart", Dialect::S3)
                .q("partNumber", part)
                .q("uploadId", upload);
            assert_eq!(
                code(UploadPart::parse(&r.view())),
                Some(expected),
                "{part} {upload}"
            );
        }
        let r = req("AbortMultipartUpload", Dialect::Cos).q("uploadId", "");
        assert_eq!(
            code(AbortMultipartUpload::parse(&r.view())),
            Some(ErrorCode::NoSuchUpload)
        );
        let r = req("CreateMultipartUpload", Dialect::S3)
            .h("x-amz-checksum-algorithm", "SHA256")
            .h("x-amz-meta-a", "b");
        let input = CreateMultipartUpload::parse(&r.view()).expect("create");
        assert_eq!(input.checksum.algorithm, ChecksumAlgorithm::Sha256);
        assert_eq!(input.checksum.kind, ChecksumType::Composite);
        assert!(input.checksum.requested);
        let cos = CreateMultipartUpload::parse(
            &req("CreateMultipartUpload", Dialect::Cos)
                .h("x-amz-checksum-algorithm", "SHA256")
                .view(),
        )
        .expect("cos");
        assert!(!cos.checksum.requested);
        for (name, value) in [
            ("x-amz-checksum-algorithm", "MD4"),
            ("x-amz-checksum-type", "FULL_OBJECT"),
        ] {
            let r = req("CreateMultipartUpload", Dialect::S3).h(name, value);
            assert_eq!(
                code(CreateMultipartUpload::parse(&r.view())),
                Some(ErrorCode::InvalidRequest),
                "{name}"
            );
        }
    }

    #[test]
    fn parses_copy_ranges() {
        let range = |value: &str| {
            let r = req("UploadPartCopy", Dialect::S3)
                .q("partNumber", "1")
                .q("uploadId", "u")
                .h("x-amz-copy-source-range", value)
                .h("x-amz-copy-source-if-match", "\"e\"");
            UploadPartCopy::parse(&r.view()).map(|input| {
                assert_eq!(input.source.conditions.if_match.as_deref(), Some("\"e\""));
                input.range
            })
        };
        assert_eq!(range("").expect("empty"), CopyRange::Whole);
        assert_eq!(
            range("bytes=0-9").expect("bytes"),
            CopyRange::Bytes { first: 0, last: 9 }
        );
        assert_eq!(range("bytes=5-").expect("open"), CopyRange::Unsupported);
        assert_eq!(range("bytes=-5").expect("suffix"), CopyRange::Unsupported);
        assert_eq!(code(range("5-9")), Some(ErrorCode::InvalidArgument));
    }

    #[test]
    fn parses_listings_of_parts_and_uploads() {
        let parts = |pairs: &[(&str, &str)]| {
            let mut r = req("ListParts", Dialect::Cos).q("uploadId", "u");
            for (n, v) in pairs {
                r = r.q(n, v);
            }
            ListParts::parse(&r.view())
        };
        let input = parts(&[("part-number-marker", " 3 "), ("max-parts", "2000")]).expect("ok");
        assert_eq!((input.marker, input.max), (3, 1000));
        assert_eq!(
            parts(&[("part-number-marker", "")]).expect("empty").marker,
            0
        );
        for (name, value) in [
            ("part-number-marker", "-1"),
            ("max-parts", "x"),
            ("encoding-type", "gzip"),
        ] {
            assert_eq!(
                code(parts(&[(name, value)])),
                Some(ErrorCode::InvalidArgument)
            );
        }
        let r = req("ListMultipartUploads", Dialect::S3)
            .key(None)
            .q("prefix", "p")
            .q("delimiter", "")
            .q("key-marker", "k")
            .q("upload-id-marker", "u")
            .q("max-uploads", "5");
        let input = ListMultipartUploads::parse(&r.view()).expect("uploads");
        assert_eq!(input.query.prefix, "p");
        assert_eq!(input.query.delimiter, None);
        assert_eq!(input.query.key_marker.as_deref(), Some("k"));
        assert_eq!(input.query.upload_id_marker.as_deref(), Some("u"));
        assert_eq!(input.query.max_uploads, 5);
    }

    #[test]
    fn complete_defers_document_and_header_errors() {
        let body = b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>";
        let r = req("CompleteMultipartUpload", Dialect::S3)
            .q("uploadId", "u")
            .h("If-None-Match", "*")
            .h("x-amz-checksum-crc32", "AAAAAA==")
            .body(body);
        let input = CompleteMultipartUpload::parse(&r.view()).expect("parse");
        let completion = input.completion.expect("completion");
        assert_eq!(completion.parts.len(), 1);
        assert_eq!(
            completion.checks.condition.if_none_match.as_deref(),
            Some("*")
        );
        assert_eq!(
            completion.checks.checksum,
            Some((ChecksumAlgorithm::Crc32, "AAAAAA==".to_string()))
        );
        for (r, expected) in [
            (
                req("CompleteMultipartUpload", Dialect::S3)
                    .q("uploadId", "u")
                    .body(b"<Nope/>"),
                ErrorCode::MalformedXML,
            ),
            (
                req("CompleteMultipartUpload", Dialect::S3)
                    .q("uploadId", "u")
                    .h("If-None-Match", "\"e\"")
                    .body(body),
                ErrorCode::NotImplemented,
            ),
            (
                req("CompleteMultipartUpload", Dialect::S3)
                    .q("uploadId", "u")
                    .h("x-amz-checksum-crc32", "AAAAAA==")
                    .h("x-amz-checksum-sha1", "AAAAAA==")
                    .body(body),
                ErrorCode::InvalidRequest,
            ),
        ] {
            let input = CompleteMultipartUpload::parse(&r.view()).expect("parse");
            assert_eq!(code(input.completion), Some(expected));
        }
    }

    #[test]
    fn renders_multipart_answers() {
        let created = CreateUploadOutput {
            bucket: "b".into(),
            key: "a&b".into(),
            upload_id: "u".into(),
            checksum: UploadChecksum {
                algorithm: ChecksumAlgorithm::Crc32,
                kind: ChecksumType::Composite,
                requested: true,
            },
        };
        let s3 = CreateMultipartUpload::render(created.clone(), Dialect::S3);
        assert_eq!(
            body_text(&s3),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>a&amp;b</Key><UploadId>u</UploadId></InitiateMultipartUploadResult>"
        );
        assert_eq!(header(&s3, "x-amz-checksum-algorithm"), Some("CRC32"));
        assert_eq!(header(&s3, "x-amz-checksum-type"), Some("COMPOSITE"));
        let cos = CreateMultipartUpload::render(created, Dialect::Cos);
        assert_eq!(header(&cos, "x-amz-checksum-algorithm"), None);
        let completed = CompleteOutput {
            location: "b.cos.ap-guangzhou.myqcloud.com/k".into(),
            bucket: "b".into(),
            key: "k".into(),
            etag: "\"e-2\"".into(),
            crc64: 5,
            checksum: None,
        };
        let cos = CompleteMultipartUpload::render(completed.clone(), Dialect::Cos);
        assert_eq!(
            body_text(&cos),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult><Location>b.cos.ap-guangzhou.myqcloud.com/k</Location><Bucket>b</Bucket><Key>k</Key><ETag>&quot;e-2&quot;</ETag></CompleteMultipartUploadResult>"
        );
        assert_eq!(header(&cos, "x-cos-hash-crc64ecma"), Some("5"));
        let s3 = CompleteMultipartUpload::render(completed, Dialect::S3);
        assert!(body_text(&s3).contains("<Location>/b/k</Location>"));
        assert_eq!(header(&s3, "x-cos-hash-crc64ecma"), None);
        let part = UploadPartOutput {
            etag: "\"p\"".into(),
            crc64: 9,
            sent: Some((ChecksumAlgorithm::Crc32, vec![0, 0, 0, 1])),
            own: None,
        };
        let s3 = UploadPart::render(part.clone(), Dialect::S3);
        assert_eq!(header(&s3, "ETag"), Some("\"p\""));
        assert_eq!(header(&s3, "x-amz-checksum-crc32"), Some("AAAAAQ=="));
        let cos = UploadPart::render(part, Dialect::Cos);
        assert_eq!(header(&cos, "x-cos-hash-crc64ecma"), Some("9"));
        assert_eq!(AbortMultipartUpload::render((), Dialect::Cos).status, 204);
    }

    #[tokio::test]
    async fn creates_lists_and_aborts_on_a_store() {
        let temp = TempEnv::new().await;
        let resources = temp.bucket_resources().await;
        let env = temp.env(&resources);
        let create =
            CreateMultipartUpload::parse(&req("CreateMultipartUpload", Dialect::Cos).view())
                .expect("parse");
        let created = CreateMultipartUpload::apply(&env, create)
            .await
            .expect("create");
        assert_eq!(created.bucket, "b-1250000000");
        let list = ListMultipartUploads::parse(
            &req("ListMultipartUploads", Dialect::Cos).key(None).view(),
        )
        .expect("parse");
        let listed = ListMultipartUploads::apply(&env, list).await.expect("list");
        assert_eq!(listed.page.entries.len(), 1);
        let rendered = body_text(&ListMultipartUploads::render(listed, Dialect::Cos));
        assert!(rendered.contains(&format!("<UploadId>{}</UploadId>", created.upload_id)));
        let upload = UploadRef {
            key: "k".into(),
            upload_id: created.upload_id.clone(),
        };
        let parts = ListParts::apply(
            &env,
            ListPartsInput {
                upload: upload.clone(),
                marker: 0,
                max: 1000,
                url_encoded: false,
            },
        )
        .await
        .expect("parts");
        assert!(parts.parts.is_empty() && !parts.truncated);
        AbortMultipartUpload::apply(&env, upload.clone())
            .await
            .expect("abort");
        assert_eq!(
            code(AbortMultipartUpload::apply(&env, upload).await),
            Some(ErrorCode::NoSuchUpload)
        );
        // An unknown upload is answered NoSuchUpload before its document is judged.
        let complete = CompleteMultipartUpload::parse(
            &req("CompleteMultipartUpload", Dialect::S3)
                .q("uploadId", "nope")
                .body(b"junk")
                .view(),
        )
        .expect("parse");
        assert_eq!(
            code(CompleteMultipartUpload::apply(&env, complete).await),
            Some(ErrorCode::NoSuchUpload)
        );
    }

    #[test]
    fn parses_complete_bodies() {
        let body = br#"<?xml version="1.0" encoding="utf-8"?><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag></Part><Part><PartNumber>3</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>"#;
        let parts = parse_complete(body).expect("parses");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].etag, "\"a\"");
        let unordered = br#"<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>"#;
        assert_eq!(
            parse_complete(unordered).map_err(|e| e.code).err(),
            Some(ErrorCode::InvalidPartOrder)
        );
        for bad in [
            &b"<CompleteMultipartUpload/>"[..],
            b"<X/>",
            b"<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>",
            b"junk",
        ] {
            assert_eq!(
                parse_complete(bad).map_err(|e| e.code).err(),
                Some(ErrorCode::MalformedXML)
            );
        }
    }
}

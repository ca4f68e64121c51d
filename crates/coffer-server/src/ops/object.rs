//! Object operations: PUT, GET, HEAD, DELETE and the object ACL.

use super::bucket::{acl_document, AclView};
use super::checksums::{
    checksum_mode_enabled, push_checksum_headers, push_object_checksum, DEFAULT_ALGORITHM,
};
use super::op::{Env, Op, OpRequest, StreamOp};
use super::parts::{part_number_param, select_part, PartSelection};
use super::{
    attributes_from_request, check_version_param, refuse_unsupported_headers, traffic_limit,
    write_object_headers, Conditions, Precondition, ResponseOverrides,
};
use crate::error::{ApiError, ApiResult};
use crate::http::{Response, ResponseBody};
use crate::payload::Payload;
use coffer_proto::checksum::{etag_from_md5, parse_content_md5};
use coffer_proto::names::validate_object_key;
use coffer_proto::range::{ByteRange, ResolvedRange};
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::model::{ObjectAttributes, ObjectChecksum, ObjectVersion, WriteCondition};
use coffer_store::{ObjectReader, ObjectWriter, Pacer, StagedData};

/// Largest single PUT or part: 5 GiB.
pub const MAX_OBJECT_SIZE: u64 = 5 << 30;

/// How a body is received: its `x-cos-traffic-limit` and `Content-MD5`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Staging {
    /// The upload rate limit, bit/s.
    pub traffic_limit: Option<u64>,
    /// The binary MD5 the body must have.
    pub content_md5: Option<[u8; 16]>,
}

impl Staging {
    /// Reads and checks `x-cos-traffic-limit` and `Content-MD5` (`InvalidDigest`).
    pub fn parse(req: &OpRequest<'_>) -> ApiResult<Staging> {
        let traffic_limit = traffic_limit(req)?;
        let content_md5 = match req.header("content-md5") {
            Some(value) => Some(
                parse_content_md5(value).map_err(|_| ApiError::new(ErrorCode::InvalidDigest))?,
            ),
            None => None,
        };
        Ok(Staging {
            traffic_limit,
            content_md5,
        })
    }
}

/// Reads the payload into a writer, enforcing the size limit and the traffic limit, then
/// checks the MD5.
pub async fn stage_payload(
    staging: Staging,
    payload: &mut Payload<'_, '_>,
    mut writer: ObjectWriter,
) -> ApiResult<StagedData> {
    if !payload.is_framed() {
        return Err(ErrorCode::MissingContentLength.into());
    }
    let pacer = staging.traffic_limit.map(Pacer::new);
    if payload.length().is_some_and(|len| len > MAX_OBJECT_SIZE) {
        return Err(ApiError::new(ErrorCode::EntityTooLarge).close());
    }
    let mut received = 0u64;
    while let Some(chunk) = payload.next_chunk().await? {
        received += chunk.len() as u64;
        if received > MAX_OBJECT_SIZE {
            return Err(ApiError::new(ErrorCode::EntityTooLarge).close());
        }
        writer.write(chunk).await?;
        if let Some(pacer) = &pacer {
            pacer.pace(received).await;
        }
    }
    let staged = writer.finish().await?;
    if let Some(expected) = staging.content_md5 {
        if expected != staged.md5 {
            return Err(ApiError::new(ErrorCode::BadDigest));
        }
    }
    Ok(staged)
}

/// The ETag of a staged body (used by part uploads).
pub fn staged_etag(staged: &StagedData) -> String {
    etag_from_md5(&staged.md5)
}

/// What a PutObject asks for (its body aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutObjectInput {
    /// The key (valid).
    pub key: String,
    /// Content headers, metadata, storage class and ACL.
    pub attributes: ObjectAttributes,
    /// `If-Match` / `If-None-Match`, checked atomically with the write.
    pub condition: WriteCondition,
    /// How the body is received.
    pub staging: Staging,
}

/// What a PutObject made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutObjectOutput {
    /// The ETag.
    pub etag: String,
    /// CRC-64/XZ of the object (COS `x-cos-hash-crc64ecma`).
    pub crc64: u64,
    /// The flexible checksum.
    pub checksum: Option<ObjectChecksum>,
}

/// `PUT /key`.
#[derive(Debug)]
pub struct PutObject;

impl StreamOp for PutObject {
    type Input = PutObjectInput;
    type Output = PutObjectOutput;

    fn parse(req: &OpRequest<'_>) -> ApiResult<PutObjectInput> {
        let key = req.key()?;
        validate_object_key(key)?;
        refuse_unsupported_headers(req)?;
        Ok(PutObjectInput {
            key: key.to_string(),
            attributes: attributes_from_request(req)?,
            condition: WriteCondition {
                if_match: req.header("if-match").map(str::to_string),
                if_none_match: req.header("if-none-match").map(str::to_string),
            },
            staging: Staging::parse(req)?,
        })
    }

    async fn apply(
        env: &Env<'_>,
        input: PutObjectInput,
        payload: &mut Payload<'_, '_>,
    ) -> ApiResult<PutObjectOutput> {
        let bucket = env.bucket()?;
        // The object's checksum is the one the client sends (verified as the body streams),
        // or the default CRC-64/NVME computed while staging.
        let compute = match payload.checksum_algorithm() {
            Some(_) => None,
            None => Some(DEFAULT_ALGORITHM),
        };
        let writer = env.store.object_writer(payload.length(), compute)?;
        let mut staged = stage_payload(input.staging, payload, writer).await?;
        if let Some(verified) = payload.verified_checksum() {
            staged.checksum = Some(verified);
        }
        let version = env
            .store
            .put_object(
                bucket,
                &input.key,
                staged,
                input.attributes,
                env.caller_uin(),
                input.condition,
            )
            .await?;
        Ok(PutObjectOutput {
            etag: version.etag,
            crc64: version.crc64,
            checksum: version.checksum,
        })
    }

    fn render(output: PutObjectOutput, dialect: Dialect) -> Response {
        let mut response = Response::new(200).header("ETag", output.etag);
        if dialect == Dialect::Cos {
            response.push_header("x-cos-hash-crc64ecma", output.crc64.to_string());
        }
        if let Some(checksum) = &output.checksum {
            push_object_checksum(dialect, &mut response, checksum);
        }
        response
    }
}

/// What a GetObject or HeadObject asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetObjectInput {
    /// HEAD: headers only.
    pub head: bool,
    /// `x-cos-traffic-limit` of the download.
    pub traffic_limit: Option<u64>,
    /// `?partNumber=`.
    pub part_number: Option<u32>,
    /// The `Range` header (`None` when absent or not a byte range: the whole object).
    pub range: Option<ByteRange>,
    /// The conditional headers.
    pub conditions: Conditions,
    /// The `response-*` parameters.
    pub overrides: ResponseOverrides,
    /// `x-amz-checksum-mode: ENABLED`.
    pub checksum_mode: bool,
}

/// The answer to a GetObject or HeadObject.
#[derive(Debug)]
pub enum GetObjectOutput<'a> {
    /// A condition says the client's copy is current: 304.
    NotModified(&'a ObjectVersion),
    /// The object, a range of it, or a part.
    Content(Box<ObjectContent<'a>>),
}

/// The bytes a GetObject sends (a HeadObject describes).
#[derive(Debug)]
pub struct ObjectContent<'a> {
    /// The version read.
    pub version: &'a ObjectVersion,
    /// 200 or 206.
    pub status: u16,
    /// First byte sent.
    pub start: u64,
    /// Bytes sent.
    pub len: u64,
    /// The part selected by `?partNumber=`.
    pub part: Option<PartSelection>,
    /// The `response-*` parameters.
    pub overrides: ResponseOverrides,
    /// Whether the checksum headers are wanted.
    pub checksum_mode: bool,
    /// The bytes (`None` for HEAD).
    pub reader: Option<ObjectReader>,
}

fn parse_get(req: &OpRequest<'_>, head: bool) -> ApiResult<GetObjectInput> {
    check_version_param(req)?;
    let traffic_limit = traffic_limit(req)?;
    let part_number = part_number_param(req)?;
    let range_header = req.header("range");
    if part_number.is_some() && range_header.is_some() {
        return Err(ApiError::with_message(
            ErrorCode::InvalidRequest,
            "Cannot specify both Range header and partNumber query parameter.",
        ));
    }
    Ok(GetObjectInput {
        head,
        traffic_limit,
        part_number,
        range: range_header.and_then(ByteRange::parse),
        conditions: Conditions::parse(req, ""),
        overrides: ResponseOverrides::parse(req),
        checksum_mode: checksum_mode_enabled(req),
    })
}

async fn apply_get<'a>(env: &'a Env<'a>, input: GetObjectInput) -> ApiResult<GetObjectOutput<'a>> {
    let version = env.object()?;
    match input
        .conditions
        .evaluate(&version.etag, version.last_modified_ms)
    {
        Precondition::Proceed => {}
        Precondition::NotModified => return Ok(GetObjectOutput::NotModified(version)),
        Precondition::Failed => return Err(ErrorCode::PreconditionFailed.into()),
    }
    if matches!(
        version.attributes.storage_class.as_str(),
        "ARCHIVE" | "DEEP_ARCHIVE" | "GLACIER"
    ) && !input.head
    {
        return Err(ErrorCode::InvalidObjectState.into());
    }
    let part = input
        .part_number
        .map(|n| select_part(version, n))
        .transpose()?;
    let (status, start, len) = match (&part, input.range) {
        // A part is a range, even the whole of a one-part object (an empty one has none).
        (Some(part), _) => {
            let status = if version.size == 0 { 200 } else { 206 };
            (status, part.start, part.len)
        }
        (None, None) => (200, 0, version.size),
        (None, Some(range)) => match range.resolve(version.size) {
            ResolvedRange::Partial { start, len } => (206, start, len),
            ResolvedRange::Unsatisfiable => {
                let mut error = ApiError::new(ErrorCode::InvalidRange);
                error
                    .headers
                    .push(("Content-Range", format!("bytes */{}", version.size)));
                return Err(error);
            }
        },
    };
    let reader = if input.head {
        None
    } else {
        let mut reader = env.store.read_object(version, start, len).await?;
        if let Some(bits_per_second) = input.traffic_limit {
            reader.limit_rate(bits_per_second);
        }
        Some(reader)
    };
    Ok(GetObjectOutput::Content(Box::new(ObjectContent {
        version,
        status,
        start,
        len,
        part,
        overrides: input.overrides,
        checksum_mode: input.checksum_mode,
        reader,
    })))
}

fn render_get(output: GetObjectOutput<'_>, dialect: Dialect) -> Response {
    let content = match output {
        GetObjectOutput::NotModified(version) => {
            let mut response = Response::new(304)
                .header("ETag", version.etag.clone())
                .header(
                    "Last-Modified",
                    coffer_proto::time::http_date(version.last_modified_ms),
                );
            response.content_length_override = Some(0);
            return response;
        }
        GetObjectOutput::Content(content) => content,
    };
    let ObjectContent {
        version,
        status,
        start,
        len,
        part,
        overrides,
        checksum_mode,
        reader,
    } = *content;
    let mut response = Response::new(status);
    write_object_headers(dialect, version, &overrides, &mut response);
    if status == 206 {
        let last = start + len - 1;
        response.push_header(
            "Content-Range",
            format!("bytes {start}-{last}/{}", version.size),
        );
    }
    if let Some(count) = part.as_ref().and_then(|p| p.parts_count) {
        if dialect == Dialect::S3 {
            response.push_header("x-amz-mp-parts-count", count.to_string());
        }
    }
    if checksum_mode {
        // The checksum of what is sent: the object's, or the part's; a byte range has none.
        match (&part, version.checksum.as_ref()) {
            (Some(part), _) => {
                if let Some((algorithm, value, kind)) = part.checksum.clone() {
                    push_checksum_headers(dialect, &mut response, algorithm, value, kind);
                }
            }
            (None, Some(checksum)) if status == 200 => {
                push_object_checksum(dialect, &mut response, checksum);
            }
            (None, _) => {}
        }
    }
    match reader {
        None => response.content_length_override = Some(len),
        Some(reader) => response.body = ResponseBody::Stream { len, reader },
    }
    response
}

/// `GET /key` (`HEAD = false`: whole, a `Range` of it, or one part with `?partNumber=`) and
/// `HEAD /key` (`HEAD = true`: the same headers without the body): one operation read two
/// ways.
#[derive(Debug)]
pub struct Read<const HEAD: bool>;

/// `GET /key`.
pub type GetObject = Read<false>;

/// `HEAD /key`.
pub type HeadObject = Read<true>;

impl<const HEAD: bool> Op for Read<HEAD> {
    type Input = GetObjectInput;
    type Output<'a> = GetObjectOutput<'a>;

    fn parse(req: &OpRequest<'_>) -> ApiResult<GetObjectInput> {
        parse_get(req, HEAD)
    }

    fn apply<'a>(
        env: &'a Env<'a>,
        input: GetObjectInput,
    ) -> impl std::future::Future<Output = ApiResult<GetObjectOutput<'a>>> + Send + 'a {
        apply_get(env, input)
    }

    fn render(output: GetObjectOutput<'_>, dialect: Dialect) -> Response {
        render_get(output, dialect)
    }
}

/// `DELETE /key`: idempotent, 204 whether or not the key existed.
#[derive(Debug)]
pub struct DeleteObject;

impl Op for DeleteObject {
    /// The key.
    type Input = String;
    type Output<'a> = ();

    fn parse(req: &OpRequest<'_>) -> ApiResult<String> {
        check_version_param(req)?;
        Ok(req.key()?.to_string())
    }

    async fn apply(env: &Env<'_>, key: String) -> ApiResult<()> {
        env.store.delete_object(env.bucket()?, &key).await?;
        Ok(())
    }

    fn render((): (), _: Dialect) -> Response {
        Response::new(204)
    }
}

/// `GET /key?acl`.
#[derive(Debug)]
pub struct GetObjectAcl;

impl Op for GetObjectAcl {
    type Input = ();
    type Output<'a> = AclView<'a>;

    fn parse(req: &OpRequest<'_>) -> ApiResult<()> {
        check_version_param(req)
    }

    async fn apply<'a>(env: &'a Env<'a>, (): ()) -> ApiResult<AclView<'a>> {
        let bucket = env.bucket()?;
        let version = env.object()?;
        Ok(AclView {
            owner_uin: &version.owner_uin,
            acl: &version.attributes.acl,
            bucket_owner: &bucket.owner_uin,
        })
    }

    fn render(view: AclView<'_>, dialect: Dialect) -> Response {
        let mut response = Response::xml(200, acl_document(dialect, view));
        let canned = view.acl.canned.as_str();
        if dialect == Dialect::Cos && (canned.is_empty() || canned == "default") {
            response.push_header("x-cos-acl", "default");
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Resources;
    use crate::ops::op::testing::{body_text, code, header, req, version, TempEnv};
    use coffer_store::model::Acl;

    #[test]
    fn parses_put_object() {
        let r = req("PutObject", Dialect::Cos)
            .h("Content-Type", "text/plain")
            .h("x-cos-meta-a", " 1 ")
            .h("x-cos-meta-A", "2")
            .h("x-amz-meta-ignored", "x")
            .h("x-cos-storage-class", "standard_ia")
            .h("If-None-Match", "*")
            .h("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==")
            .h("x-cos-traffic-limit", "819200");
        let input = PutObject::parse(&r.view()).expect("parse");
        assert_eq!(input.key, "k");
        let attributes = &input.attributes;
        assert_eq!(
            attributes.content.content_type.as_deref(),
            Some("text/plain")
        );
        assert_eq!(
            attributes.user_metadata,
            vec![("a".to_string(), b"1,2".to_vec())]
        );
        assert_eq!(attributes.storage_class, "STANDARD_IA");
        assert_eq!(attributes.acl.canned, "default");
        assert_eq!(input.condition.if_none_match.as_deref(), Some("*"));
        assert_eq!(input.staging.traffic_limit, Some(819_200));
        assert!(input.staging.content_md5.is_some());
        let s3 = PutObject::parse(&req("PutObject", Dialect::S3).view()).expect("s3");
        assert_eq!(s3.attributes.acl.canned, "private");
        for (name, value, expected) in [
            ("Content-MD5", "nope", ErrorCode::InvalidDigest),
            ("x-cos-traffic-limit", "1", ErrorCode::InvalidArgument),
            (
                "x-cos-storage-class",
                "COLD",
                ErrorCode::InvalidStorageClass,
            ),
            ("x-cos-acl", "everyone", ErrorCode::InvalidArgument),
            (
                "x-cos-server-side-encryption",
                "AES256",
                ErrorCode::NotImplemented,
            ),
            ("x-cos-tagging", "a=b", ErrorCode::NotImplemented),
            (
                "x-cos-meta-big",
                &"x".repeat(9000),
                ErrorCode::InvalidArgument,
            ),
        ] {
            let r = req("PutObject", Dialect::Cos).h(name, value);
            assert_eq!(code(PutObject::parse(&r.view())), Some(expected), "{name}");
        }
        let empty_key = req("PutObject", Dialect::S3).key(Some(""));
        assert_eq!(
            code(PutObject::parse(&empty_key.view())),
            Some(ErrorCode::InvalidURI)
        );
    }

    #[test]
    fn renders_put_object() {
        let output = PutObjectOutput {
            etag: "\"e\"".into(),
            crc64: 42,
            checksum: Some(ObjectChecksum::full_object(
                coffer_proto::checksum::ChecksumAlgorithm::Crc32,
                vec![0, 0, 0, 1],
            )),
        };
        let cos = PutObject::render(output.clone(), Dialect::Cos);
        assert_eq!(header(&cos, "ETag"), Some("\"e\""));
        assert_eq!(header(&cos, "x-cos-hash-crc64ecma"), Some("42"));
        assert_eq!(header(&cos, "x-amz-checksum-crc32"), None);
        let s3 = PutObject::render(output, Dialect::S3);
        assert_eq!(header(&s3, "x-cos-hash-crc64ecma"), None);
        assert_eq!(header(&s3, "x-amz-checksum-crc32"), Some("AAAAAQ=="));
        assert_eq!(header(&s3, "x-amz-checksum-type"), Some("FULL_OBJECT"));
    }

    #[test]
    fn parses_get_object() {
        let r = req("GetObject", Dialect::S3)
            .q("response-content-type", "a/b")
            .q("response-expires", "never")
            .h("Range", "bytes=0-1")
            .h("If-Match", "\"e\"")
            .h("x-amz-checksum-mode", "enabled");
        let input = GetObject::parse(&r.view()).expect("parse");
        assert!(!input.head);
        assert_eq!(input.overrides.content_type.as_deref(), Some("a/b"));
        assert_eq!(input.overrides.expires.as_deref(), Some("never"));
        assert_eq!(
            input.range,
            Some(ByteRange::FromTo {
                first: 0,
                last: Some(1)
            })
        );
        assert_eq!(input.conditions.if_match.as_deref(), Some("\"e\""));
        assert!(input.checksum_mode);
        // A COS request does not see x-amz-* headers.
        let cos = req("HeadObject", Dialect::Cos).h("x-amz-checksum-mode", "ENABLED");
        let input = HeadObject::parse(&cos.view()).expect("cos");
        assert!(input.head && !input.checksum_mode);
        // An unparseable Range is ignored (the whole object), as HTTP says.
        let junk = req("GetObject", Dialect::S3).h("Range", "lines=1-2");
        assert_eq!(GetObject::parse(&junk.view()).expect("junk").range, None);
        let part = req("GetObject", Dialect::S3).q("partNumber", "3");
        assert_eq!(
            GetObject::parse(&part.view()).expect("part").part_number,
            Some(3)
        );
        let cases = [
            (
                req("GetObject", Dialect::S3).q("versionId", "v1"),
                ErrorCode::NoSuchVersion,
            ),
            (
                req("GetObject", Dialect::S3).q("partNumber", "0"),
                ErrorCode::InvalidArgument,
            ),
            (
                req("GetObject", Dialect::S3).q("partNumber", "10001"),
                ErrorCode::InvalidArgument,
            ),
            (
                req("GetObject", Dialect::S3)
                    .q("partNumber", "1")
                    .h("Range", "bytes=0-1"),
                ErrorCode::InvalidRequest,
            ),
            (
                req("GetObject", Dialect::Cos).h("x-cos-traffic-limit", "x"),
                ErrorCode::InvalidArgument,
            ),
        ];
        for (r, expected) in cases {
            assert_eq!(code(GetObject::parse(&r.view())), Some(expected), "{r:?}");
        }
        let null = req("GetObject", Dialect::S3).q("versionId", "null");
        assert!(GetObject::parse(&null.view()).is_ok());
    }

    fn content(version: &ObjectVersion, status: u16, start: u64, len: u64) -> GetObjectOutput<'_> {
        GetObjectOutput::Content(Box::new(ObjectContent {
            version,
            status,
            start,
            len,
            part: None,
            overrides: ResponseOverrides::default(),
            checksum_mode: false,
            reader: None,
        }))
    }

    #[test]
    fn renders_get_and_head() {
        let mut object = version("\"e\"", 10);
        object.attributes.user_metadata = vec![("a".into(), b"1".to_vec())];
        let not_modified = GetObject::render(GetObjectOutput::NotModified(&object), Dialect::S3);
        assert_eq!(not_modified.status, 304);
        assert_eq!(header(&not_modified, "ETag"), Some("\"e\""));
        assert_eq!(
            header(&not_modified, "Last-Modified"),
            Some("Thu, 01 Jan 1970 00:00:00 GMT")
        );
        assert_eq!(not_modified.content_length_override, Some(0));
        let cos = HeadObject::render(content(&object, 200, 0, 10), Dialect::Cos);
        assert_eq!(cos.status, 200);
        assert_eq!(
            header(&cos, "Content-Type"),
            Some("application/octet-stream")
        );
        assert_eq!(header(&cos, "x-cos-meta-a"), Some("1"));
        assert_eq!(header(&cos, "x-cos-hash-crc64ecma"), Some("7"));
        assert_eq!(header(&cos, "x-cos-storage-class"), Some("STANDARD"));
        assert_eq!(cos.content_length_override, Some(10));
        let s3 = HeadObject::render(content(&object, 206, 2, 3), Dialect::S3);
        assert_eq!(header(&s3, "Content-Type"), Some("binary/octet-stream"));
        assert_eq!(header(&s3, "Content-Range"), Some("bytes 2-4/10"));
        assert_eq!(header(&s3, "x-amz-meta-a"), Some("1"));
        assert_eq!(header(&s3, "x-amz-storage-class"), None);
        assert_eq!(header(&s3, "Accept-Ranges"), Some("bytes"));
        let names: Vec<&str> = s3.headers.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(
            names,
            [
                "Content-Type",
                "ETag",
                "Last-Modified",
                "Accept-Ranges",
                "x-amz-meta-a",
                "Content-Range"
            ]
        );
        let mut overridden = content(&object, 200, 0, 10);
        if let GetObjectOutput::Content(c) = &mut overridden {
            c.overrides.content_type = Some("a/b".into());
            c.overrides.cache_control = Some("no-cache".into());
        }
        let response = GetObject::render(overridden, Dialect::S3);
        assert_eq!(header(&response, "Content-Type"), Some("a/b"));
        assert_eq!(header(&response, "Cache-Control"), Some("no-cache"));
    }

    #[test]
    fn renders_object_acl() {
        let acl = Acl {
            canned: "default".into(),
            grants: Vec::new(),
        };
        let view = AclView {
            owner_uin: "2",
            acl: &acl,
            bucket_owner: "1",
        };
        let cos = GetObjectAcl::render(view, Dialect::Cos);
        assert_eq!(header(&cos, "x-cos-acl"), Some("default"));
        assert!(body_text(&cos).contains("<ID>qcs::cam::uin/2:uin/2</ID>"));
        let s3 = GetObjectAcl::render(view, Dialect::S3);
        assert_eq!(header(&s3, "x-cos-acl"), None);
        assert_eq!(DeleteObject::render((), Dialect::S3).status, 204);
    }

    #[tokio::test]
    async fn applies_conditions_and_ranges() {
        let temp = TempEnv::new().await;
        let mut resources = Resources {
            object: Some(version("\"e\"", 10)),
            ..Resources::default()
        };
        let head = |r: crate::ops::op::testing::Req| HeadObject::parse(&r.view()).expect("parse");
        let env = temp.env(&resources);
        let current = head(req("HeadObject", Dialect::S3).h("If-None-Match", "\"e\""));
        assert!(matches!(
            HeadObject::apply(&env, current).await,
            Ok(GetObjectOutput::NotModified(_))
        ));
        let failed = head(req("HeadObject", Dialect::S3).h("If-Match", "\"x\""));
        assert_eq!(
            code(HeadObject::apply(&env, failed).await),
            Some(ErrorCode::PreconditionFailed)
        );
        let range = head(req("HeadObject", Dialect::S3).h("Range", "bytes=-3"));
        match HeadObject::apply(&env, range).await {
            Ok(GetObjectOutput::Content(c)) => {
                assert_eq!((c.status, c.start, c.len), (206, 7, 3));
                assert!(c.reader.is_none());
            }
            other => panic!("{other:?}"),
        }
        let beyond = head(req("HeadObject", Dialect::S3).h("Range", "bytes=10-"));
        let error = HeadObject::apply(&env, beyond).await.expect_err("416");
        assert_eq!(error.code, ErrorCode::InvalidRange);
        assert_eq!(
            error.headers,
            vec![("Content-Range", "bytes */10".to_string())]
        );
        let part = head(req("HeadObject", Dialect::S3).q("partNumber", "2"));
        assert_eq!(
            code(HeadObject::apply(&env, part).await),
            Some(ErrorCode::InvalidPartNumber)
        );
        if let Some(object) = &mut resources.object {
            object.attributes.storage_class = "ARCHIVE".into();
        }
        let env = temp.env(&resources);
        let get = GetObject::parse(&req("GetObject", Dialect::S3).view()).expect("parse");
        assert_eq!(
            code(GetObject::apply(&env, get).await),
            Some(ErrorCode::InvalidObjectState)
        );
        let head_archived = head(req("HeadObject", Dialect::S3));
        assert!(HeadObject::apply(&env, head_archived).await.is_ok());
    }

    #[tokio::test]
    async fn deletes_idempotently() {
        let temp = TempEnv::new().await;
        let resources = temp.bucket_resources().await;
        let env = temp.env(&resources);
        DeleteObject::apply(&env, "missing".into())
            .await
            .expect("idempotent");
        let versioned = req("DeleteObject", Dialect::S3).q("versionId", "v");
        assert_eq!(
            code(DeleteObject::parse(&versioned.view())),
            Some(ErrorCode::NoSuchVersion)
        );
    }
}

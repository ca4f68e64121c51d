//! PUT Object - Copy, and the copy-source parsing shared with UploadPartCopy.

use super::checksums::{requested_algorithm, write_checksum_elements};
use super::op::{Env, Op, OpRequest};
use super::{
    acl_from_request, attributes_from_request, refuse_unsupported_headers, AclTarget, Conditions,
    Precondition,
};
use crate::access::CopySourceObject;
use crate::addressing::Addressing;
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use coffer_proto::checksum::ChecksumAlgorithm;
use coffer_proto::encoding::decode_path;
use coffer_proto::names::{parse_storage_class, validate_object_key};
use coffer_proto::xml::XmlWriter;
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::model::{Acl, ObjectAttributes, ObjectChecksum};

/// A parsed copy source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySourceRef {
    /// Source bucket.
    pub bucket: String,
    /// Source key (decoded).
    pub key: String,
    /// Requested version, if any.
    pub version_id: Option<String>,
}

/// Parses `x-cos-copy-source` (`<bucket>.cos.<region>.myqcloud.com/<key>[?versionId=]`,
/// optionally with a scheme) or `x-amz-copy-source` (`[/]<bucket>/<key>[?versionId=]`).
/// Host-form sources resolve their bucket by the server's addressing rules.
pub fn parse_copy_source(addressing: &Addressing, value: &str) -> ApiResult<CopySourceRef> {
    let invalid = || {
        ApiError::with_message(
            ErrorCode::InvalidArgument,
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.",
        )
    };
    let value = value.trim();
    let value = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))
        .unwrap_or(value);
    let (path, query) = value.split_once('?').unwrap_or((value, ""));
    let version_id = coffer_proto::query::Query::parse(query)
        .get("versionId")
        .map(|v| String::from_utf8_lossy(v).into_owned());
    let path = path.strip_prefix('/').unwrap_or(path);
    let (first, rest) = path.split_once('/').ok_or_else(invalid)?;
    let bucket = match addressing.bucket_from_host(&first.to_ascii_lowercase()) {
        Some(bucket) => bucket,
        None => decode_path(first).ok_or_else(invalid)?,
    };
    let key = decode_path(rest).ok_or_else(invalid)?;
    if bucket.is_empty() || key.is_empty() {
        return Err(invalid());
    }
    Ok(CopySourceRef {
        bucket,
        key,
        version_id,
    })
}

/// The `copy-source-If-*` conditions of a copy, checked against the source the pipeline
/// authorized.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopySourceChecks {
    /// `x-cos-copy-source-If-Match` (…), or their `x-amz-` twins.
    pub conditions: Conditions,
}

impl CopySourceChecks {
    /// Reads the source's conditional headers.
    pub fn parse(req: &OpRequest<'_>) -> CopySourceChecks {
        let prefix = format!("{}copy-source-", req.dialect.prefix());
        CopySourceChecks {
            conditions: Conditions::parse(req, &prefix),
        }
    }
}

/// The copy source the pipeline authorized, after its `copy-source-If-*` conditions and
/// its version and storage class are checked.
pub fn checked_source<'a>(
    env: &Env<'a>,
    checks: &CopySourceChecks,
) -> ApiResult<&'a CopySourceObject> {
    let source = env
        .resources
        .source
        .as_ref()
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest))?;
    if source
        .location
        .version_id
        .as_deref()
        .is_some_and(|v| v != "null")
    {
        return Err(ApiError::new(ErrorCode::NoSuchVersion));
    }
    let version = &source.version;
    if checks
        .conditions
        .evaluate(&version.etag, version.last_modified_ms)
        != Precondition::Proceed
    {
        return Err(ErrorCode::PreconditionFailed.into());
    }
    if matches!(
        version.attributes.storage_class.as_str(),
        "ARCHIVE" | "DEEP_ARCHIVE" | "GLACIER"
    ) {
        return Err(ErrorCode::InvalidObjectState.into());
    }
    Ok(source)
}

/// The attributes of a copy: the request's (`metadata-directive: Replaced`), or the
/// source's with the request's ACL and storage class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyAttributes {
    /// Replace everything with the request's attributes.
    Replace(ObjectAttributes),
    /// Keep the source's content headers and metadata.
    Copy {
        /// The request's ACL.
        acl: Acl,
        /// The request's storage class (default STANDARD).
        storage_class: String,
    },
}

/// What a CopyObject asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyObjectInput {
    /// The destination key (valid).
    pub key: String,
    /// The source's conditions.
    pub source: CopySourceChecks,
    /// The new object's attributes.
    pub attributes: CopyAttributes,
    /// `x-amz-checksum-algorithm`: the checksum the copy gets.
    pub checksum: Option<ChecksumAlgorithm>,
}

/// The object a copy made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyObjectOutput {
    /// Its ETag.
    pub etag: String,
    /// Its modification time, ms.
    pub last_modified_ms: i64,
    /// CRC-64/XZ.
    pub crc64: u64,
    /// Its flexible checksum.
    pub checksum: Option<ObjectChecksum>,
}

/// `PUT /key` with a copy source.
#[derive(Debug)]
pub struct CopyObject;

impl Op for CopyObject {
    type Input = CopyObjectInput;
    type Output<'a> = CopyObjectOutput;

    fn parse(req: &OpRequest<'_>) -> ApiResult<CopyObjectInput> {
        let key = req.key()?;
        validate_object_key(key)?;
        refuse_unsupported_headers(req)?;
        let replace = match req.vendor_header("metadata-directive") {
            None => false,
            Some(d) if d.eq_ignore_ascii_case("copy") => false,
            Some(d) if d.eq_ignore_ascii_case("replaced") || d.eq_ignore_ascii_case("replace") => {
                true
            }
            Some(_) => {
                return Err(ApiError::with_message(
                    ErrorCode::InvalidArgument,
                    "Unknown metadata directive.",
                ))
            }
        };
        let attributes = if replace {
            CopyAttributes::Replace(attributes_from_request(req)?)
        } else {
            CopyAttributes::Copy {
                acl: acl_from_request(req, AclTarget::Object)?,
                storage_class: match req.vendor_header("storage-class") {
                    Some(class) => parse_storage_class(class)?.to_string(),
                    None => "STANDARD".to_string(),
                },
            }
        };
        Ok(CopyObjectInput {
            key: key.to_string(),
            source: CopySourceChecks::parse(req),
            attributes,
            checksum: requested_algorithm(req)?,
        })
    }

    async fn apply(env: &Env<'_>, input: CopyObjectInput) -> ApiResult<CopyObjectOutput> {
        let bucket = env.bucket()?;
        let CopySourceObject {
            location,
            bucket: source_bucket,
            version: source,
        } = checked_source(env, &input.source)?;
        let replace = matches!(input.attributes, CopyAttributes::Replace(_));
        let mut attributes = match input.attributes {
            CopyAttributes::Replace(attributes) => attributes,
            CopyAttributes::Copy { acl, storage_class } => {
                let mut attributes = source.attributes.clone();
                attributes.acl = acl;
                attributes.storage_class = storage_class;
                attributes
            }
        };
        if attributes.storage_class.is_empty() {
            attributes.storage_class = "STANDARD".into();
        }
        let same_object = source_bucket.id == bucket.id && location.key == input.key;
        if same_object && !replace && attributes.storage_class == source.attributes.storage_class {
            return Err(ApiError::with_message(
                ErrorCode::InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
            ));
        }
        let version = env
            .store
            .copy_object(
                source,
                bucket,
                &input.key,
                attributes,
                env.caller_uin(),
                input.checksum,
            )
            .await?;
        Ok(CopyObjectOutput {
            etag: version.etag,
            last_modified_ms: version.last_modified_ms,
            crc64: version.crc64,
            checksum: version.checksum,
        })
    }

    fn render(output: CopyObjectOutput, dialect: Dialect) -> Response {
        let mut w = XmlWriter::new();
        w.open("CopyObjectResult").leaf("ETag", &output.etag).leaf(
            "LastModified",
            &coffer_proto::time::iso8601_millis(output.last_modified_ms),
        );
        if dialect == Dialect::Cos {
            w.leaf("CRC64", &output.crc64.to_string());
        }
        if let Some(checksum) = &output.checksum {
            write_checksum_elements(dialect, &mut w, checksum);
        }
        w.close("CopyObjectResult");
        let mut response = Response::xml(200, w.finish());
        if dialect == Dialect::Cos {
            response.push_header("x-cos-hash-crc64ecma", output.crc64.to_string());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::op::testing::{body_text, code, header, req};

    #[test]
    fn parses_copy_object() {
        let r = req("CopyObject", Dialect::Cos)
            .h("x-cos-copy-source-If-None-Match", "\"e\"")
            .h("x-cos-storage-class", "archive")
            .h("x-cos-acl", "public-read");
        let input = CopyObject::parse(&r.view()).expect("copy");
        assert_eq!(
            input.attributes,
            CopyAttributes::Copy {
                acl: Acl {
                    canned: "public-read".into(),
                    grants: Vec::new()
                },
                storage_class: "ARCHIVE".into()
            }
        );
        assert_eq!(
            input.source.conditions.if_none_match.as_deref(),
            Some("\"e\"")
        );
        let r = req("CopyObject", Dialect::S3)
            .h("x-amz-metadata-directive", "REPLACE")
            .h("Content-Type", "a/b")
            .h("x-amz-checksum-algorithm", "crc32c");
        let input = CopyObject::parse(&r.view()).expect("replace");
        match &input.attributes {
            CopyAttributes::Replace(attributes) => {
                assert_eq!(attributes.content.content_type.as_deref(), Some("a/b"));
                assert_eq!(attributes.acl.canned, "private");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(input.checksum, Some(ChecksumAlgorithm::Crc32c));
        for (name, value, expected) in [
            (
                "x-cos-metadata-directive",
                "Merge",
                ErrorCode::InvalidArgument,
            ),
            (
                "x-cos-storage-class",
                "COLD",
                ErrorCode::InvalidStorageClass,
            ),
            (
                "x-cos-server-side-encryption",
                "AES256",
                ErrorCode::NotImplemented,
            ),
        ] {
            let r = req("CopyObject", Dialect::Cos).h(name, value);
            assert_eq!(code(CopyObject::parse(&r.view())), Some(expected), "{name}");
        }
    }

    #[test]
    fn renders_copy_object() {
        let output = CopyObjectOutput {
            etag: "\"e\"".into(),
            last_modified_ms: 0,
            crc64: 3,
            checksum: None,
        };
        let cos = CopyObject::render(output.clone(), Dialect::Cos);
        assert_eq!(
            body_text(&cos),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CopyObjectResult><ETag>&quot;e&quot;</ETag><LastModified>1970-01-01T00:00:00.000Z</LastModified><CRC64>3</CRC64></CopyObjectResult>"
        );
        assert_eq!(header(&cos, "x-cos-hash-crc64ecma"), Some("3"));
        let s3 = CopyObject::render(output, Dialect::S3);
        assert!(!body_text(&s3).contains("CRC64"));
        assert_eq!(header(&s3, "x-cos-hash-crc64ecma"), None);
    }

    #[test]
    fn parses_copy_sources() {
        let addressing = Addressing {
            domains: Vec::new(),
        };
        let source = parse_copy_source(&addressing, "/b/a%20b?versionId=v").expect("s3");
        assert_eq!(
            source,
            CopySourceRef {
                bucket: "b".into(),
                key: "a b".into(),
                version_id: Some("v".into())
            }
        );
        let source =
            parse_copy_source(&addressing, "https://b-125.cos.ap-x.myqcloud.com/k").expect("cos");
        assert_eq!(
            (source.bucket.as_str(), source.key.as_str()),
            ("b-125", "k")
        );
        for bad in ["", "b", "/b/", "//k"] {
            assert_eq!(
                code(parse_copy_source(&addressing, bad)),
                Some(ErrorCode::InvalidArgument),
                "{bad}"
            );
        }
    }
}

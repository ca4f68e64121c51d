//! GetObjectAttributes (`GET /key?attributes`): an object's ETag, checksum, parts, storage
//! class and size in one document, without its data. An S3 operation: COS has none, and a
//! COS request for it is answered `501 NotImplemented`.

use super::op::{Env, Op, OpRequest};
use super::{bounded_count, check_version_param, AboveMaximum};
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use coffer_proto::checksum::{encode_checksum, normalize_etag};
use coffer_proto::xml::XmlWriter;
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::model::ObjectVersion;

/// The attributes `x-amz-object-attributes` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wanted {
    /// `ETag`.
    pub etag: bool,
    /// `Checksum`.
    pub checksum: bool,
    /// `ObjectParts`.
    pub object_parts: bool,
    /// `StorageClass`.
    pub storage_class: bool,
    /// `ObjectSize`.
    pub object_size: bool,
}

/// Parses `x-amz-object-attributes`: a comma-separated list of `ETag`, `Checksum`,
/// `ObjectParts`, `StorageClass`, `ObjectSize`. Missing, empty or naming anything else is
/// `400 InvalidArgument`.
fn wanted(header: Option<&str>) -> ApiResult<Wanted> {
    let invalid = |message: &str| ApiError::with_message(ErrorCode::InvalidArgument, message);
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or_else(|| {
        invalid("The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty")
    })?;
    let mut wanted = Wanted::default();
    for name in header.split(',').map(str::trim) {
        let flag = match name {
            "ETag" => &mut wanted.etag,
            "Checksum" => &mut wanted.checksum,
            "ObjectParts" => &mut wanted.object_parts,
            "StorageClass" => &mut wanted.storage_class,
            "ObjectSize" => &mut wanted.object_size,
            _ => return Err(invalid("Invalid attribute name specified.")),
        };
        *flag = true;
    }
    Ok(wanted)
}

/// A numeric header (`x-amz-max-parts`, `x-amz-part-number-marker`): absent → `default`;
/// not a number in `0..=maximum` → `400 InvalidArgument`.
fn number_header(req: &OpRequest<'_>, name: &str, default: u32, maximum: u32) -> ApiResult<u32> {
    match req.header(name) {
        None => Ok(default),
        Some(value) => bounded_count(value, maximum.into(), AboveMaximum::Refuse)
            .map(|n| n as u32)
            .ok_or_else(|| {
                ApiError::with_message(
                    ErrorCode::InvalidArgument,
                    format!("Argument {name} must be an integer between 0 and {maximum}"),
                )
            }),
    }
}

/// What a GetObjectAttributes asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributesInput {
    /// The attributes named.
    pub wanted: Wanted,
    /// `x-amz-max-parts` (0–1000, default 1000).
    pub max_parts: u32,
    /// `x-amz-part-number-marker`.
    pub marker: u32,
}

/// `GET /key?attributes`.
#[derive(Debug)]
pub struct GetObjectAttributes;

impl Op for GetObjectAttributes {
    type Input = AttributesInput;
    type Output<'a> = (AttributesInput, &'a ObjectVersion);

    fn parse(req: &OpRequest<'_>) -> ApiResult<AttributesInput> {
        if req.dialect == Dialect::Cos {
            return Err(ApiError::with_message(
                ErrorCode::NotImplemented,
                "GetObjectAttributes is an S3 operation; COS has no equivalent.",
            ));
        }
        check_version_param(req)?;
        Ok(AttributesInput {
            wanted: wanted(req.header("x-amz-object-attributes"))?,
            max_parts: number_header(req, "x-amz-max-parts", 1000, 1000)?,
            marker: number_header(req, "x-amz-part-number-marker", 0, i32::MAX as u32)?,
        })
    }

    async fn apply<'a>(
        env: &'a Env<'a>,
        input: AttributesInput,
    ) -> ApiResult<(AttributesInput, &'a ObjectVersion)> {
        Ok((input, env.object()?))
    }

    fn render((input, version): (AttributesInput, &ObjectVersion), _: Dialect) -> Response {
        let AttributesInput {
            wanted,
            max_parts,
            marker,
        } = input;
        let mut w = XmlWriter::new();
        w.open_with_attrs(
            "GetObjectAttributesResponse",
            &[("xmlns", "http://s3.amazonaws.com/doc/2006-03-01/")],
        );
        if wanted.etag {
            w.leaf("ETag", normalize_etag(&version.etag));
        }
        if let (true, Some(checksum)) = (wanted.checksum, &version.checksum) {
            w.open("Checksum")
                .leaf(checksum.algorithm.xml_element(), &checksum.value())
                .leaf("ChecksumType", checksum.kind.as_str())
                .close("Checksum");
        }
        if wanted.object_parts {
            write_object_parts(&mut w, version, marker, max_parts);
        }
        if wanted.storage_class {
            w.leaf("StorageClass", &version.attributes.storage_class);
        }
        if wanted.object_size {
            w.leaf_display("ObjectSize", version.size);
        }
        w.close("GetObjectAttributesResponse");
        Response::xml(200, w.finish()).header(
            "Last-Modified",
            coffer_proto::time::http_date(version.last_modified_ms),
        )
    }
}

/// `<ObjectParts>` of a multipart object (nothing for other objects): the part count, and a
/// page of the parts after `marker` with their sizes and checksums. The count is written
/// `<PartsCount>`, the element S3 sends and its SDKs read (the API reference calls the field
/// `TotalPartsCount`). An object completed before parts were recorded has only its count.
fn write_object_parts(w: &mut XmlWriter, version: &ObjectVersion, marker: u32, max_parts: u32) {
    let Some(count) = version.part_count() else {
        return;
    };
    w.open("ObjectParts").leaf_display("PartsCount", count);
    if !version.parts.is_empty() {
        let after: Vec<_> = version
            .parts
            .iter()
            .filter(|p| p.part_number > marker)
            .collect();
        let page = after.get(..max_parts as usize).unwrap_or(&after);
        let truncated = page.len() < after.len();
        let next = page.last().map_or(marker, |p| p.part_number);
        w.leaf_display("PartNumberMarker", marker)
            .leaf_display("NextPartNumberMarker", next)
            .leaf_display("MaxParts", max_parts)
            .leaf("IsTruncated", if truncated { "true" } else { "false" });
        for part in page {
            w.open("Part")
                .leaf_display("PartNumber", part.part_number)
                .leaf_display("Size", part.size);
            if let (Some(checksum), Some(digest)) = (&version.checksum, &part.checksum) {
                w.leaf(checksum.algorithm.xml_element(), &encode_checksum(digest));
            }
            w.close("Part");
        }
    }
    w.close("ObjectParts");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::op::testing::{body_text, code, header, req, version};

    #[test]
    fn parses_attribute_requests() {
        let r = req("GetObjectAttributes", Dialect::S3)
            .h("x-amz-object-attributes", "ObjectSize,ETag")
            .h("x-amz-max-parts", " 7 ")
            .h("x-amz-part-number-marker", "2");
        let input = GetObjectAttributes::parse(&r.view()).expect("parse");
        assert!(input.wanted.object_size && input.wanted.etag && !input.wanted.checksum);
        assert_eq!((input.max_parts, input.marker), (7, 2));
        let defaults = req("GetObjectAttributes", Dialect::S3).h("x-amz-object-attributes", "ETag");
        let input = GetObjectAttributes::parse(&defaults.view()).expect("defaults");
        assert_eq!((input.max_parts, input.marker), (1000, 0));
        let cos = req("GetObjectAttributes", Dialect::Cos).h("x-amz-object-attributes", "ETag");
        assert_eq!(
            code(GetObjectAttributes::parse(&cos.view())),
            Some(ErrorCode::NotImplemented)
        );
        for (name, value) in [
            ("x-amz-max-parts", "1001"),
            ("x-amz-max-parts", "-1"),
            ("x-amz-max-parts", ""),
            ("x-amz-part-number-marker", "2147483648"),
            ("x-amz-part-number-marker", "x"),
        ] {
            let r = req("GetObjectAttributes", Dialect::S3)
                .h("x-amz-object-attributes", "ETag")
                .h(name, value);
            assert_eq!(
                code(GetObjectAttributes::parse(&r.view())),
                Some(ErrorCode::InvalidArgument),
                "{name}={value}"
            );
        }
        let versioned = req("GetObjectAttributes", Dialect::S3)
            .q("versionId", "v")
            .h("x-amz-object-attributes", "ETag");
        assert_eq!(
            code(GetObjectAttributes::parse(&versioned.view())),
            Some(ErrorCode::NoSuchVersion)
        );
    }

    #[test]
    fn renders_attributes() {
        let object = version("\"e\"", 5);
        let input = AttributesInput {
            wanted: wanted(Some("ETag,StorageClass,ObjectSize,ObjectParts")).expect("wanted"),
            max_parts: 1000,
            marker: 0,
        };
        let response = GetObjectAttributes::render((input, &object), Dialect::S3);
        assert_eq!(
            body_text(&response),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<GetObjectAttributesResponse xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><ETag>e</ETag><StorageClass>STANDARD</StorageClass><ObjectSize>5</ObjectSize></GetObjectAttributesResponse>"
        );
        assert_eq!(
            header(&response, "Last-Modified"),
            Some("Thu, 01 Jan 1970 00:00:00 GMT")
        );
    }

    #[test]
    fn attribute_lists() {
        let all = wanted(Some("ETag, Checksum,ObjectParts,StorageClass,ObjectSize")).expect("all");
        assert!(
            all.etag && all.checksum && all.object_parts && all.storage_class && all.object_size
        );
        let one = wanted(Some("ObjectSize")).expect("one");
        assert_eq!(
            one,
            Wanted {
                object_size: true,
                ..Wanted::default()
            }
        );
        for bad in [None, Some(""), Some("ETag,Size"), Some("etag")] {
            assert_eq!(
                wanted(bad).map_err(|e| e.code).err(),
                Some(ErrorCode::InvalidArgument),
                "{bad:?}"
            );
        }
    }
}

//! Bucket operations: create, delete, head, location, ACL.

use super::{acl_from_request, refuse_unsupported_headers, write_owner, AclTarget, MAX_XML_BODY};
use crate::access::{authorize, Need};
use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use crate::payload::Payload;
use coffer_proto::names::{validate_cos_bucket_name, validate_s3_bucket_name};
use coffer_proto::xml::XmlWriter;
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::model::{Acl, BucketRecord};

/// `PUT /` on a bucket.
pub async fn create_bucket(ctx: &Ctx, payload: &mut Payload<'_, '_>) -> ApiResult<Response> {
    let caller = ctx
        .caller
        .as_ref()
        .ok_or_else(|| ApiError::new(ErrorCode::AccessDenied))?;
    let name = ctx.bucket_name()?;
    refuse_unsupported_headers(ctx)?;
    match ctx.dialect {
        Dialect::Cos => {
            let appid = validate_cos_bucket_name(name)?;
            if appid != caller.appid {
                return Err(ApiError::with_message(
                    ErrorCode::AccessDenied,
                    format!(
                        "The bucket name must end with your APPID: -{}",
                        caller.appid
                    ),
                ));
            }
        }
        Dialect::S3 => validate_s3_bucket_name(name)?,
    }
    // An optional CreateBucketConfiguration body (COS: BucketAZConfig/BucketArchConfig;
    // S3: LocationConstraint). It must be well-formed if present.
    let body = payload.read_to_end(MAX_XML_BODY).await?;
    if !body.iter().all(u8::is_ascii_whitespace) {
        let root = coffer_proto::xml::parse(&body)?;
        if root.name != "CreateBucketConfiguration" {
            return Err(ErrorCode::MalformedXML.into());
        }
    }
    let acl = acl_from_request(ctx, AclTarget::Bucket)?;
    let record = BucketRecord {
        name: name.to_string(),
        id: 0,
        owner_uin: caller.uin.clone(),
        region: ctx.state.config.region.clone(),
        created_ms: coffer_proto::time::now_millis(),
        acl,
    };
    ctx.state.store.create_bucket(record).await?;
    let mut response = Response::new(200);
    if ctx.dialect == Dialect::S3 {
        response.push_header("Location", format!("/{name}"));
    }
    Ok(response)
}

/// `DELETE /` on a bucket.
pub async fn delete_bucket(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket().await?;
    authorize(ctx, &bucket, Need::Owner, None)?;
    ctx.state.store.delete_bucket(&bucket.name).await?;
    Ok(Response::new(204))
}

/// `HEAD /` on a bucket.
pub async fn head_bucket(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket().await?;
    authorize(ctx, &bucket, Need::Read, None)?;
    let mut response = Response::new(200);
    match ctx.dialect {
        Dialect::Cos => {
            response.push_header("x-cos-bucket-region", bucket.region.clone());
            response.push_header("x-cos-bucket-az-type", "SAZ");
        }
        Dialect::S3 => response.push_header("x-amz-bucket-region", bucket.region.clone()),
    }
    Ok(response)
}

/// `GET /?location`.
pub async fn get_location(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket().await?;
    authorize(ctx, &bucket, Need::Owner, None)?;
    let mut w = XmlWriter::new();
    w.leaf("LocationConstraint", &bucket.region);
    Ok(Response::xml(200, w.finish()))
}

/// `GET /?acl` on a bucket.
pub async fn get_bucket_acl(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket().await?;
    authorize(ctx, &bucket, Need::Owner, None)?;
    Ok(Response::xml(
        200,
        acl_document(ctx, &bucket.owner_uin, &bucket.acl),
    ))
}

/// The AccessControlPolicy document for an ACL (protocol doc §6.8: the AllUsers grantee
/// carries only `xsi:type="Group"` and `<URI>`).
pub fn acl_document(ctx: &Ctx, owner_uin: &str, acl: &Acl) -> String {
    let all_users = match ctx.dialect {
        Dialect::Cos => "http://cam.qcloud.com/groups/global/AllUsers",
        Dialect::S3 => "http://acs.amazonaws.com/groups/global/AllUsers",
    };
    let owner_id = match ctx.dialect {
        Dialect::Cos => format!("qcs::cam::uin/{owner_uin}:uin/{owner_uin}"),
        Dialect::S3 => owner_uin.to_string(),
    };
    let xsi = [
        ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
        ("xsi:type", "CanonicalUser"),
    ];
    let group = [
        ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
        ("xsi:type", "Group"),
    ];
    let mut w = XmlWriter::new();
    w.open("AccessControlPolicy");
    write_owner(&mut w, "Owner", ctx, owner_uin);
    w.open("AccessControlList");
    w.open("Grant")
        .open_with_attrs("Grantee", &xsi)
        .leaf("ID", &owner_id)
        .leaf("DisplayName", owner_uin)
        .close("Grantee")
        .leaf("Permission", "FULL_CONTROL")
        .close("Grant");
    let public: &[&str] = match acl.canned.as_str() {
        "public-read" => &["READ"],
        "public-read-write" => &["READ", "WRITE"],
        _ => &[],
    };
    for permission in public {
        w.open("Grant")
            .open_with_attrs("Grantee", &group)
            .leaf("URI", all_users)
            .close("Grantee")
            .leaf("Permission", permission)
            .close("Grant");
    }
    for (permission, grantee) in &acl.grants {
        let id = grantee.trim().trim_start_matches("id=").trim_matches('"');
        w.open("Grant")
            .open_with_attrs("Grantee", &xsi)
            .leaf("ID", id)
            .leaf("DisplayName", id)
            .close("Grantee")
            .leaf("Permission", permission)
            .close("Grant");
    }
    w.close("AccessControlList").close("AccessControlPolicy");
    w.finish()
}

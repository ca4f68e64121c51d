//! Bucket operations: create, delete, head, location, ACL.

use super::{acl_from_request, read_document, refuse_unsupported_headers, write_owner, AclTarget};
use crate::access::{parse_grantee, Grantee};
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
        Dialect::S3 => {
            validate_s3_bucket_name(name)?;
            refuse_foreign_appid(ctx, name, &caller.appid).await?;
        }
    }
    // An optional CreateBucketConfiguration body (COS: BucketAZConfig/BucketArchConfig;
    // S3: LocationConstraint). It must be well-formed if present.
    let body = read_document(ctx, payload).await?;
    check_create_bucket_configuration(&body)?;
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

/// Checks the optional CreateBucketConfiguration body of a CreateBucket: empty (or only
/// whitespace), or a well-formed `<CreateBucketConfiguration>` document (its settings —
/// COS BucketAZConfig/BucketArchConfig, S3 LocationConstraint — are not acted on).
pub fn check_create_bucket_configuration(body: &[u8]) -> ApiResult<()> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let root = coffer_proto::xml::parse(body)?;
    if root.name != "CreateBucketConfiguration" {
        return Err(ErrorCode::MalformedXML.into());
    }
    Ok(())
}

/// Refuses an S3-dialect bucket name in the COS form `<name>-<APPID>` whose APPID is not
/// the caller's: the name belongs to that APPID's account, which COS clients can only
/// create under their own APPID. A suffix counts as an APPID when an account has it or
/// when it has an APPID's shape (ten digits), so that names of accounts created later
/// cannot be taken in advance either.
async fn refuse_foreign_appid(ctx: &Ctx, name: &str, caller_appid: &str) -> ApiResult<()> {
    let Ok(suffix) = validate_cos_bucket_name(name) else {
        return Ok(());
    };
    if suffix == caller_appid {
        return Ok(());
    }
    let appid_shaped = suffix.len() == 10;
    let taken = appid_shaped
        || ctx
            .state
            .store
            .meta()
            .accounts()
            .await?
            .iter()
            .any(|account| account.appid == suffix);
    if taken {
        return Err(ApiError::with_message(
            ErrorCode::AccessDenied,
            format!(
                "Bucket names ending in -{suffix} belong to the account with APPID {suffix}; yours is {caller_appid}."
            ),
        ));
    }
    Ok(())
}

/// `DELETE /` on a bucket.
pub async fn delete_bucket(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    ctx.state.store.delete_bucket(&bucket.name).await?;
    Ok(Response::new(204))
}

/// `HEAD /` on a bucket.
pub async fn head_bucket(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
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
    let bucket = ctx.bucket()?;
    let mut w = XmlWriter::new();
    w.leaf("LocationConstraint", &bucket.region);
    Ok(Response::xml(200, w.finish()))
}

/// `GET /?acl` on a bucket.
pub async fn get_bucket_acl(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    Ok(Response::xml(
        200,
        acl_document(ctx, &bucket.owner_uin, &bucket.acl, &bucket.owner_uin),
    ))
}

/// The AccessControlPolicy document for an ACL (protocol doc §6.8: a group grantee carries
/// only `xsi:type="Group"` and `<URI>`). Explicit grants are listed as given; a canned ACL
/// expands to the owner's FULL_CONTROL plus what it implies. `bucket_owner` is the owning
/// bucket's owner, for the `bucket-owner-*` object ACLs.
pub fn acl_document(ctx: &Ctx, owner_uin: &str, acl: &Acl, bucket_owner: &str) -> String {
    let groups = match ctx.dialect {
        Dialect::Cos => "http://cam.qcloud.com/groups/global/",
        Dialect::S3 => "http://acs.amazonaws.com/groups/global/",
    };
    let mut grants: Vec<(Grantee, &str)> = Vec::new();
    if acl.grants.is_empty() {
        grants.push((Grantee::User(owner_uin.to_string()), "FULL_CONTROL"));
        match acl.canned.as_str() {
            "public-read" => grants.push((Grantee::Group(format!("{groups}AllUsers")), "READ")),
            "public-read-write" => {
                grants.push((Grantee::Group(format!("{groups}AllUsers")), "READ"));
                grants.push((Grantee::Group(format!("{groups}AllUsers")), "WRITE"));
            }
            "authenticated-read" => grants.push((
                Grantee::Group(format!("{groups}AuthenticatedUsers")),
                "READ",
            )),
            "bucket-owner-read" if bucket_owner != owner_uin => {
                grants.push((Grantee::User(bucket_owner.to_string()), "READ"))
            }
            "bucket-owner-full-control" if bucket_owner != owner_uin => {
                grants.push((Grantee::User(bucket_owner.to_string()), "FULL_CONTROL"))
            }
            _ => {}
        }
    } else {
        for (permission, grantee) in &acl.grants {
            grants.push((parse_grantee(grantee), permission.as_str()));
        }
    }
    let principal = |uin: &str| match ctx.dialect {
        Dialect::Cos if !uin.starts_with("qcs::") => format!("qcs::cam::uin/{uin}:uin/{uin}"),
        _ => uin.to_string(),
    };
    let xsi = "http://www.w3.org/2001/XMLSchema-instance";
    let mut w = XmlWriter::new();
    w.open("AccessControlPolicy");
    write_owner(&mut w, "Owner", ctx, owner_uin);
    w.open("AccessControlList");
    for (grantee, permission) in grants {
        w.open("Grant");
        match grantee {
            Grantee::User(id) => {
                w.open_with_attrs(
                    "Grantee",
                    &[("xmlns:xsi", xsi), ("xsi:type", "CanonicalUser")],
                )
                .leaf("ID", &principal(&id))
                .leaf("DisplayName", &id)
                .close("Grantee");
            }
            Grantee::Group(uri) => {
                w.open_with_attrs("Grantee", &[("xmlns:xsi", xsi), ("xsi:type", "Group")])
                    .leaf("URI", &uri)
                    .close("Grantee");
            }
            Grantee::Email(address) => {
                w.open_with_attrs(
                    "Grantee",
                    &[("xmlns:xsi", xsi), ("xsi:type", "AmazonCustomerByEmail")],
                )
                .leaf("EmailAddress", &address)
                .close("Grantee");
            }
        }
        w.leaf("Permission", permission).close("Grant");
    }
    w.close("AccessControlList").close("AccessControlPolicy");
    w.finish()
}

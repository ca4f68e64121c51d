//! Bucket operations: create, delete, head, location, ACL.

use super::op::{Env, Op, OpRequest};
use super::{acl_from_request, refuse_unsupported_headers, write_owner, AclTarget};
use crate::access::{parse_grantee, Grantee};
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use coffer_proto::names::{validate_cos_bucket_name, validate_s3_bucket_name};
use coffer_proto::xml::XmlWriter;
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::model::{Acl, BucketRecord};
use coffer_store::Store;

/// What a CreateBucket asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateBucketInput {
    /// The bucket name, valid in the request's dialect.
    pub name: String,
    /// The APPID suffix of the name: always present for COS, for S3 only when the name has
    /// the COS form `<name>-<APPID>`.
    pub appid: Option<String>,
    /// The request's dialect (COS names must end with the caller's APPID).
    pub dialect: Dialect,
    /// The bucket's ACL.
    pub acl: Acl,
}

/// `PUT /` on a bucket.
#[derive(Debug)]
pub struct CreateBucket;

impl Op for CreateBucket {
    type Input = CreateBucketInput;
    /// The bucket name (S3 answers its `Location`).
    type Output<'a> = String;

    fn parse(req: &OpRequest<'_>) -> ApiResult<CreateBucketInput> {
        let name = req.bucket_name()?;
        refuse_unsupported_headers(req)?;
        let appid = match req.dialect {
            Dialect::Cos => Some(validate_cos_bucket_name(name)?),
            Dialect::S3 => {
                validate_s3_bucket_name(name)?;
                validate_cos_bucket_name(name).ok()
            }
        };
        // An optional CreateBucketConfiguration body (COS: BucketAZConfig/BucketArchConfig;
        // S3: LocationConstraint). It must be well-formed if present.
        check_create_bucket_configuration(req.body)?;
        Ok(CreateBucketInput {
            name: name.to_string(),
            appid: appid.map(|a| a.to_string()),
            dialect: req.dialect,
            acl: acl_from_request(req, AclTarget::Bucket)?,
        })
    }

    async fn apply(env: &Env<'_>, input: CreateBucketInput) -> ApiResult<String> {
        let caller = env.caller()?;
        match (input.dialect, input.appid.as_deref()) {
            (Dialect::Cos, appid) if appid != Some(caller.appid.as_str()) => {
                return Err(ApiError::with_message(
                    ErrorCode::AccessDenied,
                    format!(
                        "The bucket name must end with your APPID: -{}",
                        caller.appid
                    ),
                ));
            }
            (Dialect::S3, Some(suffix)) => {
                refuse_foreign_appid(env.store, suffix, &caller.appid).await?
            }
            _ => {}
        }
        let record = BucketRecord {
            name: input.name,
            id: 0,
            owner_uin: caller.uin.clone(),
            region: env.config.region.clone(),
            created_ms: coffer_proto::time::now_millis(),
            acl: input.acl,
        };
        let created = env.store.create_bucket(record).await?;
        Ok(created.name)
    }

    fn render(name: String, dialect: Dialect) -> Response {
        let mut response = Response::new(200);
        if dialect == Dialect::S3 {
            response.push_header("Location", format!("/{name}"));
        }
        response
    }
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
async fn refuse_foreign_appid(store: &Store, suffix: &str, caller_appid: &str) -> ApiResult<()> {
    if suffix == caller_appid {
        return Ok(());
    }
    let appid_shaped = suffix.len() == 10;
    let taken = appid_shaped
        || store
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
#[derive(Debug)]
pub struct DeleteBucket;

impl Op for DeleteBucket {
    type Input = ();
    type Output<'a> = ();

    fn parse(_: &OpRequest<'_>) -> ApiResult<()> {
        Ok(())
    }

    async fn apply(env: &Env<'_>, (): ()) -> ApiResult<()> {
        env.store.delete_bucket(&env.bucket()?.name).await?;
        Ok(())
    }

    fn render((): (), _: Dialect) -> Response {
        Response::new(204)
    }
}

/// `HEAD /` on a bucket.
#[derive(Debug)]
pub struct HeadBucket;

impl Op for HeadBucket {
    type Input = ();
    /// The bucket's region.
    type Output<'a> = &'a str;

    fn parse(_: &OpRequest<'_>) -> ApiResult<()> {
        Ok(())
    }

    async fn apply<'a>(env: &'a Env<'a>, (): ()) -> ApiResult<&'a str> {
        Ok(&env.bucket()?.region)
    }

    fn render(region: &str, dialect: Dialect) -> Response {
        let mut response = Response::new(200);
        match dialect {
            Dialect::Cos => {
                response.push_header("x-cos-bucket-region", region.to_string());
                response.push_header("x-cos-bucket-az-type", "SAZ");
            }
            Dialect::S3 => response.push_header("x-amz-bucket-region", region.to_string()),
        }
        response
    }
}

/// `GET /?location`.
#[derive(Debug)]
pub struct GetBucketLocation;

impl Op for GetBucketLocation {
    type Input = ();
    /// The bucket's region.
    type Output<'a> = &'a str;

    fn parse(_: &OpRequest<'_>) -> ApiResult<()> {
        Ok(())
    }

    async fn apply<'a>(env: &'a Env<'a>, (): ()) -> ApiResult<&'a str> {
        Ok(&env.bucket()?.region)
    }

    fn render(region: &str, _: Dialect) -> Response {
        let mut w = XmlWriter::new();
        w.leaf("LocationConstraint", region);
        Response::xml(200, w.finish())
    }
}

/// An ACL to render, with the owners it names.
#[derive(Debug, Clone, Copy)]
pub struct AclView<'a> {
    /// The owner of the bucket or object.
    pub owner_uin: &'a str,
    /// The ACL.
    pub acl: &'a Acl,
    /// The owning bucket's owner (for the `bucket-owner-*` object ACLs).
    pub bucket_owner: &'a str,
}

/// `GET /?acl` on a bucket.
#[derive(Debug)]
pub struct GetBucketAcl;

impl Op for GetBucketAcl {
    type Input = ();
    type Output<'a> = AclView<'a>;

    fn parse(_: &OpRequest<'_>) -> ApiResult<()> {
        Ok(())
    }

    async fn apply<'a>(env: &'a Env<'a>, (): ()) -> ApiResult<AclView<'a>> {
        let bucket = env.bucket()?;
        Ok(AclView {
            owner_uin: &bucket.owner_uin,
            acl: &bucket.acl,
            bucket_owner: &bucket.owner_uin,
        })
    }

    fn render(acl: AclView<'_>, dialect: Dialect) -> Response {
        Response::xml(200, acl_document(dialect, acl))
    }
}

/// The AccessControlPolicy document for an ACL (protocol doc §6.8: a group grantee carries
/// only `xsi:type="Group"` and `<URI>`). Explicit grants are listed as given; a canned ACL
/// expands to the owner's FULL_CONTROL plus what it implies.
pub fn acl_document(dialect: Dialect, view: AclView<'_>) -> String {
    let AclView {
        owner_uin,
        acl,
        bucket_owner,
    } = view;
    let groups = match dialect {
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
    let principal = |uin: &str| match dialect {
        Dialect::Cos if !uin.starts_with("qcs::") => format!("qcs::cam::uin/{uin}:uin/{uin}"),
        _ => uin.to_string(),
    };
    let xsi = "http://www.w3.org/2001/XMLSchema-instance";
    let mut w = XmlWriter::new();
    w.open("AccessControlPolicy");
    write_owner(&mut w, "Owner", dialect, owner_uin);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Resources;
    use crate::ops::op::testing::{body_text, code, header, req, TempEnv};

    #[test]
    fn parses_create_bucket() {
        let cos = req("CreateBucket", Dialect::Cos)
            .key(None)
            .h("x-cos-acl", "public-read");
        let mut cos = cos;
        cos.bucket = Some("photos-1250000000".into());
        let input = CreateBucket::parse(&cos.view()).expect("cos");
        assert_eq!(input.appid.as_deref(), Some("1250000000"));
        assert_eq!(input.acl.canned, "public-read");
        let mut s3 = req("CreateBucket", Dialect::S3)
            .key(None)
            .body(b"<CreateBucketConfiguration><LocationConstraint>x</LocationConstraint></CreateBucketConfiguration>");
        s3.bucket = Some("photos".into());
        let input = CreateBucket::parse(&s3.view()).expect("s3");
        assert_eq!((input.appid, input.acl.canned.as_str()), (None, "private"));
        let bad_body = s3.clone().body(b"<Other/>");
        assert_eq!(
            code(CreateBucket::parse(&bad_body.view())),
            Some(ErrorCode::MalformedXML)
        );
        let bad_acl = s3.clone().h("x-amz-acl", "everyone");
        assert_eq!(
            code(CreateBucket::parse(&bad_acl.view())),
            Some(ErrorCode::InvalidArgument)
        );
        let lock = s3.clone().h("x-amz-bucket-object-lock-enabled", "true");
        assert_eq!(
            code(CreateBucket::parse(&lock.view())),
            Some(ErrorCode::NotImplemented)
        );
        let mut no_appid = req("CreateBucket", Dialect::Cos).key(None);
        no_appid.bucket = Some("photos".into());
        assert!(CreateBucket::parse(&no_appid.view()).is_err());
    }

    #[test]
    fn check_create_bucket_configuration_bodies() {
        assert!(check_create_bucket_configuration(b"").is_ok());
        assert!(check_create_bucket_configuration(b" \n").is_ok());
        assert!(check_create_bucket_configuration(b"<CreateBucketConfiguration/>").is_ok());
        assert!(check_create_bucket_configuration(b"<X/>").is_err());
        assert!(check_create_bucket_configuration(b"<Create").is_err());
    }

    #[test]
    fn renders_bucket_answers() {
        let s3 = CreateBucket::render("b".into(), Dialect::S3);
        assert_eq!(header(&s3, "Location"), Some("/b"));
        assert_eq!(
            CreateBucket::render("b".into(), Dialect::Cos).headers.len(),
            0
        );
        let head = HeadBucket::render("ap-x", Dialect::Cos);
        assert_eq!(header(&head, "x-cos-bucket-region"), Some("ap-x"));
        assert_eq!(header(&head, "x-cos-bucket-az-type"), Some("SAZ"));
        let head = HeadBucket::render("ap-x", Dialect::S3);
        assert_eq!(header(&head, "x-amz-bucket-region"), Some("ap-x"));
        assert_eq!(
            body_text(&GetBucketLocation::render("ap-x", Dialect::S3)),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint>ap-x</LocationConstraint>"
        );
        assert_eq!(DeleteBucket::render((), Dialect::S3).status, 204);
    }

    #[test]
    fn renders_acls() {
        let acl = Acl {
            canned: "public-read".into(),
            grants: Vec::new(),
        };
        let view = AclView {
            owner_uin: "1",
            acl: &acl,
            bucket_owner: "1",
        };
        let xsi = "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";
        assert_eq!(
            body_text(&GetBucketAcl::render(view, Dialect::Cos)),
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AccessControlPolicy><Owner><ID>qcs::cam::uin/1:uin/1</ID><DisplayName>1</DisplayName></Owner><AccessControlList><Grant><Grantee {xsi} xsi:type=\"CanonicalUser\"><ID>qcs::cam::uin/1:uin/1</ID><DisplayName>1</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant><Grant><Grantee {xsi} xsi:type=\"Group\"><URI>http://cam.qcloud.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>")
        );
        let s3 = body_text(&GetBucketAcl::render(view, Dialect::S3));
        assert!(s3.contains("<Owner><ID>1</ID>"), "{s3}");
        assert!(
            s3.contains("http://acs.amazonaws.com/groups/global/AllUsers"),
            "{s3}"
        );
    }

    #[tokio::test]
    async fn creates_and_deletes_on_a_store() {
        let temp = TempEnv::new().await;
        let resources = Resources::default();
        let env = temp.env(&resources);
        let input = CreateBucketInput {
            name: "photos-1250000000".into(),
            appid: Some("1250000000".into()),
            dialect: Dialect::Cos,
            acl: Acl::default(),
        };
        let name = CreateBucket::apply(&env, input.clone())
            .await
            .expect("create");
        assert_eq!(name, "photos-1250000000");
        let foreign = CreateBucketInput {
            name: "photos-1250000001".into(),
            appid: Some("1250000001".into()),
            ..input.clone()
        };
        assert_eq!(
            code(CreateBucket::apply(&env, foreign.clone()).await),
            Some(ErrorCode::AccessDenied)
        );
        let s3_foreign = CreateBucketInput {
            dialect: Dialect::S3,
            ..foreign
        };
        assert_eq!(
            code(CreateBucket::apply(&env, s3_foreign).await),
            Some(ErrorCode::AccessDenied)
        );
        let record = temp.store.bucket(&name).await.expect("bucket");
        let resources = Resources {
            bucket: Some(record),
            ..Resources::default()
        };
        let env = temp.env(&resources);
        assert_eq!(
            HeadBucket::apply(&env, ()).await.expect("head"),
            "ap-guangzhou"
        );
        DeleteBucket::apply(&env, ()).await.expect("delete");
        assert!(temp.store.bucket(&name).await.is_err());
    }
}

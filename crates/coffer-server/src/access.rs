//! Authorization, in one place: the pipeline calls [`authorize`] with the operation's
//! declared [`Access`] before any handler runs, and hands the records it loaded (bucket,
//! object, copy source) to the handler. The bucket owner may do anything; others what the
//! canned ACL or explicit grants allow; anonymous callers only what is public.

use crate::addressing::{Addressing, Target};
use crate::error::{ApiError, ApiResult};
use crate::ops::copy::{parse_copy_source, CopySourceRef};
use coffer_proto::ErrorCode;
use coffer_store::model::{AccountRecord, Acl, BucketRecord, ObjectVersion};
use coffer_store::{Store, StoreError};

/// A permission of the COS/S3 ACL model, plus ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read objects or list.
    Read,
    /// Create or delete objects.
    Write,
    /// Read an ACL.
    ReadAcp,
    /// Change an ACL.
    WriteAcp,
    /// Only the bucket owner (delete bucket, location, configuration).
    Owner,
}

/// Who may perform an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any signed request (list the caller's buckets, create a bucket).
    Authenticated,
    /// Admin accounts only.
    Admin,
    /// The permission on the addressed bucket.
    Bucket(Permission),
    /// The permission on the addressed object: its own ACL if it has one, else the
    /// bucket's. A missing object answers NoSuchKey only to callers who may read the bucket.
    Object(Permission),
}

/// The records authorization loaded, handed to the handler so it does not load them again.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    /// The addressed bucket (bucket and object operations).
    pub bucket: Option<BucketRecord>,
    /// The addressed object's current version (`Access::Object` operations).
    pub object: Option<ObjectVersion>,
    /// The copy source, for copies: where it is, its bucket and its current version.
    pub source: Option<CopySourceObject>,
}

/// A copy source the caller may read.
#[derive(Debug, Clone)]
pub struct CopySourceObject {
    /// What the copy-source header named.
    pub location: CopySourceRef,
    /// The source bucket.
    pub bucket: BucketRecord,
    /// The source object's current version.
    pub version: ObjectVersion,
}

/// What [`authorize`] needs to know about the request.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    /// The declared access rule.
    pub access: Access,
    /// The signing account (`None`: anonymous).
    pub caller: Option<&'a AccountRecord>,
    /// Bucket and key.
    pub target: &'a Target,
    /// The dialect's copy-source header, when the operation is a copy.
    pub copy_source: Option<&'a str>,
}

/// Checks the declared access rule and loads what it looked at.
pub async fn authorize(
    store: &Store,
    addressing: &Addressing,
    request: AccessRequest<'_>,
) -> ApiResult<Resources> {
    let caller = request.caller;
    let mut resources = Resources::default();
    match request.access {
        Access::Authenticated => {
            caller.ok_or_else(|| ApiError::new(ErrorCode::AccessDenied))?;
        }
        Access::Admin => {
            if !caller.is_some_and(|c| c.admin) {
                return Err(ApiError::with_message(
                    ErrorCode::AccessDenied,
                    "Only admin accounts may use the admin API.",
                ));
            }
        }
        Access::Bucket(need) => {
            let bucket = load_bucket(store, request.target).await?;
            require(permits(caller, &bucket, None, need))?;
            resources.bucket = Some(bucket);
        }
        Access::Object(need) => {
            let bucket = load_bucket(store, request.target).await?;
            let key = request
                .target
                .key
                .as_deref()
                .ok_or_else(|| ApiError::new(ErrorCode::InvalidURI))?;
            let object = read_object(store, caller, &bucket, key, need).await?;
            resources.bucket = Some(bucket);
            resources.object = Some(object);
        }
    }
    if let Some(header) = request.copy_source {
        let location = parse_copy_source(addressing, header)?;
        let bucket = store.bucket(&location.bucket).await?;
        let version = read_object(store, caller, &bucket, &location.key, Permission::Read).await?;
        resources.source = Some(CopySourceObject {
            location,
            bucket,
            version,
        });
    }
    Ok(resources)
}

async fn load_bucket(store: &Store, target: &Target) -> ApiResult<BucketRecord> {
    let name = target
        .bucket
        .as_deref()
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest))?;
    Ok(store.bucket(name).await?)
}

/// Loads an object the caller needs `need` on. Whether a key exists is only revealed to
/// callers who may read the bucket.
async fn read_object(
    store: &Store,
    caller: Option<&AccountRecord>,
    bucket: &BucketRecord,
    key: &str,
    need: Permission,
) -> ApiResult<ObjectVersion> {
    match store.object(bucket, key).await {
        Ok(version) => {
            require(permits(caller, bucket, Some(&version), need))?;
            Ok(version)
        }
        Err(error @ StoreError::NoSuchKey) => {
            require(permits(caller, bucket, None, Permission::Read))?;
            Err(error.into())
        }
        Err(error) => Err(error.into()),
    }
}

fn require(allowed: bool) -> ApiResult<()> {
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::AccessDenied))
    }
}

/// Whether `caller` (`None` = anonymous) has `need` on `bucket`, or on `object` in it.
pub fn permits(
    caller: Option<&AccountRecord>,
    bucket: &BucketRecord,
    object: Option<&ObjectVersion>,
    need: Permission,
) -> bool {
    let caller_uin = caller.map(|c| c.uin.as_str());
    if caller_uin == Some(bucket.owner_uin.as_str()) {
        return true;
    }
    if need == Permission::Owner {
        return false;
    }
    if let Some(object) = object {
        // The object's owner may read and change its ACL.
        let acp = matches!(need, Permission::ReadAcp | Permission::WriteAcp);
        if acp && caller_uin == Some(object.owner_uin.as_str()) {
            return true;
        }
        // An object with an ACL of its own is governed by it alone; `default` inherits the
        // bucket's.
        let acl = &object.attributes.acl;
        let inherits = (acl.canned.is_empty() || acl.canned == "default") && acl.grants.is_empty();
        if !inherits {
            return acl_allows(acl, caller_uin, need, &bucket.owner_uin);
        }
    }
    acl_allows(&bucket.acl, caller_uin, need, &bucket.owner_uin)
}

/// Whether an ACL lets this caller (`None` = anonymous) do what it needs.
fn acl_allows(acl: &Acl, caller_uin: Option<&str>, need: Permission, bucket_owner: &str) -> bool {
    use Permission::*;
    let canned = match acl.canned.as_str() {
        "public-read" => need == Read,
        "public-read-write" => matches!(need, Read | Write),
        "authenticated-read" => need == Read && caller_uin.is_some(),
        "bucket-owner-read" => need == Read && caller_uin == Some(bucket_owner),
        "bucket-owner-full-control" => caller_uin == Some(bucket_owner),
        _ => false,
    };
    let granted = acl.grants.iter().any(|(permission, grantee)| {
        let permits = matches!(
            (permission.as_str(), need),
            ("FULL_CONTROL", _)
                | ("READ", Read)
                | ("WRITE", Write)
                | ("READ_ACP", ReadAcp)
                | ("WRITE_ACP", WriteAcp)
        );
        permits && grantee_covers(grantee, caller_uin)
    });
    canned || granted
}

/// The parsed form of a grantee in a grant header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantee {
    /// A user (`id="…"`): its uin or COS principal.
    User(String),
    /// A group (`uri="…"`).
    Group(String),
    /// An e-mail grantee (`emailAddress="…"`), kept for display.
    Email(String),
}

/// Parses `id="100000000001"`, `uri="http://…/AllUsers"`, `emailAddress="a@b"`.
pub fn parse_grantee(text: &str) -> Grantee {
    let text = text.trim();
    let (kind, value) = text.split_once('=').unwrap_or(("id", text));
    let value = value.trim().trim_matches('"').to_string();
    match kind.trim().to_ascii_lowercase().as_str() {
        "uri" => Grantee::Group(value),
        "emailaddress" => Grantee::Email(value),
        _ => Grantee::User(value),
    }
}

/// Whether a grantee entry covers this caller.
fn grantee_covers(grantee: &str, caller_uin: Option<&str>) -> bool {
    match parse_grantee(grantee) {
        Grantee::Group(uri) if uri.ends_with("/AllUsers") => true,
        Grantee::Group(uri) if uri.ends_with("/AuthenticatedUsers") => caller_uin.is_some(),
        Grantee::Group(_) | Grantee::Email(_) => false,
        Grantee::User(id) => {
            caller_uin.is_some_and(|uin| id == uin || id.ends_with(&format!("uin/{uin}")))
        }
    }
}

/// Parses grant headers (`x-cos-grant-read: id="a",id="b"`) into (permission, grantee), in
/// the order READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL.
pub fn parse_grants(headers: [Option<&str>; 5]) -> Vec<(String, String)> {
    let permissions = ["READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"];
    let mut grants = Vec::new();
    for (permission, value) in permissions.iter().zip(headers) {
        if let Some(value) = value {
            for grantee in value.split(',').map(str::trim).filter(|g| !g.is_empty()) {
                grants.push((permission.to_string(), grantee.to_string()));
            }
        }
    }
    grants
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grantees() {
        assert!(grantee_covers("id=\"100\"", Some("100")));
        assert!(grantee_covers(
            "id=\"qcs::cam::uin/100:uin/100\"",
            Some("100")
        ));
        assert!(!grantee_covers("id=\"1000\"", Some("100")));
        assert!(grantee_covers(
            "uri=\"http://acs.amazonaws.com/groups/global/AllUsers\"",
            None
        ));
        assert!(!grantee_covers(
            "uri=http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
            None
        ));
        assert_eq!(
            parse_grants([
                Some("id=\"1\", id=\"2\""),
                None,
                None,
                None,
                Some("id=\"3\"")
            ]),
            vec![
                ("READ".to_string(), "id=\"1\"".to_string()),
                ("READ".to_string(), "id=\"2\"".to_string()),
                ("FULL_CONTROL".to_string(), "id=\"3\"".to_string()),
            ]
        );
    }
}

//! Authorization: the bucket owner may do anything; others what the canned ACL or explicit
//! grants allow; anonymous callers only what is public.

use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use coffer_proto::ErrorCode;
use coffer_store::model::{Acl, BucketRecord};

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Read objects or list.
    Read,
    /// Create or delete objects.
    Write,
    /// Owner-only actions (delete bucket, read ACLs).
    Owner,
}

/// Checks that the caller may act on `bucket` (and, for object reads, the object's ACL).
pub fn authorize(
    ctx: &Ctx,
    bucket: &BucketRecord,
    need: Need,
    object_acl: Option<&Acl>,
) -> ApiResult<()> {
    if let Some(caller) = &ctx.caller {
        if caller.uin == bucket.owner_uin {
            return Ok(());
        }
    }
    let caller_uin = ctx.caller.as_ref().map(|c| c.uin.as_str());
    let allowed = |acl: &Acl| acl_allows(acl, caller_uin, need, &bucket.owner_uin);
    if let Some(acl) = object_acl {
        // An object with an ACL of its own is governed by it alone; `default` inherits the
        // bucket's.
        let inherits = (acl.canned.is_empty() || acl.canned == "default") && acl.grants.is_empty();
        if !inherits {
            return if allowed(acl) {
                Ok(())
            } else {
                Err(ApiError::new(ErrorCode::AccessDenied))
            };
        }
    }
    if allowed(&bucket.acl) {
        return Ok(());
    }
    Err(ApiError::new(ErrorCode::AccessDenied))
}

/// Whether an ACL lets this caller (`None` = anonymous) do what it needs.
fn acl_allows(acl: &Acl, caller_uin: Option<&str>, need: Need, bucket_owner: &str) -> bool {
    let canned = match acl.canned.as_str() {
        "public-read" => need == Need::Read,
        "public-read-write" => matches!(need, Need::Read | Need::Write),
        "authenticated-read" => need == Need::Read && caller_uin.is_some(),
        "bucket-owner-read" => need == Need::Read && caller_uin == Some(bucket_owner),
        "bucket-owner-full-control" => caller_uin == Some(bucket_owner),
        _ => false,
    };
    let granted = acl.grants.iter().any(|(permission, grantee)| {
        let permits = matches!(
            (permission.as_str(), need),
            ("FULL_CONTROL", _) | ("READ", Need::Read) | ("WRITE", Need::Write)
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

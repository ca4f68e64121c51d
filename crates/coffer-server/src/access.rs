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
    let uin = ctx.caller.as_ref().map(|c| c.uin.as_str());
    let allowed = |acl: &Acl| -> bool {
        let canned = matches!(
            (acl.canned.as_str(), need),
            ("public-read", Need::Read) | ("public-read-write", Need::Read | Need::Write)
        );
        let granted = uin.is_some_and(|uin| {
            acl.grants.iter().any(|(permission, grantee)| {
                grantee_matches(grantee, uin)
                    && matches!(
                        (permission.as_str(), need),
                        ("FULL_CONTROL", _) | ("READ", Need::Read) | ("WRITE", Need::Write)
                    )
            })
        });
        canned || granted
    };
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

/// Whether a grant header entry (`id="100000000001"`, `id="qcs::cam::uin/1:uin/1"`) names
/// this uin.
fn grantee_matches(grantee: &str, uin: &str) -> bool {
    let id = grantee
        .trim()
        .trim_start_matches("id=")
        .trim_start_matches("ID=")
        .trim_matches('"');
    id == uin
        || id.ends_with(&format!("uin/{uin}"))
        || id == format!("qcs::cam::uin/{uin}:uin/{uin}")
}

/// Parses grant headers (`x-cos-grant-read: id="a",id="b"`) into (permission, grantee).
pub fn parse_grants(
    read: Option<&str>,
    write: Option<&str>,
    full: Option<&str>,
) -> Vec<(String, String)> {
    let mut grants = Vec::new();
    for (permission, value) in [("READ", read), ("WRITE", write), ("FULL_CONTROL", full)] {
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
        assert!(grantee_matches("id=\"100\"", "100"));
        assert!(grantee_matches("id=\"qcs::cam::uin/100:uin/100\"", "100"));
        assert!(!grantee_matches("id=\"1000\"", "100"));
        assert_eq!(
            parse_grants(Some("id=\"1\", id=\"2\""), None, Some("id=\"3\"")),
            vec![
                ("READ".to_string(), "id=\"1\"".to_string()),
                ("READ".to_string(), "id=\"2\"".to_string()),
                ("FULL_CONTROL".to_string(), "id=\"3\"".to_string()),
            ]
        );
    }
}

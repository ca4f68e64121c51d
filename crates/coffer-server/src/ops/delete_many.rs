//! POST /?delete: DELETE Multiple Objects.

use super::read_document;
use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use crate::payload::Payload;
use coffer_proto::checksum::{md5, parse_content_md5};
use coffer_proto::names::validate_object_key;
use coffer_proto::xml::XmlWriter;
use coffer_proto::ErrorCode;

/// Most keys one request may name.
const MAX_KEYS: usize = 1000;

/// A parsed `<Delete>` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRequest {
    /// `<Quiet>true</Quiet>`: report errors only.
    pub quiet: bool,
    /// The objects to delete, in document order (1 to [`MAX_KEYS`]).
    pub objects: Vec<DeleteEntry>,
}

/// One `<Object>` of a `<Delete>` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteEntry {
    /// `<Key>`, as written (validated per object when deleting).
    pub key: String,
    /// `<VersionId>`, if given and non-empty.
    pub version_id: Option<String>,
}

/// Parses a DeleteObjects body: a `<Delete>` root with 1 to [`MAX_KEYS`] `<Object>`s, each
/// with a `<Key>`. The whole document is checked before anything is deleted.
pub fn parse_delete(body: &[u8]) -> ApiResult<DeleteRequest> {
    let root = coffer_proto::xml::parse(body)?;
    if root.name != "Delete" {
        return Err(ErrorCode::MalformedXML.into());
    }
    let quiet = root
        .child_text("Quiet")
        .is_some_and(|q| q.trim().eq_ignore_ascii_case("true"));
    let objects = root
        .children_named("Object")
        .map(|object| {
            let key = object.child_text("Key").ok_or(ErrorCode::MalformedXML)?;
            let version_id = object.child_text("VersionId").filter(|v| !v.is_empty());
            Ok(DeleteEntry {
                key: key.to_string(),
                version_id: version_id.map(str::to_string),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    if objects.is_empty() || objects.len() > MAX_KEYS {
        return Err(ErrorCode::MalformedXML.into());
    }
    Ok(DeleteRequest { quiet, objects })
}

/// `POST /?delete`.
pub async fn delete_objects(ctx: &Ctx, payload: &mut Payload<'_, '_>) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let body = read_document(ctx, payload).await?;
    if let Some(header) = ctx.header("content-md5") {
        let expected =
            parse_content_md5(header).map_err(|_| ApiError::new(ErrorCode::InvalidDigest))?;
        if expected != md5(&body) {
            return Err(ErrorCode::BadDigest.into());
        }
    }
    let DeleteRequest { quiet, objects } = parse_delete(&body)?;
    let mut w = XmlWriter::new();
    w.open("DeleteResult");
    for DeleteEntry { key, version_id } in &objects {
        let (key, version_id) = (key.as_str(), version_id.as_deref());
        let outcome = match validate_object_key(key) {
            Err(code) => Err(ApiError::new(code)),
            Ok(()) => match version_id {
                Some(v) if v != "null" => Err(ApiError::new(ErrorCode::NoSuchVersion)),
                _ => ctx
                    .state
                    .store
                    .delete_object(bucket, key)
                    .await
                    .map_err(ApiError::from),
            },
        };
        match outcome {
            Ok(_) => {
                if !quiet {
                    w.open("Deleted").leaf("Key", key);
                    if let Some(v) = version_id {
                        w.leaf("VersionId", v);
                    }
                    w.close("Deleted");
                }
            }
            Err(error) => {
                w.open("Error")
                    .leaf("Key", key)
                    .leaf("Code", error.code.as_str())
                    .leaf("Message", &error.message);
                if let Some(v) = version_id {
                    w.leaf("VersionId", v);
                }
                w.close("Error");
            }
        }
    }
    w.close("DeleteResult");
    Ok(Response::xml(200, w.finish()))
}

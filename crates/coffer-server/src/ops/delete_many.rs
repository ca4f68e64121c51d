//! POST /?delete: DELETE Multiple Objects.

use super::op::{Env, Op, OpRequest};
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use coffer_proto::checksum::{md5, parse_content_md5};
use coffer_proto::names::validate_object_key;
use coffer_proto::xml::XmlWriter;
use coffer_proto::{Dialect, ErrorCode};

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

/// What became of one object of a DeleteObjects.
#[derive(Debug, Clone)]
pub struct DeleteOutcome {
    /// The entry.
    pub entry: DeleteEntry,
    /// Deleted, or why not.
    pub result: ApiResult<()>,
}

/// What a DeleteObjects did.
#[derive(Debug, Clone)]
pub struct DeleteObjectsOutput {
    /// Report errors only.
    pub quiet: bool,
    /// Per object, in document order.
    pub outcomes: Vec<DeleteOutcome>,
}

/// `POST /?delete`.
#[derive(Debug)]
pub struct DeleteObjects;

impl Op for DeleteObjects {
    type Input = DeleteRequest;
    type Output<'a> = DeleteObjectsOutput;

    /// Checks `Content-MD5` against the document, then parses it.
    fn parse(req: &OpRequest<'_>) -> ApiResult<DeleteRequest> {
        if let Some(header) = req.header("content-md5") {
            let expected =
                parse_content_md5(header).map_err(|_| ApiError::new(ErrorCode::InvalidDigest))?;
            if expected != md5(req.body) {
                return Err(ErrorCode::BadDigest.into());
            }
        }
        parse_delete(req.body)
    }

    async fn apply(env: &Env<'_>, input: DeleteRequest) -> ApiResult<DeleteObjectsOutput> {
        let bucket = env.bucket()?;
        let mut outcomes = Vec::with_capacity(input.objects.len());
        for entry in input.objects {
            let result = match validate_object_key(&entry.key) {
                Err(code) => Err(ApiError::new(code)),
                Ok(()) => match entry.version_id.as_deref() {
                    Some(v) if v != "null" => Err(ApiError::new(ErrorCode::NoSuchVersion)),
                    _ => env
                        .store
                        .delete_object(bucket, &entry.key)
                        .await
                        .map(|_| ())
                        .map_err(ApiError::from),
                },
            };
            outcomes.push(DeleteOutcome { entry, result });
        }
        Ok(DeleteObjectsOutput {
            quiet: input.quiet,
            outcomes,
        })
    }

    fn render(output: DeleteObjectsOutput, _: Dialect) -> Response {
        let mut w = XmlWriter::new();
        w.open("DeleteResult");
        for DeleteOutcome { entry, result } in &output.outcomes {
            let (key, version_id) = (entry.key.as_str(), entry.version_id.as_deref());
            match result {
                Ok(()) => {
                    if !output.quiet {
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
        Response::xml(200, w.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::op::testing::{body_text, code, req};

    const DOC: &[u8] = b"<Delete><Quiet>false</Quiet><Object><Key>a</Key></Object><Object><Key>b</Key><VersionId>v</VersionId></Object></Delete>";

    #[test]
    fn parses_delete_objects() {
        let r = req("DeleteObjects", Dialect::S3).key(None).body(DOC);
        let input = DeleteObjects::parse(&r.view()).expect("parse");
        assert!(!input.quiet);
        assert_eq!(input.objects.len(), 2);
        assert_eq!(input.objects[1].version_id.as_deref(), Some("v"));
        let md5 = coffer_proto::checksum::md5(DOC);
        use base64::Engine as _;
        let good = base64::engine::general_purpose::STANDARD.encode(md5);
        let r = req("DeleteObjects", Dialect::Cos)
            .key(None)
            .h("Content-MD5", &good)
            .body(DOC);
        assert!(DeleteObjects::parse(&r.view()).is_ok());
        for (value, expected) in [
            ("1B2M2Y8AsgTpgAmY7PhCfg==", ErrorCode::BadDigest),
            ("junk", ErrorCode::InvalidDigest),
        ] {
            let r = req("DeleteObjects", Dialect::Cos)
                .key(None)
                .h("Content-MD5", value)
                .body(DOC);
            assert_eq!(code(DeleteObjects::parse(&r.view())), Some(expected));
        }
        let too_many = format!(
            "<Delete>{}</Delete>",
            "<Object><Key>k</Key></Object>".repeat(MAX_KEYS + 1)
        );
        for body in [
            &b"<Delete/>"[..],
            b"<Delete><Object/></Delete>",
            too_many.as_bytes(),
        ] {
            let r = req("DeleteObjects", Dialect::S3).key(None).body(body);
            assert_eq!(
                code(DeleteObjects::parse(&r.view())),
                Some(ErrorCode::MalformedXML)
            );
        }
    }

    #[test]
    fn renders_delete_results() {
        let outcomes = vec![
            DeleteOutcome {
                entry: DeleteEntry {
                    key: "a".into(),
                    version_id: None,
                },
                result: Ok(()),
            },
            DeleteOutcome {
                entry: DeleteEntry {
                    key: "b".into(),
                    version_id: Some("v".into()),
                },
                result: Err(ApiError::new(ErrorCode::NoSuchVersion)),
            },
        ];
        let decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
        let error = format!(
            "<Error><Key>b</Key><Code>NoSuchVersion</Code><Message>{}</Message><VersionId>v</VersionId></Error>",
            ApiError::new(ErrorCode::NoSuchVersion).message
        );
        let loud = DeleteObjectsOutput {
            quiet: false,
            outcomes: outcomes.clone(),
        };
        assert_eq!(
            body_text(&DeleteObjects::render(loud, Dialect::S3)),
            format!("{decl}<DeleteResult><Deleted><Key>a</Key></Deleted>{error}</DeleteResult>")
        );
        let quiet = DeleteObjectsOutput {
            quiet: true,
            outcomes,
        };
        assert_eq!(
            body_text(&DeleteObjects::render(quiet, Dialect::Cos)),
            format!("{decl}<DeleteResult>{error}</DeleteResult>")
        );
    }
}

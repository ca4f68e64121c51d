//! DELETE Multiple Objects: `delete_objects`.

use base64::Engine as _;
use bytes::Bytes;
use coffer_proto::xml::XmlWriter;
use md5::{Digest, Md5};
use reqwest::Method;

use super::{flag, read_xml, text, text_opt};
use crate::client::{CosClient, Request};
use crate::error::{Error, Result};

/// At most this many keys per `delete_objects` call.
pub const MAX_DELETE_KEYS: usize = 1000;

/// One object to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectIdentifier {
    /// The key.
    pub key: String,
    /// A specific version.
    pub version_id: Option<String>,
}

impl<S: Into<String>> From<S> for ObjectIdentifier {
    fn from(key: S) -> Self {
        ObjectIdentifier {
            key: key.into(),
            version_id: None,
        }
    }
}

/// A deleted object of [`DeleteObjectsOutput`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedObject {
    /// The key.
    pub key: String,
    /// Version deleted.
    pub version_id: Option<String>,
    /// Whether a delete marker was created.
    pub delete_marker: bool,
    /// Version id of that marker.
    pub delete_marker_version_id: Option<String>,
}

/// A key that could not be deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteError {
    /// The key.
    pub key: String,
    /// Version.
    pub version_id: Option<String>,
    /// Error code.
    pub code: String,
    /// Message.
    pub message: String,
}

/// The answer of [`CosClient::delete_objects`].
#[derive(Debug, Clone, Default)]
pub struct DeleteObjectsOutput {
    /// Deleted keys (none in quiet mode).
    pub deleted: Vec<DeletedObject>,
    /// Keys that failed.
    pub errors: Vec<DeleteError>,
}

impl CosClient {
    /// Deletes up to 1000 objects in one request (`delete_objects`). With `quiet` only the
    /// failures are reported.
    pub async fn delete_objects<I, O>(
        &self,
        bucket: &str,
        objects: I,
        quiet: bool,
    ) -> Result<DeleteObjectsOutput>
    where
        I: IntoIterator<Item = O>,
        O: Into<ObjectIdentifier>,
    {
        let objects: Vec<ObjectIdentifier> = objects.into_iter().map(Into::into).collect();
        if objects.is_empty() {
            return Ok(DeleteObjectsOutput::default());
        }
        if objects.len() > MAX_DELETE_KEYS {
            return Err(Error::invalid(format!(
                "delete_objects takes at most {MAX_DELETE_KEYS} keys, got {}",
                objects.len()
            )));
        }
        let mut w = XmlWriter::new();
        w.open("Delete")
            .leaf("Quiet", if quiet { "true" } else { "false" });
        for object in &objects {
            w.open("Object").leaf("Key", &object.key);
            if let Some(version_id) = &object.version_id {
                w.leaf("VersionId", version_id);
            }
            w.close("Object");
        }
        w.close("Delete");
        let body = Bytes::from(w.finish());
        let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&body));
        let request = Request::new(Method::POST, self.bucket_target(bucket, "")?)
            .param("delete", "")
            .header("Content-Type", "application/xml")
            .header("Content-MD5", md5)
            .body(body.into());
        let root = read_xml(self.send(request).await?).await?;
        Ok(DeleteObjectsOutput {
            deleted: root
                .children_named("Deleted")
                .map(|d| DeletedObject {
                    key: text(d, "Key"),
                    version_id: text_opt(d, "VersionId"),
                    delete_marker: flag(d, "DeleteMarker"),
                    delete_marker_version_id: text_opt(d, "DeleteMarkerVersionId"),
                })
                .collect(),
            errors: root
                .children_named("Error")
                .map(|e| DeleteError {
                    key: text(e, "Key"),
                    version_id: text_opt(e, "VersionId"),
                    code: text(e, "Code"),
                    message: text(e, "Message"),
                })
                .collect(),
        })
    }
}

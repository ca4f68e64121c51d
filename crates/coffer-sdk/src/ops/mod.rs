//! One module per family of COS operations. Each adds `impl CosClient` methods with typed
//! requests and outputs; adding a family (ACL, CORS, lifecycle…) means adding a module here.

pub mod bucket;
pub mod copy;
pub mod delete;
pub mod list;
pub mod multipart;
pub mod object;
pub mod presign;
pub mod service;

use coffer_proto::xml::Element;

use reqwest::header::HeaderMap;

use crate::error::{ClientError, Error, Result, ServiceError};

/// Largest XML answer read (a 1000-entry listing is far below).
const MAX_XML_BODY: usize = 64 << 20;

/// Reads an XML answer into its root element.
pub(crate) async fn read_xml(response: reqwest::Response) -> Result<Element> {
    parse_xml(&read_body(response).await?)
}

/// Reads an answer that must carry an `<ETag>` (copy, part copy, complete). COS may answer
/// such a request 200 with an `<Error>` document instead (§5.2): that becomes a
/// [`ServiceError`] with status 200, as in the Python SDK.
pub(crate) async fn read_xml_with_etag(
    method: &str,
    response: reqwest::Response,
) -> Result<(HeaderMap, Element, String)> {
    let headers = response.headers().clone();
    let url = response.url().to_string();
    let body = read_body(response).await?;
    let root = parse_xml(&body)?;
    match text_opt(&root, "ETag") {
        Some(etag) => Ok((headers, root, etag)),
        None => Err(ServiceError::from_response(method, 200, headers, &body, &url).into()),
    }
}

async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_XML_BODY {
            return Err(invalid_response("XML answer larger than 64 MiB"));
        }
    }
    Ok(body)
}

fn parse_xml(body: &[u8]) -> Result<Element> {
    coffer_proto::xml::parse(body).map_err(|_| {
        invalid_response(format!(
            "malformed XML answer: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ))
    })
}

pub(crate) fn invalid_response(message: impl Into<String>) -> Error {
    Error::Client(ClientError::InvalidResponse(message.into()))
}

/// Text of a child, owned (empty when absent).
pub(crate) fn text(element: &Element, name: &str) -> String {
    element.child_text(name).unwrap_or_default().to_string()
}

/// Text of a child, `None` when absent or empty.
pub(crate) fn text_opt(element: &Element, name: &str) -> Option<String> {
    element
        .child_text(name)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// A numeric child (0 when absent or malformed).
pub(crate) fn number<T: std::str::FromStr + Default>(element: &Element, name: &str) -> T {
    element
        .child_text(name)
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_default()
}

/// `true` exactly when the child's text is `true` (any case).
pub(crate) fn flag(element: &Element, name: &str) -> bool {
    element
        .child_text(name)
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("true"))
}

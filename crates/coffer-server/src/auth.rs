//! Authentication: who signed the request, in which dialect, and how its body is protected.
//! Authorization (who may do what) is in [`crate::access`].

use crate::addressing::Target;
use crate::error::{ApiError, ApiResult};
use crate::http::Request;
use coffer_proto::auth::chunked::ChunkedMode;
use coffer_proto::auth::sigv4::{PayloadMode, SigV4Auth};
use coffer_proto::auth::{cos, detect_scheme, sigv2, sigv4, AuthError, AuthScheme, RequestView};
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::model::AccountRecord;
use coffer_store::Store;

/// How the request body must be checked as it is read.
#[derive(Debug, Clone)]
pub enum PayloadCheck {
    /// Nothing beyond its framing.
    None,
    /// The body must hash (SHA-256) to this hex digest.
    Sha256(String),
    /// The body is `aws-chunked`; decode (and verify) it.
    AwsChunked(ChunkedMode),
}

/// The outcome of authentication.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The signing account, or `None` for an anonymous request.
    pub caller: Option<AccountRecord>,
    /// The dialect to answer in.
    pub dialect: Dialect,
    /// How to check the body.
    pub payload: PayloadCheck,
}

/// The request's headers as (name, raw value) pairs.
fn header_refs(request: &Request) -> Vec<(&str, &[u8])> {
    request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect()
}

/// The dialect of a request, decided before (and whatever the outcome of) authentication.
pub fn dialect_of(request: &Request) -> Dialect {
    let headers = header_refs(request);
    match detect_scheme(&RequestView::new(
        &request.method,
        "/",
        &request.raw_query,
        &headers,
    )) {
        AuthScheme::SigV4Header | AuthScheme::SigV4Query | AuthScheme::SigV2 => Dialect::S3,
        AuthScheme::CosHeader | AuthScheme::CosQuery => Dialect::Cos,
        AuthScheme::Anonymous | AuthScheme::Unknown => {
            let amz = request
                .headers
                .iter()
                .any(|(n, _)| n.len() > 6 && n[..6].eq_ignore_ascii_case("x-amz-"));
            let cos = request
                .headers
                .iter()
                .any(|(n, _)| n.len() > 6 && n[..6].eq_ignore_ascii_case("x-cos-"));
            // Without vendor headers, a COS host name (what COS SDKs and presigned COS URLs
            // use) means COS; anything else (IP, localhost, S3 endpoints) means S3.
            let authority = request
                .authority
                .as_deref()
                .or_else(|| request.header_str("host"))
                .unwrap_or_default();
            let host = crate::addressing::strip_port(authority).to_ascii_lowercase();
            let cos_host = host.ends_with(".myqcloud.com") || host.ends_with(".tencentcos.cn");
            if amz && !cos {
                Dialect::S3
            } else if cos || cos_host {
                Dialect::Cos
            } else {
                Dialect::S3
            }
        }
    }
}

/// Verifies the request's signature (if any) against the store's accounts.
pub async fn authenticate(
    store: &Store,
    request: &Request,
    target: &Target,
    now_unix: u64,
) -> ApiResult<Authenticated> {
    let headers = header_refs(request);
    let view = RequestView::new(
        &request.method,
        &target.decoded_path,
        &request.raw_query,
        &headers,
    );
    let scheme = detect_scheme(&view);
    match scheme {
        AuthScheme::Anonymous => Ok(Authenticated {
            caller: None,
            dialect: dialect_of(request),
            payload: PayloadCheck::None,
        }),
        AuthScheme::CosHeader | AuthScheme::CosQuery => {
            let auth = cos::CosAuthorization::from_request(&view)?
                .ok_or_else(|| ApiError::new(ErrorCode::AccessDenied))?;
            let account = lookup(store, &auth.access_key).await?;
            cos::verify(&auth, &account.secret_key, &view, now_unix)?;
            Ok(Authenticated {
                caller: Some(account),
                dialect: Dialect::Cos,
                payload: PayloadCheck::None,
            })
        }
        AuthScheme::SigV4Header | AuthScheme::SigV4Query => {
            let presigned = scheme == AuthScheme::SigV4Query;
            // Malformed authorization: S3 names the header or the query form in the code.
            let refine = |e: AuthError| -> ApiError {
                let code = match (&e, presigned) {
                    (AuthError::Malformed(_) | AuthError::MissingSecurityField(_), true) => {
                        ErrorCode::AuthorizationQueryParametersError
                    }
                    (AuthError::Malformed(_) | AuthError::MissingSecurityField(_), false) => {
                        ErrorCode::AuthorizationHeaderMalformed
                    }
                    _ => return ApiError::from(e),
                };
                ApiError::with_message(code, e.to_string())
            };
            let auth = SigV4Auth::from_request(&view)
                .map_err(refine)?
                .ok_or_else(|| ApiError::new(ErrorCode::AccessDenied))?;
            let account = lookup(store, auth.access_key()).await?;
            let context =
                sigv4::verify(&auth, &account.secret_key, &view, now_unix).map_err(refine)?;
            let payload = match &context.payload {
                PayloadMode::Unsigned => PayloadCheck::None,
                PayloadMode::Sha256(hex) => PayloadCheck::Sha256(hex.clone()),
                other => match ChunkedMode::from_payload(other) {
                    Some(mode) => PayloadCheck::AwsChunked(mode),
                    None => PayloadCheck::None,
                },
            };
            Ok(Authenticated {
                caller: Some(account),
                dialect: Dialect::S3,
                payload,
            })
        }
        AuthScheme::SigV2 => {
            let auth = sigv2::SigV2Auth::from_request(&view)?
                .ok_or_else(|| ApiError::new(ErrorCode::AccessDenied))?;
            let account = lookup(store, auth.access_key()).await?;
            // SigV2 signs the path as sent, with the bucket even for virtual-host requests.
            // A bucket-level request signs `/bucket/` whichever form the path took.
            let resource = match (&target.bucket, &target.key, target.virtual_host) {
                (Some(bucket), None, _) => format!("/{bucket}/"),
                (Some(bucket), Some(_), true) => format!("/{bucket}{}", request.raw_path),
                _ => request.raw_path.clone(),
            };
            sigv2::verify(&auth, &account.secret_key, &view, &resource, now_unix)?;
            Ok(Authenticated {
                caller: Some(account),
                dialect: Dialect::S3,
                payload: PayloadCheck::None,
            })
        }
        AuthScheme::Unknown => Err(ApiError::with_message(
            ErrorCode::AccessDenied,
            "Unsupported Authorization scheme.",
        )),
    }
}

async fn lookup(store: &Store, access_key: &str) -> ApiResult<AccountRecord> {
    store
        .account(access_key)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidAccessKeyId))
}

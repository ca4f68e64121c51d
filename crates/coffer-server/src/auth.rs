//! Authentication: who signed the request, in which dialect, how its body is protected, and
//! what its signature covers. [`check_coverage`] then refuses a request whose operation acts
//! on a query parameter the signature does not cover. (Vendor headers are checked by the
//! schemes' verifiers: every `x-cos-*` header of a COS request and every `x-amz-*` header of
//! an S3 request must be signed; handlers never see the other dialect's family.)
//! Authorization (who may do what) is in [`crate::access`].

use crate::addressing::Target;
use crate::error::{ApiError, ApiResult};
use crate::http::Request;
use crate::operations::Operation;
use coffer_proto::auth::chunked::ChunkedMode;
use coffer_proto::auth::sigv4::{PayloadMode, SigV4Auth};
use coffer_proto::auth::{cos, sigv2, sigv4, AuthError, AuthScheme, Query, RequestView};
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

/// Which query parameters a signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coverage {
    /// Unsigned: the caller is anonymous and the ACLs decide.
    Anonymous,
    /// SigV4 signs every query parameter.
    Everything,
    /// COS q-sign: the names in `q-url-param-list` (in their signed form, lower-cased).
    CosParams(Vec<String>),
    /// SigV2: the sub-resources and response overrides its CanonicalizedResource lists.
    SigV2Subresources,
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
    /// What the signature covers.
    pub coverage: Coverage,
}

/// Refuses a request whose operation acts on a query parameter its signature does not cover
/// (say `&acl` or `&uploadId=…` appended to a presigned URL), and response-header overrides
/// on anonymous requests (S3 allows them to signed requests only).
pub fn check_coverage(
    operation: &Operation,
    coverage: &Coverage,
    query: &Query<'_>,
) -> ApiResult<()> {
    for param in query.params() {
        let name = param.name_text();
        let name = name.as_ref();
        if !operation.reads_param(name) {
            continue;
        }
        let covered = match coverage {
            Coverage::Anonymous => {
                if name.starts_with("response-") {
                    return Err(ApiError::with_message(
                        ErrorCode::InvalidRequest,
                        "Request specific response headers cannot be used for anonymous GET requests.",
                    ));
                }
                true
            }
            Coverage::Everything => true,
            Coverage::CosParams(signed) => {
                !operation.must_sign_param(name, false, true)
                    || signed.contains(&cos::cos_encode(name.as_bytes()).to_ascii_lowercase())
            }
            Coverage::SigV2Subresources => {
                !operation.must_sign_param(name, true, false) || sigv2::signs_param(name)
            }
        };
        if !covered {
            return Err(ApiError::with_message(
                ErrorCode::AccessDenied,
                format!("The query parameter {name} is not covered by the request's signature."),
            ));
        }
    }
    Ok(())
}

/// The request's headers as (name, raw value) pairs, as a [`RequestView`] takes them.
pub fn header_refs(request: &Request) -> Vec<(&str, &[u8])> {
    request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect()
}

/// The dialect of a request that uses `scheme` (see
/// [`coffer_proto::auth::detect_scheme`]), decided before (and whatever the outcome of)
/// authentication. `authority` is the authority of an absolute-form target as sent (it
/// wins over the Host header here).
pub fn dialect_of(scheme: AuthScheme, request: &Request, authority: Option<&str>) -> Dialect {
    match scheme {
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
            let authority = authority
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

/// Limits on signatures beyond what each scheme itself enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignaturePolicy {
    /// Longest validity window of a COS signature (`q-sign-time`) and longest remaining
    /// lifetime of a SigV2 presigned URL (`Expires`). SigV4 has its own fixed maximum of
    /// 7 days (`X-Amz-Expires` ≤ 604800).
    pub max_signature_lifetime_secs: u64,
}

impl Default for SignaturePolicy {
    fn default() -> Self {
        SignaturePolicy {
            max_signature_lifetime_secs: 7 * 24 * 3600,
        }
    }
}

fn lifetime_too_long(policy: &SignaturePolicy) -> ApiError {
    ApiError::with_message(
        ErrorCode::AccessDenied,
        format!(
            "Signatures may be valid for at most {} seconds.",
            policy.max_signature_lifetime_secs
        ),
    )
}

/// What [`authenticate`] reads of a request: its one parse (`view`, whose path is the
/// target's decoded path), the scheme detected on it, the dialect that scheme implies, the
/// path as sent (SigV2 signs it) and the resolved target.
#[derive(Debug, Clone, Copy)]
pub struct AuthInput<'a> {
    /// The request as the signature schemes see it.
    pub view: &'a RequestView<'a>,
    /// [`coffer_proto::auth::detect_scheme`] of the view.
    pub scheme: AuthScheme,
    /// [`dialect_of`] the scheme.
    pub dialect: Dialect,
    /// The request path as sent, still encoded.
    pub raw_path: &'a str,
    /// Bucket and key.
    pub target: &'a Target,
}

/// Verifies the request's signature (if any) against the store's accounts.
pub async fn authenticate(
    store: &Store,
    policy: &SignaturePolicy,
    input: AuthInput<'_>,
    now_unix: u64,
) -> ApiResult<Authenticated> {
    let AuthInput {
        view,
        scheme,
        dialect,
        raw_path,
        target,
    } = input;
    match scheme {
        AuthScheme::Anonymous => Ok(Authenticated {
            caller: None,
            dialect,
            payload: PayloadCheck::None,
            coverage: Coverage::Anonymous,
        }),
        AuthScheme::CosHeader | AuthScheme::CosQuery => {
            let auth = cos::CosAuthorization::from_request(view)?
                .ok_or_else(|| ApiError::new(ErrorCode::AccessDenied))?;
            let account = lookup(store, &auth.access_key).await?;
            let (start, end) = auth.sign_time;
            if end.saturating_sub(start) > policy.max_signature_lifetime_secs {
                return Err(lifetime_too_long(policy));
            }
            cos::verify(&auth, &account.secret_key, view, now_unix)?;
            Ok(Authenticated {
                caller: Some(account),
                dialect: Dialect::Cos,
                payload: PayloadCheck::None,
                coverage: Coverage::CosParams(auth.param_list),
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
            let auth = SigV4Auth::from_request(view)
                .map_err(refine)?
                .ok_or_else(|| ApiError::new(ErrorCode::AccessDenied))?;
            let account = lookup(store, auth.access_key()).await?;
            let context =
                sigv4::verify(&auth, &account.secret_key, view, now_unix).map_err(refine)?;
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
                coverage: Coverage::Everything,
            })
        }
        AuthScheme::SigV2 => {
            let auth = sigv2::SigV2Auth::from_request(view)?
                .ok_or_else(|| ApiError::new(ErrorCode::AccessDenied))?;
            let account = lookup(store, auth.access_key()).await?;
            if auth
                .expires
                .is_some_and(|e| e.saturating_sub(now_unix) > policy.max_signature_lifetime_secs)
            {
                return Err(lifetime_too_long(policy));
            }
            // SigV2 signs the path as sent, with the bucket even for virtual-host requests.
            // A bucket-level request signs `/bucket/` whichever form the path took.
            let resource = match (&target.bucket, &target.key, target.virtual_host) {
                (Some(bucket), None, _) => format!("/{bucket}/"),
                (Some(bucket), Some(_), true) => format!("/{bucket}{raw_path}"),
                _ => raw_path.to_string(),
            };
            sigv2::verify(&auth, &account.secret_key, view, &resource, now_unix)?;
            Ok(Authenticated {
                caller: Some(account),
                dialect: Dialect::S3,
                payload: PayloadCheck::None,
                coverage: Coverage::SigV2Subresources,
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

//! The online admin API under `/-/admin/` (bucket names cannot start with `-`, so these
//! paths never collide with a bucket): account management for admin accounts.
//!
//! - `GET /-/admin/users` → JSON array of accounts (secrets included: admins only).
//! - `POST /-/admin/users` with a JSON account → 200 and the account as created.
//! - `DELETE /-/admin/users/<secret id>` → 204.

use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::http::{Response, ResponseBody};
use crate::payload::Payload;
use bytes::Bytes;
use coffer_proto::ErrorCode;
use coffer_store::model::AccountRecord;
use coffer_store::StoreError;

/// The JSON shape of an account in the admin API.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct AccountJson {
    /// SecretId.
    pub secret_id: String,
    /// SecretKey.
    pub secret_key: String,
    /// APPID.
    pub appid: String,
    /// uin.
    pub uin: String,
    /// Admin rights.
    #[serde(default)]
    pub admin: bool,
}

impl From<&AccountRecord> for AccountJson {
    fn from(a: &AccountRecord) -> Self {
        AccountJson {
            secret_id: a.secret_id.clone(),
            secret_key: a.secret_key.clone(),
            appid: a.appid.clone(),
            uin: a.uin.clone(),
            admin: a.admin,
        }
    }
}

fn json(status: u16, value: &impl serde::Serialize) -> ApiResult<Response> {
    let body = serde_json::to_vec_pretty(value).map_err(ApiError::internal)?;
    let mut response = Response::new(status).header("Content-Type", "application/json");
    response.body = ResponseBody::Bytes(Bytes::from(body));
    Ok(response)
}

/// Parses and checks the JSON account of `POST /-/admin/users`: non-empty SecretId and
/// SecretKey, numeric APPID and uin.
pub fn parse_account(body: &[u8]) -> ApiResult<AccountJson> {
    let wanted: AccountJson = serde_json::from_slice(body).map_err(|e| {
        ApiError::with_message(
            ErrorCode::InvalidArgument,
            format!("Invalid account JSON: {e}"),
        )
    })?;
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if wanted.secret_id.is_empty()
        || wanted.secret_key.is_empty()
        || !numeric(&wanted.appid)
        || !numeric(&wanted.uin)
    {
        return Err(ApiError::with_message(
            ErrorCode::InvalidArgument,
            "secret_id, secret_key, a numeric appid and a numeric uin are required.",
        ));
    }
    Ok(wanted)
}

/// Dispatches an admin request (`key` is the path after `/-/`).
pub async fn handle(ctx: &Ctx, payload: &mut Payload<'_, '_>) -> ApiResult<Response> {
    let path = ctx.target.key.as_deref().unwrap_or_default();
    let store = &ctx.state.store;
    match (ctx.request.method.as_str(), path) {
        ("GET", "admin/users") => {
            let accounts = store.meta().accounts().await?;
            let list: Vec<AccountJson> = accounts.iter().map(AccountJson::from).collect();
            json(200, &list)
        }
        ("POST", "admin/users") => {
            let body = super::read_document(ctx, payload).await?;
            let wanted = parse_account(&body)?;
            let account = AccountRecord {
                secret_id: wanted.secret_id,
                secret_key: wanted.secret_key,
                appid: wanted.appid,
                uin: wanted.uin,
                created_ms: coffer_proto::time::now_millis(),
                admin: wanted.admin,
            };
            match store.meta().create_account(account.clone()).await {
                Ok(()) => json(200, &AccountJson::from(&account)),
                Err(StoreError::AccountExists) => Err(ApiError::with_message(
                    ErrorCode::InvalidArgument,
                    "An account with that SecretId exists.",
                )),
                Err(StoreError::UinInUse) => Err(ApiError::with_message(
                    ErrorCode::InvalidArgument,
                    "Another account has that uin.",
                )),
                Err(e) => Err(e.into()),
            }
        }
        ("DELETE", p) if p.starts_with("admin/users/") => {
            let secret_id = &p["admin/users/".len()..];
            match store.meta().delete_account(secret_id).await {
                Ok(()) => Ok(Response::new(204)),
                Err(StoreError::NoSuchAccount) => Err(ApiError::with_message(
                    ErrorCode::InvalidArgument,
                    "No such account.",
                )),
                Err(e) => Err(e.into()),
            }
        }
        _ => Err(ApiError::new(ErrorCode::MethodNotAllowed)),
    }
}

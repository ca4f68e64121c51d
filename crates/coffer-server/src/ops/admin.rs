//! The online admin API under `/-/admin/` (bucket names cannot start with `-`, so these
//! paths never collide with a bucket): account management for admin accounts.
//!
//! - `GET /-/admin/users` → JSON array of accounts (secrets included: admins only).
//! - `POST /-/admin/users` with a JSON account → 200 and the account as created.
//! - `DELETE /-/admin/users/<secret id>` → 204.

use super::op::{Env, Op, OpRequest};
use crate::error::{ApiError, ApiResult};
use crate::http::{Response, ResponseBody};
use bytes::Bytes;
use coffer_proto::{Dialect, ErrorCode};
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

fn json(value: &impl serde::Serialize) -> Response {
    // Serializing plain strings and booleans cannot fail.
    let body = serde_json::to_vec_pretty(value).unwrap_or_default();
    let mut response = Response::new(200).header("Content-Type", "application/json");
    response.body = ResponseBody::Bytes(Bytes::from(body));
    response
}

/// The admin path (the key after `/-/`): `MethodNotAllowed` unless `accept` takes it.
fn admin_path<'a, T>(
    req: &OpRequest<'a>,
    accept: impl FnOnce(&'a str) -> Option<T>,
) -> ApiResult<T> {
    accept(req.key.unwrap_or_default()).ok_or_else(|| ApiError::new(ErrorCode::MethodNotAllowed))
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

/// `GET /-/admin/users`: every account.
#[derive(Debug)]
pub struct AdminListUsers;

impl Op for AdminListUsers {
    type Input = ();
    type Output<'a> = Vec<AccountJson>;

    fn parse(req: &OpRequest<'_>) -> ApiResult<()> {
        admin_path(req, |path| (path == "admin/users").then_some(()))
    }

    async fn apply(env: &Env<'_>, (): ()) -> ApiResult<Vec<AccountJson>> {
        let accounts = env.store.meta().accounts().await?;
        Ok(accounts.iter().map(AccountJson::from).collect())
    }

    fn render(accounts: Vec<AccountJson>, _: Dialect) -> Response {
        json(&accounts)
    }
}

/// `POST /-/admin/users`: a new account.
#[derive(Debug)]
pub struct AdminCreateUser;

impl Op for AdminCreateUser {
    type Input = AccountJson;
    type Output<'a> = AccountJson;

    fn parse(req: &OpRequest<'_>) -> ApiResult<AccountJson> {
        admin_path(req, |path| (path == "admin/users").then_some(()))?;
        parse_account(req.body)
    }

    async fn apply(env: &Env<'_>, wanted: AccountJson) -> ApiResult<AccountJson> {
        let account = AccountRecord {
            secret_id: wanted.secret_id,
            secret_key: wanted.secret_key,
            appid: wanted.appid,
            uin: wanted.uin,
            created_ms: coffer_proto::time::now_millis(),
            admin: wanted.admin,
        };
        match env.store.meta().create_account(account.clone()).await {
            Ok(()) => Ok(AccountJson::from(&account)),
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

    fn render(account: AccountJson, _: Dialect) -> Response {
        json(&account)
    }
}

/// `DELETE /-/admin/users/<secret id>`.
#[derive(Debug)]
pub struct AdminDeleteUser;

impl Op for AdminDeleteUser {
    /// The SecretId.
    type Input = String;
    type Output<'a> = ();

    fn parse(req: &OpRequest<'_>) -> ApiResult<String> {
        admin_path(req, |path| {
            path.strip_prefix("admin/users/").map(str::to_string)
        })
    }

    async fn apply(env: &Env<'_>, secret_id: String) -> ApiResult<()> {
        match env.store.meta().delete_account(&secret_id).await {
            Ok(()) => Ok(()),
            Err(StoreError::NoSuchAccount) => Err(ApiError::with_message(
                ErrorCode::InvalidArgument,
                "No such account.",
            )),
            Err(e) => Err(e.into()),
        }
    }

    fn render((): (), _: Dialect) -> Response {
        Response::new(204)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Resources;
    use crate::ops::op::testing::{body_text, code, header, req, TempEnv};

    fn admin(name: &str, path: &str) -> crate::ops::op::testing::Req {
        let mut r = req(name, Dialect::S3).key(Some(path));
        r.bucket = Some("-".into());
        r
    }

    #[test]
    fn parses_admin_paths_and_accounts() {
        assert!(AdminListUsers::parse(&admin("AdminRead", "admin/users").view()).is_ok());
        assert_eq!(
            code(AdminListUsers::parse(
                &admin("AdminRead", "admin/other").view()
            )),
            Some(ErrorCode::MethodNotAllowed)
        );
        assert_eq!(
            AdminDeleteUser::parse(&admin("AdminDelete", "admin/users/AKID").view())
                .expect("delete"),
            "AKID"
        );
        assert_eq!(
            code(AdminDeleteUser::parse(
                &admin("AdminDelete", "admin/users").view()
            )),
            Some(ErrorCode::MethodNotAllowed)
        );
        let body = br#"{"secret_id":"AK","secret_key":"s","appid":"125","uin":"1"}"#;
        let account =
            AdminCreateUser::parse(&admin("AdminCreate", "admin/users").body(body).view())
                .expect("create");
        assert_eq!((account.appid.as_str(), account.admin), ("125", false));
        for bad in [
            &br#"{"secret_id":"","secret_key":"s","appid":"125","uin":"1"}"#[..],
            br#"{"secret_id":"AK","secret_key":"s","appid":"x","uin":"1"}"#,
            b"not json",
        ] {
            assert_eq!(
                code(AdminCreateUser::parse(
                    &admin("AdminCreate", "admin/users").body(bad).view()
                )),
                Some(ErrorCode::InvalidArgument)
            );
        }
    }

    #[tokio::test]
    async fn manages_accounts_on_a_store() {
        let temp = TempEnv::new().await;
        let resources = Resources::default();
        let env = temp.env(&resources);
        let wanted = || AccountJson {
            secret_id: "AK".into(),
            secret_key: "s".into(),
            appid: "125".into(),
            uin: "9".into(),
            admin: true,
        };
        let created = AdminCreateUser::apply(&env, wanted())
            .await
            .expect("create");
        let response = AdminCreateUser::render(created, Dialect::S3);
        assert_eq!(header(&response, "Content-Type"), Some("application/json"));
        assert!(body_text(&response).contains("\"secret_id\": \"AK\""));
        assert_eq!(
            code(AdminCreateUser::apply(&env, wanted()).await),
            Some(ErrorCode::InvalidArgument)
        );
        let listed = AdminListUsers::apply(&env, ()).await.expect("list");
        assert!(listed.iter().any(|a| a.secret_id == "AK"));
        AdminDeleteUser::apply(&env, "AK".into())
            .await
            .expect("delete");
        assert_eq!(
            code(AdminDeleteUser::apply(&env, "AK".into()).await),
            Some(ErrorCode::InvalidArgument)
        );
        assert_eq!(AdminDeleteUser::render((), Dialect::S3).status, 204);
    }
}

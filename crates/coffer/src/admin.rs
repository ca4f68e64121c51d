//! `coffer admin`: account management on a data directory (the server must be stopped:
//! the embedded database admits one process at a time).

use crate::admin_client::AdminEndpoint;
use crate::serve::{random_alnum, random_digits};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use coffer_store::model::AccountRecord;
use coffer_store::{Store, StoreConfig};
use std::path::PathBuf;

/// `coffer admin …`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Manage accounts (users).
    #[command(subcommand)]
    User(UserCommand),
}

/// `coffer admin user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account.
    ///
    /// Example: `coffer admin user create --secret-id AKIDalice --secret-key s3cr3t --appid 1250000001`
    Create {
        #[command(flatten)]
        data: DataDir,
        /// SecretId (generated if omitted).
        #[arg(long)]
        secret_id: Option<String>,
        /// SecretKey (generated if omitted).
        #[arg(long)]
        secret_key: Option<String>,
        /// APPID (generated if omitted).
        #[arg(long)]
        appid: Option<String>,
        /// uin (generated if omitted).
        #[arg(long)]
        uin: Option<String>,
        /// Allow the account to manage other accounts.
        #[arg(long)]
        admin: bool,
    },
    /// List accounts with their credentials.
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Delete an account.
    Delete {
        #[command(flatten)]
        data: DataDir,
        /// SecretId of the account.
        #[arg(long)]
        secret_id: String,
    },
}

/// Where the accounts are: a stopped server's data directory, or a running server.
#[derive(Debug, Args)]
pub struct DataDir {
    /// Data directory of the (stopped) server.
    #[arg(long, env = "COFFER_DATA_DIR", default_value = "./coffer-data")]
    data_dir: PathBuf,
    /// The metadata backend (the server's --meta-url: accounts live there).
    #[command(flatten)]
    backend: crate::backends::BackendArgs,
    /// Address of a running server (e.g. `127.0.0.1:9000`): use its admin API instead of
    /// the data directory.
    #[arg(long, env = "COFFER_ENDPOINT")]
    endpoint: Option<String>,
    /// Admin SecretId for `--endpoint` (defaults to COFFER_ROOT_SECRET_ID).
    #[arg(long, env = "COFFER_ADMIN_SECRET_ID")]
    admin_secret_id: Option<String>,
    /// Admin SecretKey for `--endpoint` (defaults to COFFER_ROOT_SECRET_KEY).
    #[arg(long, env = "COFFER_ADMIN_SECRET_KEY", hide_env_values = true)]
    admin_secret_key: Option<String>,
}

impl DataDir {
    /// The running server to talk to, if `--endpoint` was given.
    fn online(&self) -> anyhow::Result<Option<AdminEndpoint>> {
        let Some(address) = &self.endpoint else {
            return Ok(None);
        };
        let secret_id = self
            .admin_secret_id
            .clone()
            .or_else(|| std::env::var("COFFER_ROOT_SECRET_ID").ok())
            .context("--endpoint needs --admin-secret-id (or COFFER_ROOT_SECRET_ID)")?;
        let secret_key = self
            .admin_secret_key
            .clone()
            .or_else(|| std::env::var("COFFER_ROOT_SECRET_KEY").ok())
            .context("--endpoint needs --admin-secret-key (or COFFER_ROOT_SECRET_KEY)")?;
        Ok(Some(AdminEndpoint {
            address: address.clone(),
            secret_id,
            secret_key,
        }))
    }
}

/// Sends an admin API call and fails on a non-2xx answer.
fn online_call(
    endpoint: &AdminEndpoint,
    method: &str,
    path: &str,
    body: &[u8],
) -> anyhow::Result<String> {
    let (status, text) = endpoint.call(method, path, body)?;
    if !(200..300).contains(&status) {
        anyhow::bail!("the server answered {status}: {text}");
    }
    Ok(text)
}

/// Runs an admin command.
pub fn run(command: AdminCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match command {
            AdminCommand::User(user) => run_user(user).await,
        }
    })
}

async fn open(data: &DataDir) -> anyhow::Result<Store> {
    crate::backends::open_store(&data.data_dir, &data.backend, StoreConfig::default())
        .await
        .with_context(|| {
            if data.backend.meta_url.is_some() {
                format!(
                    "opening the metadata database and {}",
                    data.data_dir.display()
                )
            } else {
                format!(
                    "opening {} (is the server still running? stop it first)",
                    data.data_dir.display()
                )
            }
        })
}

fn describe(account: &AccountRecord) -> String {
    format!(
        "appid={} uin={} secret_id={} secret_key={}{}",
        account.appid,
        account.uin,
        account.secret_id,
        account.secret_key,
        if account.admin { " admin" } else { "" }
    )
}

async fn run_user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            data,
            secret_id,
            secret_key,
            appid,
            uin,
            admin,
        } => {
            let account = AccountRecord {
                secret_id: secret_id.unwrap_or_else(|| format!("AKID{}", random_alnum(32))),
                secret_key: secret_key.unwrap_or_else(|| random_alnum(32)),
                appid: appid.unwrap_or_else(|| random_digits("125", 10)),
                uin: uin.unwrap_or_else(|| random_digits("1000", 12)),
                created_ms: coffer_proto::time::now_millis(),
                admin,
            };
            if let Some(endpoint) = data.online()? {
                let body = format!(
                    r#"{{"secret_id":{:?},"secret_key":{:?},"appid":{:?},"uin":{:?},"admin":{}}}"#,
                    account.secret_id,
                    account.secret_key,
                    account.appid,
                    account.uin,
                    account.admin
                );
                online_call(&endpoint, "POST", "/-/admin/users", body.as_bytes())?;
            } else {
                let store = open(&data).await?;
                store
                    .meta()
                    .create_account(account.clone())
                    .await
                    .context("creating the account")?;
                store.close().await?;
            }
            println!("created account {}", describe(&account));
        }
        UserCommand::List { data } => {
            if let Some(endpoint) = data.online()? {
                print!("{}", online_call(&endpoint, "GET", "/-/admin/users", b"")?);
                println!();
            } else {
                let store = open(&data).await?;
                for account in store.meta().accounts().await? {
                    println!("{}", describe(&account));
                }
                store.close().await?;
            }
        }
        UserCommand::Delete { data, secret_id } => {
            if let Some(endpoint) = data.online()? {
                online_call(
                    &endpoint,
                    "DELETE",
                    &format!("/-/admin/users/{secret_id}"),
                    b"",
                )?;
            } else {
                let store = open(&data).await?;
                store
                    .meta()
                    .delete_account(&secret_id)
                    .await
                    .context("deleting the account")?;
                store.close().await?;
            }
            println!("deleted account {secret_id}");
        }
    }
    Ok(())
}

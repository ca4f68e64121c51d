//! `coffer admin`: account management on a data directory (the server must be stopped:
//! the embedded database admits one process at a time).

use crate::serve::{random_alnum, random_digits};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use coffer_store::model::AccountRecord;
use coffer_store::Store;
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

/// The data directory option shared by admin commands.
#[derive(Debug, Args)]
pub struct DataDir {
    /// Data directory of the (stopped) server.
    #[arg(long, env = "COFFER_DATA_DIR", default_value = "./coffer-data")]
    data_dir: PathBuf,
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
    Store::open_embedded(&data.data_dir).await.with_context(|| {
        format!(
            "opening {} (is the server still running? stop it first)",
            data.data_dir.display()
        )
    })
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
            let store = open(&data).await?;
            let account = AccountRecord {
                secret_id: secret_id.unwrap_or_else(|| format!("AKID{}", random_alnum(32))),
                secret_key: secret_key.unwrap_or_else(|| random_alnum(32)),
                appid: appid.unwrap_or_else(|| random_digits("125", 10)),
                uin: uin.unwrap_or_else(|| random_digits("1000", 12)),
                created_ms: coffer_proto::time::now_millis(),
                admin,
            };
            store
                .meta()
                .create_account(account.clone())
                .await
                .context("creating the account")?;
            println!(
                "created account appid={} uin={} secret_id={} secret_key={}",
                account.appid, account.uin, account.secret_id, account.secret_key
            );
            store.close().await?;
        }
        UserCommand::List { data } => {
            let store = open(&data).await?;
            for account in store.meta().accounts().await? {
                println!(
                    "appid={} uin={} secret_id={} secret_key={}",
                    account.appid, account.uin, account.secret_id, account.secret_key
                );
            }
        }
        UserCommand::Delete { data, secret_id } => {
            let store = open(&data).await?;
            store
                .meta()
                .delete_account(&secret_id)
                .await
                .context("deleting the account")?;
            store.close().await?;
            println!("deleted account {secret_id}");
        }
    }
    Ok(())
}

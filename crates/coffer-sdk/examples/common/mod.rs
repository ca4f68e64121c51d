//! Shared set-up of the examples: the configuration comes from the environment, like the
//! seed samples' `secret_id = os.environ['COS_SECRET_ID']`.
//!
//! * `COS_SECRET_ID`, `COS_SECRET_KEY` (and optionally `COS_SECURITY_TOKEN`): the keys.
//! * `COS_REGION` (default `ap-guangzhou`).
//! * `COS_BUCKET`: the bucket the examples work in (default `examplebucket-1250000000`).
//! * `COFFER_ADDRESS` (e.g. `127.0.0.1:9000`): talk to a Coffer server at this address over
//!   HTTP instead of to Tencent COS.

#![allow(dead_code)]

use coffer_sdk::{CosClient, CosConfig, Scheme};

/// The client the examples use.
pub fn client() -> coffer_sdk::Result<CosClient> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let region = var("COS_REGION").unwrap_or_else(|| "ap-guangzhou".into());
    let secret_id = var("COS_SECRET_ID").unwrap_or_default();
    let secret_key = var("COS_SECRET_KEY").unwrap_or_default();
    let mut config = match var("COS_SECURITY_TOKEN") {
        Some(token) => CosConfig::new(region).temporary_credentials(secret_id, secret_key, token),
        None => CosConfig::new(region).credentials(secret_id, secret_key),
    };
    if let Some(address) = var("COFFER_ADDRESS") {
        let (ip, port) = address.rsplit_once(':').unwrap_or((&address, "80"));
        config = config
            .scheme(Scheme::Http)
            .ip(ip)
            .port(port.parse().unwrap_or(80));
    }
    Ok(CosClient::new(config)?)
}

/// The bucket the examples use.
pub fn bucket() -> String {
    std::env::var("COS_BUCKET").unwrap_or_else(|_| "examplebucket-1250000000".into())
}

//! A Coffer server in this process on an ephemeral loopback port, and clients for it.

use std::net::SocketAddr;
use std::sync::Arc;

use coffer_sdk::{CosClient, CosConfig, RetryPolicy, Scheme};
use coffer_server::{AppState, HttpConfig, ServerConfig};
use coffer_store::model::AccountRecord;

pub const SECRET_ID: &str = "AKIDsdktestsecretid";
pub const SECRET_KEY: &str = "sdktestsecretkey";
pub const APPID: &str = "1250000000";
pub const REGION: &str = "ap-guangzhou";

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    _shutdown: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = coffer_store_embedded::open(dir.path())
            .await
            .expect("store");
        store
            .meta()
            .create_account(AccountRecord {
                secret_id: SECRET_ID.into(),
                secret_key: SECRET_KEY.into(),
                appid: APPID.into(),
                uin: "100000000001".into(),
                created_ms: 0,
                admin: true,
            })
            .await
            .expect("account");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(AppState::new(store, ServerConfig::default()));
        let (shutdown, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(coffer_server::run(
            listener,
            state,
            HttpConfig::default(),
            rx,
        ));
        TestServer {
            addr,
            _shutdown: shutdown,
            _dir: dir,
        }
    }

    /// A configuration pointing at this server (IP/Port, COS Host header).
    pub fn config(&self) -> CosConfig {
        CosConfig::new(REGION)
            .credentials(SECRET_ID, SECRET_KEY)
            .scheme(Scheme::Http)
            .ip(self.addr.ip().to_string())
            .port(self.addr.port())
            .appid(APPID)
            .retry(RetryPolicy::none())
    }

    pub fn client(&self) -> CosClient {
        CosClient::new(self.config()).expect("client")
    }

    /// A client whose bucket `name` exists.
    pub async fn client_with_bucket(&self, name: &str) -> CosClient {
        let client = self.client();
        client.create_bucket(name).await.expect("create bucket");
        client
    }
}

/// Deterministic pseudo-random bytes.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

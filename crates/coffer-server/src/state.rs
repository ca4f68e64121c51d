//! State shared by every request.

use crate::addressing::Addressing;
use crate::auth::SignaturePolicy;
use coffer_store::Store;

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The region reported for buckets (`ap-guangzhou` by default).
    pub region: String,
    /// Extra virtual-host domain suffixes.
    pub domains: Vec<String>,
    /// Smallest non-last multipart part, in bytes (COS: 1 MiB).
    pub min_part_size: u64,
    /// Limits on signatures (longest COS / SigV2 validity).
    pub signature_policy: SignaturePolicy,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            region: "ap-guangzhou".into(),
            domains: Vec::new(),
            min_part_size: 1 << 20,
            signature_policy: SignaturePolicy::default(),
        }
    }
}

/// The store, settings and addressing rules.
#[derive(Debug)]
pub struct AppState {
    /// The storage engine.
    pub store: Store,
    /// Settings.
    pub config: ServerConfig,
    /// Host-header rules.
    pub addressing: Addressing,
}

impl AppState {
    /// Builds the shared state.
    pub fn new(store: Store, config: ServerConfig) -> AppState {
        let addressing = Addressing {
            domains: config.domains.clone(),
        };
        AppState {
            store,
            config,
            addressing,
        }
    }
}

//! Client configuration, mirroring the Python SDK's `CosConfig` (protocol reference §1.1–§1.2).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::credentials::{CredentialProvider, Credentials, StaticCredentials};
use crate::error::ClientError;

/// `http` or `https` (the default, as in the Python SDK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTPS (TLS via rustls with the webpki roots).
    #[default]
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// How the client retries failures that may be transient: connection errors, timeouts, 5xx
/// answers and throttling (429, `SlowDown`). 4xx answers are never retried, nor requests whose
/// body is a one-shot stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (the Python SDK's `retry`, default 3).
    pub max_retries: u32,
    /// Delay before the first retry; doubled for each further one, with jitter.
    pub base_delay: Duration,
    /// Upper bound of one delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The delay before retry number `retry` (1-based): exponential with "equal jitter".
    pub(crate) fn delay(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        let half = capped / 2;
        let jitter_ms = rand::random_range(0..=half.as_millis().max(1) as u64);
        half + Duration::from_millis(jitter_ms)
    }
}

/// The configuration of a [`CosClient`](crate::CosClient).
///
/// ```
/// use coffer_sdk::{CosConfig, Scheme};
///
/// // Real COS in ap-guangzhou.
/// let config = CosConfig::new("ap-guangzhou").credentials("AKID…", "secret…");
///
/// // A Coffer server on this machine: requests go to 127.0.0.1:9000 and carry the COS Host
/// // header `<bucket>.cos.ap-guangzhou.myqcloud.com`, exactly as with the Python SDK's IP/Port.
/// let local = CosConfig::new("ap-guangzhou")
///     .credentials("AKID…", "secret…")
///     .scheme(Scheme::Http)
///     .ip("127.0.0.1")
///     .port(9000);
/// ```
#[derive(Clone)]
pub struct CosConfig {
    pub(crate) region: Option<String>,
    pub(crate) endpoint: Option<String>,
    pub(crate) domain: Option<String>,
    pub(crate) service_domain: Option<String>,
    pub(crate) scheme: Scheme,
    pub(crate) ip: Option<String>,
    pub(crate) port: Option<u16>,
    pub(crate) appid: Option<String>,
    pub(crate) enable_old_domain: bool,
    pub(crate) enable_internal_domain: bool,
    pub(crate) credentials: Option<Arc<dyn CredentialProvider>>,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) sign_expire: Duration,
    pub(crate) sign_host: bool,
    pub(crate) keep_alive: bool,
    pub(crate) pool_max_idle_per_host: usize,
    pub(crate) user_agent: String,
    pub(crate) copy_part_threshold: u64,
}

impl fmt::Debug for CosConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosConfig")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("domain", &self.domain)
            .field("scheme", &self.scheme)
            .field("ip", &self.ip)
            .field("port", &self.port)
            .field("appid", &self.appid)
            .field("credentials", &self.credentials)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Default for CosConfig {
    fn default() -> Self {
        CosConfig {
            region: None,
            endpoint: None,
            domain: None,
            service_domain: None,
            scheme: Scheme::Https,
            ip: None,
            port: None,
            appid: None,
            enable_old_domain: true,
            enable_internal_domain: true,
            credentials: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            sign_expire: Duration::from_secs(10_000),
            sign_host: true,
            keep_alive: true,
            pool_max_idle_per_host: 32,
            user_agent: concat!("coffer-sdk/", env!("CARGO_PKG_VERSION")).to_string(),
            copy_part_threshold: 5 * 1024 * 1024 * 1024,
        }
    }
}

impl CosConfig {
    /// A configuration for `region` (`ap-guangzhou`, …), anonymous until credentials are set.
    pub fn new(region: impl Into<String>) -> Self {
        CosConfig {
            region: Some(region.into()),
            ..CosConfig::default()
        }
    }

    /// A configuration with an explicit endpoint (host suffix, e.g. `cos.ap-guangzhou.myqcloud.com`
    /// or `example.com:8080`) used verbatim instead of one derived from the region.
    pub fn with_endpoint(endpoint: impl Into<String>) -> Self {
        CosConfig {
            endpoint: Some(endpoint.into()),
            ..CosConfig::default()
        }
    }

    /// Sets the region.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets the endpoint (host suffix) verbatim, overriding the one derived from the region.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// A custom domain bound to one bucket: requests go to it and name no bucket.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// The host `list_buckets` talks to (default `service.cos.myqcloud.com`).
    pub fn service_domain(mut self, domain: impl Into<String>) -> Self {
        self.service_domain = Some(domain.into());
        self
    }

    /// `http` or `https`.
    pub fn scheme(mut self, scheme: Scheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// Connect to this address (IP or host name) while sending the COS `Host` header. Unlike
    /// the Python SDK this also applies to `list_buckets` and to presigned URLs' target.
    pub fn ip(mut self, ip: impl Into<String>) -> Self {
        self.ip = Some(ip.into());
        self
    }

    /// The port to connect to (with [`ip`](Self::ip)).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// The APPID appended to bucket names that do not end in `-<appid>` already.
    pub fn appid(mut self, appid: impl Into<String>) -> Self {
        self.appid = Some(appid.into());
        self
    }

    /// `false` switches to the `.tencentcos.cn` domains (`EnableOldDomain`).
    pub fn enable_old_domain(mut self, enable: bool) -> Self {
        self.enable_old_domain = enable;
        self
    }

    /// With the new domains, whether to use `cos-internal.` (`EnableInternalDomain`).
    pub fn enable_internal_domain(mut self, enable: bool) -> Self {
        self.enable_internal_domain = enable;
        self
    }

    /// Permanent credentials (SecretId/SecretKey).
    pub fn credentials(
        mut self,
        secret_id: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Self {
        self.credentials = Some(Arc::new(StaticCredentials::new(Credentials::new(
            secret_id, secret_key,
        ))));
        self
    }

    /// Temporary credentials: the token travels in `x-cos-security-token`.
    pub fn temporary_credentials(
        mut self,
        secret_id: impl Into<String>,
        secret_key: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        self.credentials = Some(Arc::new(StaticCredentials::new(
            Credentials::new(secret_id, secret_key).with_token(token),
        )));
        self
    }

    /// Credentials from a provider asked before every request (for rotating STS keys).
    pub fn credential_provider(mut self, provider: Arc<dyn CredentialProvider>) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// Anonymous access: no `Authorization` header (the bucket's ACL decides).
    pub fn anonymous(mut self) -> Self {
        self.credentials = None;
        self
    }

    /// Idle-read timeout of one request (default 30 s; the connection is abandoned when no
    /// byte arrives for this long). Large transfers are not limited in total.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// TCP/TLS connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Retry policy (default: 3 retries with exponential backoff).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Validity of the signature of ordinary requests (default 10,000 s, as the Python SDK).
    pub fn sign_expire(mut self, expire: Duration) -> Self {
        self.sign_expire = expire;
        self
    }

    /// Whether to sign the `Host` header (default true).
    pub fn sign_host(mut self, sign_host: bool) -> Self {
        self.sign_host = sign_host;
        self
    }

    /// HTTP keep-alive (default on): `false` sends `Connection: close` and pools nothing.
    pub fn keep_alive(mut self, keep_alive: bool) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Size above which [`CosClient::copy`](crate::CosClient::copy) uses parallel part copies
    /// (default 5 GiB; `set_copy_part_threshold_size` in the Python SDK).
    pub fn copy_part_threshold(mut self, bytes: u64) -> Self {
        self.copy_part_threshold = bytes;
        self
    }

    /// The endpoint (host suffix) buckets live under, derived as in §1.1.
    pub fn endpoint_suffix(&self) -> Result<String, ClientError> {
        if let Some(endpoint) = &self.endpoint {
            return Ok(endpoint.clone());
        }
        let region = self.region.as_deref().ok_or_else(|| {
            ClientError::InvalidArgument("CosConfig needs a region or an endpoint".into())
        })?;
        validate_region(region)?;
        Ok(endpoint_for_region(
            region,
            self.enable_old_domain,
            self.enable_internal_domain,
        ))
    }

    /// The full bucket name: `bucket` plus `-<appid>` when an APPID is configured and missing.
    pub fn full_bucket_name(&self, bucket: &str) -> Result<String, ClientError> {
        validate_bucket(bucket)?;
        Ok(match &self.appid {
            Some(appid) if !bucket.ends_with(&format!("-{appid}")) => format!("{bucket}-{appid}"),
            _ => bucket.to_string(),
        })
    }
}

fn validate_region(region: &str) -> Result<(), ClientError> {
    let bytes = region.as_bytes();
    let edge_ok = |b: u8| b.is_ascii_alphanumeric();
    let ok = !bytes.is_empty()
        && edge_ok(bytes[0])
        && edge_ok(bytes[bytes.len() - 1])
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ClientError::InvalidArgument(format!(
            "invalid region {region:?}"
        )))
    }
}

fn validate_bucket(bucket: &str) -> Result<(), ClientError> {
    let bytes = bucket.as_bytes();
    let ok = !bytes.is_empty()
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ClientError::InvalidArgument(format!(
            "invalid bucket name {bucket:?}: letters, digits and '-' only"
        )))
    }
}

/// §1.1: the host suffix for a region.
fn endpoint_for_region(region: &str, old_domain: bool, internal: bool) -> String {
    const LEGACY: [&str; 6] = [
        "cn-north",
        "cn-south",
        "cn-east",
        "cn-south-2",
        "cn-southwest",
        "sg",
    ];
    const V4_ALIASES: [(&str, &str); 9] = [
        ("cossh", "ap-shanghai"),
        ("cosgz", "ap-guangzhou"),
        ("cosbj", "ap-beijing"),
        ("costj", "ap-beijing-1"),
        ("coscd", "ap-chengdu"),
        ("cossgp", "ap-singapore"),
        ("coshk", "ap-hongkong"),
        ("cosca", "na-toronto"),
        ("cosger", "eu-frankfurt"),
    ];
    let suffix = if old_domain {
        "myqcloud.com"
    } else {
        "tencentcos.cn"
    };
    if LEGACY.contains(&region) {
        return format!("{region}.{suffix}");
    }
    let region = V4_ALIASES
        .iter()
        .find(|(alias, _)| *alias == region)
        .map(|(_, name)| *name)
        .unwrap_or(region);
    let region = region.strip_prefix("cos.").unwrap_or(region);
    let prefix = if !old_domain && internal {
        "cos-internal"
    } else {
        "cos"
    };
    format!("{prefix}.{region}.{suffix}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_the_python_sdk() {
        assert_eq!(
            endpoint_for_region("ap-guangzhou", true, true),
            "cos.ap-guangzhou.myqcloud.com"
        );
        assert_eq!(
            endpoint_for_region("cos.ap-beijing-1", true, true),
            "cos.ap-beijing-1.myqcloud.com"
        );
        assert_eq!(
            endpoint_for_region("cn-north", true, true),
            "cn-north.myqcloud.com"
        );
        assert_eq!(
            endpoint_for_region("cosgz", true, true),
            "cos.ap-guangzhou.myqcloud.com"
        );
        assert_eq!(
            endpoint_for_region("ap-guangzhou", false, true),
            "cos-internal.ap-guangzhou.tencentcos.cn"
        );
        assert_eq!(
            endpoint_for_region("ap-guangzhou", false, false),
            "cos.ap-guangzhou.tencentcos.cn"
        );
    }

    #[test]
    fn appid_is_appended_once() {
        let config = CosConfig::new("ap-guangzhou").appid("1250000000");
        assert_eq!(
            config.full_bucket_name("examplebucket").unwrap(),
            "examplebucket-1250000000"
        );
        assert_eq!(
            config.full_bucket_name("examplebucket-1250000000").unwrap(),
            "examplebucket-1250000000"
        );
        assert!(config.full_bucket_name("bad.bucket").is_err());
        assert!(CosConfig::new("bad region").endpoint_suffix().is_err());
    }

    #[test]
    fn retry_delays_grow_and_are_capped() {
        let policy = RetryPolicy::default();
        for retry in 1..10 {
            let d = policy.delay(retry);
            assert!(d <= policy.max_delay, "{d:?}");
        }
        assert!(policy.delay(1) <= Duration::from_millis(200));
    }
}

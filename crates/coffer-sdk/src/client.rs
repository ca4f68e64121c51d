//! The client and its request pipeline: URL and Host per configuration (§1.2), signing
//! (§4.1), retries (§1.7) and error answers (§5).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use coffer_proto::auth::cos::{is_signable_header, CosSigner};
use coffer_proto::auth::form_encode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;

use crate::body::Body;
use crate::config::CosConfig;
use crate::credentials::Credentials;
use crate::error::{ClientError, Error, Result, ServiceError};

/// Largest error body read into a [`ServiceError`].
const MAX_ERROR_BODY: usize = 1 << 20;

/// An async COS client. Cheap to clone (an `Arc` inside); clones share the connection pool.
///
/// One method per operation of the Python SDK's `CosS3Client`, named in Rust case, taking a
/// typed request (`PutObject::new(bucket, key)…`) and returning a typed output.
#[derive(Clone, Debug)]
pub struct CosClient {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: CosConfig,
    pub(crate) endpoint: String,
    pub(crate) http: reqwest::Client,
}

/// What a request is addressed to.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// The service (list buckets).
    Service,
    /// A bucket (full name) and an object key, empty for bucket operations.
    Bucket { bucket: String, key: String },
}

/// One operation's request before signing.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) target: Target,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
    /// Whether the query parameters are signed (list_buckets does not sign them).
    pub(crate) sign_params: bool,
}

impl Request {
    pub(crate) fn new(method: Method, target: Target) -> Self {
        Request {
            method,
            target,
            params: Vec::new(),
            headers: Vec::new(),
            body: Body::empty(),
            sign_params: true,
        }
    }

    pub(crate) fn param(mut self, name: &str, value: impl Into<String>) -> Self {
        self.params.push((name.to_string(), value.into()));
        self
    }

    pub(crate) fn param_opt(self, name: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.param(name, v),
            None => self,
        }
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub(crate) fn header_opt(self, name: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.header(name, v),
            None => self,
        }
    }

    pub(crate) fn headers(mut self, headers: impl IntoIterator<Item = (String, String)>) -> Self {
        self.headers.extend(headers);
        self
    }

    pub(crate) fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }
}

/// Where a request goes: the URL without query, the explicit `Host` header (when connecting
/// to a configured IP), and the host that is signed.
#[derive(Debug)]
pub(crate) struct Address {
    pub(crate) url: String,
    pub(crate) host_header: Option<String>,
    pub(crate) signed_host: String,
    pub(crate) path: String,
}

impl CosClient {
    /// A client for this configuration.
    pub fn new(config: CosConfig) -> Result<Self, ClientError> {
        let endpoint = match (&config.domain, config.endpoint_suffix()) {
            (_, Ok(endpoint)) => endpoint,
            (Some(_), Err(_)) => String::new(),
            (None, Err(e)) => return Err(e),
        };
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.timeout)
            .user_agent(config.user_agent.clone())
            .no_proxy()
            .tcp_nodelay(true);
        if config.keep_alive {
            builder = builder
                .pool_max_idle_per_host(config.pool_max_idle_per_host)
                .pool_idle_timeout(Duration::from_secs(50));
        } else {
            builder = builder.pool_max_idle_per_host(0);
        }
        let http = builder.build().map_err(ClientError::Transport)?;
        Ok(CosClient {
            inner: Arc::new(Inner {
                config,
                endpoint,
                http,
            }),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &CosConfig {
        &self.inner.config
    }

    /// The full bucket name (with `-<appid>` when configured).
    pub(crate) fn bucket_target(&self, bucket: &str, key: &str) -> Result<Target> {
        Ok(Target::Bucket {
            bucket: self.inner.config.full_bucket_name(bucket)?,
            key: key.to_string(),
        })
    }

    /// A target for an object operation; the key must not be empty.
    pub(crate) fn object_target(&self, bucket: &str, key: &str) -> Result<Target> {
        if key.is_empty() || key == "/" {
            return Err(Error::invalid("the object key must not be empty"));
        }
        self.bucket_target(bucket, key)
    }

    /// §1.2: URL, Host header and signed host of a target.
    pub(crate) fn address(&self, target: &Target) -> Result<Address> {
        let config = &self.inner.config;
        let scheme = config.scheme.as_str();
        let (host, key) = match target {
            Target::Service => {
                let host = config.service_domain.clone().unwrap_or_else(|| {
                    if config.enable_old_domain {
                        "service.cos.myqcloud.com".into()
                    } else {
                        "service.cos.tencentcos.cn".into()
                    }
                });
                (host, "")
            }
            Target::Bucket { bucket, key } => {
                let host = match &config.domain {
                    Some(domain) => domain.clone(),
                    None => format!("{bucket}.{}", self.inner.endpoint),
                };
                (host, key.as_str())
            }
        };
        let encoded = encode_key_path(key)?;
        let path = format!("/{}", key.strip_prefix('/').unwrap_or(key));
        let signed_host = strip_port(&host).to_ascii_lowercase();
        Ok(match &config.ip {
            Some(ip) => {
                let authority = match config.port {
                    Some(port) => format!("{ip}:{port}"),
                    None => ip.clone(),
                };
                Address {
                    url: format!("{scheme}://{authority}{encoded}"),
                    host_header: Some(strip_port(&host).to_string()),
                    signed_host,
                    path,
                }
            }
            None => Address {
                url: format!("{scheme}://{host}{encoded}"),
                host_header: None,
                signed_host,
                path,
            },
        })
    }

    /// The credentials for the next request, `None` when anonymous.
    pub(crate) async fn credentials(&self) -> Result<Option<Credentials>> {
        match &self.inner.config.credentials {
            Some(provider) => Ok(Some(provider.credentials().await?)),
            None => Ok(None),
        }
    }

    /// Sends a request with retries; an error answer becomes [`Error::Service`].
    pub(crate) async fn send(&self, request: Request) -> Result<reqwest::Response> {
        let retry = self.inner.config.retry;
        let mut attempt = 0u32;
        loop {
            let outcome = self.send_once(&request, attempt > 0).await;
            let retryable = match &outcome {
                Ok(response) => {
                    let status = response.status().as_u16();
                    status >= 500 || status == 429
                }
                Err(Error::Client(ClientError::Transport(_) | ClientError::Timeout(_))) => true,
                Err(_) => false,
            };
            if retryable && attempt < retry.max_retries && request.body.is_replayable() {
                attempt += 1;
                let delay = retry.delay(attempt);
                tracing::debug!(?delay, attempt, "retrying COS request");
                tokio::time::sleep(delay).await;
                continue;
            }
            let response = outcome?;
            let status = response.status().as_u16();
            if status >= 400 {
                return Err(self.service_error(&request, response).await);
            }
            return Ok(response);
        }
    }

    async fn service_error(&self, request: &Request, response: reqwest::Response) -> Error {
        let status = response.status().as_u16();
        let url = response.url().to_string();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        if request.method != Method::HEAD {
            let mut response = response;
            while let Ok(Some(chunk)) = response.chunk().await {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_ERROR_BODY {
                    break;
                }
            }
        }
        ServiceError::from_response(request.method.as_str(), status, headers, &body, &url).into()
    }

    async fn send_once(&self, request: &Request, is_retry: bool) -> Result<reqwest::Response> {
        let address = self.address(&request.target)?;
        let mut url = address.url.clone();
        if !request.params.is_empty() {
            url.push('?');
            url.push_str(&query_string(&request.params));
        }
        let mut headers: Vec<(String, String)> = request.headers.clone();
        if let Some(len) = request.body.len() {
            let has_length = headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-length"));
            let needs_length =
                len > 0 || matches!(request.method, Method::PUT | Method::POST | Method::DELETE);
            if !has_length && needs_length {
                headers.push(("Content-Length".into(), len.to_string()));
            }
        }
        if is_retry {
            headers.push(("x-cos-sdk-retry".into(), "true".into()));
        }
        let credentials = self.credentials().await?;
        if let Some(token) = credentials.as_ref().and_then(|c| c.token.as_ref()) {
            headers.push(("x-cos-security-token".into(), token.clone()));
        }
        if let Some(host) = &address.host_header {
            headers.push(("Host".into(), host.clone()));
        }
        let authorization = match &credentials {
            Some(credentials) => {
                let (start, end) = self.sign_window(self.inner.config.sign_expire);
                Some(self.authorization(
                    credentials,
                    request.method.as_str(),
                    &address,
                    if request.sign_params {
                        &request.params
                    } else {
                        &[]
                    },
                    &headers,
                    self.inner.config.sign_host || address.host_header.is_some(),
                    start,
                    end,
                ))
            }
            None => None,
        };
        let mut map = HeaderMap::with_capacity(headers.len() + 1);
        for (name, value) in &headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::invalid(format!("invalid header name {name:?}")))?;
            let value = HeaderValue::from_bytes(value.as_bytes())
                .map_err(|_| Error::invalid(format!("invalid value for header {name}")))?;
            map.append(name, value);
        }
        if let Some(authorization) = authorization {
            let value = HeaderValue::from_str(&authorization).map_err(|_| {
                Error::invalid("secret id contains characters not allowed in a header")
            })?;
            map.insert(reqwest::header::AUTHORIZATION, value);
        }
        let body = request.body.to_reqwest().await?;
        let response = self
            .inner
            .http
            .request(request.method.clone(), url)
            .headers(map)
            .body(body)
            .send()
            .await?;
        Ok(response)
    }

    /// `(now − 60, now + expire)` in Unix seconds, as the Python SDK signs.
    pub(crate) fn sign_window(&self, expire: Duration) -> (u64, u64) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        (now.saturating_sub(60), now + expire.as_secs())
    }

    /// The Authorization value for a request (§4.1): the listed params, the signable headers,
    /// and the host unless `sign_host` is false.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn authorization(
        &self,
        credentials: &Credentials,
        method: &str,
        address: &Address,
        params: &[(String, String)],
        headers: &[(String, String)],
        sign_host: bool,
        start: u64,
        end: u64,
    ) -> String {
        let mut signed: Vec<(String, String)> = headers
            .iter()
            .filter(|(name, _)| is_signable_header(name) && !name.eq_ignore_ascii_case("host"))
            .cloned()
            .collect();
        let explicit_host = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("host"))
            .map(|(_, v)| v.clone());
        if let Some(host) = explicit_host {
            signed.push(("host".into(), host));
        } else if sign_host {
            signed.push(("host".into(), address.signed_host.clone()));
        }
        CosSigner::new(&credentials.secret_id, &credentials.secret_key)
            .sign(method, &address.path, params, &signed, start, end)
            .header_value()
    }
}

/// `host[:port]` → `host` (IPv6 literals keep their brackets), by the rule the server uses.
fn strip_port(host: &str) -> &str {
    coffer_proto::names::host_without_port_str(host)
}

/// §1.5: form-encoded `name=value` pairs (empty values keep their `=`).
pub(crate) fn query_string(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                form_encode(k.as_bytes()),
                form_encode(v.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// §1.4: the URL path of a key: one leading `/` removed, percent-encoded keeping unreserved
/// characters and `/`, and every `./` written `.%2F` so that no URL library collapses dot
/// segments. A key whose last segment is `.` or `..` has the slash before it encoded too; the
/// keys `.` and `..` themselves cannot be addressed.
pub(crate) fn encode_key_path(key: &str) -> Result<String> {
    let key = key.strip_prefix('/').unwrap_or(key);
    if key == "." || key == ".." {
        return Err(Error::invalid(format!(
            "the key {key:?} cannot be addressed in a URL"
        )));
    }
    let mut encoded = coffer_proto::encoding::encode_path(key).replace("./", ".%2F");
    for tail in ["/..", "/."] {
        if encoded.ends_with(tail) {
            let cut = encoded.len() - tail.len();
            encoded = format!("{}%2F{}", &encoded[..cut], &tail[1..]);
            break;
        }
    }
    Ok(format!("/{encoded}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;
    use crate::Scheme;

    #[test]
    fn key_paths_are_encoded_like_the_python_sdk() {
        assert_eq!(
            encode_key_path("dir/中文 a+b.txt").unwrap(),
            "/dir/%E4%B8%AD%E6%96%87%20a%2Bb.txt"
        );
        assert_eq!(encode_key_path("/a/./b/../c").unwrap(), "/a/.%2Fb/..%2Fc");
        assert_eq!(encode_key_path("a/..").unwrap(), "/a%2F..");
        assert_eq!(encode_key_path("").unwrap(), "/");
        assert!(encode_key_path("..").is_err());
    }

    #[test]
    fn dot_keys_survive_url_parsing() {
        for key in ["a/..", "a/.", "../x", "./x", "a/../b", "x/./"] {
            let path = encode_key_path(key).unwrap();
            let url = reqwest::Url::parse(&format!("http://h{path}")).unwrap();
            let decoded = coffer_proto::encoding::decode_path(url.path()).unwrap();
            assert_eq!(decoded, format!("/{key}"), "{key}");
        }
    }

    #[test]
    fn ip_configuration_sends_the_cos_host() {
        let client = CosClient::new(
            CosConfig::new("ap-guangzhou")
                .scheme(Scheme::Http)
                .ip("127.0.0.1")
                .port(9000),
        )
        .unwrap();
        let target = client.object_target("b-125", "k x").unwrap();
        let address = client.address(&target).unwrap();
        assert_eq!(address.url, "http://127.0.0.1:9000/k%20x");
        assert_eq!(
            address.host_header.as_deref(),
            Some("b-125.cos.ap-guangzhou.myqcloud.com")
        );
        assert_eq!(address.path, "/k x");
    }

    #[test]
    fn query_strings_are_form_encoded() {
        let params = vec![
            ("prefix".to_string(), "a b/".to_string()),
            ("marker".to_string(), String::new()),
        ];
        assert_eq!(query_string(&params), "prefix=a+b%2F&marker=");
    }
}

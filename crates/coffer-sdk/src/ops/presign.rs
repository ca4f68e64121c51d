//! Signatures handed to others: `get_auth`, presigned URLs (§4.4–§4.5).

use std::time::Duration;

use coffer_proto::auth::cos::CosSigner;
use reqwest::Method;

use crate::client::{Address, CosClient, Target};
use crate::error::{Error, Result};

/// What to sign for [`CosClient::get_auth`] and [`CosClient::get_presigned_url`].
#[derive(Debug, Clone)]
pub struct PresignRequest {
    method: Method,
    bucket: String,
    key: String,
    expire: Duration,
    headers: Vec<(String, String)>,
    params: Vec<(String, String)>,
    sign_host: Option<bool>,
    signed_at: Option<u64>,
}

impl PresignRequest {
    /// A signature for `method` on `key` in `bucket` (`/` or empty for the bucket itself),
    /// valid for 300 s.
    pub fn new(method: Method, bucket: impl Into<String>, key: impl Into<String>) -> Self {
        PresignRequest {
            method,
            bucket: bucket.into(),
            key: key.into(),
            expire: Duration::from_secs(300),
            headers: Vec::new(),
            params: Vec::new(),
            sign_host: None,
            signed_at: None,
        }
    }

    /// Validity (the Python SDK's `Expired`).
    pub fn expire(mut self, expire: Duration) -> Self {
        self.expire = expire;
        self
    }

    /// A header the user of the signature must send with exactly this value.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A signed query parameter (carried in a presigned URL).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Whether to sign the host (default: the client's `sign_host`, true).
    pub fn sign_host(mut self, sign_host: bool) -> Self {
        self.sign_host = Some(sign_host);
        self
    }

    /// Signs as if the time were this Unix second (window `t − 60 … t + expire`); for
    /// reproducible signatures and tests.
    pub fn signed_at(mut self, unix_seconds: u64) -> Self {
        self.signed_at = Some(unix_seconds);
        self
    }
}

impl CosClient {
    /// An `Authorization` value for a request someone else will send (`get_auth`): they must
    /// send the same method, path, signed headers, params and Host.
    pub async fn get_auth(&self, request: &PresignRequest) -> Result<String> {
        let key = if request.key == "/" {
            ""
        } else {
            request.key.as_str()
        };
        let address = self.address(&self.bucket_target(&request.bucket, key)?)?;
        let credentials = self
            .credentials()
            .await?
            .ok_or_else(|| Error::invalid("an anonymous client cannot sign"))?;
        let (start, end) = self.presign_window(request);
        let sign_host = request.sign_host.unwrap_or(self.inner.config.sign_host);
        Ok(self.authorization(
            &credentials,
            request.method.as_str(),
            &address,
            &request.params,
            &request.headers,
            sign_host,
            start,
            end,
        ))
    }

    /// A presigned URL (`get_presigned_url`): anyone holding it may perform `method` until it
    /// expires. Temporary credentials' token is added as a signed `x-cos-security-token`
    /// parameter. With an `ip` configured the URL is path-style on that address
    /// (`http://ip:port/<bucket>/<key>`), which Coffer serves.
    pub async fn get_presigned_url(&self, request: &PresignRequest) -> Result<String> {
        let credentials = self
            .credentials()
            .await?
            .ok_or_else(|| Error::invalid("an anonymous client cannot sign"))?;
        let mut params = request.params.clone();
        if let Some(token) = &credentials.token {
            params.push(("x-cos-security-token".into(), token.clone()));
        }
        let (address, _) = self.presign_address(request)?;
        let (start, end) = self.presign_window(request);
        let sign_host = request.sign_host.unwrap_or(self.inner.config.sign_host);
        let mut headers: Vec<(String, String)> = request
            .headers
            .iter()
            .filter(|(n, _)| {
                coffer_proto::auth::cos::is_signable_header(n) && !n.eq_ignore_ascii_case("host")
            })
            .cloned()
            .collect();
        if sign_host {
            headers.push(("host".into(), address.signed_host.clone()));
        }
        let query = CosSigner::new(&credentials.secret_id, &credentials.secret_key).presign_query(
            request.method.as_str(),
            &address.path,
            &params,
            &headers,
            start,
            end,
        );
        Ok(format!("{}?{query}", address.url))
    }

    /// A presigned GET URL (`get_presigned_download_url`).
    pub async fn get_presigned_download_url(
        &self,
        bucket: &str,
        key: &str,
        expire: Duration,
    ) -> Result<String> {
        self.get_presigned_url(&PresignRequest::new(Method::GET, bucket, key).expire(expire))
            .await
    }

    fn presign_window(&self, request: &PresignRequest) -> (u64, u64) {
        match request.signed_at {
            Some(now) => (now.saturating_sub(60), now + request.expire.as_secs()),
            None => self.sign_window(request.expire),
        }
    }

    /// The address a presigned request is sent to. The host is never an explicit header:
    /// with an IP configured the URL is path-style on that IP.
    fn presign_address(&self, request: &PresignRequest) -> Result<(Address, Target)> {
        let key = if request.key == "/" {
            ""
        } else {
            request.key.as_str()
        };
        let target = self.bucket_target(&request.bucket, key)?;
        let mut address = self.address(&target)?;
        if address.host_header.is_some() {
            let Target::Bucket { bucket, key } = &target else {
                unreachable!("bucket_target returns a bucket");
            };
            let config = &self.inner.config;
            let ip = config.ip.clone().unwrap_or_default();
            let authority = match config.port {
                Some(port) => format!("{ip}:{port}"),
                None => ip.clone(),
            };
            let path_key = format!("{bucket}/{}", key.strip_prefix('/').unwrap_or(key));
            address = Address {
                url: format!(
                    "{}://{authority}{}",
                    config.scheme.as_str(),
                    crate::client::encode_key_path(&path_key)?
                ),
                host_header: None,
                signed_host: ip.to_ascii_lowercase(),
                path: format!("/{path_key}"),
            };
        }
        Ok((address, target))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;
    use crate::CosConfig;

    const ID: &str = "AKIDEXAMPLEsecretid0123456789";
    const KEY: &str = "examplesecretkey0123456789abcdef";
    const BUCKET: &str = "examplebucket-1250000000";
    const NOW: u64 = 1_700_000_000;

    fn client() -> CosClient {
        CosClient::new(CosConfig::new("ap-guangzhou").credentials(ID, KEY)).unwrap()
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// Vectors V1–V3 and V6 of the protocol reference §4.3, produced by the Python SDK.
    #[test]
    fn get_auth_reproduces_the_python_sdk() {
        let v1 = PresignRequest::new(Method::GET, BUCKET, "exampleobject").signed_at(NOW);
        assert_eq!(
            block_on(client().get_auth(&v1)).unwrap(),
            "q-sign-algorithm=sha1&q-ak=AKIDEXAMPLEsecretid0123456789&q-sign-time=1699999940;1700000300&q-key-time=1699999940;1700000300&q-header-list=host&q-url-param-list=&q-signature=e57f393c69f410548ba42668de87cd3eed8625be"
        );
        let v2 = PresignRequest::new(Method::PUT, BUCKET, "dir/中文 file+name.txt")
            .expire(Duration::from_secs(3600))
            .header("Content-Type", "text/plain")
            .header("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==")
            .header("x-cos-meta-Author", "Alice Smith")
            .header("X-Unsigned", "ignored")
            .param("partNumber", "1")
            .param(
                "uploadId",
                "1585130821cbb7df1d11846c073ad648e8f33b087cec2381df437acdc833cf654b9ecc6361",
            )
            .signed_at(NOW);
        assert!(block_on(client().get_auth(&v2)).unwrap().ends_with(
            "q-header-list=content-md5;content-type;host;x-cos-meta-author&q-url-param-list=partnumber;uploadid&q-signature=0af17ca24867e63f9f27f5d8614cc81e5110af20"
        ));
        let v3 = PresignRequest::new(Method::DELETE, BUCKET, "/")
            .expire(Duration::from_secs(60))
            .param("cors", "")
            .sign_host(false)
            .signed_at(NOW);
        assert!(block_on(client().get_auth(&v3)).unwrap().ends_with(
            "q-header-list=&q-url-param-list=cors&q-signature=2eb748e79003fb468c0575a586c35dc65a143147"
        ));
    }

    #[test]
    fn presigned_url_reproduces_the_python_sdk() {
        let v6 = PresignRequest::new(Method::GET, BUCKET, "a/b c.txt")
            .expire(Duration::from_secs(120))
            .param("response-content-type", "text/plain")
            .signed_at(NOW);
        assert_eq!(
            block_on(client().get_presigned_url(&v6)).unwrap(),
            "https://examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/a/b%20c.txt?q-sign-algorithm=sha1&q-ak=AKIDEXAMPLEsecretid0123456789&q-sign-time=1699999940%3B1700000120&q-key-time=1699999940%3B1700000120&q-header-list=host&q-url-param-list=response-content-type&q-signature=0e2307170b9a56534d747a16446a72f8c914b1e2&response-content-type=text%2Fplain"
        );
    }
}

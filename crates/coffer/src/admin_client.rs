//! A minimal blocking HTTP/1.1 client for the online admin API of a running server,
//! COS-signed with an admin account.

use anyhow::{bail, Context as _};
use coffer_proto::auth::cos;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Where the running server is and who signs.
#[derive(Debug, Clone)]
pub struct AdminEndpoint {
    /// `host:port` (the `http://` prefix is optional).
    pub address: String,
    /// An admin account's SecretId.
    pub secret_id: String,
    /// Its SecretKey.
    pub secret_key: String,
}

impl AdminEndpoint {
    /// Sends one request; returns the status and body.
    pub fn call(&self, method: &str, path: &str, body: &[u8]) -> anyhow::Result<(u16, String)> {
        let address = self
            .address
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs();
        let content_length = body.len().to_string();
        let signed_headers = vec![
            ("content-length".to_string(), content_length.clone()),
            // COS signs the host without its port.
            (
                "host".to_string(),
                address
                    .rsplit_once(':')
                    .map_or(address.as_str(), |(h, _)| h)
                    .to_string(),
            ),
        ];
        let authorization = cos::sign(
            &self.secret_id,
            &self.secret_key,
            method,
            path,
            &[],
            &signed_headers,
            now.saturating_sub(60),
            now + 600,
        );
        let encoded_path = coffer_proto::encoding::encode_path(path);
        let mut request = format!(
            "{method} {encoded_path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {content_length}\r\nAuthorization: {authorization}\r\nConnection: close\r\n\r\n"
        )
        .into_bytes();
        request.extend_from_slice(body);
        let mut stream =
            TcpStream::connect(&address).with_context(|| format!("connecting to {address}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.write_all(&request)?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let text = String::from_utf8_lossy(&response).into_owned();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            bail!("malformed response from {address}");
        };
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("malformed status line")?;
        Ok((status, body.to_string()))
    }
}

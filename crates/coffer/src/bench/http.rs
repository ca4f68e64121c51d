//! A tiny HTTP/1.1 client for the load generator: one persistent keep-alive connection,
//! requests written as head + body from a borrowed slice, responses parsed with `httparse`
//! and framed by `Content-Length` (the only framing Coffer answers with).
//!
//! It also signs: COS q-sign (the bucket in the `Host` header, as the COS SDKs address it) or
//! SigV4 (path style, `UNSIGNED-PAYLOAD`).

use anyhow::{bail, Context as _};
use coffer_proto::auth::sigv4::{self, aws_uri_encode, SigV4Signer};
use coffer_proto::auth::{cos, Query, RequestView};
use md5::{Digest as _, Md5};
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Bodies up to this size are written in the same `write` as the head.
const COALESCE_LIMIT: usize = 64 * 1024;
/// Size of the scratch buffer large bodies are read through.
const READ_CHUNK: usize = 256 * 1024;
/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// Which signature the requests carry (and so which dialect the server answers in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthKind {
    /// COS q-sign (HMAC-SHA1); bucket addressed by `Host: <bucket>.cos.<region>.myqcloud.com`.
    Cos,
    /// AWS SigV4 with `UNSIGNED-PAYLOAD`; path-style addressing.
    S3,
}

/// Credentials and addressing shared by every connection.
#[derive(Clone)]
pub struct Signer {
    /// Signature scheme.
    pub auth: AuthKind,
    /// SecretId / access key id.
    pub secret_id: String,
    /// SecretKey / secret access key.
    pub secret_key: String,
    /// Region (COS host name, SigV4 scope).
    pub region: String,
    /// The endpoint's `host:port`, the `Host` of path-style requests.
    pub authority: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("auth", &self.auth)
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .field("region", &self.region)
            .field("authority", &self.authority)
            .finish()
    }
}

/// A request, ready to be written: target (path and query), headers, and a borrowed body.
#[derive(Debug)]
pub struct Prepared {
    /// `GET`, `PUT`, …
    pub method: &'static str,
    /// Request target: encoded path plus `?query` if any.
    pub target: String,
    /// Headers besides `Content-Length`.
    pub headers: Vec<(&'static str, String)>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Signer {
    /// Prepares and signs a request with `auth` (which may differ from [`Signer::auth`]:
    /// buckets are always created with SigV4). `key` is the object key, unencoded; `query`
    /// pairs are unencoded (an empty value is written as a bare name, e.g. `uploads`).
    pub fn prepare(
        &self,
        auth: AuthKind,
        method: &'static str,
        bucket: &str,
        key: Option<&str>,
        query: &[(&str, &str)],
    ) -> anyhow::Result<Prepared> {
        let key_path = key.map_or_else(|| "/".to_string(), |k| format!("/{k}"));
        let encoded_key_path = aws_uri_encode(key_path.as_bytes(), false);
        let mut raw_query = String::new();
        for (i, (k, v)) in query.iter().enumerate() {
            if i > 0 {
                raw_query.push('&');
            }
            raw_query.push_str(&aws_uri_encode(k.as_bytes(), true));
            if !v.is_empty() {
                raw_query.push('=');
                raw_query.push_str(&aws_uri_encode(v.as_bytes(), true));
            }
        }
        let with_query = |path: String| {
            if raw_query.is_empty() {
                path
            } else {
                format!("{path}?{raw_query}")
            }
        };
        match auth {
            AuthKind::Cos => {
                let host = format!("{bucket}.cos.{}.myqcloud.com", self.region);
                let now = unix_now();
                let params: Vec<(String, String)> = query
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                    .collect();
                let headers = [("host".to_string(), host.clone())];
                let authorization = cos::sign(
                    &self.secret_id,
                    &self.secret_key,
                    method,
                    &key_path,
                    &params,
                    &headers,
                    now.saturating_sub(60),
                    now + 3600,
                );
                Ok(Prepared {
                    method,
                    target: with_query(encoded_key_path),
                    headers: vec![("Host", host), ("Authorization", authorization)],
                })
            }
            AuthKind::S3 => {
                let decoded_path = if bucket.is_empty() {
                    "/".to_string()
                } else if let Some(key) = key {
                    format!("/{bucket}/{key}")
                } else {
                    format!("/{bucket}")
                };
                let amz_date =
                    sigv4::format_amz_date(unix_now()).context("formatting the SigV4 timestamp")?;
                let host = self.authority.clone();
                let header_view: [(&str, &[u8]); 3] = [
                    ("host", host.as_bytes()),
                    ("x-amz-content-sha256", sigv4::UNSIGNED_PAYLOAD.as_bytes()),
                    ("x-amz-date", amz_date.as_bytes()),
                ];
                let query = Query::parse(&raw_query);
                let view = RequestView {
                    method,
                    decoded_path: &decoded_path,
                    query: &query,
                    headers: &header_view,
                };
                let signed = SigV4Signer::new(&self.secret_id, &self.secret_key, &self.region)
                    .sign(
                        &view,
                        &["host", "x-amz-content-sha256", "x-amz-date"],
                        sigv4::UNSIGNED_PAYLOAD,
                        &amz_date,
                    )
                    .map_err(|e| anyhow::anyhow!("signing: {e}"))?;
                Ok(Prepared {
                    method,
                    target: with_query(aws_uri_encode(decoded_path.as_bytes(), false)),
                    headers: vec![
                        ("Host", host),
                        ("x-amz-content-sha256", sigv4::UNSIGNED_PAYLOAD.to_string()),
                        ("x-amz-date", amz_date),
                        ("Authorization", signed.authorization),
                    ],
                })
            }
        }
    }
}

/// What to do with a response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// Keep it in [`Response::body`].
    Collect,
    /// Count it and drop it.
    Discard,
    /// Count it, drop it, and compute its MD5.
    Md5,
}

/// A response.
#[derive(Debug, Default)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// The `ETag` header, if any.
    pub etag: Option<String>,
    /// Body bytes received.
    pub body_len: u64,
    /// The body, with [`Sink::Collect`] (and for every non-2xx answer, for error messages).
    pub body: Vec<u8>,
    /// The body's MD5, with [`Sink::Md5`].
    pub md5: Option<[u8; 16]>,
}

impl Response {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A one-line description of a failed response.
    pub fn describe(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let code = between(&text, "<Code>", "</Code>").unwrap_or_default();
        let message = between(&text, "<Message>", "</Message>").unwrap_or_default();
        format!("HTTP {} {code} {message}", self.status)
            .trim()
            .to_string()
    }
}

/// The text between the first `open` and the following `close`.
pub fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text.get(start..)?.find(close)?;
    text.get(start..start + len)
}

struct Conn {
    stream: TcpStream,
    /// Bytes read but not consumed.
    buf: Vec<u8>,
    /// Where unconsumed bytes start in `buf`.
    pos: usize,
}

/// One keep-alive connection (re-established transparently after a close or an error).
pub struct Client {
    addr: SocketAddr,
    conn: Option<Conn>,
    head: Vec<u8>,
    scratch: Vec<u8>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("addr", &self.addr)
            .field("connected", &self.conn.is_some())
            .finish()
    }
}

impl Client {
    /// A client for `addr`; it connects on first use.
    pub fn new(addr: SocketAddr) -> Self {
        Client {
            addr,
            conn: None,
            head: Vec::with_capacity(1024),
            scratch: Vec::new(),
        }
    }

    /// Sends a request and reads its response. On a kept-alive connection that turns out
    /// dead before any response byte arrived the request is retried once on a new one.
    pub async fn send(
        &mut self,
        request: &Prepared,
        body: &[u8],
        sink: Sink,
    ) -> anyhow::Result<Response> {
        let reused = self.conn.is_some();
        match self.try_send(request, body, sink).await {
            Ok(r) => Ok(r),
            Err(SendError::BeforeResponse(e)) if reused => {
                self.conn = None;
                self.try_send(request, body, sink)
                    .await
                    .map_err(SendError::into_inner)
                    .with_context(|| format!("retrying after {e:#}"))
            }
            Err(e) => {
                self.conn = None;
                Err(e.into_inner())
            }
        }
    }

    async fn try_send(
        &mut self,
        request: &Prepared,
        body: &[u8],
        sink: Sink,
    ) -> Result<Response, SendError> {
        if self.conn.is_none() {
            let stream = TcpStream::connect(self.addr)
                .await
                .with_context(|| format!("connecting to {}", self.addr))
                .map_err(SendError::Other)?;
            stream
                .set_nodelay(true)
                .context("TCP_NODELAY")
                .map_err(SendError::Other)?;
            self.conn = Some(Conn {
                stream,
                buf: Vec::with_capacity(16 * 1024),
                pos: 0,
            });
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(SendError::Other(anyhow::anyhow!("no connection")));
        };
        // Head.
        let head = &mut self.head;
        head.clear();
        head.extend_from_slice(request.method.as_bytes());
        head.push(b' ');
        head.extend_from_slice(request.target.as_bytes());
        head.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in &request.headers {
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        if !body.is_empty() || matches!(request.method, "PUT" | "POST") {
            head.extend_from_slice(b"Content-Length: ");
            head.extend_from_slice(body.len().to_string().as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        let written = if body.len() <= COALESCE_LIMIT {
            head.extend_from_slice(body);
            conn.stream.write_all(head).await
        } else {
            match conn.stream.write_all(head).await {
                Ok(()) => conn.stream.write_all(body).await,
                Err(e) => Err(e),
            }
        };
        // A server that answers early (an error) and closes may make the body write fail;
        // try to read its answer all the same.
        let write_error = written.err();

        // Response head.
        let mut first_byte = false;
        let (status, etag, content_length, close, head_len) = loop {
            let unread = conn.buf.get(conn.pos..).unwrap_or_default();
            if !unread.is_empty() {
                first_byte = true;
                let mut headers = [httparse::EMPTY_HEADER; 64];
                let mut parsed = httparse::Response::new(&mut headers);
                match parsed.parse(unread) {
                    Ok(httparse::Status::Complete(len)) => {
                        let status = parsed.code.unwrap_or(0);
                        if (100..200).contains(&status) {
                            conn.pos += len;
                            continue;
                        }
                        let mut etag = None;
                        let mut content_length = None;
                        let mut close = parsed.version == Some(0);
                        for h in parsed.headers.iter() {
                            if h.name.eq_ignore_ascii_case("content-length") {
                                content_length = std::str::from_utf8(h.value)
                                    .ok()
                                    .and_then(|v| v.trim().parse::<u64>().ok());
                            } else if h.name.eq_ignore_ascii_case("etag") {
                                etag = Some(String::from_utf8_lossy(h.value).into_owned());
                            } else if h.name.eq_ignore_ascii_case("connection") {
                                close = h.value.eq_ignore_ascii_case(b"close");
                            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                                return Err(SendError::Other(anyhow::anyhow!(
                                    "the server sent Transfer-Encoding, which this client does not decode"
                                )));
                            }
                        }
                        break (status, etag, content_length, close, len);
                    }
                    Ok(httparse::Status::Partial) => {
                        if unread.len() > MAX_HEAD {
                            return Err(SendError::Other(anyhow::anyhow!(
                                "response head too large"
                            )));
                        }
                    }
                    Err(e) => {
                        return Err(SendError::Other(anyhow::anyhow!(
                            "unparsable response head: {e}"
                        )))
                    }
                }
            }
            // Compact, then read more.
            if conn.pos > 0 {
                conn.buf.drain(..conn.pos);
                conn.pos = 0;
            }
            let old = conn.buf.len();
            conn.buf.resize(old + 16 * 1024, 0);
            let n = match conn.stream.read(&mut conn.buf[old..]).await {
                Ok(n) => n,
                Err(e) => {
                    conn.buf.truncate(old);
                    let e = anyhow::Error::new(e).context("reading the response");
                    return Err(if first_byte {
                        SendError::Other(e)
                    } else {
                        SendError::BeforeResponse(e)
                    });
                }
            };
            conn.buf.truncate(old + n);
            if n == 0 {
                let e = match &write_error {
                    Some(w) => anyhow::anyhow!("connection closed (write failed: {w})"),
                    None => anyhow::anyhow!("connection closed before a complete response"),
                };
                return Err(if first_byte {
                    SendError::Other(e)
                } else {
                    SendError::BeforeResponse(e)
                });
            }
        };
        conn.pos += head_len;
        // HEAD answers, 204 and 304 have no body whatever their Content-Length says.
        let bodiless = request.method == "HEAD" || status == 204 || status == 304;
        let Some(length) = (if bodiless { Some(0) } else { content_length }) else {
            return Err(SendError::Other(anyhow::anyhow!(
                "response without Content-Length (status {status})"
            )));
        };
        let sink = if (200..300).contains(&status) {
            sink
        } else {
            Sink::Collect
        };

        // Body: first what is already buffered, then straight from the socket.
        let mut response = Response {
            status,
            etag,
            ..Response::default()
        };
        let mut hasher = (sink == Sink::Md5).then(Md5::new);
        let mut remaining = length;
        let mut take = |chunk: &[u8], response: &mut Response| {
            response.body_len += chunk.len() as u64;
            match sink {
                Sink::Collect => response.body.extend_from_slice(chunk),
                Sink::Discard => {}
                Sink::Md5 => {
                    if let Some(h) = hasher.as_mut() {
                        h.update(chunk);
                    }
                }
            }
        };
        let buffered = conn.buf.len() - conn.pos;
        let n = usize::try_from(remaining).map_or(buffered, |r| r.min(buffered));
        if let Some(chunk) = conn.buf.get(conn.pos..conn.pos + n) {
            take(chunk, &mut response);
        }
        conn.pos += n;
        remaining -= n as u64;
        if conn.pos == conn.buf.len() {
            conn.buf.clear();
            conn.pos = 0;
        }
        if remaining > 0 {
            if self.scratch.len() < READ_CHUNK {
                self.scratch.resize(READ_CHUNK, 0);
            }
            if sink == Sink::Collect {
                response
                    .body
                    .reserve(usize::try_from(remaining).unwrap_or(0));
            }
            while remaining > 0 {
                let want = usize::try_from(remaining).map_or(READ_CHUNK, |r| r.min(READ_CHUNK));
                let n = conn
                    .stream
                    .read(&mut self.scratch[..want])
                    .await
                    .context("reading the response body")
                    .map_err(SendError::Other)?;
                if n == 0 {
                    return Err(SendError::Other(anyhow::anyhow!(
                        "connection closed with {remaining} body bytes missing"
                    )));
                }
                take(&self.scratch[..n], &mut response);
                remaining -= n as u64;
            }
        }
        response.md5 = hasher.map(|h| h.finalize().into());
        if close || write_error.is_some() {
            self.conn = None;
        }
        Ok(response)
    }

    /// Sends a request that must succeed, returning its (collected) response.
    pub async fn expect_ok(&mut self, request: &Prepared, body: &[u8]) -> anyhow::Result<Response> {
        let response = self.send(request, body, Sink::Collect).await?;
        if !response.ok() {
            bail!(
                "{} {} → {}",
                request.method,
                request.target,
                response.describe()
            );
        }
        Ok(response)
    }
}

enum SendError {
    /// Nothing of a response arrived: safe to retry on a fresh connection.
    BeforeResponse(anyhow::Error),
    Other(anyhow::Error),
}

impl SendError {
    fn into_inner(self) -> anyhow::Error {
        match self {
            SendError::BeforeResponse(e) | SendError::Other(e) => e,
        }
    }
}

//! Accepting connections, parsing request heads, writing responses, graceful shutdown.

use super::body::{ChunkState, ConnIo, Framing, RequestBody};
use super::response::{reason, Response, ResponseBody};
use bytes::{Buf, BytesMut};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Responses with bodies up to this size are written together with their head.
const COALESCE_LIMIT: usize = 64 * 1024;
/// Most headers a request may carry.
const MAX_HEADERS: usize = 128;
/// After an early answer, read and discard at most this much of an unread body to keep the
/// connection; beyond it the connection is closed.
const DRAIN_LIMIT: u64 = 1 << 20;

/// Timeouts and limits of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Longest wait for a complete request head once its first byte arrived.
    pub header_timeout: Duration,
    /// Longest a kept-alive connection may sit idle between requests.
    pub idle_timeout: Duration,
    /// Longest wait for any progress while reading a body.
    pub body_timeout: Duration,
    /// Largest request head accepted.
    pub max_head_bytes: usize,
    /// Longest graceful shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(120),
            body_timeout: Duration::from_secs(120),
            max_head_bytes: 64 * 1024,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// A parsed request head.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method as sent, e.g. `GET`.
    pub method: String,
    /// Path as sent (still percent-encoded), starting with `/`.
    pub raw_path: String,
    /// Query as sent, without `?`.
    pub raw_query: String,
    /// The authority of an absolute-form target (`GET http://host/key`), if any.
    pub authority: Option<String>,
    /// Headers: names as sent, raw values.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Peer address.
    pub peer: SocketAddr,
}

impl Request {
    /// The first header with this name (case-insensitive), raw.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The first header with this name as text (invalid UTF-8 → `None`), trimmed.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name)
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(str::trim)
    }
}

/// Why a request could not even be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Malformed request line, headers or framing.
    BadRequest,
    /// Request head too large.
    HeadTooLarge,
    /// A transfer coding we do not implement.
    UnsupportedTransferEncoding,
}

/// What the server plugs into the HTTP layer.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request. The body may be read or left; the connection takes care of it.
    fn handle<'a, 'b: 'a>(
        &'a self,
        request: Request,
        body: &'a mut RequestBody<'b>,
    ) -> Pin<Box<dyn Future<Output = Response> + Send + 'a>>;

    /// The answer to a request that could not be parsed.
    fn reject(&self, rejection: Rejection) -> Response;
}

/// Serves connections from `listener` until `shutdown` turns true, then lets in-flight
/// requests finish (up to the grace period) and returns.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    config: HttpConfig,
    handler: Arc<H>,
    mut shutdown: watch::Receiver<bool>,
) {
    let config = Arc::new(config);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                match accepted {
                    Ok((stream, peer)) => {
                        let handler = handler.clone();
                        let config = config.clone();
                        let shutdown = shutdown.clone();
                        connections.spawn(async move {
                            serve_connection(stream, peer, &config, handler.as_ref(), shutdown).await;
                        });
                    }
                    Err(e) => {
                        // Usually EMFILE: back off briefly instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let deadline = tokio::time::sleep(config.shutdown_grace);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            next = connections.join_next() => if next.is_none() { break },
            _ = &mut deadline => {
                tracing::warn!(remaining = connections.len(), "shutdown grace period over; closing connections");
                connections.abort_all();
                break;
            }
        }
    }
}

async fn serve_connection<H: Handler>(
    stream: TcpStream,
    peer: SocketAddr,
    config: &HttpConfig,
    handler: &H,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let (reader, writer) = stream.into_split();
    let mut io = ConnIo {
        reader,
        writer,
        buf: BytesMut::with_capacity(16 * 1024),
        eof: false,
    };
    loop {
        if *shutdown.borrow() {
            return;
        }
        // Wait for the first byte of the next request (idle), then the whole head.
        if io.buf.is_empty() {
            tokio::select! {
                filled = io.fill(config.idle_timeout) => match filled {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                },
                _ = shutdown.changed() => return,
            }
        }
        let head = match read_head(&mut io, config, peer).await {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(rejection) => {
                let mut response = handler.reject(rejection);
                response.close = true;
                let _ = write_response(&mut io, response, false).await;
                return;
            }
        };
        let (request, framing, declared_length, expect_continue, keep_alive) = head;
        let is_head = request.method.eq_ignore_ascii_case("HEAD");
        let mut body = RequestBody {
            io: &mut io,
            framing,
            declared_length,
            continue_pending: expect_continue,
            timeout: config.body_timeout,
            received: 0,
        };
        let mut response = handler.handle(request, &mut body).await;
        // Keep the connection only if the request body is fully consumed (or cheaply
        // drainable) — otherwise its leftovers would be read as the next request.
        let reusable = if body.is_complete() {
            true
        } else if body.awaiting_continue() {
            false
        } else {
            body.drain(DRAIN_LIMIT).await
        };
        let close = response.close || !keep_alive || !reusable || *shutdown.borrow();
        response.close = close;
        if write_response(&mut io, response, is_head).await.is_err() || close {
            let _ = io.writer.shutdown().await;
            return;
        }
    }
}

type Head = (Request, Framing, Option<u64>, bool, bool);

/// Reads and parses one request head. `Ok(None)`: the peer closed cleanly.
async fn read_head(
    io: &mut ConnIo,
    config: &HttpConfig,
    peer: SocketAddr,
) -> Result<Option<Head>, Rejection> {
    let deadline = tokio::time::Instant::now() + config.header_timeout;
    loop {
        // Tolerate stray CRLFs between requests (RFC 9112 §2.2).
        while io.buf.starts_with(b"\r\n") {
            io.buf.advance(2);
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        match parsed.parse(&io.buf) {
            Ok(httparse::Status::Complete(len)) => {
                let head = build_head(&parsed, peer)?;
                io.buf.advance(len);
                return Ok(Some(head));
            }
            Ok(httparse::Status::Partial) => {
                if io.buf.len() > config.max_head_bytes {
                    return Err(Rejection::HeadTooLarge);
                }
            }
            Err(httparse::Error::TooManyHeaders) => return Err(Rejection::HeadTooLarge),
            Err(_) => return Err(Rejection::BadRequest),
        }
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        match io.fill(remaining).await {
            Ok(0) if io.buf.is_empty() => return Ok(None),
            Ok(0) => return Err(Rejection::BadRequest),
            Ok(_) => {}
            Err(_) => return Ok(None),
        }
    }
}

fn build_head(parsed: &httparse::Request<'_, '_>, peer: SocketAddr) -> Result<Head, Rejection> {
    let method = parsed.method.ok_or(Rejection::BadRequest)?.to_string();
    let target = parsed.path.ok_or(Rejection::BadRequest)?;
    let minor = parsed.version.ok_or(Rejection::BadRequest)?;
    let (authority, path_and_query) = split_target(target)?;
    let (raw_path, raw_query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (path_and_query.to_string(), String::new()),
    };
    let headers: Vec<(String, Vec<u8>)> = parsed
        .headers
        .iter()
        .map(|h| (h.name.to_string(), h.value.to_vec()))
        .collect();
    let find = |name: &'static str| {
        headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).trim().to_ascii_lowercase())
    };
    let connection: Vec<String> = find("connection").collect();
    let keep_alive = if minor == 0 {
        connection.iter().any(|c| c.contains("keep-alive"))
    } else {
        !connection.iter().any(|c| c.contains("close"))
    };
    let expect_continue = find("expect").any(|v| v == "100-continue");
    let transfer_encoding: Vec<String> = find("transfer-encoding").collect();
    let (framing, declared) = if !transfer_encoding.is_empty() {
        let last = transfer_encoding
            .last()
            .and_then(|v| v.rsplit(',').next())
            .map(|v| v.trim().to_string())
            .unwrap_or_default();
        if last != "chunked" {
            return Err(Rejection::UnsupportedTransferEncoding);
        }
        (Framing::Chunked(ChunkState::Size), None)
    } else {
        let lengths: Vec<String> = find("content-length").collect();
        match lengths.first() {
            None => (Framing::None, None),
            Some(first) => {
                if lengths.iter().any(|l| l != first) {
                    return Err(Rejection::BadRequest);
                }
                if first.is_empty()
                    || first.len() > 19
                    || !first.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(Rejection::BadRequest);
                }
                let n: u64 = first.parse().map_err(|_| Rejection::BadRequest)?;
                (Framing::Length(n), Some(n))
            }
        }
    };
    let request = Request {
        method,
        raw_path,
        raw_query,
        authority,
        headers,
        peer,
    };
    Ok((request, framing, declared, expect_continue, keep_alive))
}

/// Splits a request target into (absolute-form authority, path-and-query).
fn split_target(target: &str) -> Result<(Option<String>, &str), Rejection> {
    for scheme in ["http://", "https://"] {
        if target.len() >= scheme.len() && target[..scheme.len()].eq_ignore_ascii_case(scheme) {
            let rest = &target[scheme.len()..];
            let (authority, path) = match rest.find(['/', '?']) {
                Some(i) if rest.as_bytes().get(i) == Some(&b'/') => (&rest[..i], &rest[i..]),
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, "/"),
            };
            if authority.is_empty() {
                return Err(Rejection::BadRequest);
            }
            let path = if path.starts_with('?') {
                return Ok((
                    Some(authority.to_string()),
                    if path.is_empty() { "/" } else { path },
                ));
            } else {
                path
            };
            return Ok((Some(authority.to_string()), path));
        }
    }
    if target.starts_with('/') || target == "*" {
        Ok((None, target))
    } else {
        Err(Rejection::BadRequest)
    }
}

async fn write_response(io: &mut ConnIo, response: Response, is_head: bool) -> std::io::Result<()> {
    let content_length = response.content_length();
    let mut head = Vec::with_capacity(512);
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(response.status.to_string().as_bytes());
    head.push(b' ');
    head.extend_from_slice(reason(response.status).as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in &response.headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        // Header values must not carry line breaks; anything else goes out as stored.
        head.extend(
            value
                .iter()
                .map(|b| if *b == b'\r' || *b == b'\n' { b' ' } else { *b }),
        );
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"Content-Length: ");
    head.extend_from_slice(content_length.to_string().as_bytes());
    head.extend_from_slice(b"\r\n");
    if response.close {
        head.extend_from_slice(b"Connection: close\r\n");
    }
    head.extend_from_slice(b"\r\n");
    if is_head {
        return io.writer.write_all(&head).await;
    }
    match response.body {
        ResponseBody::Empty => io.writer.write_all(&head).await,
        ResponseBody::Bytes(bytes) if bytes.len() <= COALESCE_LIMIT => {
            head.extend_from_slice(&bytes);
            io.writer.write_all(&head).await
        }
        ResponseBody::Bytes(bytes) => {
            io.writer.write_all(&head).await?;
            io.writer.write_all(&bytes).await
        }
        ResponseBody::Stream { len, mut reader } => {
            let mut sent = 0u64;
            let mut pending_head = Some(head);
            while sent < len {
                match reader.next_chunk().await {
                    Ok(Some(chunk)) => {
                        let chunk = if (chunk.len() as u64) > len - sent {
                            chunk.slice(..(len - sent) as usize)
                        } else {
                            chunk
                        };
                        sent += chunk.len() as u64;
                        match pending_head.take() {
                            Some(mut head) if chunk.len() <= COALESCE_LIMIT => {
                                head.extend_from_slice(&chunk);
                                io.writer.write_all(&head).await?;
                            }
                            Some(head) => {
                                io.writer.write_all(&head).await?;
                                io.writer.write_all(&chunk).await?;
                            }
                            None => io.writer.write_all(&chunk).await?,
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "object read failed mid-response; closing the connection");
                        return Err(std::io::Error::other(e.to_string()));
                    }
                }
            }
            if let Some(head) = pending_head {
                io.writer.write_all(&head).await?;
            }
            if sent < len {
                // The body came up short: the client must not mistake it for complete.
                return Err(std::io::Error::other("object shorter than announced"));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_targets() {
        assert_eq!(split_target("/a/b?c"), Ok((None, "/a/b?c")));
        assert_eq!(
            split_target("http://b-125.cos.ap-guangzhou.myqcloud.com/key?x=1"),
            Ok((
                Some("b-125.cos.ap-guangzhou.myqcloud.com".to_string()),
                "/key?x=1"
            ))
        );
        assert_eq!(
            split_target("http://host"),
            Ok((Some("host".to_string()), "/"))
        );
        assert_eq!(
            split_target("http://host?a"),
            Ok((Some("host".to_string()), "?a"))
        );
        assert_eq!(split_target("http:///x"), Err(Rejection::BadRequest));
        assert_eq!(split_target("relative"), Err(Rejection::BadRequest));
    }
}

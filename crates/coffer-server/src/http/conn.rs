//! Accepting connections, reading request heads, writing responses, graceful shutdown, and
//! the limits that keep one client from holding the server: a cap on connections and on
//! requests with bodies in flight (both answered `503 SlowDown` with `Connection: close`), a
//! total time for the request head, an idle timeout and a minimum rate for bodies, and a
//! write timeout for responses.

use super::body::{BodyError, BodyLimits, ConnIo, Framing, RequestBody};
use super::head::{parse_head, Head, Rejection, Request};
use super::response::{reason, Response, ResponseBody};
use bytes::Buf;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

/// Responses with bodies up to this size are written together with their head.
const COALESCE_LIMIT: usize = 64 * 1024;
/// After an early answer, read and discard at most this much of an unread body to keep the
/// connection; beyond it the connection is closed.
const DRAIN_LIMIT: u64 = 1 << 20;
/// Connections beyond the limit being answered 503 at the same time; further ones are closed
/// without an answer.
const MAX_REFUSING: usize = 64;
/// Before closing a connection whose request was not read to its end, wait this long (and
/// read and discard at most [`LINGER_BYTES`]) for the peer to finish sending, so that the
/// close does not turn into a reset that destroys the answer before the peer reads it.
const LINGER_TIME: Duration = Duration::from_secs(2);
/// See [`LINGER_TIME`].
const LINGER_BYTES: usize = 256 * 1024;

/// Timeouts and limits of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Longest a whole request head may take to arrive, once its first byte did.
    pub header_timeout: Duration,
    /// Longest a kept-alive connection may sit idle between requests.
    pub idle_timeout: Duration,
    /// Longest wait for any byte of a body; also the window over which `body_min_rate` is
    /// measured.
    pub body_timeout: Duration,
    /// Fewest bytes per second a body must average over each `body_timeout` window (0: no
    /// minimum).
    pub body_min_rate: u64,
    /// Longest the peer may take to accept each 64 KiB of a response.
    pub write_timeout: Duration,
    /// Most connections served at once; further ones are answered 503 and closed.
    pub max_connections: usize,
    /// Most requests with a body (uploads) in flight at once; further ones are answered 503
    /// before their body is read.
    pub max_uploads: usize,
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
            body_timeout: Duration::from_secs(60),
            body_min_rate: 1024,
            write_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_uploads: 256,
            max_head_bytes: 64 * 1024,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// What the server plugs into the HTTP layer.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request. The body may be read or left; the connection takes care of it.
    fn handle<'a, 'b: 'a>(
        &'a self,
        request: Request,
        body: &'a mut RequestBody<'b>,
    ) -> Pin<Box<dyn Future<Output = Response> + Send + 'a>>;

    /// The answer to a request that could not be parsed or is refused before its handler.
    fn reject(&self, rejection: Rejection) -> Response;
}

/// The limits shared by all connections.
#[derive(Debug)]
struct Shared {
    config: HttpConfig,
    /// One permit per request with a body in flight.
    uploads: Arc<Semaphore>,
    /// When a limit was last reported in the log.
    limit_logged: LimitLog,
}

/// Reports reached limits at most once per [`LimitLog::EVERY`], so a flood of refusals does
/// not become a flood of log lines.
#[derive(Debug)]
struct LimitLog {
    started: std::time::Instant,
    /// Milliseconds since `started` of the last report, plus one (0: never).
    last: AtomicU64,
}

impl LimitLog {
    const EVERY: Duration = Duration::from_secs(10);

    fn new() -> LimitLog {
        LimitLog {
            started: std::time::Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    /// Logs a warning that `limit` (the setting's name) was reached, unless one was logged
    /// recently.
    fn reached(&self, limit: &str, value: usize) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1;
        let last = self.last.load(Ordering::Relaxed);
        let every = Self::EVERY.as_millis() as u64;
        if (last == 0 || now.saturating_sub(last) >= every)
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                limit,
                value,
                "limit reached: refusing with 503 SlowDown (reported at most every 10 s)"
            );
        }
    }
}

/// Serves connections from `listener` until `shutdown` turns true, then lets in-flight
/// requests finish (up to the grace period) and returns.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    config: HttpConfig,
    handler: Arc<H>,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let shared = Arc::new(Shared {
        uploads: Arc::new(Semaphore::new(config.max_uploads.max(1))),
        config,
        limit_logged: LimitLog::new(),
    });
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                match accepted {
                    Ok((stream, peer)) => {
                        let handler = handler.clone();
                        let shared = shared.clone();
                        match slots.clone().try_acquire_owned() {
                            Ok(slot) => {
                                let shutdown = shutdown.clone();
                                connections.spawn(async move {
                                    let io = conn_io(stream, &shared.config);
                                    serve_connection(io, peer, &shared, handler.as_ref(), shutdown).await;
                                    drop(slot);
                                });
                            }
                            Err(_) => {
                                shared.limit_logged.reached("max_connections", shared.config.max_connections);
                                // Refusals are bounded too: beyond them, close at once.
                                if let Ok(permit) = refusing.clone().try_acquire_owned() {
                                    connections.spawn(async move {
                                        refuse(stream, &shared.config, handler.as_ref()).await;
                                        drop(permit);
                                    });
                                }
                            }
                        }
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
    let deadline = tokio::time::sleep(shared.config.shutdown_grace);
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

/// Wraps an accepted socket.
fn conn_io(stream: TcpStream, config: &HttpConfig) -> ConnIo {
    let _ = stream.set_nodelay(true);
    let (reader, writer) = stream.into_split();
    ConnIo::new(Box::new(reader), Box::new(writer), config.write_timeout)
}

/// Serves one connection over any byte stream (an in-memory one in the fuzz targets), with
/// the limits of `config`, until the peer closes it or the connection ends.
pub(crate) async fn serve_stream<H, S>(stream: S, config: HttpConfig, handler: &H)
where
    H: Handler,
    S: AsyncRead + AsyncWrite + Send + Sync + 'static,
{
    let (reader, writer) = tokio::io::split(stream);
    let io = ConnIo::new(Box::new(reader), Box::new(writer), config.write_timeout);
    let shared = Shared {
        uploads: Arc::new(Semaphore::new(config.max_uploads.max(1))),
        config,
        limit_logged: LimitLog::new(),
    };
    let (_shutdown, watch) = watch::channel(false);
    let peer = SocketAddr::from(([127, 0, 0, 1], 9));
    serve_connection(io, peer, &shared, handler, watch).await;
}

/// Answers a connection beyond the limit with 503 and closes it, without reading a request.
async fn refuse<H: Handler>(stream: TcpStream, config: &HttpConfig, handler: &H) {
    let mut io = conn_io(stream, config);
    io.write_timeout = io.write_timeout.min(LINGER_TIME);
    let mut response = handler.reject(Rejection::TooManyConnections);
    response.close = true;
    if write_response(&mut io, response, false).await.is_ok() {
        linger_and_close(&mut io).await;
    }
}

/// Closes the sending side, then reads and discards what the peer still sends, within
/// [`LINGER_TIME`] and [`LINGER_BYTES`].
async fn linger_and_close(io: &mut ConnIo) {
    let _ = io.writer.shutdown().await;
    io.buf.clear();
    let deadline = tokio::time::Instant::now() + LINGER_TIME;
    let mut discarded = io.buf.len();
    let mut scratch = [0u8; 16 * 1024];
    while discarded < LINGER_BYTES {
        match tokio::time::timeout_at(deadline, io.reader.read(&mut scratch)).await {
            Ok(Ok(n)) if n > 0 => discarded += n,
            _ => return,
        }
    }
}

/// Whether a request announces a body.
fn has_body(framing: &Framing) -> bool {
    match framing {
        Framing::None => false,
        Framing::Length(n) => *n > 0,
        Framing::Chunked(_) => true,
    }
}

async fn serve_connection<H: Handler>(
    mut io: ConnIo,
    peer: SocketAddr,
    shared: &Shared,
    handler: &H,
    mut shutdown: watch::Receiver<bool>,
) {
    let config = &shared.config;
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
            Err(rejection) => return reject_and_close(&mut io, handler, rejection).await,
        };
        let Head {
            request,
            framing,
            declared_length,
            expect_continue,
            keep_alive,
        } = head;
        let upload: Option<OwnedSemaphorePermit> = if has_body(&framing) {
            match shared.uploads.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    shared
                        .limit_logged
                        .reached("max_uploads", config.max_uploads);
                    return reject_and_close(&mut io, handler, Rejection::TooManyUploads).await;
                }
            }
        } else {
            None
        };
        let is_head = request.method.eq_ignore_ascii_case("HEAD");
        let limits = BodyLimits {
            idle: config.body_timeout,
            min_rate: config.body_min_rate,
        };
        let mut body = RequestBody::new(&mut io, framing, declared_length, expect_continue, limits);
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
        drop(upload);
        let close = response.close || !keep_alive || !reusable || *shutdown.borrow();
        response.close = close;
        if write_response(&mut io, response, is_head).await.is_err() {
            return;
        }
        if !reusable {
            return linger_and_close(&mut io).await;
        }
        if close {
            let _ = io.writer.shutdown().await;
            return;
        }
    }
}

/// Answers a request refused before its handler, then closes the connection.
async fn reject_and_close<H: Handler>(io: &mut ConnIo, handler: &H, rejection: Rejection) {
    let mut response = handler.reject(rejection);
    response.close = true;
    if write_response(io, response, false).await.is_ok() {
        linger_and_close(io).await;
    }
}

/// Reads and parses one request head, all of it within the header timeout.
/// `Ok(None)`: the peer closed cleanly before sending anything.
async fn read_head(
    io: &mut ConnIo,
    config: &HttpConfig,
    peer: SocketAddr,
) -> Result<Option<Head>, Rejection> {
    let started = tokio::time::Instant::now();
    // Bytes already known not to end the head (so a head trickling in byte by byte is not
    // re-parsed from its start on every read: the work stays linear in its size).
    let mut scanned = 0;
    loop {
        // Tolerate stray CRLFs between requests (RFC 9112 §2.2).
        while io.buf.starts_with(b"\r\n") {
            io.buf.advance(2);
            scanned = 0;
        }
        if may_end_head(&io.buf, scanned) {
            if let Some((head, len)) = parse_head(&io.buf, peer)? {
                io.buf.advance(len);
                return Ok(Some(head));
            }
        }
        // The last two bytes may begin a terminator completed by the next read.
        scanned = io.buf.len().saturating_sub(2);
        if io.buf.len() > config.max_head_bytes {
            return Err(Rejection::HeadTooLarge);
        }
        let remaining = config.header_timeout.saturating_sub(started.elapsed());
        match io.fill(remaining).await {
            Ok(0) if io.buf.is_empty() => return Ok(None),
            Ok(0) => return Err(Rejection::BadRequest),
            Ok(_) => {}
            Err(BodyError::Timeout) => return Err(Rejection::HeadTimeout),
            Err(_) => return Ok(None),
        }
    }
}

/// Below this size a partial head is parsed after every read, so garbage is refused at
/// once; above it, only once a line ends in an empty line.
const EAGER_PARSE_LIMIT: usize = 8 * 1024;

/// Whether the head in `buf` may be complete (or worth parsing), looking for the end of the
/// head (`\n\r\n`, or `\n\n` which the parser refuses) only after `scanned` bytes.
fn may_end_head(buf: &[u8], scanned: usize) -> bool {
    buf.len() <= EAGER_PARSE_LIMIT
        || buf.get(scanned..).is_some_and(|new| {
            new.windows(2).any(|w| w == b"\n\n") || new.windows(3).any(|w| w == b"\n\r\n")
        })
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
        return io.write_all(&head).await;
    }
    match response.body {
        ResponseBody::Empty => io.write_all(&head).await,
        ResponseBody::Bytes(bytes) if bytes.len() <= COALESCE_LIMIT => {
            head.extend_from_slice(&bytes);
            io.write_all(&head).await
        }
        ResponseBody::Bytes(bytes) => {
            io.write_all(&head).await?;
            io.write_all(&bytes).await
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
                                io.write_all(&head).await?;
                            }
                            Some(head) => {
                                io.write_all(&head).await?;
                                io.write_all(&chunk).await?;
                            }
                            None => io.write_all(&chunk).await?,
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
                io.write_all(&head).await?;
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
    fn large_partial_heads_are_parsed_only_when_they_may_end() {
        let mut head = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
        assert!(may_end_head(&head, 0), "small heads are always parsed");
        while head.len() <= EAGER_PARSE_LIMIT {
            head.extend_from_slice(b"x-pad: 0123456789abcdef\r\n");
        }
        let scanned = head.len() - 2;
        assert!(!may_end_head(&head, 0));
        head.extend_from_slice(b"\r\n");
        assert!(may_end_head(&head, scanned));
        let mut bare = head[..scanned + 2].to_vec();
        bare.push(b'\n');
        assert!(
            may_end_head(&bare, scanned),
            "bare LF endings are parsed (and refused)"
        );
    }
}

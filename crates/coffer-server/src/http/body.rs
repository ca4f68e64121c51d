//! Request bodies: `Content-Length` and `Transfer-Encoding: chunked` framing, read lazily by
//! the handler, with `Expect: 100-continue` answered on first read.
//!
//! Chunked framing is decoded strictly (RFC 9112 §7.1): chunk-size is hex digits only and
//! fits in 64 bits, chunk extensions must be well-formed (and are ignored), every line ends in
//! CRLF, chunk data is followed by exactly CRLF, and trailer fields are read and discarded
//! within [`MAX_TRAILER_BYTES`].
//!
//! Slow clients are cut: every read waits at most the idle timeout, and over every window of
//! that length the body must deliver at least `min_rate` bytes per second on average.

use bytes::{Buf, Bytes, BytesMut};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// How much the connection asks the socket for at a time.
const READ_RESERVE: usize = 256 * 1024;
/// Longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;
/// Most trailer bytes (all trailer lines together) read and discarded after the last chunk.
pub const MAX_TRAILER_BYTES: usize = 16 * 1024;
/// Most hex digits in a chunk-size (16 fill 64 bits; more would be leading zeros at best).
const MAX_CHUNK_SIZE_DIGITS: usize = 16;
/// Largest piece written to the socket under one write timeout.
const WRITE_PIECE: usize = 64 * 1024;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The socket failed or the peer closed early.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// Nothing arrived for too long, or the body arrived slower than the minimum rate.
    #[error("timed out reading the body")]
    Timeout,
    /// Chunked framing was invalid.
    #[error("malformed chunked body")]
    Malformed,
    /// The peer closed before the declared length arrived.
    #[error("body shorter than declared")]
    Incomplete,
    /// More bytes than the operation accepts.
    #[error("body too large")]
    TooLarge,
}

/// The reading half of a connection: a TCP socket's, or an in-memory stream's in tests and
/// fuzzing.
pub(crate) type ConnReader = Box<dyn AsyncRead + Send + Sync + Unpin>;
/// The writing half of a connection (see [`ConnReader`]).
pub(crate) type ConnWriter = Box<dyn AsyncWrite + Send + Sync + Unpin>;

/// The stream halves and the read buffer of one connection.
pub(crate) struct ConnIo {
    pub(crate) reader: ConnReader,
    pub(crate) writer: ConnWriter,
    pub(crate) buf: BytesMut,
    pub(crate) eof: bool,
    /// Longest any write may wait for the peer to take a byte; also the allowance per
    /// [`WRITE_PIECE`] bytes of a whole write (see [`ConnIo::write_all`]).
    pub(crate) write_timeout: Duration,
}

impl std::fmt::Debug for ConnIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnIo")
            .field("buffered", &self.buf.len())
            .field("eof", &self.eof)
            .field("write_timeout", &self.write_timeout)
            .finish_non_exhaustive()
    }
}

impl ConnIo {
    /// Wraps the two halves of a connection.
    pub(crate) fn new(reader: ConnReader, writer: ConnWriter, write_timeout: Duration) -> ConnIo {
        ConnIo {
            reader,
            writer,
            buf: BytesMut::with_capacity(16 * 1024),
            eof: false,
            write_timeout,
        }
    }

    /// Reads more bytes into the buffer; returns how many (0 at end of stream).
    pub(crate) async fn fill(&mut self, timeout: Duration) -> Result<usize, BodyError> {
        if self.buf.capacity() - self.buf.len() < READ_RESERVE / 4 {
            self.buf.reserve(READ_RESERVE);
        }
        let n = tokio::time::timeout(timeout, self.reader.read_buf(&mut self.buf))
            .await
            .map_err(|_| BodyError::Timeout)??;
        if n == 0 {
            self.eof = true;
        }
        Ok(n)
    }

    /// Writes all of `bytes` within the write timeout: each write call must make progress
    /// within it, and the whole takes at most one timeout per [`WRITE_PIECE`] bytes, so a
    /// peer that stops reading, or reads a trickle, cannot hold the connection forever.
    /// The bytes go to the socket in as few calls as it accepts (one per chunk on loopback):
    /// writing in pieces of `WRITE_PIECE` cost a third more CPU per byte on large GETs.
    pub(crate) async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let pieces = u32::try_from(bytes.len().div_ceil(WRITE_PIECE))
            .unwrap_or(u32::MAX)
            .max(1);
        let now = tokio::time::Instant::now();
        let overall = now + self.write_timeout.saturating_mul(pieces);
        let mut rest = bytes;
        while !rest.is_empty() {
            let deadline = (tokio::time::Instant::now() + self.write_timeout).min(overall);
            let written = tokio::time::timeout_at(deadline, self.writer.write(rest))
                .await
                .map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "write timed out")
                })??;
            if written == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            rest = rest.get(written..).unwrap_or_default();
        }
        Ok(())
    }
}

/// How long a body may take: an idle timeout per read and a minimum average rate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimits {
    /// Longest wait for any byte; also the window over which the rate is measured.
    pub(crate) idle: Duration,
    /// Fewest bytes per second, averaged over each window; 0 disables the check.
    pub(crate) min_rate: u64,
}

/// The rate check's state: the current window and what it received.
#[derive(Debug, Clone, Copy)]
struct Pace {
    window_start: Instant,
    window_bytes: u64,
}

impl BodyLimits {
    /// Bytes the body must deliver per window.
    fn window_quota(&self) -> u64 {
        (self.min_rate as f64 * self.idle.as_secs_f64()) as u64
    }

    /// How long the next read may wait, or `None` when the body is already too slow.
    fn next_wait(&self, pace: &mut Pace, now: Instant) -> Option<Duration> {
        // A window too long to represent never ends.
        let Some(window_end) = pace.window_start.checked_add(self.idle) else {
            return Some(self.idle);
        };
        if now >= window_end {
            if pace.window_bytes < self.window_quota() {
                return None;
            }
            *pace = Pace {
                window_start: now,
                window_bytes: 0,
            };
            return Some(self.idle);
        }
        if pace.window_bytes >= self.window_quota() {
            // Quota met: only the idle timeout applies until the window ends.
            return Some(self.idle);
        }
        Some(window_end - now)
    }
}

#[derive(Debug)]
pub(crate) enum Framing {
    /// No body at all.
    None,
    /// Exactly this many bytes remain.
    Length(u64),
    /// Chunked transfer coding.
    Chunked(ChunkState),
}

/// Where the chunked decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkState {
    /// Expecting a chunk-size line.
    Size,
    /// This many data bytes remain in the current chunk.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// Reading trailer lines after the last chunk.
    Trailers,
    /// Finished.
    Done,
}

/// The body of the request being handled.
#[derive(Debug)]
pub struct RequestBody<'a> {
    pub(crate) io: &'a mut ConnIo,
    pub(crate) framing: Framing,
    pub(crate) declared_length: Option<u64>,
    pub(crate) continue_pending: bool,
    pub(crate) limits: BodyLimits,
    pace: Option<Pace>,
    pub(crate) received: u64,
    /// Trailer bytes read so far.
    trailer_bytes: usize,
}

impl<'a> RequestBody<'a> {
    /// A body read from `io` with the given framing.
    pub(crate) fn new(
        io: &'a mut ConnIo,
        framing: Framing,
        declared_length: Option<u64>,
        continue_pending: bool,
        limits: BodyLimits,
    ) -> RequestBody<'a> {
        RequestBody {
            io,
            framing,
            declared_length,
            continue_pending,
            limits,
            pace: None,
            received: 0,
            trailer_bytes: 0,
        }
    }

    /// Reads more bytes under the idle timeout and the minimum rate.
    async fn fill(&mut self) -> Result<usize, BodyError> {
        loop {
            let now = Instant::now();
            let pace = self.pace.get_or_insert(Pace {
                window_start: now,
                window_bytes: 0,
            });
            let wait = self.limits.next_wait(pace, now).ok_or(BodyError::Timeout)?;
            match self.io.fill(wait).await {
                Ok(n) => {
                    if let Some(pace) = self.pace.as_mut() {
                        pace.window_bytes += n as u64;
                    }
                    return Ok(n);
                }
                // The wait ended with the rate window: judge the window, then go on or stop.
                Err(BodyError::Timeout) if wait < self.limits.idle => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The `Content-Length`, if the request declared one.
    pub fn declared_length(&self) -> Option<u64> {
        self.declared_length
    }

    /// Whether the request uses chunked transfer coding.
    pub fn is_chunked(&self) -> bool {
        matches!(self.framing, Framing::Chunked(_))
    }

    /// Bytes of payload received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Whether every byte of the body has been read.
    pub fn is_complete(&self) -> bool {
        match self.framing {
            Framing::None => true,
            Framing::Length(remaining) => remaining == 0,
            Framing::Chunked(ChunkState::Done) => true,
            Framing::Chunked(_) => false,
        }
    }

    /// Whether the client is still waiting for `100 Continue` (it has sent no body yet).
    pub(crate) fn awaiting_continue(&self) -> bool {
        self.continue_pending
    }

    async fn send_continue(&mut self) -> Result<(), BodyError> {
        if self.continue_pending {
            self.continue_pending = false;
            self.io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        Ok(())
    }

    /// The next piece of the body, or `None` at its end.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        if self.is_complete() {
            return Ok(None);
        }
        self.send_continue().await?;
        loop {
            match self.framing {
                Framing::None => return Ok(None),
                Framing::Length(0) => return Ok(None),
                Framing::Length(remaining) => {
                    if self.io.buf.is_empty() && self.fill().await? == 0 {
                        return Err(BodyError::Incomplete);
                    }
                    let take = (self.io.buf.len() as u64).min(remaining) as usize;
                    let chunk = self.io.buf.split_to(take).freeze();
                    self.framing = Framing::Length(remaining - take as u64);
                    self.received += take as u64;
                    return Ok(Some(chunk));
                }
                Framing::Chunked(mut state) => {
                    let step = chunked_step(&mut self.io.buf, &mut state, &mut self.trailer_bytes);
                    self.framing = Framing::Chunked(state);
                    match step? {
                        ChunkStep::NeedMore => {
                            if self.fill().await? == 0 {
                                return Err(BodyError::Incomplete);
                            }
                        }
                        ChunkStep::Progress => {
                            if matches!(state, ChunkState::Done) {
                                return Ok(None);
                            }
                        }
                        ChunkStep::Data(chunk) => {
                            self.received += chunk.len() as u64;
                            return Ok(Some(chunk));
                        }
                    }
                }
            }
        }
    }

    /// Reads and discards what is left of the body, up to `limit` bytes; returns whether
    /// the body is now complete (so the connection can carry another request).
    pub(crate) async fn drain(&mut self, limit: u64) -> bool {
        let mut discarded = 0u64;
        while !self.is_complete() {
            match self.next_chunk().await {
                Ok(Some(chunk)) => {
                    discarded += chunk.len() as u64;
                    if discarded > limit {
                        return false;
                    }
                }
                Ok(None) => break,
                Err(_) => return false,
            }
        }
        true
    }
}

/// What one step of the chunked decoder did.
#[derive(Debug)]
pub enum ChunkStep {
    /// The buffer holds too little to go on: read more.
    NeedMore,
    /// Framing was consumed (a size line, a CRLF, a trailer line); step again.
    Progress,
    /// Chunk data.
    Data(Bytes),
}

/// Advances the chunked decoder by one step over the bytes in `buf`, consuming what it
/// decodes — no I/O, so it is unit-tested and fuzzed as is. `trailer_bytes` counts the
/// trailer section against [`MAX_TRAILER_BYTES`].
pub fn chunked_step(
    buf: &mut BytesMut,
    state: &mut ChunkState,
    trailer_bytes: &mut usize,
) -> Result<ChunkStep, BodyError> {
    match *state {
        ChunkState::Size => {
            let Some(line) = take_line(buf)? else {
                return Ok(ChunkStep::NeedMore);
            };
            let size = parse_chunk_size_line(&line)?;
            *state = if size == 0 {
                ChunkState::Trailers
            } else {
                ChunkState::Data(size)
            };
            Ok(ChunkStep::Progress)
        }
        ChunkState::Data(remaining) => {
            if buf.is_empty() {
                return Ok(ChunkStep::NeedMore);
            }
            let take = (buf.len() as u64).min(remaining) as usize;
            let chunk = buf.split_to(take).freeze();
            let left = remaining - take as u64;
            *state = if left == 0 {
                ChunkState::DataEnd
            } else {
                ChunkState::Data(left)
            };
            Ok(ChunkStep::Data(chunk))
        }
        ChunkState::DataEnd => {
            // Exactly CRLF after the data, nothing else.
            if buf.len() < 2 {
                return Ok(ChunkStep::NeedMore);
            }
            if !buf.starts_with(b"\r\n") {
                return Err(BodyError::Malformed);
            }
            buf.advance(2);
            *state = ChunkState::Size;
            Ok(ChunkStep::Progress)
        }
        ChunkState::Trailers => {
            let Some(line) = take_line(buf)? else {
                return Ok(ChunkStep::NeedMore);
            };
            if line.is_empty() {
                *state = ChunkState::Done;
                return Ok(ChunkStep::Progress);
            }
            *trailer_bytes += line.len() + 2;
            if *trailer_bytes > MAX_TRAILER_BYTES {
                return Err(BodyError::Malformed);
            }
            check_trailer_line(&line)?;
            Ok(ChunkStep::Progress)
        }
        ChunkState::Done => Ok(ChunkStep::Progress),
    }
}

/// Takes one CRLF-terminated line (without the CRLF) off the front of `buf`, at most
/// [`MAX_LINE`] bytes; `None` while it is incomplete. A bare CR or LF is malformed.
fn take_line(buf: &mut BytesMut) -> Result<Option<Bytes>, BodyError> {
    let window = buf.get(..MAX_LINE + 2).unwrap_or(buf);
    let Some(lf) = window.iter().position(|b| *b == b'\n') else {
        return if buf.len() >= MAX_LINE + 2 {
            Err(BodyError::Malformed)
        } else {
            Ok(None)
        };
    };
    let mut line = buf.split_to(lf + 1).freeze();
    line.truncate(lf);
    match line.last() {
        Some(b'\r') => line.truncate(lf - 1),
        _ => return Err(BodyError::Malformed),
    }
    if line.contains(&b'\r') {
        return Err(BodyError::Malformed);
    }
    Ok(Some(line))
}

/// Parses a chunk-size line: `chunk-size [ chunk-ext ]` where chunk-size is 1 to 16 hex
/// digits and chunk-ext is `*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )`
/// (RFC 9112 §7.1.1). Extensions are checked, then ignored.
pub fn parse_chunk_size_line(line: &[u8]) -> Result<u64, BodyError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > MAX_CHUNK_SIZE_DIGITS {
        return Err(BodyError::Malformed);
    }
    let (size_text, mut rest) = line.split_at(digits);
    let mut size: u64 = 0;
    for b in size_text {
        let digit = char::from(*b).to_digit(16).ok_or(BodyError::Malformed)?;
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(u64::from(digit)))
            .ok_or(BodyError::Malformed)?;
    }
    loop {
        // Whitespace only before a `;`, never at the end of the line.
        let Some((&b';', after)) = skip_bws(rest).split_first() else {
            return if rest.is_empty() {
                Ok(size)
            } else {
                Err(BodyError::Malformed)
            };
        };
        rest = skip_bws(after);
        rest = take_token(rest).ok_or(BodyError::Malformed)?;
        let after_name = skip_bws(rest);
        if let Some((&b'=', value)) = after_name.split_first() {
            let value = skip_bws(value);
            rest = match value.first() {
                Some(b'"') => take_quoted(value).ok_or(BodyError::Malformed)?,
                _ => take_token(value).ok_or(BodyError::Malformed)?,
            };
        }
    }
}

/// Checks a trailer line is a field line: `name ":" OWS value OWS`, value of visible
/// characters, SP, HTAB or obs-text (so no obs-fold, no control characters).
pub fn check_trailer_line(line: &[u8]) -> Result<(), BodyError> {
    let rest = take_token(line).ok_or(BodyError::Malformed)?;
    let Some((&b':', value)) = rest.split_first() else {
        return Err(BodyError::Malformed);
    };
    if value
        .iter()
        .all(|b| *b == b'\t' || (b' '..=b'~').contains(b) || *b >= 0x80)
    {
        Ok(())
    } else {
        Err(BodyError::Malformed)
    }
}

fn skip_bws(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    s
}

/// Whether a byte is a `tchar` (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Consumes a non-empty token; returns what follows.
fn take_token(s: &[u8]) -> Option<&[u8]> {
    let n = s.iter().take_while(|b| is_tchar(**b)).count();
    (n > 0).then(|| s.get(n..)).flatten()
}

/// Consumes a quoted-string starting at `s[0] == '"'`; returns what follows.
fn take_quoted(s: &[u8]) -> Option<&[u8]> {
    let mut i = 1;
    loop {
        match *s.get(i)? {
            b'"' => return s.get(i + 1..),
            b'\\' => {
                let escaped = *s.get(i + 1)?;
                if !(escaped == b'\t' || (b' '..=b'~').contains(&escaped) || escaped >= 0x80) {
                    return None;
                }
                i += 2;
            }
            b if b == b'\t'
                || b == b' '
                || b == 0x21
                || (0x23..=0x7e).contains(&b)
                || b >= 0x80 =>
            {
                i += 1;
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection whose peer is `peer` (a duplex pipe with a small buffer).
    fn pipe_conn(write_timeout: Duration) -> (ConnIo, tokio::io::DuplexStream) {
        let (ours, peer) = tokio::io::duplex(1024);
        let (reader, writer) = tokio::io::split(ours);
        (
            ConnIo::new(Box::new(reader), Box::new(writer), write_timeout),
            peer,
        )
    }

    #[tokio::test]
    async fn a_reading_peer_gets_the_whole_write() {
        let (mut io, mut peer) = pipe_conn(Duration::from_secs(5));
        let sent = vec![5u8; 3 * WRITE_PIECE + 17];
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            peer.read_to_end(&mut got).await.map(|_| got)
        });
        io.write_all(&sent).await.expect("written");
        drop(io);
        assert_eq!(reader.await.expect("joined").expect("read"), sent);
    }

    #[tokio::test]
    async fn a_trickling_peer_is_cut_by_the_overall_allowance() {
        // Every write makes progress (one byte per 10 ms), but 4 pieces may take at most
        // 4 x 50 ms in all.
        let (mut io, mut peer) = pipe_conn(Duration::from_millis(50));
        tokio::spawn(async move {
            let mut byte = [0u8; 1];
            while peer.read(&mut byte).await.is_ok_and(|n| n > 0) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        let sent = vec![5u8; 4 * WRITE_PIECE];
        let result = tokio::time::timeout(Duration::from_secs(30), io.write_all(&sent))
            .await
            .expect("the write ends");
        assert_eq!(
            result.map_err(|e| e.kind()).err(),
            Some(std::io::ErrorKind::TimedOut)
        );
    }

    #[test]
    fn chunk_sizes_are_strict() {
        assert_eq!(parse_chunk_size_line(b"0").ok(), Some(0));
        assert_eq!(parse_chunk_size_line(b"1aF").ok(), Some(0x1af));
        assert_eq!(
            parse_chunk_size_line(b"ffffffffffffffff").ok(),
            Some(u64::MAX)
        );
        assert_eq!(
            parse_chunk_size_line(b"5;name=value ; x = \"q\\\"s\"; y").ok(),
            Some(5)
        );
        for bad in [
            &b""[..],
            b" 5",
            b"5 ",
            b"5;a ",
            b"+5",
            b"-5",
            b"0x5",
            b"5 x",
            b"10000000000000000",
            b"5;",
            b"5;=v",
            b"5;n=",
            b"5;n=\"open",
            b"5;n=a b",
            b"5\x00",
            b"5;n=\"\x01\"",
            "5\u{a0}".as_bytes(),
        ] {
            assert!(
                parse_chunk_size_line(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// Decodes `input` fed in pieces of `piece` bytes.
    fn decode(input: &[u8], piece: usize) -> Result<Vec<u8>, String> {
        let mut buf = BytesMut::new();
        let mut state = ChunkState::Size;
        let mut trailer_bytes = 0;
        let mut fed = 0;
        let mut out = Vec::new();
        while state != ChunkState::Done {
            match chunked_step(&mut buf, &mut state, &mut trailer_bytes) {
                Err(e) => return Err(e.to_string()),
                Ok(ChunkStep::Data(data)) => out.extend_from_slice(&data),
                Ok(ChunkStep::Progress) => {}
                Ok(ChunkStep::NeedMore) => {
                    let Some(next) = input.get(fed..(fed + piece).min(input.len())) else {
                        return Err("incomplete".into());
                    };
                    if next.is_empty() {
                        return Err("incomplete".into());
                    }
                    buf.extend_from_slice(next);
                    fed += next.len();
                }
            }
        }
        Ok(out)
    }

    #[test]
    fn chunked_decoding_does_not_depend_on_how_bytes_arrive() {
        let body = b"5;a=b\r\nhello\r\n6\r\n world\r\n0\r\nx-t: v\r\n\r\n";
        for piece in [1, 2, 3, 7, 1000] {
            assert_eq!(decode(body, piece).as_deref(), Ok(&b"hello world"[..]));
        }
        assert!(decode(b"5\r\nhello", 4).is_err());
        assert!(decode(b"5\r\nhello\n0\r\n\r\n", 1).is_err());
        let long = [b'1'; MAX_LINE + 10];
        assert!(decode(&long, 64).is_err_and(|e| e.contains("malformed")));
    }

    #[test]
    fn trailer_lines_are_field_lines() {
        assert!(check_trailer_line(b"x-amz-checksum-crc32: AAAA==").is_ok());
        assert!(check_trailer_line(b"a:").is_ok());
        for bad in [&b" folded"[..], b"no colon", b": v", b"a b: v", b"a: \x01"] {
            assert!(check_trailer_line(bad).is_err());
        }
    }

    #[test]
    fn rate_windows() {
        let limits = BodyLimits {
            idle: Duration::from_secs(10),
            min_rate: 100,
        };
        let start = Instant::now();
        let mut pace = Pace {
            window_start: start,
            window_bytes: 0,
        };
        // Quota not met: wait until the window ends, then stop.
        assert_eq!(
            limits.next_wait(&mut pace, start + Duration::from_secs(4)),
            Some(Duration::from_secs(6))
        );
        assert_eq!(
            limits.next_wait(&mut pace, start + Duration::from_secs(10)),
            None
        );
        // Quota met: the next window starts fresh.
        pace.window_bytes = 1000;
        assert_eq!(
            limits.next_wait(&mut pace, start + Duration::from_secs(11)),
            Some(Duration::from_secs(10))
        );
        assert_eq!(pace.window_bytes, 0);
        // No minimum rate: only the idle timeout.
        let idle_only = BodyLimits {
            min_rate: 0,
            ..limits
        };
        assert_eq!(
            idle_only.next_wait(&mut pace, start + Duration::from_secs(12)),
            Some(Duration::from_secs(10))
        );
    }
}

//! Request bodies: `Content-Length` and `Transfer-Encoding: chunked` framing, read lazily by
//! the handler, with `Expect: 100-continue` answered on first read.

use bytes::{Buf, Bytes, BytesMut};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// How much the connection asks the socket for at a time.
const READ_RESERVE: usize = 256 * 1024;
/// Longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The socket failed or the peer closed early.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// Nothing arrived for too long.
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

/// The socket halves and the read buffer of one connection.
#[derive(Debug)]
pub(crate) struct ConnIo {
    pub(crate) reader: OwnedReadHalf,
    pub(crate) writer: OwnedWriteHalf,
    pub(crate) buf: BytesMut,
    pub(crate) eof: bool,
}

impl ConnIo {
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

#[derive(Debug, Clone, Copy)]
pub(crate) enum ChunkState {
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
    pub(crate) timeout: Duration,
    pub(crate) received: u64,
}

impl RequestBody<'_> {
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
            self.io
                .writer
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await?;
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
                    if self.io.buf.is_empty() && self.io.fill(self.timeout).await? == 0 {
                        return Err(BodyError::Incomplete);
                    }
                    let take = (self.io.buf.len() as u64).min(remaining) as usize;
                    let chunk = self.io.buf.split_to(take).freeze();
                    self.framing = Framing::Length(remaining - take as u64);
                    self.received += take as u64;
                    return Ok(Some(chunk));
                }
                Framing::Chunked(state) => {
                    if let Some(chunk) = self.step_chunked(state).await? {
                        return Ok(Some(chunk));
                    }
                    if matches!(self.framing, Framing::Chunked(ChunkState::Done)) {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Advances the chunked decoder by one step; returns data when some is ready.
    async fn step_chunked(&mut self, state: ChunkState) -> Result<Option<Bytes>, BodyError> {
        match state {
            ChunkState::Size => {
                let line = self.read_line().await?;
                let size_text = line.split(|b| *b == b';').next().unwrap_or_default();
                let size_text = std::str::from_utf8(size_text).map_err(|_| BodyError::Malformed)?;
                let size_text = size_text.trim();
                if size_text.is_empty() || size_text.len() > 16 {
                    return Err(BodyError::Malformed);
                }
                let size = u64::from_str_radix(size_text, 16).map_err(|_| BodyError::Malformed)?;
                self.framing = Framing::Chunked(if size == 0 {
                    ChunkState::Trailers
                } else {
                    ChunkState::Data(size)
                });
                Ok(None)
            }
            ChunkState::Data(remaining) => {
                if self.io.buf.is_empty() && self.io.fill(self.timeout).await? == 0 {
                    return Err(BodyError::Incomplete);
                }
                let take = (self.io.buf.len() as u64).min(remaining) as usize;
                let chunk = self.io.buf.split_to(take).freeze();
                let left = remaining - take as u64;
                self.framing = Framing::Chunked(if left == 0 {
                    ChunkState::DataEnd
                } else {
                    ChunkState::Data(left)
                });
                self.received += take as u64;
                Ok(Some(chunk))
            }
            ChunkState::DataEnd => {
                let line = self.read_line().await?;
                if !line.is_empty() {
                    return Err(BodyError::Malformed);
                }
                self.framing = Framing::Chunked(ChunkState::Size);
                Ok(None)
            }
            ChunkState::Trailers => {
                let line = self.read_line().await?;
                if line.is_empty() {
                    self.framing = Framing::Chunked(ChunkState::Done);
                }
                Ok(None)
            }
            ChunkState::Done => Ok(None),
        }
    }

    /// Reads one CRLF-terminated line (without the CRLF).
    async fn read_line(&mut self) -> Result<Vec<u8>, BodyError> {
        loop {
            if let Some(pos) = self.io.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.io.buf.split_to(pos).to_vec();
                self.io.buf.advance(2);
                return Ok(line);
            }
            if self.io.buf.len() > MAX_LINE {
                return Err(BodyError::Malformed);
            }
            if self.io.fill(self.timeout).await? == 0 {
                return Err(BodyError::Incomplete);
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

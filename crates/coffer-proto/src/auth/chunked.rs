//! Sans-IO decoder (and encoder) for `aws-chunked` request bodies: the three streaming
//! payload modes of SigV4.
//!
//! * `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: `hex-size;chunk-signature=<sig>\r\n<data>\r\n`
//!   repeated, then `0;chunk-signature=<sig>\r\n\r\n`. Each signature is an HMAC under the
//!   request's signing key over
//!   `AWS4-HMAC-SHA256-PAYLOAD\n<timestamp>\n<scope>\n<previous sig>\n<sha256("")>\n<sha256(data)>`,
//!   chained from the request's own (seed) signature.
//! * `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: `hex-size\r\n<data>\r\n` repeated, then `0\r\n`,
//!   trailer lines `name:value\r\n`, and an empty line.
//! * `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks, then trailer lines, the last
//!   being `x-amz-trailer-signature:<sig>`, and an empty line. The trailer signature is an HMAC
//!   over `AWS4-HMAC-SHA256-TRAILER\n<timestamp>\n<scope>\n<final chunk sig>\n<sha256(trailers)>`
//!   where the trailers are hashed as `name:value\n` each.
//!
//! Decoded bytes are appended to the caller's buffer as soon as they arrive, before their
//! chunk's signature can be checked; [`ChunkedDecoder::verified_len`] says how many of them are
//! covered by a checked signature, and nothing is trustworthy until [`Progress::Done`].

use std::fmt;

use sha2::{Digest, Sha256};

use super::ct_eq;
use super::sigv4::{hmac_sha256, sha256_hex, PayloadMode, StreamingSigning, EMPTY_SHA256};

/// Longest accepted chunk-header or trailer line, CR included.
pub const MAX_LINE_LEN: usize = 4096;
/// Most trailer headers accepted (the trailer signature not counted).
pub const MAX_TRAILERS: usize = 16;
/// The trailer that carries the trailer signature.
pub const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";

/// Which `aws-chunked` flavour a body uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkedMode {
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`.
    Signed(StreamingSigning),
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
    UnsignedTrailer,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`.
    SignedTrailer(StreamingSigning),
}

impl ChunkedMode {
    /// The chunked mode a verified request's payload calls for; `None` when the body is not
    /// `aws-chunked`.
    pub fn from_payload(payload: &PayloadMode) -> Option<Self> {
        match payload {
            PayloadMode::StreamingSigned(s) => Some(ChunkedMode::Signed(s.clone())),
            PayloadMode::StreamingSignedTrailer(s) => Some(ChunkedMode::SignedTrailer(s.clone())),
            PayloadMode::StreamingUnsignedTrailer => Some(ChunkedMode::UnsignedTrailer),
            PayloadMode::Unsigned | PayloadMode::Sha256(_) => None,
        }
    }

    fn signing(&self) -> Option<&StreamingSigning> {
        match self {
            ChunkedMode::Signed(s) | ChunkedMode::SignedTrailer(s) => Some(s),
            ChunkedMode::UnsignedTrailer => None,
        }
    }

    fn has_trailer(&self) -> bool {
        !matches!(self, ChunkedMode::Signed(_))
    }
}

/// What [`ChunkedDecoder::decode`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// All input was consumed; the body is not finished.
    NeedMore,
    /// The body ended (final chunk and trailer verified). Input after the end is left
    /// unconsumed.
    Done,
}

/// Why an `aws-chunked` body was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkedError {
    /// Bad framing: size, extension, CRLF or trailer syntax.
    #[error("malformed aws-chunked body: {0}")]
    Malformed(String),
    /// A chunk header or trailer line exceeds [`MAX_LINE_LEN`].
    #[error("aws-chunked line longer than {MAX_LINE_LEN} bytes")]
    LineTooLong,
    /// More than [`MAX_TRAILERS`] trailers.
    #[error("more than {MAX_TRAILERS} trailers")]
    TooManyTrailers,
    /// The chunk with this zero-based index has a wrong signature.
    #[error("chunk {index} signature does not match")]
    ChunkSignatureMismatch {
        /// Zero-based index of the chunk (the final empty chunk included).
        index: u64,
    },
    /// The trailer signature is wrong.
    #[error("trailer signature does not match")]
    TrailerSignatureMismatch,
    /// The body ended before the final chunk (see [`ChunkedDecoder::finish`]).
    #[error("aws-chunked body ended early")]
    Truncated,
}

impl ChunkedError {
    /// The protocol error code this error is normally answered with.
    pub fn error_code(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode;
        match self {
            ChunkedError::Malformed(_)
            | ChunkedError::LineTooLong
            | ChunkedError::TooManyTrailers => ErrorCode::InvalidRequest,
            ChunkedError::ChunkSignatureMismatch { .. }
            | ChunkedError::TrailerSignatureMismatch => ErrorCode::SignatureDoesNotMatch,
            ChunkedError::Truncated => ErrorCode::IncompleteBody,
        }
    }
}

/// The signature of one chunk whose data hashes (SHA-256, hex) to `data_sha256`, chained
/// from `prev_signature`.
pub fn chunk_signature(
    signing: &StreamingSigning,
    prev_signature: &str,
    data_sha256: &str,
) -> String {
    let sts = format!(
        "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{prev_signature}\n{EMPTY_SHA256}\n{data_sha256}",
        signing.timestamp, signing.scope
    );
    hex::encode(hmac_sha256(&signing.signing_key, sts.as_bytes()))
}

/// The trailer signature over `canonical_trailers` (`name:value\n` per trailer), chained
/// from the final chunk's signature.
pub fn trailer_signature(
    signing: &StreamingSigning,
    prev_signature: &str,
    canonical_trailers: &[u8],
) -> String {
    let sts = format!(
        "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{prev_signature}\n{}",
        signing.timestamp,
        signing.scope,
        sha256_hex(canonical_trailers)
    );
    hex::encode(hmac_sha256(&signing.signing_key, sts.as_bytes()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a chunk header line.
    Header,
    /// Inside chunk data.
    Data {
        remaining: u64,
    },
    /// Expecting the CR, then the LF, after chunk data.
    DataCr,
    DataLf,
    /// Signed mode: expecting the CR, then the LF, after the final chunk header.
    FinalCr,
    FinalLf,
    /// Reading trailer lines.
    Trailer,
    Done,
}

/// The incremental `aws-chunked` decoder (see the module docs).
pub struct ChunkedDecoder {
    mode: ChunkedMode,
    state: State,
    failed: Option<ChunkedError>,
    line: Vec<u8>,
    prev_signature: String,
    chunk_signature: Vec<u8>,
    hasher: Sha256,
    chunk_index: u64,
    decoded: u64,
    verified: u64,
    trailers: Vec<(String, String)>,
    canonical_trailers: Vec<u8>,
    trailer_signature: Option<String>,
}

impl fmt::Debug for ChunkedDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkedDecoder")
            .field("mode", &self.mode)
            .field("state", &self.state)
            .field("failed", &self.failed)
            .field("chunk_index", &self.chunk_index)
            .field("decoded", &self.decoded)
            .field("verified", &self.verified)
            .field("trailers", &self.trailers)
            .finish()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a body.
    pub fn new(mode: ChunkedMode) -> Self {
        let prev_signature = mode
            .signing()
            .map(|s| s.seed_signature.to_ascii_lowercase())
            .unwrap_or_default();
        ChunkedDecoder {
            mode,
            state: State::Header,
            failed: None,
            line: Vec::new(),
            prev_signature,
            chunk_signature: Vec::new(),
            hasher: Sha256::new(),
            chunk_index: 0,
            decoded: 0,
            verified: 0,
            trailers: Vec::new(),
            canonical_trailers: Vec::new(),
            trailer_signature: None,
        }
    }

    /// Consumes as much of `input` as possible (advancing the slice), appending decoded
    /// payload bytes to `out`. Chunk signatures are checked as each chunk completes; data may
    /// arrive split anywhere. Returns [`Progress::Done`] once the body has ended (leaving any
    /// further input unconsumed), [`Progress::NeedMore`] when all input was consumed. After an
    /// error every later call returns the same error.
    pub fn decode(
        &mut self,
        input: &mut &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Progress, ChunkedError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let result = self.decode_inner(input, out);
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    /// Declares the end of the input. Ok when the body is complete; also accepts a body whose
    /// last line (the empty line closing the trailers, or the CRLF after a signed final
    /// chunk) is missing, verifying the trailer signature if due. Otherwise
    /// [`ChunkedError::Truncated`].
    pub fn finish(&mut self) -> Result<(), ChunkedError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let line_is_blank = self.line.is_empty() || self.line == b"\r";
        let result = match self.state {
            State::Done => Ok(()),
            State::FinalCr | State::FinalLf => {
                self.state = State::Done;
                Ok(())
            }
            State::Trailer if line_is_blank => {
                self.line.clear();
                self.end_trailers().map(|()| self.state = State::Done)
            }
            _ => Err(ChunkedError::Truncated),
        };
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    /// Whether the body has ended.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decoded payload bytes produced so far.
    pub fn decoded_len(&self) -> u64 {
        self.decoded
    }

    /// How many of the decoded bytes belong to complete chunks whose signatures were
    /// checked (unsigned mode: complete chunks).
    pub fn verified_len(&self) -> u64 {
        self.verified
    }

    /// The trailers received, names lower-cased, values trimmed (without the trailer
    /// signature). Complete once [`Progress::Done`].
    pub fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    /// The value of one trailer (case-insensitive name).
    pub fn trailer(&self, name: &str) -> Option<&str> {
        self.trailers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn decode_inner(
        &mut self,
        input: &mut &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Progress, ChunkedError> {
        loop {
            if self.state == State::Done {
                return Ok(Progress::Done);
            }
            if input.is_empty() {
                return Ok(Progress::NeedMore);
            }
            match self.state {
                State::Header => match self.take_line(input)? {
                    Some(line) => self.on_header(&line)?,
                    None => return Ok(Progress::NeedMore),
                },
                State::Data { remaining } => {
                    let n = usize::try_from(remaining).map_or(input.len(), |r| r.min(input.len()));
                    let (data, rest) = input.split_at_checked(n).unwrap_or((input, &[]));
                    out.extend_from_slice(data);
                    self.hasher.update(data);
                    let taken = data.len() as u64;
                    *input = rest;
                    self.decoded = self.decoded.saturating_add(taken);
                    let remaining = remaining.saturating_sub(taken);
                    if remaining == 0 {
                        let digest = std::mem::take(&mut self.hasher).finalize();
                        self.end_chunk(&hex::encode(digest))?;
                        self.verified = self.decoded;
                        self.state = State::DataCr;
                    } else {
                        self.state = State::Data { remaining };
                    }
                }
                State::DataCr | State::DataLf | State::FinalCr | State::FinalLf => {
                    let (expected, next) = match self.state {
                        State::DataCr => (b'\r', State::DataLf),
                        State::DataLf => (b'\n', State::Header),
                        State::FinalCr => (b'\r', State::FinalLf),
                        _ => (b'\n', State::Done),
                    };
                    let (first, rest) = input.split_first().unwrap_or((&0, &[]));
                    if *first != expected {
                        return Err(ChunkedError::Malformed("chunk not followed by CRLF".into()));
                    }
                    *input = rest;
                    self.state = next;
                }
                State::Trailer => match self.take_line(input)? {
                    Some(line) => self.on_trailer_line(&line)?,
                    None => return Ok(Progress::NeedMore),
                },
                State::Done => return Ok(Progress::Done),
            }
        }
    }

    /// Takes one CRLF-terminated line (without its CRLF) once complete, buffering a partial
    /// line across calls.
    fn take_line(&mut self, input: &mut &[u8]) -> Result<Option<Vec<u8>>, ChunkedError> {
        match input.iter().position(|b| *b == b'\n') {
            Some(i) => {
                if self.line.len().saturating_add(i) > MAX_LINE_LEN {
                    return Err(ChunkedError::LineTooLong);
                }
                let (head, rest) = input.split_at_checked(i).unwrap_or((input, &[]));
                self.line.extend_from_slice(head);
                *input = rest.get(1..).unwrap_or_default();
                let mut line = std::mem::take(&mut self.line);
                if line.pop() != Some(b'\r') {
                    return Err(ChunkedError::Malformed(
                        "line not terminated by CRLF".into(),
                    ));
                }
                Ok(Some(line))
            }
            None => {
                if self.line.len().saturating_add(input.len()) > MAX_LINE_LEN {
                    return Err(ChunkedError::LineTooLong);
                }
                self.line.extend_from_slice(input);
                *input = &[];
                Ok(None)
            }
        }
    }

    fn on_header(&mut self, line: &[u8]) -> Result<(), ChunkedError> {
        let malformed = |why: &str| ChunkedError::Malformed(why.to_string());
        let line = std::str::from_utf8(line).map_err(|_| malformed("chunk header is not UTF-8"))?;
        let (size, ext) = line.split_once(';').unwrap_or((line, ""));
        if size.is_empty() || size.len() > 16 || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed("bad chunk size"));
        }
        let size = u64::from_str_radix(size, 16).map_err(|_| malformed("bad chunk size"))?;
        if self.mode.signing().is_some() {
            let sig = ext
                .split(';')
                .filter_map(|e| e.trim().split_once('='))
                .find(|(k, _)| k.trim() == "chunk-signature")
                .map(|(_, v)| v.trim())
                .ok_or_else(|| malformed("missing chunk-signature"))?;
            if sig.len() != 64 || !sig.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(malformed("bad chunk-signature"));
            }
            self.chunk_signature = sig.as_bytes().to_vec();
        }
        if size == 0 {
            self.end_chunk(EMPTY_SHA256)?;
            self.state = if self.mode.has_trailer() {
                State::Trailer
            } else {
                State::FinalCr
            };
        } else {
            self.hasher = Sha256::new();
            self.state = State::Data { remaining: size };
        }
        Ok(())
    }

    /// Checks the signature of the chunk that just completed (signed modes).
    fn end_chunk(&mut self, data_sha256: &str) -> Result<(), ChunkedError> {
        if let Some(signing) = self.mode.signing() {
            let expected = chunk_signature(signing, &self.prev_signature, data_sha256);
            if !ct_eq(expected.as_bytes(), &self.chunk_signature) {
                return Err(ChunkedError::ChunkSignatureMismatch {
                    index: self.chunk_index,
                });
            }
            self.prev_signature = expected;
        }
        self.chunk_index = self.chunk_index.saturating_add(1);
        Ok(())
    }

    fn on_trailer_line(&mut self, line: &[u8]) -> Result<(), ChunkedError> {
        if line.is_empty() {
            self.end_trailers()?;
            self.state = State::Done;
            return Ok(());
        }
        let malformed = |why: &str| ChunkedError::Malformed(why.to_string());
        let line = std::str::from_utf8(line).map_err(|_| malformed("trailer is not UTF-8"))?;
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| malformed("trailer without ':'"))?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if name.is_empty() || !name.bytes().all(token) {
            return Err(malformed("bad trailer name"));
        }
        if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return Err(malformed("bad trailer value"));
        }
        if name == TRAILER_SIGNATURE {
            if self.mode.signing().is_none() {
                return Err(malformed("trailer signature in an unsigned body"));
            }
            if self.trailer_signature.is_some() {
                return Err(malformed("duplicate trailer signature"));
            }
            self.trailer_signature = Some(value.to_string());
        } else {
            if self.trailer_signature.is_some() {
                return Err(malformed("trailer after the trailer signature"));
            }
            if self.trailers.len() >= MAX_TRAILERS {
                return Err(ChunkedError::TooManyTrailers);
            }
            self.canonical_trailers.extend_from_slice(name.as_bytes());
            self.canonical_trailers.push(b':');
            self.canonical_trailers.extend_from_slice(value.as_bytes());
            self.canonical_trailers.push(b'\n');
            self.trailers.push((name, value.to_string()));
        }
        Ok(())
    }

    fn end_trailers(&mut self) -> Result<(), ChunkedError> {
        let Some(signing) = self.mode.signing() else {
            return Ok(());
        };
        let given = self
            .trailer_signature
            .as_deref()
            .ok_or_else(|| ChunkedError::Malformed("missing x-amz-trailer-signature".into()))?;
        let expected = trailer_signature(signing, &self.prev_signature, &self.canonical_trailers);
        if ct_eq(expected.as_bytes(), given.as_bytes()) {
            Ok(())
        } else {
            Err(ChunkedError::TrailerSignatureMismatch)
        }
    }
}

/// Produces `aws-chunked` bodies (for the SDK and tests): call [`ChunkedEncoder::chunk`] per
/// chunk, then [`ChunkedEncoder::finish`] once.
#[derive(Debug, Clone)]
pub struct ChunkedEncoder {
    mode: ChunkedMode,
    prev_signature: String,
}

impl ChunkedEncoder {
    /// An encoder starting from the mode's seed signature.
    pub fn new(mode: ChunkedMode) -> Self {
        let prev_signature = mode
            .signing()
            .map(|s| s.seed_signature.clone())
            .unwrap_or_default();
        ChunkedEncoder {
            mode,
            prev_signature,
        }
    }

    /// The signature of the last chunk written (the seed before any).
    pub fn last_signature(&self) -> &str {
        &self.prev_signature
    }

    fn header(&mut self, data: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{:x}", data.len()).as_bytes());
        if let Some(signing) = self.mode.signing() {
            let sig = chunk_signature(signing, &self.prev_signature, &sha256_hex(data));
            out.extend_from_slice(b";chunk-signature=");
            out.extend_from_slice(sig.as_bytes());
            self.prev_signature = sig;
        }
        out.extend_from_slice(b"\r\n");
    }

    /// Appends one data chunk to `out`. An empty `data` writes nothing (a zero-size chunk
    /// would end the body).
    pub fn chunk(&mut self, data: &[u8], out: &mut Vec<u8>) {
        if data.is_empty() {
            return;
        }
        self.header(data, out);
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }

    /// Appends the final chunk and, in trailer modes, the trailers (and their signature in
    /// signed-trailer mode). `trailers` are ignored in plain signed mode.
    pub fn finish(&mut self, trailers: &[(String, String)], out: &mut Vec<u8>) {
        self.header(&[], out);
        if !self.mode.has_trailer() {
            out.extend_from_slice(b"\r\n");
            return;
        }
        let mut canonical = Vec::new();
        for (name, value) in trailers {
            canonical.extend_from_slice(name.to_ascii_lowercase().as_bytes());
            canonical.push(b':');
            canonical.extend_from_slice(value.trim().as_bytes());
            canonical.push(b'\n');
            out.extend_from_slice(name.to_ascii_lowercase().as_bytes());
            out.push(b':');
            out.extend_from_slice(value.trim().as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if let Some(signing) = self.mode.signing() {
            let sig = trailer_signature(signing, &self.prev_signature, &canonical);
            out.extend_from_slice(TRAILER_SIGNATURE.as_bytes());
            out.push(b':');
            out.extend_from_slice(sig.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;
    use crate::auth::sigv4::signing_key;

    const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    const SIG1: &str = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
    const SIG2: &str = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
    const SIG3: &str = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";

    fn example_signing() -> StreamingSigning {
        StreamingSigning {
            seed_signature: SEED.to_string(),
            signing_key: signing_key(
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "20130524",
                "us-east-1",
                "s3",
            ),
            timestamp: "20130524T000000Z".to_string(),
            scope: "20130524/us-east-1/s3/aws4_request".to_string(),
        }
    }

    /// The AWS example body: 66560 bytes of 'a' as chunks of 65536 and 1024, then the end.
    fn example_body() -> Vec<u8> {
        let data = vec![b'a'; 66560];
        let mut enc = ChunkedEncoder::new(ChunkedMode::Signed(example_signing()));
        let mut body = Vec::new();
        let (a, b) = data.split_at(65536);
        enc.chunk(a, &mut body);
        enc.chunk(b, &mut body);
        enc.finish(&[], &mut body);
        body
    }

    /// Feeds `body` in pieces of `step` bytes; returns the output and the final progress.
    fn feed(
        dec: &mut ChunkedDecoder,
        body: &[u8],
        step: usize,
    ) -> (Vec<u8>, Result<Progress, ChunkedError>) {
        let mut out = Vec::new();
        let mut last = Ok(Progress::NeedMore);
        for piece in body.chunks(step.max(1)) {
            let mut input = piece;
            last = dec.decode(&mut input, &mut out);
            match last {
                Ok(Progress::NeedMore) => assert!(input.is_empty()),
                Ok(Progress::Done) | Err(_) => break,
            }
        }
        (out, last)
    }

    #[test]
    fn aws_example_signatures() {
        let body = example_body();
        assert_eq!(body.len(), 66824);
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with(&format!("10000;chunk-signature={SIG1}\r\naaaa")));
        assert!(text.contains(&format!("\r\n400;chunk-signature={SIG2}\r\naaaa")));
        assert!(text.ends_with(&format!("\r\n0;chunk-signature={SIG3}\r\n\r\n")));
        let s = example_signing();
        let h1 = sha256_hex(&[b'a'; 65536]);
        assert_eq!(chunk_signature(&s, SEED, &h1), SIG1);
    }

    #[test]
    fn aws_example_decodes_in_every_split() {
        let body = example_body();
        for step in [1, 2, 7, 64, 1000, 4096, 65536, 65537, body.len()] {
            let mut dec = ChunkedDecoder::new(ChunkedMode::Signed(example_signing()));
            let (out, progress) = feed(&mut dec, &body, step);
            assert_eq!(progress, Ok(Progress::Done), "step {step}");
            assert_eq!(out.len(), 66560);
            assert!(out.iter().all(|b| *b == b'a'));
            assert_eq!(dec.decoded_len(), 66560);
            assert_eq!(dec.verified_len(), 66560);
            assert!(dec.is_done());
            assert!(dec.trailers().is_empty());
            assert_eq!(dec.finish(), Ok(()));
        }
    }

    #[test]
    fn input_after_the_end_is_left_alone() {
        let mut body = example_body();
        body.extend_from_slice(b"EXTRA");
        let mut dec = ChunkedDecoder::new(ChunkedMode::Signed(example_signing()));
        let mut input = body.as_slice();
        let mut out = Vec::new();
        assert_eq!(dec.decode(&mut input, &mut out), Ok(Progress::Done));
        assert_eq!(input, b"EXTRA");
        assert_eq!(dec.decode(&mut input, &mut out), Ok(Progress::Done));
        assert_eq!(out.len(), 66560);
    }

    #[test]
    fn tampered_signatures_and_data_are_caught() {
        let body = example_body();
        let text = String::from_utf8(body.clone()).unwrap();
        // Second chunk signature altered → chunk 1 fails after 65536 verified bytes.
        let bad = text.replacen(SIG2, &SIG2.replace("0055", "0056"), 1);
        let mut dec = ChunkedDecoder::new(ChunkedMode::Signed(example_signing()));
        let (_, progress) = feed(&mut dec, bad.as_bytes(), 7);
        assert_eq!(
            progress,
            Err(ChunkedError::ChunkSignatureMismatch { index: 1 })
        );
        assert_eq!(dec.verified_len(), 65536);
        // The error is sticky.
        let mut more: &[u8] = b"0\r\n";
        assert_eq!(
            dec.decode(&mut more, &mut Vec::new()),
            Err(ChunkedError::ChunkSignatureMismatch { index: 1 })
        );
        assert_eq!(
            dec.finish(),
            Err(ChunkedError::ChunkSignatureMismatch { index: 1 })
        );
        // Final chunk signature altered.
        let bad = text.replacen(SIG3, &SIG3.replace("b6c6", "b6c7"), 1);
        let mut dec = ChunkedDecoder::new(ChunkedMode::Signed(example_signing()));
        assert_eq!(
            feed(&mut dec, bad.as_bytes(), 1000).1,
            Err(ChunkedError::ChunkSignatureMismatch { index: 2 })
        );
        // One data byte flipped.
        let mut bad = body.clone();
        bad[500] = b'b';
        let mut dec = ChunkedDecoder::new(ChunkedMode::Signed(example_signing()));
        assert_eq!(
            feed(&mut dec, &bad, body.len()).1,
            Err(ChunkedError::ChunkSignatureMismatch { index: 0 })
        );
        assert_eq!(dec.verified_len(), 0);
        // Another seed (a different request).
        let mut other = example_signing();
        other.seed_signature = SIG1.to_string();
        let mut dec = ChunkedDecoder::new(ChunkedMode::Signed(other));
        assert_eq!(
            feed(&mut dec, &body, body.len()).1,
            Err(ChunkedError::ChunkSignatureMismatch { index: 0 })
        );
        // Chunks reordered / final chunk dropped early.
        let early = format!("0;chunk-signature={SIG3}\r\n\r\n");
        let mut dec = ChunkedDecoder::new(ChunkedMode::Signed(example_signing()));
        assert_eq!(
            feed(&mut dec, early.as_bytes(), 3).1,
            Err(ChunkedError::ChunkSignatureMismatch { index: 0 })
        );
        // Signatures compare exactly: upper-case hex is not the signature.
        let upper = text.replacen(SIG1, &SIG1.to_ascii_uppercase(), 1);
        let mut dec = ChunkedDecoder::new(ChunkedMode::Signed(example_signing()));
        assert_eq!(
            feed(&mut dec, upper.as_bytes(), 999).1,
            Err(ChunkedError::ChunkSignatureMismatch { index: 0 })
        );
    }

    #[test]
    fn signed_mode_requires_chunk_signatures() {
        for body in [
            "5\r\nhello\r\n",
            "5;chunk-signature=\r\nhello\r\n",
            "5;chunk-signature=abc\r\nhello\r\n",
            "5;chunk-signaturex=0000000000000000000000000000000000000000000000000000000000000000\r\n",
            "5;chunk-signature=zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\r\n",
        ] {
            let mut dec = ChunkedDecoder::new(ChunkedMode::Signed(example_signing()));
            assert!(
                matches!(feed(&mut dec, body.as_bytes(), 100).1, Err(ChunkedError::Malformed(_))),
                "{body:?}"
            );
        }
    }

    const CRC_BODY: &[u8] =
        b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";

    #[test]
    fn unsigned_trailer_body() {
        for step in 1..=CRC_BODY.len() {
            let mut dec = ChunkedDecoder::new(ChunkedMode::UnsignedTrailer);
            let (out, progress) = feed(&mut dec, CRC_BODY, step);
            assert_eq!(progress, Ok(Progress::Done), "step {step}");
            assert_eq!(out, b"hello world");
            assert_eq!(dec.verified_len(), 11);
            assert_eq!(dec.trailer("X-Amz-Checksum-CRC32"), Some("DUoRhQ=="));
            assert_eq!(
                dec.trailers(),
                &[("x-amz-checksum-crc32".to_string(), "DUoRhQ==".to_string())]
            );
        }
        // The encoder produces the same bytes.
        let mut enc = ChunkedEncoder::new(ChunkedMode::UnsignedTrailer);
        let mut body = Vec::new();
        enc.chunk(b"hello", &mut body);
        enc.chunk(b"", &mut body);
        enc.chunk(b" world", &mut body);
        enc.finish(
            &[("x-amz-checksum-crc32".to_string(), "DUoRhQ==".to_string())],
            &mut body,
        );
        assert_eq!(body, CRC_BODY);
    }

    #[test]
    fn unsigned_trailer_variants() {
        let ok = |body: &[u8]| {
            let mut dec = ChunkedDecoder::new(ChunkedMode::UnsignedTrailer);
            let (out, p) = feed(&mut dec, body, body.len());
            (out, p, dec)
        };
        // No trailers at all.
        let (out, p, _) = ok(b"3\r\nabc\r\n0\r\n\r\n");
        assert_eq!((out.as_slice(), p), (&b"abc"[..], Ok(Progress::Done)));
        // Extensions are ignored in unsigned mode; hex is case-insensitive; leading zeros.
        let (out, p, _) = ok(b"00A;foo=bar\r\n0123456789\r\n0\r\n\r\n");
        assert_eq!(
            (out.as_slice(), p),
            (&b"0123456789"[..], Ok(Progress::Done))
        );
        // Trailer spacing is trimmed.
        let (_, p, dec) = ok(b"0\r\nx-amz-checksum-sha256 :  abc=  \r\n\r\n");
        assert_eq!(p, Ok(Progress::Done));
        assert_eq!(dec.trailer("x-amz-checksum-sha256"), Some("abc="));
        // A trailer signature in an unsigned body is refused.
        let (_, p, _) = ok(b"0\r\nx-amz-trailer-signature:00\r\n\r\n");
        assert!(matches!(p, Err(ChunkedError::Malformed(_))));
        // Missing closing empty line: finish() accepts it.
        let mut dec = ChunkedDecoder::new(ChunkedMode::UnsignedTrailer);
        let body = b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n";
        assert_eq!(feed(&mut dec, body, 4).1, Ok(Progress::NeedMore));
        assert_eq!(dec.finish(), Ok(()));
        assert!(dec.is_done());
        assert_eq!(dec.trailer("x-amz-checksum-crc32"), Some("NSRBwg=="));
    }

    fn signed_trailer_body(signing: &StreamingSigning, trailer_value: &str) -> Vec<u8> {
        let mut enc = ChunkedEncoder::new(ChunkedMode::SignedTrailer(signing.clone()));
        let mut body = Vec::new();
        enc.chunk(&[b'x'; 9000], &mut body);
        enc.chunk(b"tail", &mut body);
        enc.finish(
            &[(
                "x-amz-checksum-crc32c".to_string(),
                trailer_value.to_string(),
            )],
            &mut body,
        );
        body
    }

    #[test]
    fn signed_trailer_body_round_trip() {
        let s = example_signing();
        let body = signed_trailer_body(&s, "sOO8/Q==");
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(text.contains("\r\n0;chunk-signature="));
        assert!(text.contains("\r\nx-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:"));
        assert!(text.ends_with("\r\n\r\n"));
        for step in [1, 5, 100, body.len()] {
            let mut dec = ChunkedDecoder::new(ChunkedMode::SignedTrailer(s.clone()));
            let (out, p) = feed(&mut dec, &body, step);
            assert_eq!(p, Ok(Progress::Done), "step {step}");
            assert_eq!(out.len(), 9004);
            assert_eq!(dec.trailer("x-amz-checksum-crc32c"), Some("sOO8/Q=="));
        }
        // Trailer value altered in transit.
        let tampered = text.replace("sOO8/Q==", "AAAAAA==");
        let mut dec = ChunkedDecoder::new(ChunkedMode::SignedTrailer(s.clone()));
        assert_eq!(
            feed(&mut dec, tampered.as_bytes(), 64).1,
            Err(ChunkedError::TrailerSignatureMismatch)
        );
        // Trailer signature removed.
        let cut = text.find("x-amz-trailer-signature").unwrap();
        let stripped = format!("{}\r\n", &text[..cut]);
        let mut dec = ChunkedDecoder::new(ChunkedMode::SignedTrailer(s.clone()));
        assert!(matches!(
            feed(&mut dec, stripped.as_bytes(), 64).1,
            Err(ChunkedError::Malformed(m)) if m.contains("trailer-signature")
        ));
        // A trailer after the signature.
        let late = format!("{}x-amz-late:1\r\n\r\n", &text[..text.len() - 2]);
        let mut dec = ChunkedDecoder::new(ChunkedMode::SignedTrailer(s.clone()));
        assert!(matches!(
            feed(&mut dec, late.as_bytes(), 64).1,
            Err(ChunkedError::Malformed(_))
        ));
        // Missing final empty line: finish() still checks the trailer signature.
        let open = &body[..body.len() - 2];
        let mut dec = ChunkedDecoder::new(ChunkedMode::SignedTrailer(s.clone()));
        assert_eq!(feed(&mut dec, open, 64).1, Ok(Progress::NeedMore));
        assert_eq!(dec.finish(), Ok(()));
        let open_bad = tampered.as_bytes();
        let open_bad = &open_bad[..open_bad.len() - 2];
        let mut dec = ChunkedDecoder::new(ChunkedMode::SignedTrailer(s));
        assert_eq!(feed(&mut dec, open_bad, 64).1, Ok(Progress::NeedMore));
        assert_eq!(dec.finish(), Err(ChunkedError::TrailerSignatureMismatch));
    }

    #[test]
    fn malformed_framing() {
        let cases: &[&[u8]] = &[
            b"zz\r\nhello\r\n",         // bad hex
            b"\r\n",                    // empty size
            b"-5\r\nhello\r\n",         // sign
            b"+5\r\nhello\r\n",         // sign
            b" 5\r\nhello\r\n",         // space
            b"5 \r\nhello\r\n",         // space
            b"10000000000000000\r\n",   // 17 hex digits
            b"5\r\nhelloX\r\n",         // data not followed by CR
            b"5\r\nhello\rX",           // CR not followed by LF
            b"5\nhello\r\n",            // bare LF
            b"0\r\nno-colon\r\n\r\n",   // trailer without ':'
            b"0\r\n:v\r\n\r\n",         // empty trailer name
            b"0\r\nbad name:v\r\n\r\n", // space in name
            b"0\r\nx:\x01\r\n\r\n",     // control byte in value
            b"\xff\r\n",                // non-UTF-8 header
        ];
        for body in cases {
            for step in [1, 3, body.len()] {
                let mut dec = ChunkedDecoder::new(ChunkedMode::UnsignedTrailer);
                let got = feed(&mut dec, body, step).1;
                assert!(
                    matches!(got, Err(ChunkedError::Malformed(_))),
                    "{:?} step {step}: {got:?}",
                    String::from_utf8_lossy(body)
                );
            }
        }
    }

    #[test]
    fn oversize_lines_are_refused_even_byte_by_byte() {
        let mut header = vec![b'0'; MAX_LINE_LEN + 1];
        header.extend_from_slice(b"\r\n");
        let mut trailer = b"0\r\nx-amz-meta:".to_vec();
        trailer.extend(std::iter::repeat_n(b'v', MAX_LINE_LEN));
        trailer.extend_from_slice(b"\r\n\r\n");
        let no_newline = vec![b'1'; MAX_LINE_LEN * 3];
        for body in [&header, &trailer, &no_newline] {
            for step in [1, 1000, body.len()] {
                let mut dec = ChunkedDecoder::new(ChunkedMode::UnsignedTrailer);
                assert_eq!(feed(&mut dec, body, step).1, Err(ChunkedError::LineTooLong));
            }
        }
        // A header line of exactly the limit (with CR) is fine: leading zeros then `5`.
        let mut edge = vec![b'0'; MAX_LINE_LEN - 2];
        edge.push(b'5');
        edge.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
        let mut dec = ChunkedDecoder::new(ChunkedMode::UnsignedTrailer);
        // 4094 hex digits exceed the 16-digit size limit: malformed, not too long.
        assert!(matches!(
            feed(&mut dec, &edge, 1).1,
            Err(ChunkedError::Malformed(_))
        ));
    }

    #[test]
    fn too_many_trailers() {
        let mut body = b"0\r\n".to_vec();
        for i in 0..=MAX_TRAILERS {
            body.extend_from_slice(format!("x-amz-t{i}:v\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        let mut dec = ChunkedDecoder::new(ChunkedMode::UnsignedTrailer);
        assert_eq!(
            feed(&mut dec, &body, 10).1,
            Err(ChunkedError::TooManyTrailers)
        );
    }

    #[test]
    fn truncation_is_reported_by_finish() {
        let body = example_body();
        for cut in [0, 10, 88, 1000, 65624, 65625, 66700] {
            let mut dec = ChunkedDecoder::new(ChunkedMode::Signed(example_signing()));
            let (_, p) = feed(&mut dec, &body[..cut], 333);
            assert_eq!(p, Ok(Progress::NeedMore), "cut {cut}");
            assert_eq!(dec.finish(), Err(ChunkedError::Truncated), "cut {cut}");
        }
        // Only the final CRLF missing: tolerated.
        let mut dec = ChunkedDecoder::new(ChunkedMode::Signed(example_signing()));
        let (_, p) = feed(&mut dec, &body[..body.len() - 2], 4096);
        assert_eq!(p, Ok(Progress::NeedMore));
        assert_eq!(dec.finish(), Ok(()));
    }

    #[test]
    fn mode_from_payload() {
        let s = example_signing();
        assert_eq!(
            ChunkedMode::from_payload(&PayloadMode::StreamingSigned(s.clone())),
            Some(ChunkedMode::Signed(s.clone()))
        );
        assert_eq!(
            ChunkedMode::from_payload(&PayloadMode::StreamingSignedTrailer(s.clone())),
            Some(ChunkedMode::SignedTrailer(s))
        );
        assert_eq!(
            ChunkedMode::from_payload(&PayloadMode::StreamingUnsignedTrailer),
            Some(ChunkedMode::UnsignedTrailer)
        );
        assert_eq!(ChunkedMode::from_payload(&PayloadMode::Unsigned), None);
        assert_eq!(
            ChunkedMode::from_payload(&PayloadMode::Sha256(EMPTY_SHA256.into())),
            None
        );
        assert_eq!(
            ChunkedError::TrailerSignatureMismatch.error_code().as_str(),
            "SignatureDoesNotMatch"
        );
        assert_eq!(
            ChunkedError::Truncated.error_code().as_str(),
            "IncompleteBody"
        );
    }

    #[test]
    fn never_panics_on_noise_or_mutations() {
        // A small deterministic generator (xorshift) for reproducible noise.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let valid = signed_trailer_body(&example_signing(), "sOO8/Q==");
        let alphabet = b"0123456789abcdefABCDEF;=:\r\n -xz";
        for round in 0..400 {
            let body: Vec<u8> = if round % 2 == 0 {
                let len = (next() % 300) as usize;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            } else {
                let mut b = valid.clone();
                for _ in 0..(1 + next() % 3) {
                    let i = (next() % b.len() as u64) as usize;
                    b[i] = (next() & 0xff) as u8;
                }
                b
            };
            let step = 1 + (next() % 50) as usize;
            for mode in [
                ChunkedMode::UnsignedTrailer,
                ChunkedMode::SignedTrailer(example_signing()),
                ChunkedMode::Signed(example_signing()),
            ] {
                let mut dec = ChunkedDecoder::new(mode);
                let (out, _) = feed(&mut dec, &body, step);
                assert!(out.len() as u64 == dec.decoded_len());
                assert!(dec.verified_len() <= dec.decoded_len());
                let _ = dec.finish();
            }
        }
    }
}

//! Parsing a request head, strictly after RFC 9112: the request line and header fields by
//! `httparse`, then the framing rules that keep a front proxy and this server agreeing on
//! where one request ends (no request smuggling):
//!
//! - `Transfer-Encoding` and `Content-Length` together → 400 (§6.1); so is
//!   `Transfer-Encoding` in an HTTP/1.0 request.
//! - The only transfer coding is exactly `chunked`; any other (`gzip, chunked`, `identity`,
//!   parameters) → 501.
//! - `Content-Length` is 1*DIGIT, no sign, no list, no overflow; several that differ → 400.
//! - Lines end in CRLF (a bare LF is refused); obs-fold (a line starting with SP/HTAB) → 400.
//! - Header values are trimmed of SP and HTAB only — never of other (Unicode) whitespace.
//! - One `Host` at most; an HTTP/1.1 request without one → 400 (§3.2).
//!
//! Nothing here slices user input at byte offsets that may not be character boundaries.

use super::body::{ChunkState, Framing};
use std::net::SocketAddr;

/// Most headers a request may carry.
pub(crate) const MAX_HEADERS: usize = 128;

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

    /// The first header with this name as text (invalid UTF-8 → `None`), trimmed of SP and
    /// HTAB only (RFC 9110 §5.5: optional whitespace is nothing else).
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name)
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(trim_ows)
    }
}

/// Why a request could not even be parsed, or is refused before its handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Malformed request line, headers or framing.
    BadRequest,
    /// Request head too large.
    HeadTooLarge,
    /// A transfer coding we do not implement.
    UnsupportedTransferEncoding,
    /// The request head did not arrive within the header timeout.
    HeadTimeout,
    /// The server is at its connection limit.
    TooManyConnections,
    /// The server is at its limit of requests with bodies in flight.
    TooManyUploads,
}

/// Everything the connection needs from a request head.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) request: Request,
    pub(crate) framing: Framing,
    pub(crate) declared_length: Option<u64>,
    pub(crate) expect_continue: bool,
    pub(crate) keep_alive: bool,
}

/// Parses a request head at the start of `buf`. `Ok(None)`: incomplete so far; `Ok(Some((head,
/// len)))`: complete, `len` bytes long.
pub(crate) fn parse_head(buf: &[u8], peer: SocketAddr) -> Result<Option<(Head, usize)>, Rejection> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => {
            let raw = buf.get(..len).ok_or(Rejection::BadRequest)?;
            if has_bare_lf(raw) {
                return Err(Rejection::BadRequest);
            }
            Ok(Some((build_head(&parsed, peer)?, len)))
        }
        Ok(httparse::Status::Partial) => {
            if has_bare_lf(buf) {
                return Err(Rejection::BadRequest);
            }
            Ok(None)
        }
        Err(httparse::Error::TooManyHeaders) => Err(Rejection::HeadTooLarge),
        // Includes obs-fold: a line starting with SP/HTAB is not a header name.
        Err(_) => Err(Rejection::BadRequest),
    }
}

/// Whether a LF appears without the CR before it.
fn has_bare_lf(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .enumerate()
        .any(|(i, b)| *b == b'\n' && (i == 0 || bytes.get(i - 1) != Some(&b'\r')))
}

/// Trims optional whitespace (SP, HTAB) — and nothing else — from both ends.
pub(crate) fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Trims SP and HTAB from both ends of raw bytes.
fn trim_ows_bytes(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// The elements of comma-separated list headers, trimmed, empty ones skipped (RFC 9110 §5.6.1).
fn list_elements<'a>(values: impl Iterator<Item = &'a [u8]>) -> impl Iterator<Item = &'a [u8]> {
    values
        .flat_map(|v| v.split(|b| *b == b','))
        .map(trim_ows_bytes)
        .filter(|e| !e.is_empty())
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
    let values = |name: &'static str| {
        headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    };
    let hosts = values("host").count();
    if hosts > 1 || (hosts == 0 && minor == 1) {
        return Err(Rejection::BadRequest);
    }
    let has_token = |name: &'static str, token: &str| {
        list_elements(values(name)).any(|e| e.eq_ignore_ascii_case(token.as_bytes()))
    };
    let keep_alive = if minor == 0 {
        has_token("connection", "keep-alive")
    } else {
        !has_token("connection", "close")
    };
    let expect_continue =
        values("expect").any(|v| trim_ows_bytes(v).eq_ignore_ascii_case(b"100-continue"));
    let (framing, declared_length) = framing(
        minor,
        values("transfer-encoding").collect(),
        values("content-length").collect(),
    )?;
    let request = Request {
        method,
        raw_path,
        raw_query,
        authority,
        headers,
        peer,
    };
    Ok(Head {
        request,
        framing,
        declared_length,
        expect_continue,
        keep_alive,
    })
}

/// How the body is delimited, from the `Transfer-Encoding` and `Content-Length` values.
fn framing(
    minor: u8,
    transfer_encoding: Vec<&[u8]>,
    content_length: Vec<&[u8]>,
) -> Result<(Framing, Option<u64>), Rejection> {
    if !transfer_encoding.is_empty() {
        if minor == 0 || !content_length.is_empty() {
            return Err(Rejection::BadRequest);
        }
        let codings: Vec<&[u8]> = list_elements(transfer_encoding.into_iter()).collect();
        if codings.iter().any(|c| !c.eq_ignore_ascii_case(b"chunked")) {
            return Err(Rejection::UnsupportedTransferEncoding);
        }
        // Empty, or chunked applied more than once (RFC 9112 §7: MUST NOT).
        if codings.len() != 1 {
            return Err(Rejection::BadRequest);
        }
        return Ok((Framing::Chunked(ChunkState::Size), None));
    }
    let mut length = None;
    for value in content_length {
        let n = parse_content_length(trim_ows_bytes(value)).ok_or(Rejection::BadRequest)?;
        if length.is_some_and(|l| l != n) {
            return Err(Rejection::BadRequest);
        }
        length = Some(n);
    }
    Ok(match length {
        None => (Framing::None, None),
        Some(n) => (Framing::Length(n), Some(n)),
    })
}

/// `Content-Length = 1*DIGIT`, without overflow.
pub(crate) fn parse_content_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |n, b| {
        if !b.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// Splits a request target into (absolute-form authority, path-and-query).
fn split_target(target: &str) -> Result<(Option<String>, &str), Rejection> {
    for scheme in ["http://", "https://"] {
        // Compared as bytes: the target may hold multibyte characters anywhere.
        let has_scheme = target
            .as_bytes()
            .get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme.as_bytes()));
        if !has_scheme {
            continue;
        }
        // The prefix is ASCII, so its end is a character boundary.
        let rest = target.get(scheme.len()..).ok_or(Rejection::BadRequest)?;
        let (authority, path) = match rest.find(['/', '?']) {
            // `find` returns a character boundary.
            Some(i) => rest.split_at_checked(i).ok_or(Rejection::BadRequest)?,
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err(Rejection::BadRequest);
        }
        return Ok((Some(authority.to_string()), path));
    }
    if target.starts_with('/') || target == "*" {
        Ok((None, target))
    } else {
        Err(Rejection::BadRequest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 1))
    }

    fn parse(raw: &str) -> Result<Head, Rejection> {
        parse_head(raw.as_bytes(), peer()).map(|h| h.expect("complete").0)
    }

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

    #[test]
    fn multibyte_targets_never_panic() {
        for target in [
            "/中文",
            "abcdef中",
            "http中//x",
            "ht中",
            "中",
            "http://中/é?ü",
            "https://ö",
        ] {
            let _ = split_target(target);
        }
        assert_eq!(
            split_target("http://中/é?ü"),
            Ok((Some("中".to_string()), "/é?ü"))
        );
        assert_eq!(split_target("abcdef中"), Err(Rejection::BadRequest));
    }

    #[test]
    fn framing_rules() {
        let te_cl =
            "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n";
        assert_eq!(parse(te_cl).err(), Some(Rejection::BadRequest));
        let gzip = "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
        assert_eq!(
            parse(gzip).err(),
            Some(Rejection::UnsupportedTransferEncoding)
        );
        let split = "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(
            parse(split).err(),
            Some(Rejection::UnsupportedTransferEncoding)
        );
        let twice = "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n";
        assert_eq!(parse(twice).err(), Some(Rejection::BadRequest));
        let nbsp = "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\u{a0}\r\n\r\n";
        assert_eq!(
            parse(nbsp).err(),
            Some(Rejection::UnsupportedTransferEncoding)
        );
        let http10 = "PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(parse(http10).err(), Some(Rejection::BadRequest));
        let ok = "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \t Chunked \r\n\r\n";
        assert!(matches!(
            parse(ok).map(|h| h.framing),
            Ok(Framing::Chunked(_))
        ));
    }

    #[test]
    fn content_length_rules() {
        for bad in [
            "+5",
            "-1",
            "5 5",
            "5,5",
            "0x5",
            "",
            "5\u{a0}",
            "18446744073709551616",
        ] {
            let raw = format!("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: {bad}\r\n\r\n");
            assert_eq!(parse(&raw).err(), Some(Rejection::BadRequest), "{bad:?}");
        }
        let same = "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n";
        assert_eq!(parse(same).map(|h| h.declared_length), Ok(Some(5)));
        let differ = "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n";
        assert_eq!(parse(differ).err(), Some(Rejection::BadRequest));
        assert_eq!(
            parse_content_length(b"18446744073709551615"),
            Some(u64::MAX)
        );
        assert_eq!(parse_content_length(b"007"), Some(7));
    }

    #[test]
    fn line_rules() {
        let fold = "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n";
        assert_eq!(parse(fold).err(), Some(Rejection::BadRequest));
        let bare_lf = "GET / HTTP/1.1\r\nHost: h\nX-A: a\r\n\r\n";
        assert_eq!(parse(bare_lf).err(), Some(Rejection::BadRequest));
        let two_hosts = "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
        assert_eq!(parse(two_hosts).err(), Some(Rejection::BadRequest));
        let no_host = "GET / HTTP/1.1\r\n\r\n";
        assert_eq!(parse(no_host).err(), Some(Rejection::BadRequest));
        assert!(parse("GET / HTTP/1.0\r\n\r\n").is_ok());
    }

    #[test]
    fn header_values_trim_only_ows() {
        let head =
            parse("GET / HTTP/1.1\r\nHost: h\r\nX-A: \u{a0}v\u{85}\t\r\n\r\n").expect("parses");
        assert_eq!(head.request.header_str("x-a"), Some("\u{a0}v\u{85}"));
    }

    #[test]
    fn connection_tokens() {
        let close = parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Close\r\n\r\n");
        assert_eq!(close.map(|h| h.keep_alive), Ok(false));
        let not_close = parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n");
        assert_eq!(not_close.map(|h| h.keep_alive), Ok(true));
    }
}

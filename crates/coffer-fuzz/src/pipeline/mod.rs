//! The whole request pipeline in-process: arbitrary bytes as one connection into the server's
//! real connection loop (`coffer_server::fuzzing::serve_stream` over `tokio::io::duplex`),
//! against a real store prepared once per process (see [`fixture`]): head parsing, framing,
//! addressing, authentication, routing, authorization, the handlers and the store.
//!
//! Input: the bytes a client sends, `@UPLOAD@` standing for the prepared multipart upload's
//! id; inputs over 64 KiB are skipped. Invariants, for every answer on the wire:
//! - never a panic; the answers are well-formed HTTP/1.1 responses (status line, token
//!   header names, one `Content-Length` and exactly that many body bytes, no HEAD body),
//!   nothing else is written;
//! - never a 5xx for client input (501 Not Implemented aside);
//! - every error carries its request id and, but for HEAD, an `<Error>` document with `Code`
//!   and `RequestId`; every XML body is well-formed.

pub(crate) mod build;
pub(crate) mod fixture;
pub(crate) mod wire;

use fixture::{exchange, UPLOAD_PLACEHOLDER};

/// Largest input served.
const MAX_INPUT: usize = 64 * 1024;

/// Runs one input.
pub fn run(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    exchange(|upload_id| replace(data, UPLOAD_PLACEHOLDER.as_bytes(), upload_id.as_bytes()));
}

/// `data` with every `from` replaced by `to`.
fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut rest = data;
    while !rest.is_empty() {
        if rest.starts_with(from) {
            out.extend_from_slice(to);
            rest = &rest[from.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

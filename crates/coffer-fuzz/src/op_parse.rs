//! Every declared operation's parse (`Handler::parse` of each entry of
//! `coffer_server::operations::OPERATIONS`) over an arbitrary request view: the step that
//! holds all client-input validation, run without a socket or a store.
//!
//! Input: byte 0 picks the operation (modulo the table's length), bit 0 of byte 1 the dialect
//! (COS or S3); then lines up to a blank line, each a query parameter (`?name=value`), the
//! key (`/key`) or a header (`name: value`); the rest is the document body. Only the
//! parameters the operation declares reach it, as in the pipeline. Invariants:
//! - never a panic (nor a debug assertion: an operation reading a parameter it does not
//!   declare);
//! - a refusal is a client error (4xx) or `501 NotImplemented` (a feature asked for and not
//!   implemented), never another 5xx;
//! - the same view parses to the same outcome twice.

use coffer_proto::{Dialect, ErrorCode};
use coffer_server::operations::{Scope, OPERATIONS};
use coffer_server::ops::op::OpRequest;

/// Runs one input.
pub fn run(data: &[u8]) {
    let [first, second, rest @ ..] = data else {
        return;
    };
    let operation = &OPERATIONS[usize::from(*first) % OPERATIONS.len()];
    let dialect = if second & 1 == 0 {
        Dialect::Cos
    } else {
        Dialect::S3
    };
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&rest[..at], &rest[at + 2..]),
        None => (rest, &[][..]),
    };
    let mut key = match operation.scope {
        Scope::Object => Some("k".to_string()),
        Scope::Admin => Some("admin/users".to_string()),
        Scope::Bucket | Scope::Service => None,
    };
    let mut query = Vec::new();
    let mut headers = Vec::new();
    for line in head.split(|b| *b == b'\n') {
        let text = String::from_utf8_lossy(line);
        if let Some(param) = text.strip_prefix('?') {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            if operation.reads_param(name) {
                query.push((name.to_string(), value.to_string()));
            }
        } else if let Some(path) = text.strip_prefix('/') {
            key = Some(path.to_string());
        } else if let Some(colon) = line.iter().position(|b| *b == b':') {
            let name = String::from_utf8_lossy(&line[..colon]).into_owned();
            headers.push((name, line[colon + 1..].to_vec()));
        }
    }
    let bucket = match operation.scope {
        Scope::Service => None,
        Scope::Admin => Some("-"),
        Scope::Bucket | Scope::Object => Some("bucket-1250000000"),
    };
    let request = OpRequest {
        operation,
        method: operation.method,
        dialect,
        bucket,
        key: key.as_deref(),
        query: &query,
        headers: &headers,
        body,
    };
    let outcome = (operation.handler.parse)(&request).map_err(|e| e.code);
    if let Err(code) = outcome {
        let status = code.status();
        assert!(
            (400..500).contains(&status) || code == ErrorCode::NotImplemented,
            "{} refused a request view with {status} {code:?}",
            operation.name
        );
    }
    let again = (operation.handler.parse)(&request).map_err(|e| e.code);
    assert_eq!(
        outcome, again,
        "{} parses differently twice",
        operation.name
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_parses_a_plain_view() {
        for index in 0..OPERATIONS.len() {
            for dialect in [0u8, 1] {
                run(&[index as u8, dialect]);
                let mut input = vec![index as u8, dialect];
                input.extend_from_slice(
                    b"?uploadId=u\n?partNumber=1\n?max-keys=5\n?list-type=2\ncontent-md5: x\n\n<Delete/>",
                );
                run(&input);
            }
        }
    }
}

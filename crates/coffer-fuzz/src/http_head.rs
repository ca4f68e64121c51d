//! Request-head parsing (`coffer-server` `http::head`).
//!
//! Invariants: any bytes give a head, "need more" or a rejection — never a panic; a complete
//! head is no longer than its input and parses to the same length from its own bytes (what
//! follows a head never changes it); a prefix of the input is never complete beyond its own
//! length.

use coffer_server::fuzzing::parse_head;

/// Runs one input.
pub fn run(data: &[u8]) {
    let whole = parse_head(data);
    if let Ok(Some(len)) = whole {
        assert_eq!(
            parse_head(&data[..len]),
            Ok(Some(len)),
            "a head parsed differently from its own bytes"
        );
    }
    let half = &data[..data.len() / 2];
    if let Ok(Some(len)) = parse_head(half) {
        assert!(len <= half.len(), "a head longer than its input");
    }
}

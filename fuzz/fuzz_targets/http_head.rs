//! Request-head parsing (coffer-server `http::head`): any bytes give a head, "need more" or
//! a rejection — never a panic — and a complete head parses the same from its own bytes.

#![no_main]

use coffer_server::fuzzing::parse_head;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let whole = parse_head(data);
    if let Ok(Some(len)) = whole {
        // The head alone parses to the same length: what follows it never changes it.
        assert_eq!(parse_head(&data[..len]), Ok(Some(len)));
    }
    // A prefix is never complete beyond its own length.
    let half = &data[..data.len() / 2];
    if let Ok(Some(len)) = parse_head(half) {
        assert!(len <= half.len());
    }
});

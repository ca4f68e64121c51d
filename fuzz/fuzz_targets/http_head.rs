//! Request-head parsing: a head, "need more" or a rejection; a complete head parses the same from its own bytes.
//! The body and its invariants: `coffer_fuzz::http_head` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::http_head::run(data));

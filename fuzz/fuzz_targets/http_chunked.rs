//! Chunked transfer decoding: the same data or rejection however the bytes are split.
//! The body and its invariants: `coffer_fuzz::http_chunked` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::http_chunked::run(data));

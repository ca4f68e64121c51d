//! The whole pipeline: raw bytes as one connection into the real server; well-formed answers, no 5xx, XML errors.
//! The body and its invariants: `coffer_fuzz::pipeline` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::pipeline::run(data));

//! HTTP-date, ISO 8601, amz-date and key-time parsing: parsed times format back to themselves.
//! The body and its invariants: `coffer_fuzz::time` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::time::run(data));

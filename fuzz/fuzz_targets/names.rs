//! Bucket/key/APPID names and Host-based addressing: valid names are routed; the addressed host is the signed host.
//! The body and its invariants: `coffer_fuzz::names` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::names::run(data));

//! SigV4 header and presigned parsing and verification: credentials render back to themselves; whatever the SDK signs verifies.
//! The body and its invariants: `coffer_fuzz::auth_sigv4` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::auth_sigv4::run(data));

//! SigV2 header and presigned parsing and verification: parsed headers render back to themselves; whatever is signed verifies.
//! The body and its invariants: `coffer_fuzz::auth_sigv2` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::auth_sigv2::run(data));

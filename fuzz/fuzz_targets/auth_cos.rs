//! COS q-sign parsing and verification: parsed authorizations render back to themselves; whatever the SDK signs verifies.
//! The body and its invariants: `coffer_fuzz::auth_cos` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::auth_cos::run(data));

//! The Range header: round trip; a resolved range is a non-empty slice inside the object.
//! The body and its invariants: `coffer_fuzz::range` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::range::run(data));

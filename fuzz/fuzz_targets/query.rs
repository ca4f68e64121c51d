//! Query and path decoding: router and signatures read the same parameters; encoders round-trip.
//! The body and its invariants: `coffer_fuzz::query` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::query::run(data));

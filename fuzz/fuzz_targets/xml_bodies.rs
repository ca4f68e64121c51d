//! Every request body the handlers parse: 4xx refusals only; parsed documents written back parse to themselves.
//! The body and its invariants: `coffer_fuzz::xml_bodies` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::xml_bodies::run(data));

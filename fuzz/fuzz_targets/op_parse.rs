//! Every declared operation's parse over an arbitrary request view: 4xx (or 501) refusals only, deterministic.
//! The body and its invariants: `coffer_fuzz::op_parse` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::op_parse::run(data));

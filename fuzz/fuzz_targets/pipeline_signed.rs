//! The pipeline past authentication: correctly signed structured requests; unsigned vendor headers or declared parameters never 2xx.
//! The body and its invariants: `coffer_fuzz::pipeline_signed` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::pipeline_signed::run(data));

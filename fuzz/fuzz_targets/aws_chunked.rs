//! aws-chunked decoding: split-independent; encoder round trip; a changed byte never changes what a signed body decodes to.
//! The body and its invariants: `coffer_fuzz::aws_chunked` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::aws_chunked::run(data));

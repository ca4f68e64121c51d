//! x-cos-/x-amz-copy-source values: the S3 and COS forms of a parsed source parse to the same source.
//! The body and its invariants: `coffer_fuzz::copy_source` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::copy_source::run(data));

//! The XML tree reader: a tree or MalformedXML; a tree written back parses to itself.
//! The body and its invariants: `coffer_fuzz::xml` (crates/coffer-fuzz).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::xml::run(data));

//! The bodies of Coffer's fuzz targets, one module per target.
//!
//! Each target is a plain function over bytes ([`Target::run`]): the cargo-fuzz binaries in
//! `fuzz/fuzz_targets/` call it under libFuzzer on the nightly toolchain, and the corpus
//! replay test ([`replay`]) calls the very same function on every file of
//! `fuzz/corpus/<target>/` on stable, so CI keeps every corpus input green. A target checks
//! more than "no panic": each module's doc states its invariants (round trips, agreement
//! between two parsers of the same thing, sign-then-verify, same result however the input is
//! split), and a broken invariant is a panic.
//!
//! Architecture invariant: the targets use only public items of the crates and the small
//! `coffer_server::fuzzing` module; nothing here is used by the product.

pub mod auth_cos;
pub mod auth_sigv2;
pub mod auth_sigv4;
pub mod aws_chunked;
pub mod copy_source;
pub mod http_chunked;
pub mod http_head;
pub mod names;
pub mod op_parse;
pub mod pipeline;
pub mod pipeline_signed;
pub mod query;
pub mod range;
pub mod replay;
mod request;
pub mod time;
pub mod xml;
pub mod xml_bodies;

/// One fuzz target: its name (that of its binary in `fuzz/` and of its corpus folder) and
/// its body.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The target's name, e.g. `auth_cos`.
    pub name: &'static str,
    /// Runs one input; panics when an invariant breaks.
    pub run: fn(&[u8]),
}

/// Every target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "http_head",
        run: http_head::run,
    },
    Target {
        name: "http_chunked",
        run: http_chunked::run,
    },
    Target {
        name: "auth_cos",
        run: auth_cos::run,
    },
    Target {
        name: "auth_sigv4",
        run: auth_sigv4::run,
    },
    Target {
        name: "auth_sigv2",
        run: auth_sigv2::run,
    },
    Target {
        name: "aws_chunked",
        run: aws_chunked::run,
    },
    Target {
        name: "xml",
        run: xml::run,
    },
    Target {
        name: "xml_bodies",
        run: xml_bodies::run,
    },
    Target {
        name: "op_parse",
        run: op_parse::run,
    },
    Target {
        name: "copy_source",
        run: copy_source::run,
    },
    Target {
        name: "range",
        run: range::run,
    },
    Target {
        name: "query",
        run: query::run,
    },
    Target {
        name: "time",
        run: time::run,
    },
    Target {
        name: "names",
        run: names::run,
    },
    Target {
        name: "pipeline",
        run: pipeline::run,
    },
    Target {
        name: "pipeline_signed",
        run: pipeline_signed::run,
    },
];

//! The client side of the `coffer` command line, built only on the SDK's public API
//! (issue "The coffer command line"). So far: profiles (`coffer config`) and the
//! `cos://bucket/key` location syntax the transfer commands will share.

pub mod config;
// The transfer commands (ls, cp, …) that parse locations come next.
#[allow(dead_code)]
pub mod location;

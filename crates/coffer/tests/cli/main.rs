//! End-to-end: the built `coffer` binary as a client against the same binary serving on a
//! loopback port.

#![allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.

mod commands;
mod data_dir;
mod postgres;
mod resume;
mod support;
mod terminal;

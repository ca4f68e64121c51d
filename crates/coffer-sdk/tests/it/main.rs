//! The SDK against a real Coffer server (in-process, loopback).

#![allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.

mod encryption;
mod operations;
mod support;
mod transfer;

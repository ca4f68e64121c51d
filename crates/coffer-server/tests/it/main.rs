//! Integration tests: the real server on an ephemeral loopback port, driven over raw HTTP.

mod auth;
mod hardening;
mod listing;
mod multipart;
mod objects;
mod parts;
mod protocol;
mod security;
mod support;

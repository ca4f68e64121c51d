//! Coffer's protocol crate: everything about the COS XML API and its Amazon S3 dialect that
//! can be stated without doing I/O.
//!
//! Validated names, error codes with their HTTP status, XML bodies, signatures, checksums,
//! ETag rules and byte ranges live here so that the server and the SDK agree on them. Nothing
//! in this crate knows about sockets, disks or an async runtime.
//!
//! Architecture invariant: no tokio, no filesystem, no HTTP library types in this crate.

pub mod auth;
pub mod checksum;
pub mod dialect;
pub mod encoding;
pub mod error;
pub mod names;
pub mod query;
pub mod range;
pub mod time;
pub mod xml;

pub use dialect::Dialect;
pub use error::ErrorCode;

//! Coffer's Rust SDK for the Tencent COS XML API (and Coffer itself).
//!
//! It mirrors the official COS Python SDK operation for operation (names in Rust case, typed
//! requests and responses), adds a transfer manager, and a client-side encryption client whose
//! objects interoperate with the official SDK's `CosEncryptionClient`.
//!
//! Status: being built (issue "Coffer SDK"). Present so far: [`crypto`], the client-side
//! encryption primitives.

pub mod crypto;

//! Client-side encryption primitives, byte-compatible with the official COS Python SDK's
//! `CosEncryptionClient` (cos-python-sdk-v5 1.9.44; protocol reference §12).
//!
//! Everything here is sans-IO except the optional key-file helpers of the providers: the SDK's
//! encryption client feeds bodies through a [`DataCipher`] and object metadata through
//! [`EncryptionMaterials`].
//!
//! # Object format
//!
//! * The stored object is the ciphertext only, as long as the plaintext: AES-256-CTR under a
//!   random 32-byte data key, whose counter block for the *n*-th 16-byte block is
//!   `(IV as a 128-bit big-endian integer + n) mod 2^128`. No header, trailer, padding or MAC
//!   (so Content-MD5, ETag and CRC-64 are of the ciphertext, and nothing detects tampering).
//! * The data key and the 16-byte IV are wrapped by a master-key [`KeyProvider`] —
//!   [`AesProvider`] or [`RsaProvider`] — and stored base64-encoded in two user-metadata headers,
//!   [`HEADER_KEY`] and [`HEADER_IV`]. The Python SDK writes and reads nothing else (the Go and
//!   Java SDKs' `…-cek-alg`, `…-wrap-alg`… schema is not handled here).
//!
//! # Offsets, ranges and parts
//!
//! A [`DataCipher`] can start at any byte offset, so unlike the Python SDK (which rounds a
//! ranged GET down to a 16-byte boundary and shares one keystream between the parts of a
//! multipart upload, forcing them to be sent in order) a Rust client can:
//!
//! * GET exactly `bytes=a-b` and decrypt it with [`EncryptionMaterials::cipher_at`]`(a)`;
//! * encrypt each multipart part independently (in parallel) with `cipher_at(part_offset)`.
//!   Every part but the last should still be a multiple of 16 bytes ([`check_part_len`]), as
//!   the COS documentation requires it and other SDKs compute part counters as `IV + offset/16`.
//!
//! # Example
//!
//! ```
//! use coffer_sdk::crypto::{AesProvider, EncryptionMaterials};
//!
//! # fn main() -> Result<(), coffer_sdk::crypto::CryptoError> {
//! let provider = AesProvider::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
//!
//! // Upload: fresh data key + IV, two metadata headers, encrypted body.
//! let materials = EncryptionMaterials::generate(&provider)?;
//! let headers = materials.headers(); // [("x-cos-meta-client-side-encryption-key", …), (…-iv, …)]
//! let mut body = b"The quick brown fox jumps over the lazy dog.".to_vec();
//! materials.cipher().apply(&mut body);
//!
//! // Download of bytes 10..: rebuild the materials from the object's metadata.
//! let read_back = EncryptionMaterials::from_metadata(&provider, headers)?;
//! let mut range = body[10..].to_vec();
//! read_back.cipher_at(10).apply(&mut range);
//! assert_eq!(range, b"brown fox jumps over the lazy dog.");
//! # Ok(())
//! # }
//! ```

mod aes_provider;
mod cipher;
mod envelope;
mod error;
mod rsa_provider;

pub use aes_provider::AesProvider;
pub use cipher::{check_part_len, ContentKey, DataCipher, BLOCK_LEN, DATA_KEY_LEN, IV_LEN};
pub use envelope::{EncryptionMaterials, Envelope, KeyProvider, MetadataEntry};
pub use error::CryptoError;
pub use rsa_provider::{RsaPadding, RsaProvider};

/// User-metadata name (without the `x-cos-meta-` prefix) of the wrapped data key.
pub const META_KEY: &str = "client-side-encryption-key";
/// User-metadata name (without the `x-cos-meta-` prefix) of the wrapped IV.
pub const META_IV: &str = "client-side-encryption-iv";
/// Full header name of the wrapped data key: `x-cos-meta-client-side-encryption-key`.
pub const HEADER_KEY: &str = "x-cos-meta-client-side-encryption-key";
/// Full header name of the wrapped IV: `x-cos-meta-client-side-encryption-iv`.
pub const HEADER_IV: &str = "x-cos-meta-client-side-encryption-iv";
/// Prefix that turns a user-metadata name into its header name.
pub(crate) const META_PREFIX: &str = "x-cos-meta-";

/// Base64 as the Python SDK reads it (`base64.b64decode`): standard alphabet; ASCII
/// whitespace (a key file's trailing newline, folded header values) is ignored. Missing `=`
/// padding is tolerated too.
mod b64 {
    use base64::alphabet;
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    use base64::Engine as _;

    use super::CryptoError;

    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );

    /// Decodes `text`, naming the value as `what` in the error.
    pub(crate) fn decode(what: &'static str, text: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let compact: Vec<u8> = text
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        LENIENT
            .decode(compact)
            .map_err(|source| CryptoError::InvalidBase64 { what, source })
    }

    /// Standard, padded base64 (what Python's `base64.b64encode` produces).
    pub(crate) fn encode(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }
}

/// `~/<dir>/<file>` as Python's `os.path.expanduser` resolves it (`$HOME`, else the passwd
/// entry; `%USERPROFILE%` on Windows).
fn home_path(dir: &str, file: &str) -> Result<std::path::PathBuf, CryptoError> {
    let home = std::env::home_dir().ok_or(CryptoError::NoHomeDirectory)?;
    Ok(home.join(dir).join(file))
}

#[cfg(test)]
mod tests;

//! The error type of the client-side encryption primitives.

use std::path::PathBuf;

use super::RsaPadding;

/// Why wrapping, unwrapping, loading a master key or reading encryption metadata failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The object's metadata lacks one of the two envelope values (holds the name without the
    /// `x-cos-meta-` prefix): the object is not client-side encrypted, or was written by an SDK
    /// using another metadata schema.
    #[error(
        "object metadata has no `x-cos-meta-{0}`: not a client-side encrypted object \
         (or one written with another SDK's metadata schema)"
    )]
    MissingMetadata(&'static str),
    /// The metadata holds two different values for the same envelope field (for example under
    /// its short and its full header name).
    #[error("object metadata has conflicting values for `x-cos-meta-{0}`")]
    ConflictingMetadata(&'static str),
    /// A value that must be base64 is not.
    #[error("{what} is not valid base64: {source}")]
    InvalidBase64 {
        /// Which value.
        what: &'static str,
        /// The decoder's complaint.
        #[source]
        source: base64::DecodeError,
    },
    /// A key, IV or wrapped value has the wrong number of bytes.
    #[error("{what} has {actual} bytes, expected {expected}")]
    InvalidLength {
        /// Which value.
        what: &'static str,
        /// The accepted length(s), in words.
        expected: &'static str,
        /// The length found.
        actual: usize,
    },
    /// An RSA key could not be parsed (PKCS#1 and PKCS#8/SPKI, PEM or DER, are accepted).
    #[error("invalid RSA {what} key: {reason}")]
    InvalidRsaKey {
        /// `public` or `private`.
        what: &'static str,
        /// The parsers' complaint.
        reason: String,
    },
    /// The RSA key PEM is passphrase-protected, which is not supported.
    #[error("passphrase-protected RSA key PEMs are not supported; export the key unencrypted")]
    EncryptedRsaKey,
    /// The public key given is not the public half of the private key given.
    #[error("the RSA public key does not belong to the RSA private key")]
    RsaKeyMismatch,
    /// Unwrapping needs the RSA private key, and this provider was built from a public key only.
    #[error(
        "this RSA provider has no private key: it can wrap (upload) but not unwrap (download)"
    )]
    MissingPrivateKey,
    /// An RSA operation other than decryption failed (encryption, key generation, PEM export).
    #[error("RSA {op} failed: {source}")]
    Rsa {
        /// What was being done.
        op: &'static str,
        /// The RSA library's error.
        #[source]
        source: rsa::Error,
    },
    /// RSA decryption of a wrapped value failed under every padding tried: wrong private key,
    /// tampered metadata, or a padding the provider was not allowed to fall back to.
    #[error("RSA decryption of the wrapped {what} failed ({padding}{})",
        if *.fallback_tried { ", and with the other padding" } else { "" })]
    RsaDecrypt {
        /// `data key` or `IV`.
        what: &'static str,
        /// The provider's configured padding.
        padding: RsaPadding,
        /// Whether the other padding was tried as well.
        fallback_tried: bool,
    },
    /// A multipart part other than the last is not a multiple of 16 bytes.
    #[error("a part of {len} bytes is not a multiple of 16 bytes (only the last part may be)")]
    UnalignedPart {
        /// The part's length.
        len: u64,
    },
    /// Reading or writing a key file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The home directory (for the default key paths) cannot be determined.
    #[error("cannot determine the home directory for the default key path")]
    NoHomeDirectory,
}

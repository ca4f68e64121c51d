//! The storage layer's error type.

use coffer_proto::checksum::{ChecksumAlgorithm, ChecksumType};
use std::io;

/// Why a storage operation failed. Variants other than [`StoreError::Internal`] and
/// [`StoreError::Io`] are outcomes a client caused and the server reports as protocol errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The bucket does not exist.
    #[error("no such bucket")]
    NoSuchBucket,
    /// A bucket of that name exists; `owned_by_caller` tells whose it is.
    #[error("bucket already exists")]
    BucketAlreadyExists {
        /// Whether the caller owns the existing bucket.
        owned_by_caller: bool,
    },
    /// The bucket still holds objects or multipart uploads.
    #[error("bucket not empty")]
    BucketNotEmpty,
    /// The key does not exist.
    #[error("no such key")]
    NoSuchKey,
    /// The multipart upload does not exist.
    #[error("no such upload")]
    NoSuchUpload,
    /// A part named at completion was not uploaded or its ETag differs.
    #[error("invalid part {0}")]
    InvalidPart(u32),
    /// A completion of an upload with a COMPOSITE checksum the client chose does not give
    /// the checksum of this part.
    #[error("the checksum of part {part_number} is missing")]
    PartChecksumMissing {
        /// The part.
        part_number: u32,
        /// The upload's algorithm.
        algorithm: ChecksumAlgorithm,
    },
    /// The checksum type a completion names is not the upload's.
    #[error("the upload's checksum type is {expected:?}")]
    ChecksumTypeMismatch {
        /// The upload's type.
        expected: ChecksumType,
    },
    /// A checksum was given in another algorithm than the one the upload or object has.
    #[error("checksum algorithm {actual:?} where {expected:?} was expected")]
    ChecksumAlgorithmMismatch {
        /// The algorithm expected.
        expected: ChecksumAlgorithm,
        /// The algorithm given.
        actual: ChecksumAlgorithm,
    },
    /// The object checksum a client gave is not the one computed.
    #[error("the {0:?} checksum does not match")]
    ChecksumMismatch(ChecksumAlgorithm),
    /// A non-last part is under the minimum size.
    #[error("part {0} too small")]
    EntityTooSmall(u32),
    /// The version being read or copied was replaced or deleted by a later write after the
    /// caller looked it up: its inline bytes went with it, or (for a copy, which takes new
    /// references on the source's blobs) its blobs were released. Look the key up again.
    #[error("the version was replaced while it was being read")]
    VersionReplaced,
    /// A write precondition (`If-Match`, `If-None-Match`) did not hold.
    #[error("precondition failed")]
    PreconditionFailed,
    /// The access key id is already registered.
    #[error("account already exists")]
    AccountExists,
    /// Another account already has that uin (the owner identity of buckets and objects).
    #[error("uin already in use")]
    UinInUse,
    /// No account with that access key id.
    #[error("no such account")]
    NoSuchAccount,
    /// A stored record could not be decoded (corruption or an unknown newer format).
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The metadata engine failed.
    #[error("metadata engine: {0}")]
    Internal(String),
    /// The data directory can be written by group or others: refused, since whoever can
    /// write there can replace the metadata (and its secret keys) or objects.
    #[error(
        "the data directory {} can be written by group or others (mode {mode:04o}); it holds \
         secret keys, so it must be private: check nobody changed it, then run `chmod 700 {}`",
        path.display(),
        path.display()
    )]
    InsecureDataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A file operation failed.
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
}

/// Shorthand for storage results.
pub type StoreResult<T> = Result<T, StoreError>;

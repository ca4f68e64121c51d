//! The data cipher: AES-256-CTR with a full 128-bit big-endian counter, seekable to any byte
//! offset, and the data key + IV it runs under ([`ContentKey`]).

use std::fmt;

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use rsa::rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use super::CryptoError;

/// Length of a data key: the data cipher is always AES-256.
pub const DATA_KEY_LEN: usize = 32;
/// Length of the IV (the initial counter block).
pub const IV_LEN: usize = 16;
/// AES block length: the counter advances once per 16 bytes.
pub const BLOCK_LEN: usize = 16;

type Aes256Ctr128 = ctr::Ctr128BE<Aes256>;

/// AES-256-CTR keystream positioned at a byte offset of an object.
///
/// The counter block for the *n*-th 16-byte block of the object is
/// `(IV as a big-endian u128 + n) mod 2^128`, exactly as the Python SDK's
/// `Counter.new(128, initial_value=iv)`. Encryption and decryption are the same operation
/// ([`apply`](Self::apply)). Starting at offset `o` sets the counter to `IV + o/16` and discards
/// `o % 16` keystream bytes, so any byte range, and any multipart part, can be processed on its
/// own. Cloning yields an independent cipher at the same position.
#[derive(Clone)]
pub struct DataCipher {
    inner: Aes256Ctr128,
}

impl DataCipher {
    /// A cipher at offset 0 of the object.
    pub fn new(key: &[u8; DATA_KEY_LEN], iv: &[u8; IV_LEN]) -> Self {
        Self {
            inner: Aes256Ctr128::new(key.into(), iv.into()),
        }
    }

    /// A cipher positioned at byte `offset` of the object (for a ranged GET starting there, or
    /// a multipart part whose first byte is object byte `offset`).
    pub fn at_offset(key: &[u8; DATA_KEY_LEN], iv: &[u8; IV_LEN], offset: u64) -> Self {
        let mut cipher = Self::new(key, iv);
        cipher.seek(offset);
        cipher
    }

    /// Repositions the keystream at byte `offset` of the object (forwards or backwards).
    pub fn seek(&mut self, offset: u64) {
        // Cannot fail: a u64 byte offset is at most 2^60 blocks, far below the 2^128 blocks a
        // 128-bit counter provides.
        self.inner.seek(offset);
    }

    /// The object byte offset the next [`apply`](Self::apply) starts at.
    pub fn position(&self) -> u64 {
        self.inner.current_pos()
    }

    /// Encrypts or decrypts `data` in place (XOR with the keystream) and advances the position
    /// by `data.len()`. Chunks of any size may be streamed through successive calls.
    pub fn apply(&mut self, data: &mut [u8]) {
        self.inner.apply_keystream(data);
    }

    /// Like [`apply`](Self::apply), into a new vector.
    pub fn apply_to_vec(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = data.to_vec();
        self.apply(&mut out);
        out
    }
}

impl fmt::Debug for DataCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataCipher")
            .field("algorithm", &"AES-256-CTR/128BE")
            .field("position", &self.position())
            .finish_non_exhaustive()
    }
}

/// The per-object secret: a 32-byte AES-256 data key and the 16-byte IV (initial counter).
///
/// Zeroed on drop; `Debug` does not print it. A fresh one is generated for every object (and
/// every multipart upload).
#[derive(Clone)]
pub struct ContentKey {
    key: Zeroizing<[u8; DATA_KEY_LEN]>,
    iv: Zeroizing<[u8; IV_LEN]>,
}

impl ContentKey {
    /// A content key from known bytes (test vectors, or an unwrapped envelope).
    pub fn new(key: [u8; DATA_KEY_LEN], iv: [u8; IV_LEN]) -> Self {
        Self {
            key: Zeroizing::new(key),
            iv: Zeroizing::new(iv),
        }
    }

    /// A random data key and IV from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut this = Self::new([0; DATA_KEY_LEN], [0; IV_LEN]);
        OsRng.fill_bytes(&mut this.key[..]);
        OsRng.fill_bytes(&mut this.iv[..]);
        this
    }

    /// A content key from slices, checking that they are 32 and 16 bytes long.
    pub fn from_slices(key: &[u8], iv: &[u8]) -> Result<Self, CryptoError> {
        let key: [u8; DATA_KEY_LEN] = key.try_into().map_err(|_| CryptoError::InvalidLength {
            what: "data key",
            expected: "32",
            actual: key.len(),
        })?;
        let key = Zeroizing::new(key);
        let iv: [u8; IV_LEN] = iv.try_into().map_err(|_| CryptoError::InvalidLength {
            what: "IV",
            expected: "16",
            actual: iv.len(),
        })?;
        Ok(Self::new(*key, iv))
    }

    /// The 32-byte data key.
    pub fn key(&self) -> &[u8; DATA_KEY_LEN] {
        &self.key
    }

    /// The 16-byte IV: the counter block of the object's first 16 bytes.
    pub fn iv(&self) -> &[u8; IV_LEN] {
        &self.iv
    }

    /// A data cipher at offset 0.
    pub fn cipher(&self) -> DataCipher {
        DataCipher::new(&self.key, &self.iv)
    }

    /// A data cipher at byte `offset` of the object.
    pub fn cipher_at(&self, offset: u64) -> DataCipher {
        DataCipher::at_offset(&self.key, &self.iv, offset)
    }
}

impl fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContentKey { <redacted> }")
    }
}

/// Checks a multipart part length: every part except the last must be a multiple of 16 bytes
/// (the COS documentation's rule for encrypted multipart uploads, which keeps each part's
/// counter at `IV + offset/16` for SDKs that do not discard partial blocks).
pub fn check_part_len(len: u64, is_last: bool) -> Result<(), CryptoError> {
    if is_last || len.is_multiple_of(BLOCK_LEN as u64) {
        Ok(())
    } else {
        Err(CryptoError::UnalignedPart { len })
    }
}

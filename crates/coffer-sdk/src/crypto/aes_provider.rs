//! [`AesProvider`]: the Python SDK's `AESProvider`, a symmetric master key that wraps content
//! keys with AES-CTR.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::{Aes128, Aes192, Aes256};
use rsa::rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use super::{b64, home_path, ContentKey, CryptoError, Envelope, KeyProvider};
use super::{DATA_KEY_LEN, IV_LEN};

/// Keystream bytes one wrap uses: 32 for the data key, then 16 for the IV.
const WRAP_STREAM_LEN: usize = DATA_KEY_LEN + IV_LEN;

enum MasterCipher {
    Aes128(Aes128),
    Aes192(Aes192),
    Aes256(Aes256),
}

/// Symmetric master key (the Python SDK's `AESProvider(aes_key=… | aes_key_path=…)`).
///
/// The master key is given as base64 text decoding to 16, 24 or 32 bytes (AES-128/192/256).
/// Wrapping XORs with one AES-CTR keystream under the master key whose counter starts at the
/// all-zero block and increments as a 128-bit big-endian integer, fresh for every wrap and
/// unwrap: wrapped key = data key ⊕ keystream\[0..32\], wrapped IV = IV ⊕ keystream\[32..48\].
/// (The same keystream for every object: the wrap hides the keys but authenticates nothing.)
///
/// Constructors never touch the file system except the `*_key_file` ones, and only
/// [`load_or_create_key_file`](Self::load_or_create_key_file) /
/// [`load_or_create_default_key_file`](Self::load_or_create_default_key_file) write.
pub struct AesProvider {
    master: MasterCipher,
}

impl AesProvider {
    /// Directory of the Python SDK's default key file, under the home directory.
    pub const DEFAULT_KEY_DIR: &'static str = ".cos_local_aes";
    /// File name of the Python SDK's default key file.
    pub const DEFAULT_KEY_FILE: &'static str = ".aes_key.pem";

    /// From base64 text (Python's `aes_key=`); ASCII whitespace is ignored.
    pub fn from_base64(key: &str) -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(b64::decode("AES master key", key.as_bytes())?);
        Self::from_bytes(&bytes)
    }

    /// From the raw master key: 16, 24 or 32 bytes.
    pub fn from_bytes(key: &[u8]) -> Result<Self, CryptoError> {
        let master = match key.len() {
            16 => Aes128::new_from_slice(key).map(MasterCipher::Aes128),
            24 => Aes192::new_from_slice(key).map(MasterCipher::Aes192),
            32 => Aes256::new_from_slice(key).map(MasterCipher::Aes256),
            _ => return Err(bad_master_len(key.len())),
        }
        .map_err(|_| bad_master_len(key.len()))?;
        Ok(Self { master })
    }

    /// From a key file holding the base64 key (Python's `aes_key_path=`), e.g. the default
    /// `~/.cos_local_aes/.aes_key.pem`. Only reads.
    ///
    /// Python falls back to the default file, or creates one, when `aes_key_path` does not
    /// exist; this returns the I/O error instead.
    pub fn from_key_file(path: impl AsRef<Path>) -> Result<Self, CryptoError> {
        let path = path.as_ref();
        let text = Zeroizing::new(std::fs::read(path).map_err(|source| CryptoError::Io {
            path: path.to_owned(),
            source,
        })?);
        let bytes = Zeroizing::new(b64::decode("AES master key file", &text)?);
        Self::from_bytes(&bytes)
    }

    /// `~/.cos_local_aes/.aes_key.pem`, the key file the Python SDK uses when given no key.
    /// Pure path computation.
    pub fn default_key_path() -> Result<PathBuf, CryptoError> {
        home_path(Self::DEFAULT_KEY_DIR, Self::DEFAULT_KEY_FILE)
    }

    /// Reads the default key file ([`default_key_path`](Self::default_key_path)).
    pub fn from_default_key_file() -> Result<Self, CryptoError> {
        Self::from_key_file(Self::default_key_path()?)
    }

    /// The Python SDK's behaviour without a key: read the default key file, or create it (and
    /// its directory) with a random 32-byte key, base64 without a newline, as Python writes it.
    pub fn load_or_create_default_key_file() -> Result<Self, CryptoError> {
        Self::load_or_create_key_file(Self::default_key_path()?)
    }

    /// Reads the key file at `path`, or creates it (and its parent directories) with a random
    /// 32-byte key. Never overwrites an existing file. On Unix a new file is mode 0600.
    pub fn load_or_create_key_file(path: impl AsRef<Path>) -> Result<Self, CryptoError> {
        let path = path.as_ref();
        if path.exists() {
            return Self::from_key_file(path);
        }
        let io_err = |source| CryptoError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err)?;
        }
        let text = Zeroizing::new(Self::generate_key_base64());
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(text.as_bytes()).map_err(io_err)?;
                file.sync_all().map_err(io_err)?;
                Self::from_base64(&text)
            }
            // Created concurrently since the check: use that one.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::from_key_file(path),
            Err(e) => Err(io_err(e)),
        }
    }

    /// A new random 32-byte master key, base64-encoded (what Python writes to the key file).
    pub fn generate_key_base64() -> String {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut key[..]);
        b64::encode(&key[..])
    }

    /// Master key length in bytes: 16, 24 or 32.
    pub fn key_len(&self) -> usize {
        match self.master {
            MasterCipher::Aes128(_) => 16,
            MasterCipher::Aes192(_) => 24,
            MasterCipher::Aes256(_) => 32,
        }
    }

    /// The first 48 bytes of AES-CTR under the master key, counter blocks 0, 1, 2.
    fn wrap_stream(&self) -> Zeroizing<[u8; WRAP_STREAM_LEN]> {
        let mut stream = Zeroizing::new([0u8; WRAP_STREAM_LEN]);
        for (n, block) in stream.chunks_exact_mut(16).enumerate() {
            block.copy_from_slice(&(n as u128).to_be_bytes());
            let block = aes::Block::from_mut_slice(block);
            match &self.master {
                MasterCipher::Aes128(c) => c.encrypt_block(block),
                MasterCipher::Aes192(c) => c.encrypt_block(block),
                MasterCipher::Aes256(c) => c.encrypt_block(block),
            }
        }
        stream
    }
}

fn bad_master_len(actual: usize) -> CryptoError {
    CryptoError::InvalidLength {
        what: "AES master key",
        expected: "16, 24 or 32",
        actual,
    }
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

impl KeyProvider for AesProvider {
    fn wrap(&self, content_key: &ContentKey) -> Result<Envelope, CryptoError> {
        let stream = self.wrap_stream();
        Ok(Envelope::new(
            xor(content_key.key(), &stream[..DATA_KEY_LEN]),
            xor(content_key.iv(), &stream[DATA_KEY_LEN..]),
        ))
    }

    fn unwrap(&self, envelope: &Envelope) -> Result<ContentKey, CryptoError> {
        let (key, iv) = (envelope.wrapped_key(), envelope.wrapped_iv());
        if key.len() != DATA_KEY_LEN {
            return Err(CryptoError::InvalidLength {
                what: "AES-wrapped data key",
                expected: "32",
                actual: key.len(),
            });
        }
        if iv.len() != IV_LEN {
            return Err(CryptoError::InvalidLength {
                what: "AES-wrapped IV",
                expected: "16",
                actual: iv.len(),
            });
        }
        let stream = self.wrap_stream();
        let key = Zeroizing::new(xor(key, &stream[..DATA_KEY_LEN]));
        let iv = Zeroizing::new(xor(iv, &stream[DATA_KEY_LEN..]));
        ContentKey::from_slices(&key, &iv)
    }
}

impl fmt::Debug for AesProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AesProvider")
            .field("key_bits", &(self.key_len() * 8))
            .finish_non_exhaustive()
    }
}

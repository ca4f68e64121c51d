//! [`RsaProvider`]: the Python SDK's `RSAProvider`, an RSA key pair that wraps the data key and
//! the IV separately with PKCS#1 v1.5 or OAEP (SHA-1) encryption.

use std::fmt;
use std::path::{Path, PathBuf};

use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::rand_core::OsRng;
use rsa::{Oaep, Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use zeroize::Zeroizing;

use super::{home_path, ContentKey, CryptoError, Envelope, KeyProvider};
use super::{DATA_KEY_LEN, IV_LEN};

/// RSA encryption padding used to wrap the data key and the IV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaPadding {
    /// PKCS#1 v1.5 encryption (RSAES-PKCS1-v1_5). Python uses it for key pairs given as PEM
    /// **strings** (`RSAProvider.get_rsa_key_pair(public_pem, private_pem)`).
    Pkcs1v15,
    /// RSAES-OAEP with SHA-1, MGF1-SHA-1 and an empty label (pycryptodome's `PKCS1_OAEP`
    /// defaults). Python uses it for key **files** (`get_rsa_key_pair_path`), the default files
    /// `~/.cos_local_rsa/.{public,private}_key.pem`, and generated keys.
    OaepSha1,
}

impl RsaPadding {
    /// The other padding.
    pub fn other(self) -> Self {
        match self {
            Self::Pkcs1v15 => Self::OaepSha1,
            Self::OaepSha1 => Self::Pkcs1v15,
        }
    }
}

impl fmt::Display for RsaPadding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pkcs1v15 => "PKCS#1 v1.5",
            Self::OaepSha1 => "OAEP-SHA1",
        })
    }
}

/// Asymmetric master key (the Python SDK's `RSAProvider`).
///
/// The data key (32 bytes) and the IV (16 bytes) are each RSA-encrypted on their own, so each
/// wrapped value is one modulus long (256 bytes for 2048-bit keys). Which padding is used
/// depends, as in Python, on how the provider was built (see [`RsaPadding`]); on unwrap the
/// configured padding is tried first and, unless disabled with
/// [`with_fallback`](Self::with_fallback)`(false)`, the other one next — so objects written by
/// either kind of Python provider are readable with the same key pair.
///
/// Keys are accepted as PEM or DER, PKCS#1 (`RSA PRIVATE KEY` / `RSA PUBLIC KEY`) or PKCS#8 /
/// SPKI (`PRIVATE KEY` / `PUBLIC KEY`), like pycryptodome's `RSA.importKey`; a private key is
/// also accepted where a public key is expected. Passphrase-protected PEMs are not supported.
/// A provider built from a public key only can wrap (upload) but not unwrap.
#[derive(Clone)]
pub struct RsaProvider {
    public: RsaPublicKey,
    private: Option<RsaPrivateKey>,
    padding: RsaPadding,
    fallback: bool,
}

impl RsaProvider {
    /// Directory of the Python SDK's default key files, under the home directory.
    pub const DEFAULT_KEY_DIR: &'static str = ".cos_local_rsa";
    /// File name of the default public key.
    pub const DEFAULT_PUBLIC_KEY_FILE: &'static str = ".public_key.pem";
    /// File name of the default private key.
    pub const DEFAULT_PRIVATE_KEY_FILE: &'static str = ".private_key.pem";
    /// Key size Python generates when it finds no key files.
    pub const GENERATED_KEY_BITS: usize = 2048;

    /// From PEM **strings**, as `RSAProvider(RSAProvider.get_rsa_key_pair(public, private))`:
    /// PKCS#1 v1.5 padding.
    pub fn from_pem(public_pem: &str, private_pem: &str) -> Result<Self, CryptoError> {
        let public = parse_public(public_pem.as_bytes())?;
        let private = parse_private(private_pem.as_bytes())?;
        Self::from_keys(public, Some(private), RsaPadding::Pkcs1v15)
    }

    /// From key **files**, as `RSAProvider(RSAProvider.get_rsa_key_pair_path(public, private))`:
    /// OAEP-SHA1 padding. Only reads.
    pub fn from_pem_files(
        public_path: impl AsRef<Path>,
        private_path: impl AsRef<Path>,
    ) -> Result<Self, CryptoError> {
        let public = parse_public(&read(public_path.as_ref())?)?;
        let private = parse_private(&read(private_path.as_ref())?)?;
        Self::from_keys(public, Some(private), RsaPadding::OaepSha1)
    }

    /// From a private key alone (PEM or DER; the public key is derived from it).
    pub fn from_private_key(key: &[u8], padding: RsaPadding) -> Result<Self, CryptoError> {
        let private = parse_private(key)?;
        Ok(Self::from_private(private, padding))
    }

    /// From a public key alone (PEM or DER): can wrap, cannot unwrap.
    pub fn from_public_key(key: &[u8], padding: RsaPadding) -> Result<Self, CryptoError> {
        let public = parse_public(key)?;
        Self::from_keys(public, None, padding)
    }

    /// From parsed keys, checking that `public` is the public half of `private`.
    pub fn from_keys(
        public: RsaPublicKey,
        private: Option<RsaPrivateKey>,
        padding: RsaPadding,
    ) -> Result<Self, CryptoError> {
        if let Some(private) = &private {
            if RsaPublicKey::from(private) != public {
                return Err(CryptoError::RsaKeyMismatch);
            }
        }
        Ok(Self {
            public,
            private,
            padding,
            fallback: true,
        })
    }

    /// From a parsed private key.
    pub fn from_private(private: RsaPrivateKey, padding: RsaPadding) -> Self {
        Self {
            public: RsaPublicKey::from(&private),
            private: Some(private),
            padding,
            fallback: true,
        }
    }

    /// A freshly generated key pair (Python generates 2048 bits and uses OAEP-SHA1). Save it
    /// with [`private_key_pem`](Self::private_key_pem) / [`public_key_pem`](Self::public_key_pem).
    pub fn generate(bits: usize, padding: RsaPadding) -> Result<Self, CryptoError> {
        let private = RsaPrivateKey::new(&mut OsRng, bits).map_err(|source| CryptoError::Rsa {
            op: "key generation",
            source,
        })?;
        Ok(Self::from_private(private, padding))
    }

    /// `(~/.cos_local_rsa/.public_key.pem, ~/.cos_local_rsa/.private_key.pem)`, the files the
    /// Python SDK uses when given no key pair. Pure path computation.
    pub fn default_key_paths() -> Result<(PathBuf, PathBuf), CryptoError> {
        Ok((
            home_path(Self::DEFAULT_KEY_DIR, Self::DEFAULT_PUBLIC_KEY_FILE)?,
            home_path(Self::DEFAULT_KEY_DIR, Self::DEFAULT_PRIVATE_KEY_FILE)?,
        ))
    }

    /// Reads the default key files (OAEP-SHA1).
    pub fn from_default_key_files() -> Result<Self, CryptoError> {
        let (public, private) = Self::default_key_paths()?;
        Self::from_pem_files(public, private)
    }

    /// The Python SDK's behaviour without a key pair: read the default key files or, when
    /// neither exists, generate a 2048-bit pair and write them (private key PKCS#1 PEM, mode
    /// 0600 on Unix; public key SPKI PEM), as Python's `exportKey()` does. Unlike Python, an
    /// existing lone file is an error rather than overwritten.
    pub fn load_or_create_default_key_files() -> Result<Self, CryptoError> {
        let (public_path, private_path) = Self::default_key_paths()?;
        Self::load_or_create_key_files(public_path, private_path)
    }

    /// Like [`load_or_create_default_key_files`](Self::load_or_create_default_key_files) for
    /// given paths.
    pub fn load_or_create_key_files(
        public_path: impl AsRef<Path>,
        private_path: impl AsRef<Path>,
    ) -> Result<Self, CryptoError> {
        let (public_path, private_path) = (public_path.as_ref(), private_path.as_ref());
        match (public_path.exists(), private_path.exists()) {
            (true, true) => return Self::from_pem_files(public_path, private_path),
            (false, false) => {}
            (true, false) => return Err(missing_file(private_path)),
            (false, true) => return Err(missing_file(public_path)),
        }
        let provider = Self::generate(Self::GENERATED_KEY_BITS, RsaPadding::OaepSha1)?;
        let private_pem = provider
            .private_key_pem()?
            .ok_or(CryptoError::MissingPrivateKey)?;
        write_new(private_path, private_pem.as_bytes(), true)?;
        write_new(public_path, provider.public_key_pem()?.as_bytes(), false)?;
        Ok(provider)
    }

    /// Whether unwrap falls back to the other padding (default `true`).
    pub fn with_fallback(mut self, fallback: bool) -> Self {
        self.fallback = fallback;
        self
    }

    /// The padding used to wrap (and tried first to unwrap).
    pub fn padding(&self) -> RsaPadding {
        self.padding
    }

    /// Whether this provider holds a private key (can unwrap).
    pub fn can_unwrap(&self) -> bool {
        self.private.is_some()
    }

    /// The public key.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`), Python's `exportKey()` format.
    pub fn public_key_pem(&self) -> Result<String, CryptoError> {
        self.public
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| CryptoError::Rsa {
                op: "public key PEM export",
                source: rsa::Error::Pkcs8(rsa::pkcs8::Error::PublicKey(e)),
            })
    }

    /// The private key as PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`), Python's
    /// `exportKey()` format; `None` for a public-key-only provider.
    pub fn private_key_pem(&self) -> Result<Option<Zeroizing<String>>, CryptoError> {
        self.private
            .as_ref()
            .map(|key| {
                key.to_pkcs1_pem(LineEnding::LF)
                    .map_err(|e| CryptoError::Rsa {
                        op: "private key PEM export",
                        source: rsa::Error::Pkcs1(e),
                    })
            })
            .transpose()
    }

    /// Encrypts one value with the configured padding; `op` names it in the error.
    fn encrypt(&self, op: &'static str, value: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let result = match self.padding {
            RsaPadding::Pkcs1v15 => self.public.encrypt(&mut OsRng, Pkcs1v15Encrypt, value),
            RsaPadding::OaepSha1 => self.public.encrypt(&mut OsRng, Oaep::new::<Sha1>(), value),
        };
        result.map_err(|source| CryptoError::Rsa { op, source })
    }

    /// Decrypts one wrapped value that must come out `expected_len` bytes long.
    fn decrypt(
        &self,
        private: &RsaPrivateKey,
        what: &'static str,
        wrapped: &[u8],
        expected_len: usize,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let paddings: &[RsaPadding] = if self.fallback {
            &[self.padding, self.padding.other()]
        } else {
            &[self.padding]
        };
        let mut wrong_len = None;
        for padding in paddings {
            let result = match padding {
                RsaPadding::Pkcs1v15 => private.decrypt(Pkcs1v15Encrypt, wrapped),
                RsaPadding::OaepSha1 => private.decrypt(Oaep::new::<Sha1>(), wrapped),
            };
            if let Ok(plain) = result {
                let plain = Zeroizing::new(plain);
                if plain.len() == expected_len {
                    return Ok(plain);
                }
                wrong_len = Some(plain.len());
            }
        }
        match wrong_len {
            Some(actual) => Err(CryptoError::InvalidLength {
                what,
                expected: if expected_len == IV_LEN { "16" } else { "32" },
                actual,
            }),
            None => Err(CryptoError::RsaDecrypt {
                what,
                padding: self.padding,
                fallback_tried: self.fallback,
            }),
        }
    }
}

impl KeyProvider for RsaProvider {
    fn wrap(&self, content_key: &ContentKey) -> Result<Envelope, CryptoError> {
        Ok(Envelope::new(
            self.encrypt("encryption of the data key", content_key.key())?,
            self.encrypt("encryption of the IV", content_key.iv())?,
        ))
    }

    fn unwrap(&self, envelope: &Envelope) -> Result<ContentKey, CryptoError> {
        let private = self
            .private
            .as_ref()
            .ok_or(CryptoError::MissingPrivateKey)?;
        let key = self.decrypt(private, "data key", envelope.wrapped_key(), DATA_KEY_LEN)?;
        let iv = self.decrypt(private, "IV", envelope.wrapped_iv(), IV_LEN)?;
        ContentKey::from_slices(&key, &iv)
    }
}

impl fmt::Debug for RsaProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use rsa::traits::PublicKeyParts as _;
        f.debug_struct("RsaProvider")
            .field("bits", &(self.public.size() * 8))
            .field("padding", &self.padding)
            .field("fallback", &self.fallback)
            .field("can_unwrap", &self.private.is_some())
            .finish()
    }
}

fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|source| CryptoError::Io {
            path: path.to_owned(),
            source,
        })
}

fn missing_file(path: &Path) -> CryptoError {
    CryptoError::Io {
        path: path.to_owned(),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the other key file of the pair exists; refusing to generate a new pair",
        ),
    }
}

fn write_new(path: &Path, contents: &[u8], private: bool) -> Result<(), CryptoError> {
    use std::io::Write as _;
    let io_err = |source| CryptoError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io_err)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(io_err)?;
    file.write_all(contents).map_err(io_err)?;
    file.sync_all().map_err(io_err)
}

/// PEM text if the bytes look like PEM, else `None` (then they are tried as DER).
fn as_pem(bytes: &[u8]) -> Result<Option<&str>, CryptoError> {
    match std::str::from_utf8(bytes) {
        Ok(text) if text.contains("-----BEGIN") => {
            // PKCS#8 `ENCRYPTED PRIVATE KEY`, or OpenSSL's legacy `Proc-Type: 4,ENCRYPTED`.
            if text.contains("-----BEGIN ENCRYPTED") || text.contains("Proc-Type: 4,ENCRYPTED") {
                return Err(CryptoError::EncryptedRsaKey);
            }
            Ok(Some(text.trim()))
        }
        _ => Ok(None),
    }
}

fn parse_private(bytes: &[u8]) -> Result<RsaPrivateKey, CryptoError> {
    let parsed = match as_pem(bytes)? {
        Some(pem) => RsaPrivateKey::from_pkcs1_pem(pem)
            .map_err(|e| e.to_string())
            .or_else(|e1| RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e2| (e1, e2.to_string()))),
        None => RsaPrivateKey::from_pkcs1_der(bytes)
            .map_err(|e| e.to_string())
            .or_else(|e1| RsaPrivateKey::from_pkcs8_der(bytes).map_err(|e2| (e1, e2.to_string()))),
    };
    parsed.map_err(|(pkcs1, pkcs8)| CryptoError::InvalidRsaKey {
        what: "private",
        reason: format!("not PKCS#1 ({pkcs1}) nor PKCS#8 ({pkcs8})"),
    })
}

fn parse_public(bytes: &[u8]) -> Result<RsaPublicKey, CryptoError> {
    let parsed = match as_pem(bytes)? {
        Some(pem) => RsaPublicKey::from_public_key_pem(pem)
            .map_err(|e| e.to_string())
            .or_else(|e1| RsaPublicKey::from_pkcs1_pem(pem).map_err(|e2| (e1, e2.to_string()))),
        None => RsaPublicKey::from_public_key_der(bytes)
            .map_err(|e| e.to_string())
            .or_else(|e1| RsaPublicKey::from_pkcs1_der(bytes).map_err(|e2| (e1, e2.to_string()))),
    };
    match parsed {
        Ok(key) => Ok(key),
        // pycryptodome accepts a private key where a public one is expected.
        Err((spki, pkcs1)) => parse_private(bytes)
            .map(|private| RsaPublicKey::from(&private))
            .map_err(|_| CryptoError::InvalidRsaKey {
                what: "public",
                reason: format!("not SPKI ({spki}) nor PKCS#1 ({pkcs1}) nor a private key"),
            }),
    }
}

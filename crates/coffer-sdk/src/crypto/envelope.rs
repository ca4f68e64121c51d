//! The metadata envelope (the two `x-cos-meta-client-side-encryption-*` values), the
//! [`KeyProvider`] trait that wraps content keys into it, and [`EncryptionMaterials`], which
//! ties a content key to its envelope.

use std::fmt;
use std::sync::Arc;

use super::{b64, ContentKey, CryptoError, DataCipher};
use super::{HEADER_IV, HEADER_KEY, META_IV, META_KEY, META_PREFIX};

/// A master-key scheme that wraps a [`ContentKey`] into an [`Envelope`] and back: the Python
/// SDK's `AESProvider` ([`AesProvider`](super::AesProvider)) and `RSAProvider`
/// ([`RsaProvider`](super::RsaProvider)).
pub trait KeyProvider: fmt::Debug + Send + Sync {
    /// Wraps the data key and the IV under the master key.
    fn wrap(&self, content_key: &ContentKey) -> Result<Envelope, CryptoError>;

    /// Recovers the data key and IV from an envelope.
    fn unwrap(&self, envelope: &Envelope) -> Result<ContentKey, CryptoError>;
}

impl<T: KeyProvider + ?Sized> KeyProvider for &T {
    fn wrap(&self, content_key: &ContentKey) -> Result<Envelope, CryptoError> {
        (**self).wrap(content_key)
    }
    fn unwrap(&self, envelope: &Envelope) -> Result<ContentKey, CryptoError> {
        (**self).unwrap(envelope)
    }
}

impl<T: KeyProvider + ?Sized> KeyProvider for Box<T> {
    fn wrap(&self, content_key: &ContentKey) -> Result<Envelope, CryptoError> {
        (**self).wrap(content_key)
    }
    fn unwrap(&self, envelope: &Envelope) -> Result<ContentKey, CryptoError> {
        (**self).unwrap(envelope)
    }
}

impl<T: KeyProvider + ?Sized> KeyProvider for Arc<T> {
    fn wrap(&self, content_key: &ContentKey) -> Result<Envelope, CryptoError> {
        (**self).wrap(content_key)
    }
    fn unwrap(&self, envelope: &Envelope) -> Result<ContentKey, CryptoError> {
        (**self).unwrap(envelope)
    }
}

/// The wrapped data key and wrapped IV as stored in an object's metadata:
/// `x-cos-meta-client-side-encryption-key: base64(wrapped key)` and
/// `x-cos-meta-client-side-encryption-iv: base64(wrapped IV)`.
///
/// The wrapped values are 32 and 16 bytes with [`AesProvider`](super::AesProvider), and one
/// RSA modulus long each (256 bytes for 2048-bit keys) with [`RsaProvider`](super::RsaProvider).
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    wrapped_key: Vec<u8>,
    wrapped_iv: Vec<u8>,
}

impl Envelope {
    /// An envelope from the raw (not base64) wrapped values.
    pub fn new(wrapped_key: Vec<u8>, wrapped_iv: Vec<u8>) -> Self {
        Self {
            wrapped_key,
            wrapped_iv,
        }
    }

    /// Reads the envelope from object metadata.
    ///
    /// `metadata` is any sequence of `(name, value)` pairs or references to pairs
    /// ([`MetadataEntry`]: `&HashMap<String, String>`, `&[(String, String)]`, arrays of
    /// `(&str, &str)`, [`headers`](Self::headers)' output…) — a user-metadata map with names
    /// without the prefix (`client-side-encryption-key`, `client-side-encryption-iv`), the
    /// response headers with full names (`x-cos-meta-client-side-encryption-key`, …), or a mix.
    /// Names match case-insensitively; other entries are ignored; values are base64, ASCII
    /// whitespace ignored.
    pub fn from_metadata<I>(metadata: I) -> Result<Self, CryptoError>
    where
        I: IntoIterator,
        I::Item: MetadataEntry,
    {
        let mut key: Option<String> = None;
        let mut iv: Option<String> = None;
        for entry in metadata {
            let name = entry.name().trim();
            let short = strip_prefix_ignore_case(name, META_PREFIX).unwrap_or(name);
            let value = entry.value().trim();
            if short.eq_ignore_ascii_case(META_KEY) {
                remember(&mut key, value, META_KEY)?;
            } else if short.eq_ignore_ascii_case(META_IV) {
                remember(&mut iv, value, META_IV)?;
            }
        }
        let key = key.ok_or(CryptoError::MissingMetadata(META_KEY))?;
        let iv = iv.ok_or(CryptoError::MissingMetadata(META_IV))?;
        Self::from_base64(&key, &iv)
    }

    /// An envelope from the two base64 metadata values.
    pub fn from_base64(key_value: &str, iv_value: &str) -> Result<Self, CryptoError> {
        Ok(Self::new(
            b64::decode(HEADER_KEY, key_value.as_bytes())?,
            b64::decode(HEADER_IV, iv_value.as_bytes())?,
        ))
    }

    /// The wrapped data key (raw bytes).
    pub fn wrapped_key(&self) -> &[u8] {
        &self.wrapped_key
    }

    /// The wrapped IV (raw bytes).
    pub fn wrapped_iv(&self) -> &[u8] {
        &self.wrapped_iv
    }

    /// The value of `x-cos-meta-client-side-encryption-key`: base64 of the wrapped data key.
    pub fn key_value(&self) -> String {
        b64::encode(&self.wrapped_key)
    }

    /// The value of `x-cos-meta-client-side-encryption-iv`: base64 of the wrapped IV.
    pub fn iv_value(&self) -> String {
        b64::encode(&self.wrapped_iv)
    }

    /// The two user-metadata entries, names without the `x-cos-meta-` prefix.
    pub fn metadata(&self) -> [(&'static str, String); 2] {
        [(META_KEY, self.key_value()), (META_IV, self.iv_value())]
    }

    /// The two request headers, full names.
    pub fn headers(&self) -> [(&'static str, String); 2] {
        [(HEADER_KEY, self.key_value()), (HEADER_IV, self.iv_value())]
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("key", &self.key_value())
            .field("iv", &self.iv_value())
            .finish()
    }
}

/// One `(name, value)` entry of object metadata or response headers, owned or borrowed: what
/// [`Envelope::from_metadata`] iterates over.
pub trait MetadataEntry {
    /// The metadata or header name.
    fn name(&self) -> &str;
    /// The value.
    fn value(&self) -> &str;
}

impl<K: AsRef<str>, V: AsRef<str>> MetadataEntry for (K, V) {
    fn name(&self) -> &str {
        self.0.as_ref()
    }
    fn value(&self) -> &str {
        self.1.as_ref()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> MetadataEntry for &(K, V) {
    fn name(&self) -> &str {
        self.0.as_ref()
    }
    fn value(&self) -> &str {
        self.1.as_ref()
    }
}

fn strip_prefix_ignore_case<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let head = name.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &name[prefix.len()..])
}

fn remember(slot: &mut Option<String>, value: &str, name: &'static str) -> Result<(), CryptoError> {
    match slot {
        Some(previous) if previous != value => Err(CryptoError::ConflictingMetadata(name)),
        Some(_) => Ok(()),
        None => {
            *slot = Some(value.to_owned());
            Ok(())
        }
    }
}

/// A content key together with its envelope: what an encrypted upload writes and what an
/// encrypted download needs.
///
/// Upload: [`generate`](Self::generate) → send [`headers`](Self::headers) (or put
/// [`metadata`](Self::metadata) into the user metadata) and encrypt the body with
/// [`cipher`](Self::cipher) / [`cipher_at`](Self::cipher_at). Download:
/// [`from_metadata`](Self::from_metadata) on the HEAD/GET response headers, then decrypt with
/// `cipher_at(first byte of the range)`.
#[derive(Clone)]
pub struct EncryptionMaterials {
    content_key: ContentKey,
    envelope: Envelope,
}

impl EncryptionMaterials {
    /// A fresh random data key and IV, wrapped by `provider` (one per object or multipart
    /// upload).
    pub fn generate<P: KeyProvider + ?Sized>(provider: &P) -> Result<Self, CryptoError> {
        Self::wrap(provider, ContentKey::generate())
    }

    /// Wraps a given content key (deterministic envelopes for tests and vectors with the AES
    /// provider; never reuse a content key for two objects).
    pub fn wrap<P: KeyProvider + ?Sized>(
        provider: &P,
        content_key: ContentKey,
    ) -> Result<Self, CryptoError> {
        let envelope = provider.wrap(&content_key)?;
        Ok(Self {
            content_key,
            envelope,
        })
    }

    /// Unwraps an envelope.
    pub fn from_envelope<P: KeyProvider + ?Sized>(
        provider: &P,
        envelope: Envelope,
    ) -> Result<Self, CryptoError> {
        let content_key = provider.unwrap(&envelope)?;
        Ok(Self {
            content_key,
            envelope,
        })
    }

    /// Reads the envelope from object metadata ([`Envelope::from_metadata`]: short or full
    /// names) and unwraps it.
    pub fn from_metadata<P, I>(provider: &P, metadata: I) -> Result<Self, CryptoError>
    where
        P: KeyProvider + ?Sized,
        I: IntoIterator,
        I::Item: MetadataEntry,
    {
        Self::from_envelope(provider, Envelope::from_metadata(metadata)?)
    }

    /// The data key and IV.
    pub fn content_key(&self) -> &ContentKey {
        &self.content_key
    }

    /// The wrapped data key and IV.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The two user-metadata entries, names without the `x-cos-meta-` prefix.
    pub fn metadata(&self) -> [(&'static str, String); 2] {
        self.envelope.metadata()
    }

    /// The two request headers, full names.
    pub fn headers(&self) -> [(&'static str, String); 2] {
        self.envelope.headers()
    }

    /// A data cipher at offset 0 of the object.
    pub fn cipher(&self) -> DataCipher {
        self.content_key.cipher()
    }

    /// A data cipher at byte `offset` of the object.
    pub fn cipher_at(&self, offset: u64) -> DataCipher {
        self.content_key.cipher_at(offset)
    }
}

impl fmt::Debug for EncryptionMaterials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionMaterials")
            .field("content_key", &self.content_key)
            .field("envelope", &self.envelope)
            .finish()
    }
}

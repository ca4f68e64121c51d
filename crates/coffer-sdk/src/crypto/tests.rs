//! Unit tests of the client-side encryption primitives: the protocol reference's §12.2 vector,
//! counter arithmetic, seeking, independent parts, both providers, metadata parsing, errors.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use aes::cipher::{BlockEncrypt, KeyInit};
use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _};
use rsa::pkcs8::EncodePublicKey as _;

use super::*;

// ---------------------------------------------------------------------------------------------
// Fixtures

const SPEC_MASTER: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const SPEC_IV: &str = "000102030405060708090a0b0c0dfffe";
const SPEC_PLAINTEXT: &[u8] = b"The quick brown fox jumps over the lazy dog.";
const SPEC_KEY_META: &str = "44ERpztYjsG44ot7zD9mkeFMZ79bqI70t+eKIFnTJyw=";
const SPEC_IV_META: &str = "Dr233bEphboAoaM+FCFuZw==";
const SPEC_CIPHERTEXT: &str =
    "90f1d027008f2bbca8915dd274af331595c7a201ce603dc2f17aa2df092b97286b9bc9fab334b7cf85f7f3da";

/// Fixed 2048-bit test key pair (TEST ONLY), as pycryptodome exports it: PKCS#1 private key,
/// SPKI public key; plus the same key as PKCS#8 / PKCS#1-public, and an unrelated private key.
const RSA_PRIVATE: &str = include_str!("../../tests/interop/keys/rsa_private.pem");
const RSA_PUBLIC: &str = include_str!("../../tests/interop/keys/rsa_public.pem");
const RSA_PRIVATE_PKCS8: &str = include_str!("../../tests/interop/keys/rsa_private_pkcs8.pem");
const RSA_PUBLIC_PKCS1: &str = include_str!("../../tests/interop/keys/rsa_public_pkcs1.pem");
const RSA_OTHER_PRIVATE: &str = include_str!("../../tests/interop/keys/rsa_other_private.pem");

fn spec_iv() -> [u8; 16] {
    hex::decode(SPEC_IV)
        .expect("hex")
        .try_into()
        .expect("16 bytes")
}

fn spec_content_key() -> ContentKey {
    ContentKey::new([0x11; 32], spec_iv())
}

fn spec_provider() -> AesProvider {
    AesProvider::from_base64(SPEC_MASTER).expect("spec master key")
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

/// The PEM-string provider (PKCS#1 v1.5), parsed once: key parsing is the slow part.
fn rsa_pkcs1v15() -> &'static RsaProvider {
    static P: OnceLock<RsaProvider> = OnceLock::new();
    P.get_or_init(|| RsaProvider::from_pem(RSA_PUBLIC, RSA_PRIVATE).expect("test key pair"))
}

/// The same key pair with OAEP-SHA1 (what Python's key-file providers use).
fn rsa_oaep() -> RsaProvider {
    RsaProvider::from_private_key(RSA_PRIVATE.as_bytes(), RsaPadding::OaepSha1)
        .expect("test private key")
}

/// AES-256 of one block under `key` (the reference the CTR keystream is checked against).
fn aes256_block(key: &[u8; 32], block: [u8; 16]) -> [u8; 16] {
    let cipher = aes::Aes256::new(key.into());
    let mut b = aes::Block::from(block);
    cipher.encrypt_block(&mut b);
    b.into()
}

fn keystream(key: &ContentKey, offset: u64, len: usize) -> Vec<u8> {
    let mut zeros = vec![0u8; len];
    key.cipher_at(offset).apply(&mut zeros);
    zeros
}

// ---------------------------------------------------------------------------------------------
// §12.2 vector

#[test]
fn spec_vector_wrap_and_encrypt() {
    let materials = EncryptionMaterials::wrap(&spec_provider(), spec_content_key()).expect("wrap");
    assert_eq!(materials.envelope().key_value(), SPEC_KEY_META);
    assert_eq!(materials.envelope().iv_value(), SPEC_IV_META);
    assert_eq!(materials.envelope().wrapped_key().len(), 32);
    assert_eq!(materials.envelope().wrapped_iv().len(), 16);
    assert_eq!(
        materials.headers(),
        [
            (HEADER_KEY, SPEC_KEY_META.to_owned()),
            (HEADER_IV, SPEC_IV_META.to_owned())
        ]
    );
    assert_eq!(
        materials.metadata(),
        [
            (META_KEY, SPEC_KEY_META.to_owned()),
            (META_IV, SPEC_IV_META.to_owned())
        ]
    );
    let ciphertext = materials.cipher().apply_to_vec(SPEC_PLAINTEXT);
    assert_eq!(hex::encode(ciphertext), SPEC_CIPHERTEXT);
}

#[test]
fn spec_vector_unwrap_and_decrypt() {
    let headers = [(HEADER_KEY, SPEC_KEY_META), (HEADER_IV, SPEC_IV_META)];
    let materials = EncryptionMaterials::from_metadata(&spec_provider(), headers).expect("unwrap");
    assert_eq!(materials.content_key().key(), &[0x11; 32]);
    assert_eq!(materials.content_key().iv(), &spec_iv());
    let mut body = hex::decode(SPEC_CIPHERTEXT).expect("hex");
    materials.cipher().apply(&mut body);
    assert_eq!(body, SPEC_PLAINTEXT);
}

#[test]
fn aes_wrap_is_a_fresh_zero_counter_stream_each_time() {
    // keystream[0..48] = AES(M, 0) || AES(M, 1) || AES(M, 2), independent of earlier wraps.
    let master: [u8; 32] = core::array::from_fn(|i| i as u8);
    let mut expected = Vec::new();
    for n in 0u128..3 {
        expected.extend_from_slice(&aes256_block(&master, n.to_be_bytes()));
    }
    let provider = spec_provider();
    for _ in 0..3 {
        let envelope = provider
            .wrap(&ContentKey::new([0; 32], [0; 16]))
            .expect("wrap");
        assert_eq!(envelope.wrapped_key(), &expected[..32]);
        assert_eq!(envelope.wrapped_iv(), &expected[32..]);
    }
}

// ---------------------------------------------------------------------------------------------
// Counter arithmetic

#[test]
fn counter_carries_across_byte_13() {
    // IV …0d fffe: block 0 = …0dfffe, block 1 = …0dffff, block 2 = …0e0000 (carry into byte 13).
    let ck = spec_content_key();
    let stream = keystream(&ck, 0, 48);
    let mut counter = spec_iv();
    for (n, expected_low) in [[0x0d, 0xff, 0xfe], [0x0d, 0xff, 0xff], [0x0e, 0x00, 0x00]]
        .iter()
        .enumerate()
    {
        counter[13..].copy_from_slice(expected_low);
        assert_eq!(
            &stream[n * 16..][..16],
            aes256_block(ck.key(), counter),
            "block {n}"
        );
    }
}

#[test]
fn counter_wraps_modulo_2_pow_128() {
    let ck = ContentKey::new([0x42; 32], [0xff; 16]);
    let stream = keystream(&ck, 0, 32);
    assert_eq!(stream[..16], aes256_block(ck.key(), [0xff; 16]));
    assert_eq!(stream[16..], aes256_block(ck.key(), [0; 16]));
    // Seeking lands on the wrapped counter too.
    assert_eq!(keystream(&ck, 16, 16), aes256_block(ck.key(), [0; 16]));
    assert_eq!(keystream(&ck, 20, 12), stream[20..]);
}

#[test]
fn counter_for_block_n_is_iv_plus_n() {
    let ck = ContentKey::new([7; 32], spec_iv());
    let iv = u128::from_be_bytes(spec_iv());
    for n in [0u64, 1, 2, 3, 255, 256, 65_537, 1 << 32, (1 << 40) + 5] {
        let counter = iv.wrapping_add(u128::from(n)).to_be_bytes();
        assert_eq!(
            keystream(&ck, n * 16, 16),
            aes256_block(ck.key(), counter),
            "n = {n}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Seeking, streaming, parts

#[test]
fn seeking_to_every_offset_matches_slicing_the_full_ciphertext() {
    let ck = spec_content_key();
    let plaintext = pattern(64 + 37);
    let ciphertext = ck.cipher().apply_to_vec(&plaintext);
    for offset in 0..=64usize {
        let mut cipher = ck.cipher_at(offset as u64);
        assert_eq!(cipher.position(), offset as u64);
        let piece = cipher.apply_to_vec(&plaintext[offset..]);
        assert_eq!(piece, ciphertext[offset..], "offset {offset}");
        assert_eq!(cipher.position(), plaintext.len() as u64);
        // Decrypting a range [offset, end) needs nothing but the offset.
        for end in [
            offset,
            offset + 1,
            (offset + 16).min(ciphertext.len()),
            ciphertext.len(),
        ] {
            let plain = ck
                .cipher_at(offset as u64)
                .apply_to_vec(&ciphertext[offset..end]);
            assert_eq!(plain, plaintext[offset..end], "range {offset}..{end}");
        }
    }
}

#[test]
fn seek_moves_forwards_and_backwards() {
    let ck = spec_content_key();
    let ciphertext = ck.cipher().apply_to_vec(&pattern(200));
    let mut cipher = ck.cipher();
    for offset in [150u64, 3, 64, 17, 0, 199, 32] {
        cipher.seek(offset);
        assert_eq!(cipher.position(), offset);
        let start = offset as usize;
        let plain = cipher.apply_to_vec(&ciphertext[start..]);
        assert_eq!(plain, pattern(200)[start..]);
    }
}

#[test]
fn streaming_in_odd_chunks_equals_one_shot() {
    let ck = spec_content_key();
    let plaintext = pattern(1000);
    let expected = ck.cipher().apply_to_vec(&plaintext);
    for chunk in [1usize, 3, 15, 16, 17, 31, 100, 999] {
        let mut cipher = ck.cipher();
        let mut out = plaintext.clone();
        for piece in out.chunks_mut(chunk) {
            cipher.apply(piece);
        }
        assert_eq!(out, expected, "chunk {chunk}");
    }
    // A clone continues independently from the same position.
    let mut a = ck.cipher_at(5);
    let mut b = a.clone();
    assert_eq!(
        a.apply_to_vec(&plaintext[5..40]),
        b.apply_to_vec(&plaintext[5..40])
    );
}

#[test]
fn parts_encrypted_independently_concatenate_to_the_whole() {
    let materials = EncryptionMaterials::generate(&spec_provider()).expect("generate");
    let plaintext = pattern(16 + 32 + 1024 + 48 + 7);
    let whole = materials.cipher().apply_to_vec(&plaintext);
    for lens in [
        &[16usize, 32, 1024, 48, 7][..],
        &[1040, 80, 7],
        &[plaintext.len()],
    ] {
        let mut offsets = Vec::new();
        let mut offset = 0;
        for (i, len) in lens.iter().enumerate() {
            check_part_len(*len as u64, i + 1 == lens.len()).expect("aligned");
            offsets.push(offset);
            offset += len;
        }
        // Encrypt in reverse order, as parallel uploads may.
        let mut parts: Vec<Vec<u8>> = Vec::new();
        for (len, offset) in lens.iter().zip(&offsets).rev() {
            let part = &plaintext[*offset..offset + len];
            parts.push(materials.cipher_at(*offset as u64).apply_to_vec(part));
        }
        parts.reverse();
        assert_eq!(parts.concat(), whole, "{lens:?}");
    }
    // Unaligned parts still decrypt correctly with offset ciphers (only the check refuses them).
    let (a, b) = plaintext.split_at(21);
    let joined = [
        materials.cipher_at(0).apply_to_vec(a),
        materials.cipher_at(21).apply_to_vec(b),
    ]
    .concat();
    assert_eq!(joined, whole);
}

#[test]
fn part_length_check() {
    assert!(check_part_len(0, true).is_ok());
    assert!(check_part_len(16, false).is_ok());
    assert!(check_part_len(5 * 1024 * 1024, false).is_ok());
    assert!(check_part_len(13, true).is_ok());
    assert!(matches!(
        check_part_len(17, false),
        Err(CryptoError::UnalignedPart { len: 17 })
    ));
}

// ---------------------------------------------------------------------------------------------
// Content keys

#[test]
fn content_keys_are_random_and_checked() {
    let a = ContentKey::generate();
    let b = ContentKey::generate();
    assert_ne!(a.key(), b.key());
    assert_ne!(a.iv(), b.iv());
    assert!(ContentKey::from_slices(&[0; 32], &[0; 16]).is_ok());
    assert!(matches!(
        ContentKey::from_slices(&[0; 31], &[0; 16]),
        Err(CryptoError::InvalidLength { actual: 31, .. })
    ));
    assert!(matches!(
        ContentKey::from_slices(&[0; 32], &[0; 8]),
        Err(CryptoError::InvalidLength { actual: 8, .. })
    ));
}

#[test]
fn debug_output_does_not_leak_keys() {
    let materials = EncryptionMaterials::wrap(&spec_provider(), spec_content_key()).expect("wrap");
    let text = format!(
        "{materials:?} {:?} {:?} {:?}",
        materials.cipher_at(3),
        spec_provider(),
        rsa_pkcs1v15()
    );
    assert!(text.contains("<redacted>"), "{text}");
    assert!(!text.contains("17, 17"), "{text}");
    assert!(!text.contains("1111"), "{text}");
    assert!(
        text.contains(SPEC_KEY_META),
        "the envelope is public: {text}"
    );
}

// ---------------------------------------------------------------------------------------------
// AES provider

#[test]
fn aes_provider_key_sizes() {
    for len in [16usize, 24, 32] {
        let master: Vec<u8> = (0..len as u8).collect();
        let provider = AesProvider::from_bytes(&master).expect("valid size");
        assert_eq!(provider.key_len(), len);
        let materials = EncryptionMaterials::generate(&provider).expect("generate");
        let back =
            EncryptionMaterials::from_metadata(&provider, materials.metadata()).expect("unwrap");
        assert_eq!(back.content_key().key(), materials.content_key().key());
        assert_eq!(back.content_key().iv(), materials.content_key().iv());
        let via_b64 = AesProvider::from_base64(&super::b64::encode(&master)).expect("b64");
        assert_eq!(
            via_b64.wrap(materials.content_key()).expect("wrap"),
            *materials.envelope()
        );
    }
    for len in [0usize, 8, 20, 31, 33, 64] {
        assert!(matches!(
            AesProvider::from_bytes(&vec![1; len]),
            Err(CryptoError::InvalidLength { actual, .. }) if actual == len
        ));
    }
    assert!(matches!(
        AesProvider::from_base64("not base64!"),
        Err(CryptoError::InvalidBase64 { .. })
    ));
    // Whitespace and missing padding are tolerated, like Python's b64decode of a key file.
    assert!(AesProvider::from_base64(" AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n").is_ok());
}

#[test]
fn aes_provider_different_master_keys_disagree() {
    let materials = EncryptionMaterials::wrap(&spec_provider(), spec_content_key()).expect("wrap");
    let other = AesProvider::from_bytes(&[9; 32]).expect("key");
    let wrong = EncryptionMaterials::from_envelope(&other, materials.envelope().clone())
        .expect("AES unwrap cannot detect a wrong master key");
    assert_ne!(wrong.content_key().key(), &[0x11; 32]);
}

#[test]
fn aes_provider_key_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("aes_key.pem");
    std::fs::write(&path, format!("{SPEC_MASTER}\n")).expect("write");
    let provider = AesProvider::from_key_file(&path).expect("read key file");
    let envelope = provider.wrap(&spec_content_key()).expect("wrap");
    assert_eq!(envelope.key_value(), SPEC_KEY_META);

    assert!(matches!(
        AesProvider::from_key_file(dir.path().join("missing")),
        Err(CryptoError::Io { .. })
    ));

    // load_or_create: creates once (nested directories), then reads the same key back.
    let created = dir.path().join("nested/.cos_local_aes/.aes_key.pem");
    let first = AesProvider::load_or_create_key_file(&created).expect("create");
    let text = std::fs::read_to_string(&created).expect("key file");
    assert_eq!(text.len(), 44, "base64 of 32 bytes, no newline: {text:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&created)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let second = AesProvider::load_or_create_key_file(&created).expect("load");
    assert_eq!(std::fs::read_to_string(&created).expect("key file"), text);
    let ck = ContentKey::generate();
    assert_eq!(
        first.wrap(&ck).expect("wrap"),
        second.wrap(&ck).expect("wrap")
    );
    // An existing key file is used as is.
    let fixed = AesProvider::load_or_create_key_file(&path).expect("existing");
    assert_eq!(fixed.wrap(&spec_content_key()).expect("wrap"), envelope);
}

#[test]
fn default_key_paths_are_pythons_and_pure() {
    if let Ok(path) = AesProvider::default_key_path() {
        assert!(path.ends_with(".cos_local_aes/.aes_key.pem"), "{path:?}");
    }
    if let Ok((public, private)) = RsaProvider::default_key_paths() {
        assert!(
            public.ends_with(".cos_local_rsa/.public_key.pem"),
            "{public:?}"
        );
        assert!(
            private.ends_with(".cos_local_rsa/.private_key.pem"),
            "{private:?}"
        );
    }
}

#[test]
fn aes_unwrap_rejects_wrong_lengths() {
    let provider = spec_provider();
    for (key_len, iv_len) in [(31usize, 16usize), (33, 16), (32, 15), (32, 32), (256, 256)] {
        let envelope = Envelope::new(vec![0; key_len], vec![0; iv_len]);
        assert!(
            matches!(
                provider.unwrap(&envelope),
                Err(CryptoError::InvalidLength { .. })
            ),
            "{key_len}/{iv_len}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// RSA provider

#[test]
fn rsa_round_trips_in_both_paddings() {
    for provider in [rsa_pkcs1v15().clone(), rsa_oaep()] {
        let materials = EncryptionMaterials::generate(&provider).expect("wrap");
        assert_eq!(materials.envelope().wrapped_key().len(), 256);
        assert_eq!(materials.envelope().wrapped_iv().len(), 256);
        // RSA encryption is randomised: wrapping again gives other bytes.
        assert_ne!(
            provider.wrap(materials.content_key()).expect("wrap"),
            *materials.envelope()
        );
        let strict = provider.clone().with_fallback(false);
        let back =
            EncryptionMaterials::from_metadata(&strict, materials.headers()).expect("unwrap");
        assert_eq!(back.content_key().key(), materials.content_key().key());
        assert_eq!(back.content_key().iv(), materials.content_key().iv());
        let ciphertext = materials.cipher().apply_to_vec(SPEC_PLAINTEXT);
        assert_eq!(back.cipher().apply_to_vec(&ciphertext), SPEC_PLAINTEXT);
    }
}

#[test]
fn rsa_constructors_pick_pythons_padding() {
    assert_eq!(rsa_pkcs1v15().padding(), RsaPadding::Pkcs1v15);
    let dir = env!("CARGO_MANIFEST_DIR");
    let files = RsaProvider::from_pem_files(
        format!("{dir}/tests/interop/keys/rsa_public.pem"),
        format!("{dir}/tests/interop/keys/rsa_private.pem"),
    )
    .expect("key files");
    assert_eq!(files.padding(), RsaPadding::OaepSha1);
    assert!(files.can_unwrap());
    assert_eq!(RsaPadding::Pkcs1v15.other(), RsaPadding::OaepSha1);
    assert_eq!(RsaPadding::OaepSha1.to_string(), "OAEP-SHA1");
}

#[test]
fn rsa_unwrap_falls_back_to_the_other_padding() {
    let pkcs = rsa_pkcs1v15().clone();
    let oaep = rsa_oaep();
    let by_oaep = EncryptionMaterials::generate(&oaep).expect("wrap");
    let by_pkcs = EncryptionMaterials::generate(&pkcs).expect("wrap");

    for (reader, materials) in [(&pkcs, &by_oaep), (&oaep, &by_pkcs)] {
        let back = reader.unwrap(materials.envelope()).expect("fallback");
        assert_eq!(back.key(), materials.content_key().key());
        assert_eq!(back.iv(), materials.content_key().iv());
        let strict = reader.clone().with_fallback(false);
        match strict.unwrap(materials.envelope()) {
            Err(CryptoError::RsaDecrypt {
                what,
                padding,
                fallback_tried,
            }) => {
                assert_eq!(what, "data key");
                assert_eq!(padding, reader.padding());
                assert!(!fallback_tried);
            }
            other => panic!("strict reader must fail, got {other:?}"),
        }
    }
}

#[test]
fn rsa_key_formats() {
    let pkcs8 =
        RsaProvider::from_pem(RSA_PUBLIC_PKCS1, RSA_PRIVATE_PKCS8).expect("PKCS#8 + PKCS#1");
    // A private key where the public one is expected (pycryptodome accepts it).
    let private_as_public = RsaProvider::from_pem(RSA_PRIVATE, RSA_PRIVATE).expect("both private");
    let crlf = RsaProvider::from_pem(
        &RSA_PUBLIC.replace('\n', "\r\n"),
        &format!("\n  {}\n\n", RSA_PRIVATE.replace('\n', "\r\n")),
    )
    .expect("CRLF and surrounding whitespace");
    // DER, both encodings.
    let private = rsa_oaep();
    let der_private = RsaProvider::from_private_key(
        rsa::RsaPrivateKey::from_pkcs1_pem(RSA_PRIVATE)
            .expect("pem")
            .to_pkcs1_der()
            .expect("der")
            .as_bytes(),
        RsaPadding::OaepSha1,
    )
    .expect("PKCS#1 DER");
    let der_public = RsaProvider::from_public_key(
        private
            .public_key()
            .to_public_key_der()
            .expect("der")
            .as_bytes(),
        RsaPadding::OaepSha1,
    )
    .expect("SPKI DER");
    assert!(!der_public.can_unwrap());

    let materials = EncryptionMaterials::generate(&der_public).expect("wrap with public only");
    for reader in [&pkcs8, &private_as_public, &crlf, &der_private, &private] {
        let back = reader.unwrap(materials.envelope()).expect("same key pair");
        assert_eq!(back.key(), materials.content_key().key());
    }
    assert!(matches!(
        der_public.unwrap(materials.envelope()),
        Err(CryptoError::MissingPrivateKey)
    ));

    // Exported PEMs are pycryptodome's formats and read back.
    let private_pem = private
        .private_key_pem()
        .expect("export")
        .expect("has private");
    assert!(private_pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let public_pem = private.public_key_pem().expect("export");
    assert!(public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(public_pem.trim(), RSA_PUBLIC.trim());
    assert!(RsaProvider::from_pem(&public_pem, &private_pem).is_ok());
    assert!(der_public.private_key_pem().expect("no private").is_none());
}

#[test]
fn rsa_key_errors() {
    assert!(matches!(
        RsaProvider::from_pem(RSA_PUBLIC, RSA_OTHER_PRIVATE),
        Err(CryptoError::RsaKeyMismatch)
    ));
    assert!(matches!(
        RsaProvider::from_pem(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            RSA_PRIVATE
        ),
        Err(CryptoError::InvalidRsaKey { what: "public", .. })
    ));
    assert!(matches!(
        RsaProvider::from_pem(RSA_PUBLIC, "garbage"),
        Err(CryptoError::InvalidRsaKey {
            what: "private",
            ..
        })
    ));
    // The public key is not accepted as a private key.
    assert!(matches!(
        RsaProvider::from_pem(RSA_PUBLIC, RSA_PUBLIC),
        Err(CryptoError::InvalidRsaKey {
            what: "private",
            ..
        })
    ));
    let encrypted_legacy = RSA_PRIVATE.replacen(
        "-----BEGIN RSA PRIVATE KEY-----\n",
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: DES-EDE3-CBC,0011223344556677\n\n",
        1,
    );
    assert!(matches!(
        RsaProvider::from_pem(RSA_PUBLIC, &encrypted_legacy),
        Err(CryptoError::EncryptedRsaKey)
    ));
    assert!(matches!(
        RsaProvider::from_private_key(
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            RsaPadding::OaepSha1
        ),
        Err(CryptoError::EncryptedRsaKey)
    ));
    assert!(matches!(
        RsaProvider::from_pem_files("/nonexistent/pub.pem", "/nonexistent/priv.pem"),
        Err(CryptoError::Io { .. })
    ));
}

#[test]
fn rsa_wrong_key_or_tampered_envelope_fails() {
    let materials = EncryptionMaterials::generate(rsa_pkcs1v15()).expect("wrap");
    let other = RsaProvider::from_private_key(RSA_OTHER_PRIVATE.as_bytes(), RsaPadding::Pkcs1v15)
        .expect("other key");
    assert!(matches!(
        other.unwrap(materials.envelope()),
        Err(CryptoError::RsaDecrypt {
            fallback_tried: true,
            ..
        })
    ));

    let mut key = materials.envelope().wrapped_key().to_vec();
    key[100] ^= 0x01;
    let tampered = Envelope::new(key, materials.envelope().wrapped_iv().to_vec());
    assert!(matches!(
        rsa_pkcs1v15().unwrap(&tampered),
        Err(CryptoError::RsaDecrypt {
            what: "data key",
            ..
        })
    ));
    let mut iv = materials.envelope().wrapped_iv().to_vec();
    iv.truncate(128);
    let truncated = Envelope::new(materials.envelope().wrapped_key().to_vec(), iv);
    assert!(matches!(
        rsa_pkcs1v15().unwrap(&truncated),
        Err(CryptoError::RsaDecrypt { what: "IV", .. })
    ));
}

#[test]
fn rsa_generated_key_files_like_python() {
    let dir = tempfile::tempdir().expect("tempdir");
    let public = dir.path().join(".cos_local_rsa/.public_key.pem");
    let private = dir.path().join(".cos_local_rsa/.private_key.pem");
    let created = RsaProvider::load_or_create_key_files(&public, &private).expect("generate");
    assert_eq!(created.padding(), RsaPadding::OaepSha1);
    let public_text = std::fs::read_to_string(&public).expect("public file");
    let private_text = std::fs::read_to_string(&private).expect("private file");
    assert!(public_text.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert!(private_text.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&private)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    {
        use rsa::traits::PublicKeyParts as _;
        assert_eq!(created.public_key().size(), 256, "2048-bit like Python");
    }

    let loaded = RsaProvider::load_or_create_key_files(&public, &private).expect("load");
    assert_eq!(
        std::fs::read_to_string(&private).expect("unchanged"),
        private_text
    );
    let materials = EncryptionMaterials::generate(&created).expect("wrap");
    let back = loaded
        .with_fallback(false)
        .unwrap(materials.envelope())
        .expect("unwrap");
    assert_eq!(back.key(), materials.content_key().key());

    // A lone file of the pair is not overwritten.
    std::fs::remove_file(&public).expect("remove");
    assert!(matches!(
        RsaProvider::load_or_create_key_files(&public, &private),
        Err(CryptoError::Io { .. })
    ));
    assert_eq!(
        std::fs::read_to_string(&private).expect("kept"),
        private_text
    );
}

// ---------------------------------------------------------------------------------------------
// Metadata envelope

#[test]
fn metadata_accepts_short_full_and_mixed_case_names() {
    let provider = spec_provider();
    let check = |materials: Result<EncryptionMaterials, CryptoError>| {
        let materials = materials.expect("unwrap");
        assert_eq!(materials.content_key().key(), &[0x11; 32]);
        assert_eq!(materials.content_key().iv(), &spec_iv());
    };
    // User-metadata map as the SDK passes it (no prefix), with other entries.
    let mut short = HashMap::new();
    short.insert("author".to_owned(), "someone".to_owned());
    short.insert(META_KEY.to_owned(), SPEC_KEY_META.to_owned());
    short.insert(META_IV.to_owned(), SPEC_IV_META.to_owned());
    check(EncryptionMaterials::from_metadata(&provider, &short));
    // Response headers with full names.
    let full: BTreeMap<&str, &str> = [
        ("content-length", "44"),
        ("x-cos-meta-client-side-encryption-key", SPEC_KEY_META),
        ("x-cos-meta-client-side-encryption-iv", SPEC_IV_META),
    ]
    .into_iter()
    .collect();
    check(EncryptionMaterials::from_metadata(&provider, &full));
    // Mixed: one short, one full; odd case; padded values; duplicates that agree.
    check(EncryptionMaterials::from_metadata(
        &provider,
        vec![
            (
                "X-Cos-Meta-Client-Side-Encryption-Key",
                format!(" {SPEC_KEY_META} "),
            ),
            ("Client-Side-Encryption-IV", SPEC_IV_META.to_owned()),
            ("client-side-encryption-key", SPEC_KEY_META.to_owned()),
        ],
    ));
    // Unpadded base64 is tolerated.
    check(EncryptionMaterials::from_metadata(
        &provider,
        [
            (META_KEY, SPEC_KEY_META.trim_end_matches('=')),
            (META_IV, SPEC_IV_META.trim_end_matches('=')),
        ],
    ));
    // Output round-trips through both forms.
    let materials = EncryptionMaterials::generate(&provider).expect("generate");
    for entries in [materials.metadata(), materials.headers()] {
        let env = Envelope::from_metadata(entries).expect("parse");
        assert_eq!(&env, materials.envelope());
    }
}

#[test]
fn metadata_errors() {
    let provider = spec_provider();
    let err = |entries: Vec<(&str, &str)>| {
        EncryptionMaterials::from_metadata(&provider, entries).expect_err("must fail")
    };
    assert!(matches!(
        err(vec![]),
        CryptoError::MissingMetadata(META_KEY)
    ));
    assert!(matches!(
        err(vec![(HEADER_KEY, SPEC_KEY_META)]),
        CryptoError::MissingMetadata(META_IV)
    ));
    assert!(matches!(
        err(vec![
            (HEADER_IV, SPEC_IV_META),
            ("x-cos-meta-client-side-encryption-start", "0")
        ]),
        CryptoError::MissingMetadata(META_KEY)
    ));
    assert!(matches!(
        err(vec![(HEADER_KEY, "***"), (HEADER_IV, SPEC_IV_META)]),
        CryptoError::InvalidBase64 {
            what: HEADER_KEY,
            ..
        }
    ));
    assert!(matches!(
        err(vec![
            (HEADER_KEY, SPEC_KEY_META),
            (HEADER_IV, "Dr233bEphboAoaM+FCFuZw=!")
        ]),
        CryptoError::InvalidBase64 {
            what: HEADER_IV,
            ..
        }
    ));
    assert!(matches!(
        err(vec![
            (HEADER_KEY, SPEC_KEY_META),
            (META_KEY, SPEC_IV_META),
            (HEADER_IV, SPEC_IV_META)
        ]),
        CryptoError::ConflictingMetadata(META_KEY)
    ));
    // Truncated wrapped key (valid base64, wrong length).
    assert!(matches!(
        err(vec![
            (HEADER_KEY, "44ERpztYjsG44ot7zD9mkeFMZ79bqI70"),
            (HEADER_IV, SPEC_IV_META)
        ]),
        CryptoError::InvalidLength { actual: 24, .. }
    ));
    // Error messages name the header.
    let message = err(vec![(HEADER_KEY, SPEC_KEY_META)]).to_string();
    assert!(
        message.contains("x-cos-meta-client-side-encryption-iv"),
        "{message}"
    );
}

#[test]
fn tampered_aes_envelope_goes_undetected_but_yields_other_keys() {
    // AES wrapping has no integrity: a flipped bit flips the same bit of the data key / IV.
    let provider = spec_provider();
    let envelope = provider.wrap(&spec_content_key()).expect("wrap");
    let mut key = envelope.wrapped_key().to_vec();
    key[0] ^= 0x80;
    let back = provider
        .unwrap(&Envelope::new(key, envelope.wrapped_iv().to_vec()))
        .expect("no integrity check");
    assert_eq!(back.key()[0], 0x11 ^ 0x80);
    assert_eq!(back.key()[1..], [0x11; 31]);
}

#[test]
fn providers_work_behind_trait_objects() {
    let providers: Vec<Arc<dyn KeyProvider>> =
        vec![Arc::new(spec_provider()), Arc::new(rsa_pkcs1v15().clone())];
    for provider in &providers {
        let materials = EncryptionMaterials::generate(provider).expect("wrap");
        let boxed: Box<dyn KeyProvider> = Box::new(provider.clone());
        let back = EncryptionMaterials::from_metadata(&boxed, materials.headers()).expect("unwrap");
        assert_eq!(back.content_key().key(), materials.content_key().key());
        let by_ref = EncryptionMaterials::from_envelope(provider.as_ref(), back.envelope().clone())
            .expect("unwrap");
        assert_eq!(by_ref.content_key().iv(), materials.content_key().iv());
    }
}

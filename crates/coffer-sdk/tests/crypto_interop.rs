//! Interop regression test against the official COS Python SDK (cos-python-sdk-v5 1.9.44).
//!
//! `tests/interop/python_vectors.json` was produced by `tests/interop/python_vectors.py
//! generate`, which runs the SDK's own `CosEncryptionClient` offline (put_object and an in-order
//! multipart upload, for every provider kind) — see that script. Here the Rust primitives must
//! read every object, reproduce every ciphertext from the unwrapped key, reproduce every AES
//! envelope byte for byte, and produce each multipart part independently from its offset.
//! Python is not needed to run this test. The other direction (Python reading objects written
//! by Rust) is `examples/crypto_interop_vectors.rs` + `python_vectors.py verify`.

use std::path::PathBuf;

use base64::Engine as _;
use coffer_sdk::crypto::{
    AesProvider, EncryptionMaterials, KeyProvider, RsaPadding, RsaProvider, HEADER_IV, HEADER_KEY,
};
use serde_json::Value;

const VECTORS: &str = include_str!("interop/python_vectors.json");

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/keys")
}

fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64 in vectors")
}

/// `pattern(len, seed)` of python_vectors.py.
fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 7 + seed * 13 + 3) % 256) as u8)
        .collect()
}

/// The Rust provider equivalent to the named Python provider, built the same way (strings vs
/// files decide the RSA padding) and with fallback off, so the padding mapping is checked.
fn provider(name: &str, tmp: &tempfile::TempDir) -> Box<dyn KeyProvider> {
    let aes = |len: u8| -> Box<dyn KeyProvider> {
        let master: Vec<u8> = (0..len).collect();
        Box::new(AesProvider::from_bytes(&master).expect("master key"))
    };
    let keys = keys_dir();
    match name {
        "aes128" => aes(16),
        "aes192" => aes(24),
        "aes256" => aes(32),
        "aes256_file" => {
            let path = tmp.path().join("aes_key.pem");
            std::fs::write(&path, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").expect("write");
            Box::new(AesProvider::from_key_file(&path).expect("key file"))
        }
        "rsa_pkcs1v15" => {
            let public = std::fs::read_to_string(keys.join("rsa_public.pem")).expect("key");
            let private = std::fs::read_to_string(keys.join("rsa_private.pem")).expect("key");
            let p = RsaProvider::from_pem(&public, &private).expect("PEM strings");
            assert_eq!(p.padding(), RsaPadding::Pkcs1v15);
            Box::new(p.with_fallback(false))
        }
        "rsa_oaep" => {
            let p = RsaProvider::from_pem_files(
                keys.join("rsa_public.pem"),
                keys.join("rsa_private.pem"),
            )
            .expect("PEM files");
            assert_eq!(p.padding(), RsaPadding::OaepSha1);
            Box::new(p.with_fallback(false))
        }
        "rsa_oaep_pkcs8" => {
            let p = RsaProvider::from_pem_files(
                keys.join("rsa_public_pkcs1.pem"),
                keys.join("rsa_private_pkcs8.pem"),
            )
            .expect("PEM files");
            Box::new(p.with_fallback(false))
        }
        other => panic!("unknown provider {other}"),
    }
}

struct Case {
    name: String,
    provider: String,
    key_meta: String,
    iv_meta: String,
    plaintext: Vec<u8>,
    ciphertext: Vec<u8>,
    part_lens: Vec<usize>,
    headers: Vec<(String, String)>,
}

fn cases() -> Vec<Case> {
    let root: Value = serde_json::from_str(VECTORS).expect("vectors JSON");
    assert!(root["producer"]
        .as_str()
        .expect("producer")
        .contains("cos-python-sdk-v5 1.9.44"));
    root["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            let n = |k: &str| c[k].as_u64().expect("number") as usize;
            let plaintext = match c.get("plaintext") {
                Some(p) => b64(p.as_str().expect("plaintext")),
                None => pattern(n("plaintext_len"), n("plaintext_seed")),
            };
            let headers: Vec<(String, String)> = c["headers"]
                .as_object()
                .expect("headers")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("header value").to_owned()))
                .collect();
            Case {
                name: s("name"),
                provider: s("provider"),
                key_meta: c["headers"][HEADER_KEY]
                    .as_str()
                    .expect("key meta")
                    .to_owned(),
                iv_meta: c["headers"][HEADER_IV]
                    .as_str()
                    .expect("iv meta")
                    .to_owned(),
                plaintext,
                ciphertext: b64(&s("ciphertext")),
                part_lens: c
                    .get("part_lens")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|v| v.as_u64().expect("len") as usize)
                            .collect()
                    })
                    .unwrap_or_default(),
                headers,
            }
        })
        .collect()
}

#[test]
fn vectors_cover_every_provider_kind() {
    let cases = cases();
    for provider in [
        "aes128",
        "aes192",
        "aes256",
        "aes256_file",
        "rsa_pkcs1v15",
        "rsa_oaep",
        "rsa_oaep_pkcs8",
    ] {
        let of_kind: Vec<_> = cases.iter().filter(|c| c.provider == provider).collect();
        assert!(of_kind.len() >= 8, "{provider}: {}", of_kind.len());
        assert!(
            of_kind.iter().any(|c| !c.part_lens.is_empty()),
            "{provider}"
        );
    }
}

#[test]
fn spec_vector_as_written_by_the_python_sdk() {
    let case = cases()
        .into_iter()
        .find(|c| c.name == "spec-vector")
        .expect("spec vector case");
    assert_eq!(
        case.key_meta,
        "44ERpztYjsG44ot7zD9mkeFMZ79bqI70t+eKIFnTJyw="
    );
    assert_eq!(case.iv_meta, "Dr233bEphboAoaM+FCFuZw==");
    assert_eq!(
        hex::encode(&case.ciphertext),
        "90f1d027008f2bbca8915dd274af331595c7a201ce603dc2f17aa2df092b97286b9bc9fab334b7cf85f7f3da"
    );
}

#[test]
fn rust_reads_every_python_object() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut checked = 0;
    for case in cases() {
        let provider = provider(&case.provider, &tmp);
        let materials = EncryptionMaterials::from_metadata(&provider, &case.headers)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        // Whole object.
        let plain = materials.cipher().apply_to_vec(&case.ciphertext);
        assert_eq!(plain, case.plaintext, "{}", case.name);
        // Ranged reads from every start offset of the first 40 bytes (and a tail).
        let len = case.ciphertext.len();
        for start in (0..len.min(40)).chain([len / 2, len - 1]) {
            let end = (start + 37).min(len);
            let plain = materials
                .cipher_at(start as u64)
                .apply_to_vec(&case.ciphertext[start..end]);
            assert_eq!(plain, case.plaintext[start..end], "{} @{start}", case.name);
        }
        // Rust encryption under the unwrapped key is the Python ciphertext.
        assert_eq!(
            materials.cipher().apply_to_vec(&case.plaintext),
            case.ciphertext,
            "{}",
            case.name
        );
        checked += 1;
    }
    assert!(checked >= 59, "{checked}");
}

#[test]
fn aes_envelopes_rewrap_byte_for_byte() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for case in cases()
        .into_iter()
        .filter(|c| c.provider.starts_with("aes"))
    {
        let provider = provider(&case.provider, &tmp);
        let materials =
            EncryptionMaterials::from_metadata(&provider, &case.headers).expect("unwrap");
        let rewrapped =
            EncryptionMaterials::wrap(&provider, materials.content_key().clone()).expect("wrap");
        assert_eq!(
            rewrapped.envelope().key_value(),
            case.key_meta,
            "{}",
            case.name
        );
        assert_eq!(
            rewrapped.envelope().iv_value(),
            case.iv_meta,
            "{}",
            case.name
        );
        assert_eq!(rewrapped.headers(), materials.headers(), "{}", case.name);
    }
}

#[test]
fn python_multipart_parts_equal_independent_offset_encryption() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut uploads = 0;
    for case in cases().into_iter().filter(|c| !c.part_lens.is_empty()) {
        let provider = provider(&case.provider, &tmp);
        let materials =
            EncryptionMaterials::from_metadata(&provider, &case.headers).expect("unwrap");
        assert_eq!(case.part_lens.iter().sum::<usize>(), case.ciphertext.len());
        let mut offset = 0;
        // Python uploads parts in order on one shared keystream; each part must nevertheless
        // be exactly what an independent cipher at the part's offset produces.
        for (i, len) in case.part_lens.iter().enumerate() {
            coffer_sdk::crypto::check_part_len(*len as u64, i + 1 == case.part_lens.len())
                .expect("aligned parts");
            let part = materials
                .cipher_at(offset as u64)
                .apply_to_vec(&case.plaintext[offset..offset + len]);
            assert_eq!(
                part,
                case.ciphertext[offset..offset + len],
                "{} part {}",
                case.name,
                i + 1
            );
            offset += len;
        }
        uploads += 1;
    }
    assert_eq!(uploads, 7);
}

#[test]
fn rsa_objects_need_the_right_padding_without_fallback() {
    // Python's string-key provider (PKCS#1 v1.5) and file provider (OAEP) are not
    // interchangeable; a strict Rust reader of the other padding fails, a default one falls back.
    let cases = cases();
    let keys = keys_dir();
    let public = std::fs::read_to_string(keys.join("rsa_public.pem")).expect("key");
    let private = std::fs::read_to_string(keys.join("rsa_private.pem")).expect("key");
    let pkcs = RsaProvider::from_pem(&public, &private).expect("pair");
    let oaep =
        RsaProvider::from_pem_files(keys.join("rsa_public.pem"), keys.join("rsa_private.pem"))
            .expect("pair");
    for case in cases
        .iter()
        .filter(|c| c.provider.starts_with("rsa"))
        .take(40)
    {
        let other = if case.provider == "rsa_pkcs1v15" {
            &oaep
        } else {
            &pkcs
        };
        let strict = other.clone().with_fallback(false);
        assert!(
            EncryptionMaterials::from_metadata(&strict, &case.headers).is_err(),
            "{}",
            case.name
        );
        let lenient = EncryptionMaterials::from_metadata(other, &case.headers).expect("fallback");
        assert_eq!(
            lenient.cipher().apply_to_vec(&case.ciphertext),
            case.plaintext,
            "{}",
            case.name
        );
    }
}

//! Writes client-side encrypted objects with coffer-sdk's `crypto` primitives, as JSON, for the
//! official COS Python SDK to read back:
//!
//! ```text
//! cargo run -p coffer-sdk --example crypto_interop_vectors > /tmp/rust_vectors.json
//! python3 crates/coffer-sdk/tests/interop/python_vectors.py verify /tmp/rust_vectors.json
//! ```
//!
//! The JSON format and the provider names are those of `tests/interop/python_vectors.py`.
//! Multipart objects are encrypted the parallel way (each part with its own cipher at its
//! offset, last part first), which the Python SDK itself cannot do, to show that its reader
//! still decrypts them.

use std::error::Error;
use std::path::PathBuf;

use base64::Engine as _;
use coffer_sdk::crypto::{
    check_part_len, AesProvider, EncryptionMaterials, KeyProvider, RsaProvider,
};
use serde_json::{json, Map, Value};

const PROVIDERS: [&str; 7] = [
    "aes256",
    "aes192",
    "aes128",
    "aes256_file",
    "rsa_pkcs1v15",
    "rsa_oaep",
    "rsa_oaep_pkcs8",
];
const LENS: [usize; 9] = [0, 1, 15, 16, 17, 44, 100, 1000, 8200];
const PART_LENS: [usize; 4] = [32, 48, 1040, 13];

/// `pattern(len, seed)` of python_vectors.py.
fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 7 + seed * 13 + 3) % 256) as u8)
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn provider(name: &str, tmp: &std::path::Path) -> Result<Box<dyn KeyProvider>, Box<dyn Error>> {
    let keys = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/keys");
    let master = |len: u8| (0..len).collect::<Vec<u8>>();
    Ok(match name {
        "aes128" => Box::new(AesProvider::from_bytes(&master(16))?),
        "aes192" => Box::new(AesProvider::from_bytes(&master(24))?),
        "aes256" => Box::new(AesProvider::from_bytes(&master(32))?),
        "aes256_file" => {
            let path = tmp.join("aes_key.pem");
            std::fs::write(&path, b64(&master(32)) + "\n")?;
            Box::new(AesProvider::from_key_file(&path)?)
        }
        "rsa_pkcs1v15" => Box::new(RsaProvider::from_pem(
            &std::fs::read_to_string(keys.join("rsa_public.pem"))?,
            &std::fs::read_to_string(keys.join("rsa_private.pem"))?,
        )?),
        "rsa_oaep" => Box::new(RsaProvider::from_pem_files(
            keys.join("rsa_public.pem"),
            keys.join("rsa_private.pem"),
        )?),
        "rsa_oaep_pkcs8" => Box::new(RsaProvider::from_pem_files(
            keys.join("rsa_public_pkcs1.pem"),
            keys.join("rsa_private_pkcs8.pem"),
        )?),
        other => return Err(format!("unknown provider {other}").into()),
    })
}

fn headers(materials: &EncryptionMaterials) -> Value {
    let map: Map<String, Value> = materials
        .headers()
        .into_iter()
        .map(|(name, value)| (name.to_owned(), Value::String(value)))
        .collect();
    Value::Object(map)
}

fn main() -> Result<(), Box<dyn Error>> {
    let tmp = std::env::temp_dir().join(format!("coffer-crypto-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let mut cases = Vec::new();
    for (seed, name) in PROVIDERS.iter().enumerate() {
        let provider = provider(name, &tmp)?;
        for len in LENS {
            let plaintext = pattern(len, seed);
            let materials = EncryptionMaterials::generate(&provider)?;
            let ciphertext = materials.cipher().apply_to_vec(&plaintext);
            cases.push(json!({
                "name": format!("{name}/put-{len}"),
                "provider": name,
                "headers": headers(&materials),
                "plaintext_len": len,
                "plaintext_seed": seed,
                "ciphertext": b64(&ciphertext),
            }));
        }
        // Multipart, parts encrypted independently from their offsets, last part first.
        let total: usize = PART_LENS.iter().sum();
        let plaintext = pattern(total, seed + 100);
        let materials = EncryptionMaterials::generate(&provider)?;
        let mut ciphertext = vec![0u8; total];
        let mut offsets = Vec::new();
        let mut offset = 0;
        for (i, len) in PART_LENS.iter().enumerate() {
            check_part_len(*len as u64, i + 1 == PART_LENS.len())?;
            offsets.push((offset, *len));
            offset += len;
        }
        for (offset, len) in offsets.into_iter().rev() {
            let part = &mut ciphertext[offset..offset + len];
            part.copy_from_slice(&plaintext[offset..offset + len]);
            materials.cipher_at(offset as u64).apply(part);
        }
        cases.push(json!({
            "name": format!("{name}/multipart"),
            "provider": name,
            "headers": headers(&materials),
            "plaintext_len": total,
            "plaintext_seed": seed + 100,
            "ciphertext": b64(&ciphertext),
            "part_lens": PART_LENS,
        }));
    }
    std::fs::remove_dir_all(&tmp)?;
    let out = json!({ "producer": "coffer-sdk crypto (Rust)", "cases": cases });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

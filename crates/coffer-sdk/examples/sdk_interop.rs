//! A small command-line tool through which the official COS Python SDK's acceptance tests
//! (`tests/acceptance/test_sdk_interop.py`) drive this SDK: encrypted uploads and downloads
//! with every key-provider kind, and signatures computed at a fixed time.
//!
//! ```text
//! sdk_interop put-encrypted <aes|rsa-pkcs1|rsa-oaep> <key file(s)> <bucket> <key> <local file> [<part size> <threads>]
//! sdk_interop get-encrypted <aes|rsa-pkcs1|rsa-oaep> <key file(s)> <bucket> <key> <out file> [<first>-<last>]
//! sdk_interop get-auth   <method> <bucket> <key> <unix time> <expire> [name=value…]
//! sdk_interop presign    <method> <bucket> <key> <unix time> <expire> [name=value…]
//! sdk_interop presign-ip <method> <bucket> <key> <unix time> <expire> [name=value…]
//! ```
//!
//! Key files: `aes` takes one file holding the base64 master key (Python's `aes_key_path`);
//! `rsa-pkcs1` and `rsa-oaep` take the public then the private key PEM file — `rsa-pkcs1` as
//! Python's `get_rsa_key_pair(public_pem, private_pem)` (PEM strings, PKCS#1 v1.5),
//! `rsa-oaep` as `get_rsa_key_pair_path(public_path, private_path)` (OAEP-SHA1). The padding
//! is not allowed to fall back, so reading proves which one the writer used.
//!
//! `put-encrypted` with a part size and thread count uses `upload_file` (parallel encrypted
//! multipart above the part size); without, one streamed `put_object`. It prints the ETag and
//! the part count.
//!
//! Signatures: `name=value` arguments are signed query parameters; `header:Name=value`
//! arguments are signed headers. `get-auth` prints the Authorization value and `presign` the
//! URL, both from a client configured **without** an IP — the URL names
//! `http://<bucket>.cos.ap-guangzhou.myqcloud.com/…`, as the Python SDK's `get_presigned_url`
//! without `IP`. `presign-ip` uses the IP-configured client: a path-style URL on
//! `http://<ip>:<port>/<bucket>/<key>` that Coffer serves directly.
//!
//! Configuration from the environment: `COFFER_IP`, `COFFER_PORT`, `COFFER_SECRET_ID`,
//! `COFFER_SECRET_KEY`, `COFFER_APPID`; the region is `ap-guangzhou`, the scheme `http`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use coffer_sdk::crypto::{AesProvider, KeyProvider, RsaProvider};
use coffer_sdk::encryption::{CosEncryptionClient, EncryptedFileUpload};
use coffer_sdk::{
    ByteRange, CosClient, CosConfig, GetObjectRequest, Method, PresignRequest, PutObjectRequest,
    Scheme,
};

const REGION: &str = "ap-guangzhou";

type Failure = Box<dyn std::error::Error>;

const USAGE: &str = "usage:
  sdk_interop put-encrypted <aes|rsa-pkcs1|rsa-oaep> <key file(s)> <bucket> <key> <local file> [<part size> <threads>]
  sdk_interop get-encrypted <aes|rsa-pkcs1|rsa-oaep> <key file(s)> <bucket> <key> <out file> [<first>-<last>]
  sdk_interop get-auth|presign|presign-ip <method> <bucket> <key> <unix time> <expire> [name=value|header:Name=value ...]
environment: COFFER_IP COFFER_PORT COFFER_SECRET_ID COFFER_SECRET_KEY COFFER_APPID";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<UsageError>() => {
            eprintln!("{e}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("sdk_interop: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A malformed command line.
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(message: impl Into<String>) -> Failure {
    Box::new(UsageError(message.into()))
}

async fn run(args: &[String]) -> Result<(), Failure> {
    let (command, rest) = args.split_first().ok_or_else(|| usage("no subcommand"))?;
    match command.as_str() {
        "put-encrypted" => put_encrypted(rest).await,
        "get-encrypted" => get_encrypted(rest).await,
        "get-auth" | "presign" | "presign-ip" => sign(command, rest).await,
        other => Err(usage(format!("unknown subcommand {other:?}"))),
    }
}

fn env(name: &str) -> Result<String, Failure> {
    std::env::var(name).map_err(|_| usage(format!("{name} is not set")))
}

/// The configuration without an IP: requests (and signatures) name the real COS host.
fn base_config() -> Result<CosConfig, Failure> {
    Ok(CosConfig::new(REGION)
        .credentials(env("COFFER_SECRET_ID")?, env("COFFER_SECRET_KEY")?)
        .appid(env("COFFER_APPID")?)
        .scheme(Scheme::Http))
}

/// A client that talks to the server at `COFFER_IP:COFFER_PORT`.
fn ip_client() -> Result<CosClient, Failure> {
    let port: u16 = env("COFFER_PORT")?
        .parse()
        .map_err(|_| usage("COFFER_PORT is not a port number"))?;
    Ok(CosClient::new(
        base_config()?.ip(env("COFFER_IP")?).port(port),
    )?)
}

/// The provider named on the command line and the arguments after its key files.
fn provider(args: &[String]) -> Result<(Arc<dyn KeyProvider>, &[String]), Failure> {
    let (kind, rest) = args.split_first().ok_or_else(|| usage("no provider"))?;
    let need = |n: usize| {
        if rest.len() < n {
            Err(usage(format!("{kind} needs {n} key file(s)")))
        } else {
            Ok(())
        }
    };
    Ok(match kind.as_str() {
        "aes" => {
            need(1)?;
            (Arc::new(AesProvider::from_key_file(&rest[0])?), &rest[1..])
        }
        "rsa-pkcs1" => {
            need(2)?;
            let public = std::fs::read_to_string(&rest[0])?;
            let private = std::fs::read_to_string(&rest[1])?;
            let provider = RsaProvider::from_pem(&public, &private)?.with_fallback(false);
            (Arc::new(provider), &rest[2..])
        }
        "rsa-oaep" => {
            need(2)?;
            let provider = RsaProvider::from_pem_files(&rest[0], &rest[1])?.with_fallback(false);
            (Arc::new(provider), &rest[2..])
        }
        other => return Err(usage(format!("unknown provider {other:?}"))),
    })
}

async fn put_encrypted(args: &[String]) -> Result<(), Failure> {
    let (provider, rest) = provider(args)?;
    let crypto = CosEncryptionClient::new(ip_client()?, provider);
    match rest {
        [bucket, key, file] => {
            let put = crypto
                .put_object_from_local_file(PutObjectRequest::new(bucket, key), Path::new(file))
                .await?;
            println!("{} 0", put.etag);
        }
        [bucket, key, file, part_size, threads] => {
            let part_size = part_size
                .parse()
                .map_err(|_| usage("the part size is not a number"))?;
            let threads = threads
                .parse()
                .map_err(|_| usage("the thread count is not a number"))?;
            let out = crypto
                .upload_file_with(
                    EncryptedFileUpload::new(bucket, key, file)
                        .part_size(part_size)
                        .threads(threads),
                )
                .await?;
            println!("{} {}", out.etag, out.parts);
        }
        _ => {
            return Err(usage(
                "put-encrypted: <bucket> <key> <local file> [<part size> <threads>]",
            ))
        }
    }
    Ok(())
}

async fn get_encrypted(args: &[String]) -> Result<(), Failure> {
    let (provider, rest) = provider(args)?;
    let crypto = CosEncryptionClient::new(ip_client()?, provider);
    let (bucket, key, out, range) = match rest {
        [bucket, key, out] => (bucket, key, out, None),
        [bucket, key, out, range] => (bucket, key, out, Some(parse_range(range)?)),
        _ => {
            return Err(usage(
                "get-encrypted: <bucket> <key> <out file> [<first>-<last>]",
            ))
        }
    };
    let mut request = GetObjectRequest::new(bucket, key);
    if let Some(range) = range {
        request = request.range(range);
    }
    let got = crypto.get_object(request).await?;
    let n = got.body.to_file(out).await?;
    println!("{} {n}", got.status);
    Ok(())
}

fn parse_range(text: &str) -> Result<ByteRange, Failure> {
    let (first, last) = text
        .split_once('-')
        .ok_or_else(|| usage("a range is <first>-<last>"))?;
    let number = |s: &str| {
        s.parse::<u64>()
            .map_err(|_| usage(format!("bad range {text:?}")))
    };
    Ok(ByteRange::Inclusive(number(first)?, number(last)?))
}

async fn sign(command: &str, args: &[String]) -> Result<(), Failure> {
    let [method, bucket, key, time, expire, extra @ ..] = args else {
        return Err(usage(format!(
            "{command}: <method> <bucket> <key> <unix time> <expire> [name=value...]"
        )));
    };
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| usage(format!("bad method {method:?}")))?;
    let time: u64 = time.parse().map_err(|_| usage("bad unix time"))?;
    let expire: u64 = expire.parse().map_err(|_| usage("bad expire"))?;
    let mut request = PresignRequest::new(method, bucket, key)
        .signed_at(time)
        .expire(Duration::from_secs(expire));
    for item in extra {
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| usage(format!("expected name=value, got {item:?}")))?;
        request = match name.strip_prefix("header:") {
            Some(header) => request.header(header, value),
            None => request.param(name, value),
        };
    }
    let output = match command {
        "get-auth" => CosClient::new(base_config()?)?.get_auth(&request).await?,
        "presign" => {
            CosClient::new(base_config()?)?
                .get_presigned_url(&request)
                .await?
        }
        _ => ip_client()?.get_presigned_url(&request).await?,
    };
    println!("{output}");
    Ok(())
}

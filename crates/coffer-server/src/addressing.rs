//! Which bucket and key a request names: virtual-host style from the Host header, else path
//! style (protocol doc §1.3).

use crate::error::{ApiError, ApiResult};
use coffer_proto::encoding::decode_path;
use coffer_proto::ErrorCode;

/// The resource a request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The bucket, if any.
    pub bucket: Option<String>,
    /// The object key, if any (never empty).
    pub key: Option<String>,
    /// The percent-decoded request path, as COS signs it.
    pub decoded_path: String,
    /// The host without its port, lower-cased.
    pub host: String,
    /// Whether the bucket came from the Host header (virtual-host style).
    pub virtual_host: bool,
}

/// How bucket names are recognised in Host headers.
#[derive(Debug, Clone)]
pub struct Addressing {
    /// Extra domain suffixes for virtual-host style, e.g. `s3.example.com` makes
    /// `bucket.s3.example.com` address `bucket`.
    pub domains: Vec<String>,
}

/// Suffixes under which the first label names the bucket, as the COS SDK builds hosts.
const COS_SUFFIXES: &[&str] = &[".myqcloud.com", ".tencentcos.cn"];

impl Addressing {
    /// Resolves a request's bucket and key from its Host (or absolute-form authority) and
    /// raw path.
    pub fn resolve(&self, authority: &str, raw_path: &str) -> ApiResult<Target> {
        let host = strip_port(authority).to_ascii_lowercase();
        let decoded_path = decode_path(raw_path).ok_or_else(|| {
            ApiError::with_message(ErrorCode::InvalidURI, "The path is not valid UTF-8.")
        })?;
        if decoded_path.contains('\0') {
            return Err(ApiError::with_message(
                ErrorCode::InvalidURI,
                "Keys cannot contain NUL.",
            ));
        }
        let path = decoded_path.strip_prefix('/').unwrap_or(&decoded_path);
        let bucket_from_host = self.bucket_from_host(&host);
        let virtual_host = bucket_from_host.is_some();
        let (bucket, key) = match bucket_from_host {
            Some(bucket) => (Some(bucket), non_empty(path)),
            None => match path.split_once('/') {
                Some((bucket, key)) => (non_empty(bucket), non_empty(key)),
                None => (non_empty(path), None),
            },
        };
        Ok(Target {
            bucket,
            key,
            decoded_path: decoded_path.clone(),
            host,
            virtual_host,
        })
    }

    /// The bucket named by a virtual-host style host name, if it is one.
    pub fn bucket_from_host(&self, host: &str) -> Option<String> {
        if is_service_host(host) {
            return None;
        }
        for domain in &self.domains {
            let domain = domain.trim_start_matches('.').to_ascii_lowercase();
            if let Some(bucket) = host.strip_suffix(&domain).and_then(|b| b.strip_suffix('.')) {
                if !bucket.is_empty() {
                    return Some(bucket.to_string());
                }
            }
        }
        for suffix in COS_SUFFIXES {
            if host.ends_with(suffix) {
                let labels: Vec<&str> = host.split('.').collect();
                // `<bucket>.<something>.myqcloud.com`: at least one label besides the bucket.
                if labels.len() >= 4 {
                    return labels.first().map(|b| b.to_string());
                }
            }
        }
        None
    }
}

/// `service.cos.myqcloud.com`, `cos.<region>.myqcloud.com` and their tencentcos.cn twins
/// name no bucket.
fn is_service_host(host: &str) -> bool {
    for suffix in COS_SUFFIXES {
        if let Some(rest) = host.strip_suffix(suffix) {
            if rest == "service.cos" || (rest.starts_with("cos.") && !rest[4..].contains('.')) {
                return true;
            }
            if rest == "cos" || rest == "service" {
                return true;
            }
        }
    }
    false
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Removes `:port` from a host, handling `[ipv6]:port`: the rule the COS signature
/// verifier applies to the `Host` it covers ([`coffer_proto::names::host_without_port`]), so
/// the bucket is taken from the very host that was signed.
pub fn strip_port(authority: &str) -> &str {
    coffer_proto::names::host_without_port_str(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(host: &str, path: &str) -> (Option<String>, Option<String>) {
        let addressing = Addressing {
            domains: vec!["s3.local".into()],
        };
        let t = addressing.resolve(host, path).expect("resolves");
        (t.bucket, t.key)
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn resolves_table() {
        let cases: &[(&str, &str, Option<String>, Option<String>)] = &[
            (
                "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com",
                "/dir/%E4%B8%AD%20a%2Bb.txt",
                s("examplebucket-1250000000"),
                s("dir/中 a+b.txt"),
            ),
            (
                "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com:9000",
                "/",
                s("examplebucket-1250000000"),
                None,
            ),
            (
                "b-1.cos-internal.ap-beijing.tencentcos.cn",
                "/k/",
                s("b-1"),
                s("k/"),
            ),
            ("b-1.cn-north.myqcloud.com", "/k", s("b-1"), s("k")),
            ("service.cos.myqcloud.com", "/", None, None),
            ("cos.ap-guangzhou.myqcloud.com", "/", None, None),
            ("127.0.0.1:9000", "/", None, None),
            ("127.0.0.1:9000", "/bucket", s("bucket"), None),
            ("127.0.0.1:9000", "/bucket/", s("bucket"), None),
            ("localhost", "/bucket/a//b", s("bucket"), s("a//b")),
            ("localhost", "/bucket//a", s("bucket"), s("/a")),
            ("[::1]:9000", "/bucket/k", s("bucket"), s("k")),
            ("my.bucket.s3.local:9000", "/k", s("my.bucket"), s("k")),
            ("s3.local", "/b/k", s("b"), s("k")),
        ];
        for (host, path, bucket, key) in cases {
            assert_eq!(
                resolve(host, path),
                (bucket.clone(), key.clone()),
                "{host} {path}"
            );
        }
    }

    #[test]
    fn rejects_bad_paths() {
        let addressing = Addressing { domains: vec![] };
        assert!(addressing.resolve("h", "/b/%FF").is_err());
        assert!(addressing.resolve("h", "/b/a%00b").is_err());
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("h:80"), "h");
        assert_eq!(strip_port("h"), "h");
    }

    /// The host addressing resolves is the host a COS signature covers. They used to
    /// disagree about `host:abc` (found by the `names` fuzz target): a request signed for
    /// `GET /k` on the virtual host `b.cos…` could be sent with `Host: b.cos…:x`, verify (the
    /// signature's host lost its "port") and be served path-style as the bucket `k`.
    #[test]
    fn addressed_host_is_the_signed_host() {
        let addressing = Addressing { domains: vec![] };
        for authority in [
            "b-1.cos.ap-guangzhou.myqcloud.com:x",
            "b-1.cos.ap-guangzhou.myqcloud.com:",
            "b-1.cos.ap-guangzhou.myqcloud.com:443",
            "[::1]:80",
            "::1",
        ] {
            let target = addressing.resolve(authority, "/k").expect("resolves");
            let signed = coffer_proto::auth::cos::strip_port(authority.as_bytes());
            assert_eq!(
                target.host.as_bytes(),
                signed.to_ascii_lowercase(),
                "{authority}"
            );
        }
    }
}

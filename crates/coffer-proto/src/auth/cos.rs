//! The COS "q-sign" request signature (HMAC-SHA1): parsing, server-side verification and
//! signing for the SDK, as described in the protocol reference §4.
//!
//! Signing, in short: `SignKey = hex(HMAC-SHA1(SecretKey, KeyTime))`; the FormatString is
//! `method\npath\nHttpParameters\nHttpHeaders\n`; the StringToSign is
//! `sha1\nSignTime\nhex(SHA1(FormatString))\n`; the signature is
//! `hex(HMAC-SHA1(SignKey-as-hex-text, StringToSign))`.

use std::fmt;

use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};

use super::{all_digits, ct_eq, form_encode, AuthError, Query, RequestView};

/// How many seconds before the start of `q-sign-time` a request is still accepted (clock
/// skew between client and server). There is no tolerance after the end.
pub const START_SKEW_SECS: u64 = 900;

/// The only algorithm COS signatures use.
pub const ALGORITHM: &str = "sha1";

type HmacSha1 = Hmac<Sha1>;

/// The encoding function E of §4.1 step 4: percent-encodes every byte except
/// `A–Z a–z 0–9 - _ . ~`, with upper-case hex (space → `%20`, `/` → `%2F`, `=` → `%3D`).
pub fn cos_encode(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            super::push_pct(&mut out, b);
        }
    }
    out
}

/// The signed form of a parameter or header name: `lowercase(E(name))`.
fn encoded_name(name: &[u8]) -> String {
    cos_encode(name).to_ascii_lowercase()
}

/// Whether the COS SDK signs a header of this name (§4.1 step 6): a fixed set of standard
/// headers plus everything starting with `x-cos-` or `x-ci-` (case-insensitive).
pub fn is_signable_header(name: &str) -> bool {
    const SIGNABLE: [&str; 17] = [
        "cache-control",
        "content-disposition",
        "content-encoding",
        "content-type",
        "content-md5",
        "content-length",
        "expect",
        "expires",
        "host",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-unmodified-since",
        "origin",
        "range",
        "transfer-encoding",
        "pic-operations",
    ];
    let lower = name.to_ascii_lowercase();
    SIGNABLE.contains(&lower.as_str()) || lower.starts_with("x-cos-") || lower.starts_with("x-ci-")
}

/// A parsed COS authorization, from the `Authorization` header or a presigned URL's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosAuthorization {
    /// `q-ak`: the SecretId (access key id) that signed the request.
    pub access_key: String,
    /// `q-sign-time`: the validity window `(start, end)` in Unix seconds.
    pub sign_time: (u64, u64),
    /// `q-key-time`: the window the SignKey was derived for (the SDK makes it equal to
    /// `sign_time`).
    pub key_time: (u64, u64),
    /// `q-header-list`: signed header names, in their signed form `lowercase(E(name))`.
    pub header_list: Vec<String>,
    /// `q-url-param-list`: signed query parameter names, in their signed form.
    pub param_list: Vec<String>,
    /// `q-signature`: 40 hex digits.
    pub signature: String,
}

impl CosAuthorization {
    /// Parses the `Authorization` header form:
    /// `q-sign-algorithm=sha1&q-ak=…&q-sign-time=s;e&q-key-time=s;e&q-header-list=…&q-url-param-list=…&q-signature=…`.
    /// Fields may come in any order; unknown fields are ignored; `q-header-list` and
    /// `q-url-param-list` default to empty; the other five fields are required.
    pub fn parse_header(value: &str) -> Result<Self, AuthError> {
        let mut fields = Vec::new();
        for part in value.trim().split('&') {
            if part.is_empty() {
                continue;
            }
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| AuthError::Malformed(format!("field without '=': {part:?}")))?;
            fields.push((k.trim(), v.trim()));
        }
        Self::from_fields(fields)?.ok_or_else(|| AuthError::MissingSecurityField("q-ak".into()))
    }

    /// Extracts a presigned authorization from a request's query.
    /// `Ok(None)` when neither `q-ak` nor `q-signature` is present (not a presigned
    /// request); otherwise the same rules as [`CosAuthorization::parse_header`].
    pub fn from_query(query: &Query<'_>) -> Result<Option<Self>, AuthError> {
        let pairs = query.text_pairs();
        Self::from_fields(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// Finds the authorization of a request: the `Authorization` header if present and
    /// non-empty, else the presigned query parameters. `Ok(None)` = anonymous.
    pub fn from_request(req: &RequestView<'_>) -> Result<Option<Self>, AuthError> {
        if let Some(value) = req.header("authorization") {
            let value = std::str::from_utf8(value)
                .map_err(|_| AuthError::Malformed("Authorization is not UTF-8".into()))?;
            if !value.trim().is_empty() {
                return Self::parse_header(value).map(Some);
            }
        }
        Self::from_query(req.query)
    }

    fn from_fields<'a>(
        fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Option<Self>, AuthError> {
        let mut algorithm = None;
        let mut ak = None;
        let mut sign_time = None;
        let mut key_time = None;
        let mut headers = None;
        let mut params = None;
        let mut signature = None;
        for (k, v) in fields {
            let slot = match k {
                "q-sign-algorithm" => &mut algorithm,
                "q-ak" => &mut ak,
                "q-sign-time" => &mut sign_time,
                "q-key-time" => &mut key_time,
                "q-header-list" => &mut headers,
                "q-url-param-list" => &mut params,
                "q-signature" => &mut signature,
                _ => continue,
            };
            if slot.replace(v).is_some() {
                return Err(AuthError::Malformed(format!("duplicate field {k}")));
            }
        }
        if ak.is_none() && signature.is_none() {
            return Ok(None);
        }
        let missing = |name: &str| AuthError::MissingSecurityField(name.to_string());
        let algorithm = algorithm.ok_or_else(|| missing("q-sign-algorithm"))?;
        if !algorithm.eq_ignore_ascii_case(ALGORITHM) {
            return Err(AuthError::UnsupportedAlgorithm(algorithm.to_string()));
        }
        let access_key = ak
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("q-ak"))?;
        let sign_time = parse_window(sign_time.ok_or_else(|| missing("q-sign-time"))?)?;
        let key_time = parse_window(key_time.ok_or_else(|| missing("q-key-time"))?)?;
        let signature = signature
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("q-signature"))?;
        Ok(Some(CosAuthorization {
            access_key: access_key.to_string(),
            sign_time,
            key_time,
            header_list: parse_list(headers.unwrap_or("")),
            param_list: parse_list(params.unwrap_or("")),
            signature: signature.to_string(),
        }))
    }

    /// Renders the authorization in the header form, field order as §4.1 step 10.
    pub fn to_header_value(&self) -> String {
        format!(
            "q-sign-algorithm=sha1&q-ak={}&q-sign-time={};{}&q-key-time={};{}&q-header-list={}&q-url-param-list={}&q-signature={}",
            self.access_key,
            self.sign_time.0,
            self.sign_time.1,
            self.key_time.0,
            self.key_time.1,
            self.header_list.join(";"),
            self.param_list.join(";"),
            self.signature
        )
    }
}

fn parse_window(s: &str) -> Result<(u64, u64), AuthError> {
    let bad = || AuthError::Malformed(format!("bad time window {s:?}"));
    let (a, b) = s.split_once(';').ok_or_else(bad)?;
    if !all_digits(a) || !all_digits(b) {
        return Err(bad());
    }
    let start: u64 = a.parse().map_err(|_| bad())?;
    let end: u64 = b.parse().map_err(|_| bad())?;
    if start > end {
        return Err(bad());
    }
    Ok((start, end))
}

fn parse_list(s: &str) -> Vec<String> {
    s.split(';')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Verifies a COS signature against a request (§4.2). `secret_key` is the SecretKey looked
/// up by [`CosAuthorization::access_key`]; `now_unix` is the server clock.
///
/// * `q-sign-time` must contain `now`, with [`START_SKEW_SECS`] of tolerance before the
///   start ([`AuthError::NotYetValid`]) and none after the end ([`AuthError::Expired`]).
/// * HttpParameters are rebuilt from exactly the names in `q-url-param-list`, taking each
///   value from the raw query (form-decoded, re-encoded with E); a listed parameter absent
///   from the query counts as empty, one present twice is [`AuthError::Malformed`].
///   Unlisted parameters are unsigned and allowed.
/// * HttpHeaders are rebuilt from exactly `q-header-list`, values as raw bytes; `host`
///   has any `:port` removed; a listed header absent from the request counts as empty.
/// * The path is [`RequestView::decoded_path`], unencoded.
/// * The signature comparison is constant-time; a mismatch returns
///   [`AuthError::SignatureMismatch`] carrying the StringToSign and FormatString.
pub fn verify(
    auth: &CosAuthorization,
    secret_key: &str,
    req: &RequestView<'_>,
    now_unix: u64,
) -> Result<(), AuthError> {
    let (start, end) = auth.sign_time;
    if start > end {
        return Err(AuthError::Malformed(
            "q-sign-time starts after it ends".into(),
        ));
    }
    if now_unix.saturating_add(START_SKEW_SECS) < start {
        return Err(AuthError::NotYetValid);
    }
    if now_unix > end {
        return Err(AuthError::Expired);
    }

    // Parameters: every query pair, keyed by its signed name form.
    let query: Vec<(String, &[u8])> = req
        .query
        .params()
        .iter()
        .map(|p| (encoded_name(&p.name), &*p.value))
        .collect();
    let mut params: Vec<(String, String)> = Vec::with_capacity(auth.param_list.len());
    for name in &auth.param_list {
        let mut matches = query.iter().filter(|(k, _)| k == name);
        let value = matches
            .next()
            .map(|(_, v)| cos_encode(v))
            .unwrap_or_default();
        // A signed parameter given twice could be read differently by the signature and by
        // the handler; refuse the ambiguity.
        if matches.next().is_some() {
            return Err(AuthError::Malformed(format!(
                "signed query parameter {name} appears more than once"
            )));
        }
        params.push((name.clone(), value));
    }

    // Every x-cos-* header must be signed (the official SDK signs all of them): an unsigned
    // `x-cos-copy-source` or `x-cos-acl` added by whoever holds a presigned URL must not
    // act. A signed header given twice could be read differently by the signature (the
    // first) and by the handler; refuse the ambiguity as for parameters.
    for (name, _) in req.headers {
        let signed_name = encoded_name(name.as_bytes());
        if signed_name.starts_with("x-cos-") && !auth.header_list.contains(&signed_name) {
            return Err(AuthError::UnsignedHeader(signed_name));
        }
    }
    for name in &auth.header_list {
        let occurrences = req
            .headers
            .iter()
            .filter(|(n, _)| encoded_name(n.as_bytes()) == *name)
            .count();
        if occurrences > 1 {
            return Err(AuthError::Malformed(format!(
                "signed header {name} appears more than once"
            )));
        }
    }

    let headers: Vec<(String, String)> = auth
        .header_list
        .iter()
        .map(|name| {
            let raw = req
                .headers
                .iter()
                .find(|(n, _)| encoded_name(n.as_bytes()) == *name)
                .map(|(_, v)| *v)
                .unwrap_or_default();
            let raw = if name == "host" { strip_port(raw) } else { raw };
            (name.clone(), cos_encode(raw))
        })
        .collect();

    let format_string = format_string(req.method, req.decoded_path, &join(params), &join(headers));
    let string_to_sign = string_to_sign(auth.sign_time, &format_string);
    let key = sign_key(secret_key, auth.key_time);
    let expected = signature(&key, &string_to_sign);
    if ct_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        Err(AuthError::SignatureMismatch {
            string_to_sign,
            canonical_request: Some(format_string),
        })
    }
}

/// Removes a `:port` suffix from a Host value, by the one rule of
/// [`crate::names::host_without_port`] (which addressing uses too).
pub fn strip_port(host: &[u8]) -> &[u8] {
    crate::names::host_without_port(host)
}

/// Sorts `(signed name, encoded value)` pairs by name and joins them as `k=v&k=v`.
fn join(mut pairs: Vec<(String, String)>) -> String {
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The FormatString of §4.1 step 7: `<method lower-case>\n<path>\n<params>\n<headers>\n`.
pub fn format_string(
    method: &str,
    path: &str,
    http_parameters: &str,
    http_headers: &str,
) -> String {
    format!(
        "{}\n{}\n{}\n{}\n",
        method.to_ascii_lowercase(),
        path,
        http_parameters,
        http_headers
    )
}

/// The StringToSign of §4.1 step 8: `sha1\n<start>;<end>\n<hex sha1(FormatString)>\n`.
pub fn string_to_sign(sign_time: (u64, u64), format_string: &str) -> String {
    let digest = Sha1::digest(format_string.as_bytes());
    format!(
        "sha1\n{};{}\n{}\n",
        sign_time.0,
        sign_time.1,
        hex::encode(digest)
    )
}

fn hmac_sha1_hex(key: &[u8], msg: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail; fall back to an
    // empty string rather than panicking all the same.
    match HmacSha1::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(msg);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// The SignKey of §4.1 step 2: lower-case hex of HMAC-SHA1(SecretKey, `"<start>;<end>"`).
pub fn sign_key(secret_key: &str, key_time: (u64, u64)) -> String {
    hmac_sha1_hex(
        secret_key.as_bytes(),
        format!("{};{}", key_time.0, key_time.1).as_bytes(),
    )
}

/// The signature of §4.1 step 9: lower-case hex of HMAC-SHA1 keyed with the SignKey's
/// 40-character hex text over the StringToSign.
pub fn signature(sign_key: &str, string_to_sign: &str) -> String {
    hmac_sha1_hex(sign_key.as_bytes(), string_to_sign.as_bytes())
}

/// Everything a COS signing produced, intermediate values included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosSigned {
    /// The parsed-form authorization (what goes on the wire).
    pub authorization: CosAuthorization,
    /// The FormatString that was hashed.
    pub format_string: String,
    /// The StringToSign that was signed.
    pub string_to_sign: String,
    /// The SignKey (hex).
    pub sign_key: String,
}

impl CosSigned {
    /// The `Authorization` header value (§4.1 step 10).
    pub fn header_value(&self) -> String {
        self.authorization.to_header_value()
    }

    /// The seven `q-*` pairs of a presigned URL, form-encoded (`;` → `%3B`), joined by `&`,
    /// in the order of §4.1 step 10.
    pub fn presign_pairs(&self) -> String {
        let a = &self.authorization;
        let window = |w: (u64, u64)| format!("{};{}", w.0, w.1);
        let pairs = [
            ("q-sign-algorithm", ALGORITHM.to_string()),
            ("q-ak", a.access_key.clone()),
            ("q-sign-time", window(a.sign_time)),
            ("q-key-time", window(a.key_time)),
            ("q-header-list", a.header_list.join(";")),
            ("q-url-param-list", a.param_list.join(";")),
            ("q-signature", a.signature.clone()),
        ];
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", form_encode(v.as_bytes())))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A COS signer holding a SecretId/SecretKey pair (its `Debug` hides the key).
#[derive(Clone, Copy)]
pub struct CosSigner<'a> {
    /// The SecretId (`q-ak`).
    pub secret_id: &'a str,
    /// The SecretKey.
    pub secret_key: &'a str,
}

impl fmt::Debug for CosSigner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosSigner")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

impl<'a> CosSigner<'a> {
    /// A signer for this SecretId/SecretKey.
    pub fn new(secret_id: &'a str, secret_key: &'a str) -> Self {
        CosSigner {
            secret_id,
            secret_key,
        }
    }

    /// Signs exactly the given `params` and `headers` (the caller chooses which; see
    /// [`is_signable_header`]) for the window `start..=end`, used as both sign time and key
    /// time. `path` is the unencoded object key (a leading `/` is added if missing);
    /// `params` values are unencoded.
    pub fn sign(
        &self,
        method: &str,
        path: &str,
        params: &[(String, String)],
        headers: &[(String, String)],
        start: u64,
        end: u64,
    ) -> CosSigned {
        // A pair without a name cannot be listed in `q-header-list` / `q-url-param-list`
        // (the lists drop empty entries), so it is not signed: a parameter `?=x` stays
        // unsigned, and the signature still verifies (found by the `auth_cos` fuzz target).
        let encode = |pairs: &[(String, String)]| -> Vec<(String, String)> {
            let mut v: Vec<(String, String)> = pairs
                .iter()
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (encoded_name(k.as_bytes()), cos_encode(v.as_bytes())))
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        let params = encode(params);
        let headers = encode(headers);
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        let param_list = params.iter().map(|(k, _)| k.clone()).collect();
        let header_list = headers.iter().map(|(k, _)| k.clone()).collect();
        let format_string = format_string(method, &path, &join(params), &join(headers));
        let window = (start, end);
        let string_to_sign = string_to_sign(window, &format_string);
        let sign_key = sign_key(self.secret_key, window);
        let signature = signature(&sign_key, &string_to_sign);
        CosSigned {
            authorization: CosAuthorization {
                access_key: self.secret_id.to_string(),
                sign_time: window,
                key_time: window,
                header_list,
                param_list,
                signature,
            },
            format_string,
            string_to_sign,
            sign_key,
        }
    }

    /// The query string of a presigned URL (§4.4): the seven form-encoded `q-*` pairs, then
    /// the form-encoded `params` in the order given. No leading `?`.
    pub fn presign_query(
        &self,
        method: &str,
        path: &str,
        params: &[(String, String)],
        headers: &[(String, String)],
        start: u64,
        end: u64,
    ) -> String {
        let signed = self.sign(method, path, params, headers, start, end);
        let mut query = signed.presign_pairs();
        for (k, v) in params {
            query.push('&');
            query.push_str(&form_encode(k.as_bytes()));
            query.push('=');
            query.push_str(&form_encode(v.as_bytes()));
        }
        query
    }
}

/// Signs a request and returns the full `Authorization` header value (§4.1); see
/// [`CosSigner::sign`] for the meaning of the arguments.
#[allow(clippy::too_many_arguments)]
pub fn sign(
    secret_id: &str,
    secret_key: &str,
    method: &str,
    path: &str,
    params: &[(String, String)],
    headers: &[(String, String)],
    start: u64,
    end: u64,
) -> String {
    CosSigner::new(secret_id, secret_key)
        .sign(method, path, params, headers, start, end)
        .header_value()
}

/// The query string of a presigned URL (§4.4); see [`CosSigner::presign_query`].
#[allow(clippy::too_many_arguments)]
pub fn presign_query(
    secret_id: &str,
    secret_key: &str,
    method: &str,
    path: &str,
    params: &[(String, String)],
    headers: &[(String, String)],
    start: u64,
    end: u64,
) -> String {
    CosSigner::new(secret_id, secret_key).presign_query(method, path, params, headers, start, end)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    const AK: &str = "AKIDEXAMPLEsecretid0123456789";
    const SK: &str = "examplesecretkey0123456789abcdef";
    const HOST: &str = "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com";
    const NOW: u64 = 1_700_000_000;
    const START: u64 = 1_699_999_940;

    fn s(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sha1_hex(s: &str) -> String {
        hex::encode(Sha1::digest(s.as_bytes()))
    }

    fn req<'a>(
        method: &'a str,
        path: &'a str,
        query: &'a str,
        headers: &'a [(&'a str, &'a [u8])],
    ) -> RequestView<'a> {
        RequestView::new(
            method,
            path,
            Box::leak(Box::new(Query::parse(query))),
            headers,
        )
    }

    fn parse_and_verify(auth: &str, r: &RequestView<'_>, now: u64) -> Result<(), AuthError> {
        let a = CosAuthorization::parse_header(auth)?;
        verify(&a, SK, r, now)
    }

    fn is_mismatch(r: Result<(), AuthError>) -> bool {
        matches!(r, Err(AuthError::SignatureMismatch { .. }))
    }

    // ---- V1 -------------------------------------------------------------------------

    const V1_FORMAT: &str =
        "get\n/exampleobject\n\nhost=examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com\n";
    const V1_AUTH: &str = "q-sign-algorithm=sha1&q-ak=AKIDEXAMPLEsecretid0123456789&q-sign-time=1699999940;1700000300&q-key-time=1699999940;1700000300&q-header-list=host&q-url-param-list=&q-signature=e57f393c69f410548ba42668de87cd3eed8625be";

    #[test]
    fn v1_get_auth_default_headers() {
        let signed = CosSigner::new(AK, SK).sign(
            "GET",
            "exampleobject",
            &[],
            &s(&[("Host", HOST)]),
            START,
            NOW + 300,
        );
        assert_eq!(signed.format_string, V1_FORMAT);
        assert_eq!(
            sha1_hex(V1_FORMAT),
            "7ea33791cd867bae3db67145e6cb06958f2a62e7"
        );
        assert_eq!(
            signed.string_to_sign,
            "sha1\n1699999940;1700000300\n7ea33791cd867bae3db67145e6cb06958f2a62e7\n"
        );
        assert_eq!(signed.sign_key, "5e6870ea431e8b7993996b27cfc7bbd64c4f8084");
        assert_eq!(signed.header_value(), V1_AUTH);
        assert_eq!(
            sign(
                AK,
                SK,
                "GET",
                "/exampleobject",
                &[],
                &s(&[("host", HOST)]),
                START,
                NOW + 300
            ),
            V1_AUTH
        );

        let headers: &[(&str, &[u8])] = &[("Host", HOST.as_bytes())];
        let r = req("GET", "/exampleobject", "", headers);
        assert_eq!(parse_and_verify(V1_AUTH, &r, NOW), Ok(()));
        // The header form round-trips.
        let parsed = CosAuthorization::parse_header(V1_AUTH).unwrap();
        assert_eq!(parsed.to_header_value(), V1_AUTH);
        assert_eq!(
            CosAuthorization::from_request(&req("GET", "/", "", &[])),
            Ok(None)
        );
        let with_auth: &[(&str, &[u8])] = &[
            ("Host", HOST.as_bytes()),
            ("Authorization", V1_AUTH.as_bytes()),
        ];
        assert_eq!(
            CosAuthorization::from_request(&req("GET", "/exampleobject", "", with_auth)),
            Ok(Some(parsed))
        );
    }

    #[test]
    fn v1_rejections() {
        let headers: &[(&str, &[u8])] = &[("Host", HOST.as_bytes())];
        let r = req("GET", "/exampleobject", "", headers);
        // Expiry: end is 1700000300 inclusive.
        assert_eq!(parse_and_verify(V1_AUTH, &r, NOW + 300), Ok(()));
        assert_eq!(
            parse_and_verify(V1_AUTH, &r, NOW + 301),
            Err(AuthError::Expired)
        );
        // Before the start: 900 s of tolerance, then NotYetValid.
        assert_eq!(parse_and_verify(V1_AUTH, &r, START - 900), Ok(()));
        assert_eq!(
            parse_and_verify(V1_AUTH, &r, START - 901),
            Err(AuthError::NotYetValid)
        );
        // Tampered path, method, host, signature, secret.
        assert!(is_mismatch(parse_and_verify(
            V1_AUTH,
            &req("GET", "/exampleobject2", "", headers),
            NOW
        )));
        assert!(is_mismatch(parse_and_verify(
            V1_AUTH,
            &req("HEAD", "/exampleobject", "", headers),
            NOW
        )));
        let other_host: &[(&str, &[u8])] = &[(
            "Host",
            b"otherbucket-1250000000.cos.ap-guangzhou.myqcloud.com",
        )];
        assert!(is_mismatch(parse_and_verify(
            V1_AUTH,
            &req("GET", "/exampleobject", "", other_host),
            NOW
        )));
        let tampered = V1_AUTH.replace("q-signature=e5", "q-signature=e6");
        assert!(is_mismatch(parse_and_verify(&tampered, &r, NOW)));
        let a = CosAuthorization::parse_header(V1_AUTH).unwrap();
        assert!(is_mismatch(verify(&a, "wrong-secret", &r, NOW)));
        // Signatures compare exactly: upper-case hex is not the signature.
        let upper = V1_AUTH.replace(
            "e57f393c69f410548ba42668de87cd3eed8625be",
            "E57F393C69F410548BA42668DE87CD3EED8625BE",
        );
        assert!(is_mismatch(parse_and_verify(&upper, &r, NOW)));
        // Every x-cos-* header must be signed, and a signed header may appear only once.
        let host = b"examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com".as_slice();
        let unsigned_headers = [("Host", host), ("x-cos-acl", b"public-read".as_slice())];
        let unsigned = req("GET", "/exampleobject", "", &unsigned_headers);
        assert_eq!(
            parse_and_verify(V1_AUTH, &unsigned, NOW),
            Err(AuthError::UnsignedHeader("x-cos-acl".into()))
        );
        let twice_headers = [("Host", host), ("host", host)];
        let twice = req("GET", "/exampleobject", "", &twice_headers);
        assert!(matches!(
            parse_and_verify(V1_AUTH, &twice, NOW),
            Err(AuthError::Malformed(_))
        ));
        // Missing listed header (host) counts as empty → mismatch, not a panic.
        assert!(is_mismatch(parse_and_verify(
            V1_AUTH,
            &req("GET", "/exampleobject", "", &[]),
            NOW
        )));
    }

    #[test]
    fn mismatch_carries_the_format_string() {
        let headers: &[(&str, &[u8])] = &[("Host", HOST.as_bytes())];
        let r = req("GET", "/exampleobject", "", headers);
        let a = CosAuthorization::parse_header(V1_AUTH).unwrap();
        match verify(&a, "bad", &r, NOW) {
            Err(AuthError::SignatureMismatch {
                string_to_sign,
                canonical_request,
            }) => {
                assert_eq!(canonical_request.as_deref(), Some(V1_FORMAT));
                assert_eq!(
                    string_to_sign,
                    "sha1\n1699999940;1700000300\n7ea33791cd867bae3db67145e6cb06958f2a62e7\n"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Found by the `auth_cos` fuzz target: a parameter without a name (`?=x`) made the
    /// signer list an empty name, which the parser drops, so the SDK's own signature failed.
    #[test]
    fn nameless_parameters_are_left_unsigned() {
        let signed = CosSigner::new(AK, SK).sign(
            "GET",
            "/k",
            &s(&[("", "x"), ("a", "b")]),
            &s(&[("", "y"), ("Host", HOST)]),
            START,
            NOW + 300,
        );
        assert_eq!(signed.authorization.param_list, vec!["a".to_string()]);
        assert_eq!(signed.authorization.header_list, vec!["host".to_string()]);
        let headers: &[(&str, &[u8])] = &[("Host", HOST.as_bytes())];
        let r = req("GET", "/k", "=x&a=b", headers);
        assert_eq!(parse_and_verify(&signed.header_value(), &r, NOW), Ok(()));
    }

    #[test]
    fn host_port_is_stripped() {
        for host in [
            format!("{HOST}:8080"),
            format!("{HOST}:443"),
            HOST.to_string(),
        ] {
            let headers: &[(&str, &[u8])] = &[("host", host.as_bytes())];
            let r = req("GET", "/exampleobject", "", headers);
            assert_eq!(parse_and_verify(V1_AUTH, &r, NOW), Ok(()), "{host}");
        }
        assert_eq!(strip_port(b"[::1]:9000"), b"[::1]");
        assert_eq!(strip_port(b"127.0.0.1:80"), b"127.0.0.1");

        // A signature over an IPv6 host verifies against `[v6]:port`.
        let signed = CosSigner::new(AK, SK).sign(
            "GET",
            "/k",
            &[],
            &s(&[("host", "[::1]")]),
            START,
            NOW + 60,
        );
        let headers: &[(&str, &[u8])] = &[("Host", b"[::1]:9000")];
        assert_eq!(
            parse_and_verify(&signed.header_value(), &req("GET", "/k", "", headers), NOW),
            Ok(())
        );
    }

    // ---- V2 -------------------------------------------------------------------------

    const V2_UPLOAD_ID: &str =
        "1585130821cbb7df1d11846c073ad648e8f33b087cec2381df437acdc833cf654b9ecc6361";
    const V2_AUTH: &str = "q-sign-algorithm=sha1&q-ak=AKIDEXAMPLEsecretid0123456789&q-sign-time=1699999940;1700003600&q-key-time=1699999940;1700003600&q-header-list=content-md5;content-type;host;x-cos-meta-author&q-url-param-list=partnumber;uploadid&q-signature=0af17ca24867e63f9f27f5d8614cc81e5110af20";

    #[test]
    fn v2_put_with_params_and_headers() {
        let all_headers = [
            ("Content-Type", "text/plain"),
            ("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
            ("x-cos-meta-Author", "Alice Smith"),
            ("X-Unsigned", "ignored"),
            ("Host", HOST),
        ];
        let signable: Vec<(String, String)> = all_headers
            .iter()
            .filter(|(k, _)| is_signable_header(k))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(signable.len(), 4);
        let params = s(&[("partNumber", "1"), ("uploadId", V2_UPLOAD_ID)]);
        let signed = CosSigner::new(AK, SK).sign(
            "PUT",
            "dir/中文 file+name.txt",
            &params,
            &signable,
            START,
            NOW + 3600,
        );
        let format = format!("put\n/dir/中文 file+name.txt\npartnumber=1&uploadid={V2_UPLOAD_ID}\ncontent-md5=1B2M2Y8AsgTpgAmY7PhCfg%3D%3D&content-type=text%2Fplain&host={HOST}&x-cos-meta-author=Alice%20Smith\n");
        assert_eq!(signed.format_string, format);
        assert_eq!(
            sha1_hex(&format),
            "2bb04e5adb0361bfae53099a3734754c8cc89871"
        );
        assert_eq!(signed.sign_key, "28adc84aab6fefdb97e83c2aa460bc3ad60615a4");
        assert_eq!(signed.header_value(), V2_AUTH);

        // Wire: the key is percent-encoded in the URL; the server hands us the decoded path.
        let wire_headers: Vec<(&str, &[u8])> = all_headers
            .iter()
            .map(|(k, v)| (*k, v.as_bytes()))
            .collect();
        let query = format!("partNumber=1&uploadId={V2_UPLOAD_ID}");
        let r = req("PUT", "/dir/中文 file+name.txt", &query, &wire_headers);
        assert_eq!(parse_and_verify(V2_AUTH, &r, NOW), Ok(()));

        // Unlisted query parameters are unsigned and allowed.
        let extra = format!("{query}&x-unsigned=1");
        let r2 = req("PUT", "/dir/中文 file+name.txt", &extra, &wire_headers);
        assert_eq!(parse_and_verify(V2_AUTH, &r2, NOW), Ok(()));

        // Tampered param value, header value, path.
        let bad_query = format!("partNumber=2&uploadId={V2_UPLOAD_ID}");
        assert!(is_mismatch(parse_and_verify(
            V2_AUTH,
            &req("PUT", "/dir/中文 file+name.txt", &bad_query, &wire_headers),
            NOW
        )));
        let mut bad_headers = wire_headers.clone();
        bad_headers[2] = ("x-cos-meta-Author", b"Mallory");
        assert!(is_mismatch(parse_and_verify(
            V2_AUTH,
            &req("PUT", "/dir/中文 file+name.txt", &query, &bad_headers),
            NOW
        )));
        assert!(is_mismatch(parse_and_verify(
            V2_AUTH,
            &req("PUT", "/dir/中文 file name.txt", &query, &wire_headers),
            NOW
        )));
        // A signed parameter repeated is refused; an unsigned one may repeat.
        let dup = format!("{query}&partNumber=1");
        assert!(matches!(
            parse_and_verify(
                V2_AUTH,
                &req("PUT", "/dir/中文 file+name.txt", &dup, &wire_headers),
                NOW
            ),
            Err(AuthError::Malformed(_))
        ));
        let dup = format!("{query}&x=1&x=2");
        assert_eq!(
            parse_and_verify(
                V2_AUTH,
                &req("PUT", "/dir/中文 file+name.txt", &dup, &wire_headers),
                NOW
            ),
            Ok(())
        );
        // Missing listed parameter counts as empty → mismatch.
        let missing = format!("uploadId={V2_UPLOAD_ID}");
        assert!(is_mismatch(parse_and_verify(
            V2_AUTH,
            &req("PUT", "/dir/中文 file+name.txt", &missing, &wire_headers),
            NOW
        )));
        // The unsigned header may change freely.
        let mut free = wire_headers.clone();
        free[3] = ("X-Unsigned", b"changed");
        assert_eq!(
            parse_and_verify(
                V2_AUTH,
                &req("PUT", "/dir/中文 file+name.txt", &query, &free),
                NOW
            ),
            Ok(())
        );
    }

    // ---- V3 -------------------------------------------------------------------------

    const V3_AUTH: &str = "q-sign-algorithm=sha1&q-ak=AKIDEXAMPLEsecretid0123456789&q-sign-time=1699999940;1700000060&q-key-time=1699999940;1700000060&q-header-list=&q-url-param-list=cors&q-signature=2eb748e79003fb468c0575a586c35dc65a143147";

    #[test]
    fn v3_bucket_subresource_without_host() {
        let signed =
            CosSigner::new(AK, SK).sign("DELETE", "/", &s(&[("cors", "")]), &[], START, NOW + 60);
        assert_eq!(signed.format_string, "delete\n/\ncors=\n\n");
        assert_eq!(
            sha1_hex(&signed.format_string),
            "9a1ec0c0608743b19e58de3060224d8c167f5c50"
        );
        assert_eq!(signed.header_value(), V3_AUTH);
        let headers: &[(&str, &[u8])] = &[("Host", HOST.as_bytes())];
        // `?cors` and `?cors=` are the same parameter; the Host is not signed at all.
        for q in ["cors", "cors="] {
            assert_eq!(
                parse_and_verify(V3_AUTH, &req("DELETE", "/", q, headers), NOW),
                Ok(())
            );
            assert_eq!(
                parse_and_verify(V3_AUTH, &req("DELETE", "/", q, &[]), NOW),
                Ok(())
            );
        }
        assert_eq!(
            parse_and_verify(V3_AUTH, &req("DELETE", "/", "cors", headers), NOW + 61),
            Err(AuthError::Expired)
        );
        assert!(is_mismatch(parse_and_verify(
            V3_AUTH,
            &req("DELETE", "/", "cors=x", headers),
            NOW
        )));
    }

    // ---- V4 -------------------------------------------------------------------------

    const V4_AUTH: &str = "q-sign-algorithm=sha1&q-ak=AKIDEXAMPLEsecretid0123456789&q-sign-time=1699999940;1700010000&q-key-time=1699999940;1700010000&q-header-list=content-length;content-type;host;x-cos-meta-owner;x-cos-security-token&q-url-param-list=&q-signature=d825cc52381869af5f0967231d8e96a92c1def25";

    fn v4_headers() -> Vec<(&'static str, &'static [u8])> {
        vec![
            ("Content-Type", b"image/jpeg"),
            ("x-cos-meta-Owner", b"Bob"),
            ("x-cos-security-token", b"tmp-token/abc=="),
            ("Host", HOST.as_bytes()),
            ("Content-Length", b"5"),
            ("Authorization", V4_AUTH.as_bytes()),
        ]
    }

    #[test]
    fn v4_put_object_with_token() {
        let wire = v4_headers();
        let signable: Vec<(String, String)> = wire
            .iter()
            .filter(|(k, _)| is_signable_header(k))
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v).into_owned()))
            .collect();
        let signed = CosSigner::new(AK, SK).sign(
            "PUT",
            "photos/2023/cat.jpg",
            &[],
            &signable,
            START,
            NOW + 10000,
        );
        assert_eq!(
            signed.format_string,
            format!("put\n/photos/2023/cat.jpg\n\ncontent-length=5&content-type=image%2Fjpeg&host={HOST}&x-cos-meta-owner=Bob&x-cos-security-token=tmp-token%2Fabc%3D%3D\n")
        );
        assert_eq!(signed.header_value(), V4_AUTH);

        let r = req("PUT", "/photos/2023/cat.jpg", "", &wire);
        let auth = CosAuthorization::from_request(&r).unwrap().unwrap();
        assert_eq!(verify(&auth, SK, &r, NOW), Ok(()));

        // Listed header names are matched case-insensitively; values are not.
        let mut tampered = wire.clone();
        tampered[2] = ("X-COS-SECURITY-TOKEN", b"tmp-token/abc==");
        assert_eq!(
            verify(
                &auth,
                SK,
                &req("PUT", "/photos/2023/cat.jpg", "", &tampered),
                NOW
            ),
            Ok(())
        );
        tampered[2] = ("x-cos-security-token", b"tmp-token/abd==");
        assert!(is_mismatch(verify(
            &auth,
            SK,
            &req("PUT", "/photos/2023/cat.jpg", "", &tampered),
            NOW
        )));
        // Dropping a listed header: treated as empty → mismatch.
        let dropped: Vec<_> = wire
            .iter()
            .filter(|(k, _)| *k != "x-cos-meta-Owner")
            .copied()
            .collect();
        assert!(is_mismatch(verify(
            &auth,
            SK,
            &req("PUT", "/photos/2023/cat.jpg", "", &dropped),
            NOW
        )));
    }

    #[test]
    fn unknown_listed_headers_are_empty() {
        // A signature listing a header the request lacks verifies iff it was signed empty.
        let signed = CosSigner::new(AK, SK).sign(
            "GET",
            "/k",
            &[],
            &s(&[("host", HOST), ("x-cos-absent", "")]),
            START,
            NOW + 60,
        );
        assert!(signed.format_string.contains("&x-cos-absent=\n"));
        let headers: &[(&str, &[u8])] = &[("Host", HOST.as_bytes())];
        assert_eq!(
            parse_and_verify(&signed.header_value(), &req("GET", "/k", "", headers), NOW),
            Ok(())
        );
        let present: &[(&str, &[u8])] = &[("Host", HOST.as_bytes()), ("x-cos-absent", b"1")];
        assert!(is_mismatch(parse_and_verify(
            &signed.header_value(),
            &req("GET", "/k", "", present),
            NOW
        )));
    }

    // ---- V5 -------------------------------------------------------------------------

    const V5_AUTH: &str = "q-sign-algorithm=sha1&q-ak=AKIDEXAMPLEsecretid0123456789&q-sign-time=1699999940;1700010000&q-key-time=1699999940;1700010000&q-header-list=host;x-cos-security-token&q-url-param-list=delimiter;encoding-type;marker;max-keys;prefix&q-signature=5ae54125e6e89a430a58db2dc46daded8b15a9ab";
    const V5_QUERY: &str = "prefix=a+b%2F&delimiter=%2F&marker=&max-keys=10&encoding-type=url";

    #[test]
    fn v5_list_objects_query_with_space_and_slash() {
        let params = s(&[
            ("prefix", "a b/"),
            ("delimiter", "/"),
            ("marker", ""),
            ("max-keys", "10"),
            ("encoding-type", "url"),
        ]);
        let headers = s(&[("Host", HOST), ("x-cos-security-token", "tmp-token/abc==")]);
        let signed = CosSigner::new(AK, SK).sign("GET", "/", &params, &headers, START, NOW + 10000);
        assert_eq!(
            signed.format_string,
            format!("get\n/\ndelimiter=%2F&encoding-type=url&marker=&max-keys=10&prefix=a%20b%2F\nhost={HOST}&x-cos-security-token=tmp-token%2Fabc%3D%3D\n")
        );
        assert_eq!(signed.header_value(), V5_AUTH);

        let wire: &[(&str, &[u8])] = &[
            ("x-cos-security-token", b"tmp-token/abc=="),
            ("Host", HOST.as_bytes()),
        ];
        assert_eq!(
            parse_and_verify(V5_AUTH, &req("GET", "/", V5_QUERY, wire), NOW),
            Ok(())
        );
        // `%20` instead of `+` on the wire is the same value.
        let q2 = V5_QUERY.replace("a+b", "a%20b");
        assert_eq!(
            parse_and_verify(V5_AUTH, &req("GET", "/", &q2, wire), NOW),
            Ok(())
        );
        // A literal plus is a different value.
        let q3 = V5_QUERY.replace("a+b", "a%2Bb");
        assert!(is_mismatch(parse_and_verify(
            V5_AUTH,
            &req("GET", "/", &q3, wire),
            NOW
        )));
        let q4 = V5_QUERY.replace("max-keys=10", "max-keys=1000");
        assert!(is_mismatch(parse_and_verify(
            V5_AUTH,
            &req("GET", "/", &q4, wire),
            NOW
        )));
    }

    // ---- V6 -------------------------------------------------------------------------

    const V6_QUERY: &str = "q-sign-algorithm=sha1&q-ak=AKIDEXAMPLEsecretid0123456789&q-sign-time=1699999940%3B1700000120&q-key-time=1699999940%3B1700000120&q-header-list=host&q-url-param-list=response-content-type&q-signature=0e2307170b9a56534d747a16446a72f8c914b1e2&response-content-type=text%2Fplain";

    #[test]
    fn v6_presigned_url() {
        let params = s(&[("response-content-type", "text/plain")]);
        let headers = s(&[("host", HOST)]);
        let q = CosSigner::new(AK, SK).presign_query(
            "GET",
            "a/b c.txt",
            &params,
            &headers,
            START,
            NOW + 120,
        );
        assert_eq!(q, V6_QUERY);
        assert_eq!(
            presign_query(
                AK,
                SK,
                "GET",
                "a/b c.txt",
                &params,
                &headers,
                START,
                NOW + 120
            ),
            V6_QUERY
        );

        let wire: &[(&str, &[u8])] = &[("Host", HOST.as_bytes())];
        let r = req("GET", "/a/b c.txt", V6_QUERY, wire);
        let auth = CosAuthorization::from_request(&r).unwrap().unwrap();
        assert_eq!(auth.sign_time, (START, NOW + 120));
        assert_eq!(auth.param_list, vec!["response-content-type".to_string()]);
        assert_eq!(verify(&auth, SK, &r, NOW), Ok(()));
        assert_eq!(verify(&auth, SK, &r, NOW + 121), Err(AuthError::Expired));
        // Tampered response override.
        let tampered = V6_QUERY.replace("text%2Fplain", "text%2Fhtml");
        let r2 = req("GET", "/a/b c.txt", &tampered, wire);
        let auth2 = CosAuthorization::from_request(&r2).unwrap().unwrap();
        assert!(is_mismatch(verify(&auth2, SK, &r2, NOW)));
        // Another object.
        assert!(is_mismatch(verify(
            &auth,
            SK,
            &req("GET", "/a/b d.txt", V6_QUERY, wire),
            NOW
        )));
    }

    // ---- parsing ---------------------------------------------------------------------

    #[test]
    fn parse_errors() {
        assert!(matches!(
            CosAuthorization::parse_header(
                "q-sign-algorithm=md5&q-ak=a&q-sign-time=1;2&q-key-time=1;2&q-signature=x"
            ),
            Err(AuthError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            CosAuthorization::parse_header("q-ak=a&q-sign-time=1;2&q-key-time=1;2&q-signature=x"),
            Err(AuthError::MissingSecurityField(f)) if f == "q-sign-algorithm"
        ));
        assert!(matches!(
            CosAuthorization::parse_header("q-sign-algorithm=sha1&q-ak=a&q-key-time=1;2&q-signature=x"),
            Err(AuthError::MissingSecurityField(f)) if f == "q-sign-time"
        ));
        assert!(matches!(
            CosAuthorization::parse_header("q-sign-algorithm=sha1&q-ak=a&q-sign-time=1;2&q-key-time=1;2"),
            Err(AuthError::MissingSecurityField(f)) if f == "q-signature"
        ));
        for bad_time in [
            "12",
            "2;1",
            "a;b",
            "1;",
            ";1",
            "+1;2",
            "1;99999999999999999999999",
        ] {
            let h = format!(
                "q-sign-algorithm=sha1&q-ak=a&q-sign-time={bad_time}&q-key-time=1;2&q-signature=x"
            );
            assert!(
                matches!(
                    CosAuthorization::parse_header(&h),
                    Err(AuthError::Malformed(_))
                ),
                "{bad_time}"
            );
        }
        assert!(matches!(
            CosAuthorization::parse_header(
                "q-sign-algorithm=sha1&q-ak=a&q-ak=b&q-sign-time=1;2&q-key-time=1;2&q-signature=x"
            ),
            Err(AuthError::Malformed(_))
        ));
        assert!(matches!(
            CosAuthorization::parse_header("garbage"),
            Err(AuthError::Malformed(_))
        ));
        assert!(matches!(
            CosAuthorization::parse_header(""),
            Err(AuthError::MissingSecurityField(_))
        ));
        // Unknown fields are ignored, lists may be absent, order is free.
        let a = CosAuthorization::parse_header(
            "q-signature=abc&q-extra=1&q-key-time=1;3&q-sign-time=1;2&q-ak=a&q-sign-algorithm=SHA1",
        )
        .unwrap();
        assert_eq!(a.key_time, (1, 3));
        assert!(a.header_list.is_empty() && a.param_list.is_empty());
        // Not presigned.
        assert_eq!(
            CosAuthorization::from_query(&Query::parse("acl&q-sign-algorithm=sha1")),
            Ok(None)
        );
        assert!(matches!(
            CosAuthorization::from_query(&Query::parse("q-ak=a")),
            Err(AuthError::MissingSecurityField(_))
        ));
    }

    #[test]
    fn encoding_function() {
        assert_eq!(cos_encode(b"a b/c=d"), "a%20b%2Fc%3Dd");
        assert_eq!(cos_encode(b"AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(cos_encode("中".as_bytes()), "%E4%B8%AD");
        assert_eq!(cos_encode(&[0x00, 0xff, b'+', b';']), "%00%FF%2B%3B");
        assert_eq!(encoded_name(b"X-Cos-Meta-A*B"), "x-cos-meta-a%2ab");
    }

    #[test]
    fn signable_headers() {
        for h in [
            "Host",
            "content-type",
            "Content-MD5",
            "x-cos-acl",
            "X-CI-thing",
            "Range",
            "pic-operations",
        ] {
            assert!(is_signable_header(h), "{h}");
        }
        for h in [
            "x-amz-date",
            "user-agent",
            "accept",
            "authorization",
            "x-unsigned",
            "date",
        ] {
            assert!(!is_signable_header(h), "{h}");
        }
    }

    #[test]
    fn non_ascii_header_values_use_raw_bytes() {
        let signed = CosSigner::new(AK, SK).sign(
            "PUT",
            "/k",
            &[],
            &s(&[("host", HOST), ("x-cos-meta-name", "中文")]),
            START,
            NOW + 60,
        );
        assert!(signed
            .format_string
            .contains("x-cos-meta-name=%E4%B8%AD%E6%96%87"));
        let wire: &[(&str, &[u8])] = &[
            ("Host", HOST.as_bytes()),
            ("x-cos-meta-name", "中文".as_bytes()),
        ];
        assert_eq!(
            parse_and_verify(&signed.header_value(), &req("PUT", "/k", "", wire), NOW),
            Ok(())
        );
        // Non-UTF-8 bytes still encode byte-wise (and mismatch rather than panic).
        let odd: &[(&str, &[u8])] = &[
            ("Host", HOST.as_bytes()),
            ("x-cos-meta-name", &[0xff, 0xfe]),
        ];
        assert!(is_mismatch(parse_and_verify(
            &signed.header_value(),
            &req("PUT", "/k", "", odd),
            NOW
        )));
    }

    #[test]
    fn signer_debug_hides_the_secret() {
        let d = format!("{:?}", CosSigner::new(AK, SK));
        assert!(d.contains(AK) && !d.contains(SK));
    }
}

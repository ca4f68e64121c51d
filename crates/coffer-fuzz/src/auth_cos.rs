//! COS `q-sign` signatures (`coffer_proto::auth::cos`): the `Authorization` header and the
//! presigned query, `q-sign-time` / `q-key-time` windows, `q-header-list` and
//! `q-url-param-list`, verified against a fixed key.
//!
//! Input: the line form of `request.rs` (line 1 an `Authorization` value, or `?` and a
//! presigned query). Invariants:
//! - parsing and verifying never panic;
//! - a parsed authorization has ordered windows and lower-case lists, and renders
//!   (`to_header_value`) to a value that parses back to it;
//! - sign-then-verify: whenever the request is unambiguous (every header and parameter
//!   UTF-8, no signed name twice), signing all of its headers and parameters with the SDK's
//!   signer gives an `Authorization` value and a presigned query (when no parameter of the
//!   request is named like a `q-*` field) that verify inside the window, are `Expired` after
//!   it, and a changed signature does not verify.

use crate::request::{view, FuzzRequest};
use coffer_proto::auth::cos::{self, CosAuthorization, CosSigner};
use coffer_proto::auth::{AuthError, Query};

/// The access key the targets sign with.
pub const ACCESS_KEY: &str = "AKIDfuzzsecretid";
/// The secret key the targets sign with.
pub const SECRET_KEY: &str = "fuzzsecretkey0123456789";
/// The verifiers' clock.
const NOW: u64 = 1_700_000_000;

/// Runs one input.
pub fn run(data: &[u8]) {
    let request = FuzzRequest::parse(data);
    parse_and_verify(&request);
    sign_then_verify(&request);
}

/// Parses line 1 as an authorization and verifies it against the request.
fn parse_and_verify(request: &FuzzRequest) {
    let (parsed, query) = match request.auth.strip_prefix('?') {
        Some(presigned) => {
            let query = join_query(&request.raw_query, presigned);
            (CosAuthorization::from_query(&Query::parse(&query)), query)
        }
        None => (
            CosAuthorization::parse_header(&request.auth).map(Some),
            request.raw_query.clone(),
        ),
    };
    let Ok(Some(auth)) = parsed else {
        return;
    };
    assert!(auth.sign_time.0 <= auth.sign_time.1, "{auth:?}");
    assert!(auth.key_time.0 <= auth.key_time.1, "{auth:?}");
    for name in auth.header_list.iter().chain(&auth.param_list) {
        assert!(
            !name.is_empty() && *name == name.to_ascii_lowercase(),
            "{auth:?}"
        );
    }
    let rendered = auth.to_header_value();
    assert_eq!(
        CosAuthorization::parse_header(&rendered).as_ref(),
        Ok(&auth),
        "{rendered:?} does not parse back"
    );
    let headers = request.header_refs();
    let view_query = Query::parse(&query);
    let view = view(request, &headers, &view_query);
    let _ = cos::verify(&auth, SECRET_KEY, &view, NOW);
}

fn join_query(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}&{b}"),
    }
}

/// The signed form of a name: `lowercase(E(name))`.
fn signed_name(name: &[u8]) -> String {
    cos::cos_encode(name).to_ascii_lowercase()
}

/// Signs every header and parameter of the request and checks that the verifier agrees.
fn sign_then_verify(request: &FuzzRequest) {
    let request = request.without(&["authorization"]);
    // The request must be unambiguous: UTF-8 everywhere (the signer takes strings) and no
    // signed name twice (the verifier refuses those).
    let mut headers = Vec::new();
    for (name, value) in &request.headers {
        let Ok(value) = std::str::from_utf8(value) else {
            return;
        };
        let value = if name.eq_ignore_ascii_case("host") {
            std::str::from_utf8(cos::strip_port(value.as_bytes())).unwrap_or(value)
        } else {
            value
        };
        headers.push((name.clone(), value.to_string()));
    }
    let mut params = Vec::new();
    for param in Query::parse(&request.raw_query).params() {
        let (Ok(name), Ok(value)) = (
            String::from_utf8(param.name.to_vec()),
            String::from_utf8(param.value.to_vec()),
        ) else {
            return;
        };
        params.push((name, value));
    }
    let mut names: Vec<String> = headers
        .iter()
        .map(|(n, _)| signed_name(n.as_bytes()))
        .collect();
    names.sort();
    let unique_headers = names.windows(2).all(|w| w[0] != w[1]);
    let mut names: Vec<String> = params
        .iter()
        .map(|(n, _)| signed_name(n.as_bytes()))
        .collect();
    names.sort();
    if !unique_headers || !names.windows(2).all(|w| w[0] != w[1]) {
        return;
    }

    let (start, end) = (NOW - 60, NOW + 3600);
    let signer = CosSigner::new(ACCESS_KEY, SECRET_KEY);
    let signed = signer.sign(
        &request.method,
        &request.path,
        &params,
        &headers,
        start,
        end,
    );
    let auth = CosAuthorization::parse_header(&signed.header_value())
        .expect("the signer's Authorization parses");
    assert_eq!(auth, signed.authorization);
    let refs = request.header_refs();
    let header_view_query = Query::parse(&request.raw_query);
    let header_view = view(&request, &refs, &header_view_query);
    assert_eq!(
        cos::verify(&auth, SECRET_KEY, &header_view, NOW),
        Ok(()),
        "a correctly signed request does not verify: {signed:?}"
    );
    assert_eq!(
        cos::verify(&auth, SECRET_KEY, &header_view, end + 1),
        Err(AuthError::Expired)
    );
    let mut tampered = auth.clone();
    tampered.signature = flip_hex(&tampered.signature);
    assert!(matches!(
        cos::verify(&tampered, SECRET_KEY, &header_view, NOW),
        Err(AuthError::SignatureMismatch { .. })
    ));

    // The presigned form of the same signature, unless the request has parameters of its
    // own named like the presigned fields (any case: names are signed lower-cased), which
    // the verifier rightly refuses as ambiguous.
    if params
        .iter()
        .any(|(name, _)| signed_name(name.as_bytes()).starts_with("q-"))
    {
        return;
    }
    let query = signer.presign_query(
        &request.method,
        &request.path,
        &params,
        &headers,
        start,
        end,
    );
    let query_view_query = Query::parse(&query);
    let query_view = view(&request, &refs, &query_view_query);
    let from_query = CosAuthorization::from_request(&query_view)
        .expect("the signer's presigned query parses")
        .expect("the signer's presigned query is found");
    assert_eq!(from_query, auth);
    assert_eq!(
        cos::verify(&from_query, SECRET_KEY, &query_view, NOW),
        Ok(()),
        "a correctly presigned request does not verify: {query:?}"
    );
}

/// The same hex string with its first digit changed.
pub(crate) fn flip_hex(hex: &str) -> String {
    let mut chars: Vec<char> = hex.chars().collect();
    if let Some(first) = chars.first_mut() {
        *first = if *first == '0' { '1' } else { '0' };
    }
    chars.into_iter().collect()
}

//! AWS Signature Version 4 (`coffer_proto::auth::sigv4`): the `Authorization` header and the
//! presigned query, the credential scope and `SignedHeaders`, verified against a fixed key.
//!
//! Input: the line form of `request.rs` (line 1 an `Authorization` value, or `?` and a
//! presigned query); the first byte of line 1 also picks the payload hash of the signed
//! forms. Invariants:
//! - parsing and verifying never panic;
//! - a parsed credential renders (`AK/scope`) to text that parses back to it; signed header
//!   names are non-empty and lower-case;
//! - sign-then-verify: signing the request (`host`, `x-amz-date`, `x-amz-content-sha256` and
//!   every other header) with the SDK's signer gives an `Authorization` value that parses back
//!   to what was signed and verifies at the signing time, is `RequestTimeTooSkewed` 15 minutes
//!   later and does not verify with a changed signature; presigning gives a query that
//!   verifies until it expires. Whenever the request is unambiguous (no `X-Amz-*` parameter
//!   of its own).

use crate::auth_cos::{flip_hex, ACCESS_KEY, SECRET_KEY};
use crate::request::{view, FuzzRequest};
use coffer_proto::auth::sigv4::{
    self, Credential, PayloadMode, SigV4Auth, SigV4Signer, EMPTY_SHA256, UNSIGNED_PAYLOAD,
};
use coffer_proto::auth::{AuthError, Query};

/// The verifiers' clock (2023-11-14T22:13:20Z).
const NOW: u64 = 1_700_000_000;
/// The region of the credential scope.
const REGION: &str = "ap-guangzhou";
/// The host the signed forms carry.
const HOST: &str = "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com";

/// Runs one input.
pub fn run(data: &[u8]) {
    let request = FuzzRequest::parse(data);
    parse_and_verify(&request);
    sign_then_verify(&request);
}

fn parse_and_verify(request: &FuzzRequest) {
    let (parsed, query) = match request.auth.strip_prefix('?') {
        Some(presigned) => {
            let query = if request.raw_query.is_empty() {
                presigned.to_string()
            } else {
                format!("{}&{presigned}", request.raw_query)
            };
            (SigV4Auth::from_query(&Query::parse(&query)), query)
        }
        None => (
            SigV4Auth::parse_header(&request.auth).map(Some),
            request.raw_query.clone(),
        ),
    };
    let Ok(Some(auth)) = parsed else {
        return;
    };
    let credential = &auth.credential;
    let rendered = format!("{}/{}", credential.access_key, credential.scope());
    assert_eq!(
        Credential::parse(&rendered).as_ref(),
        Ok(credential),
        "{rendered:?} does not parse back"
    );
    assert!(!auth.signed_headers.is_empty());
    for name in &auth.signed_headers {
        assert!(
            !name.is_empty() && *name == name.to_ascii_lowercase(),
            "{auth:?}"
        );
    }
    let headers = request.header_refs();
    let view_query = Query::parse(&query);
    let view = view(request, &headers, &view_query);
    let _ = sigv4::verify(&auth, SECRET_KEY, &view, NOW);
}

fn sign_then_verify(request: &FuzzRequest) {
    let own_amz_param = Query::parse(&request.raw_query)
        .params()
        .iter()
        .any(|param| param.name_text().to_ascii_lowercase().starts_with("x-amz-"));
    if own_amz_param {
        return;
    }
    let amz_date = sigv4::format_amz_date(NOW).expect("NOW formats");
    let payload_hash = match request.auth.bytes().next().unwrap_or(0) % 3 {
        0 => UNSIGNED_PAYLOAD,
        1 => EMPTY_SHA256,
        _ => sigv4::STREAMING_PAYLOAD,
    };
    let base = request.without(&[
        "authorization",
        "host",
        "x-amz-date",
        "x-amz-content-sha256",
    ]);
    let signer = SigV4Signer::new(ACCESS_KEY, SECRET_KEY, REGION);

    // Header form.
    let signed_request = base
        .clone()
        .with("Host", HOST)
        .with("x-amz-date", &amz_date)
        .with("x-amz-content-sha256", payload_hash);
    let refs = signed_request.header_refs();
    let names: Vec<&str> = refs.iter().map(|(n, _)| *n).collect();
    let header_view_query = Query::parse(&signed_request.raw_query);
    let header_view = view(&signed_request, &refs, &header_view_query);
    let signed = signer
        .sign(&header_view, &names, payload_hash, &amz_date)
        .expect("signs");
    let auth =
        SigV4Auth::parse_header(&signed.authorization).expect("the signer's Authorization parses");
    let mut expected_names: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    expected_names.sort();
    expected_names.dedup();
    assert_eq!(auth.signed_headers, expected_names);
    assert_eq!(auth.signature, signed.signature);
    let context = sigv4::verify(&auth, SECRET_KEY, &header_view, NOW)
        .unwrap_or_else(|e| panic!("a correctly signed request does not verify: {e:?}"));
    let expected_payload = match payload_hash {
        UNSIGNED_PAYLOAD => PayloadMode::Unsigned,
        EMPTY_SHA256 => PayloadMode::Sha256(EMPTY_SHA256.to_string()),
        _ => PayloadMode::StreamingSigned(signed.streaming()),
    };
    assert_eq!(context.payload, expected_payload);
    assert_eq!(
        sigv4::verify(&auth, SECRET_KEY, &header_view, NOW + 901),
        Err(AuthError::TimeTooSkewed)
    );
    let mut tampered = auth.clone();
    tampered.signature = flip_hex(&tampered.signature);
    assert!(matches!(
        sigv4::verify(&tampered, SECRET_KEY, &header_view, NOW),
        Err(AuthError::SignatureMismatch { .. })
    ));

    // Presigned form: host and every header of the request signed.
    let presigned_request = base.with("Host", HOST);
    let refs = presigned_request.header_refs();
    let names: Vec<&str> = refs.iter().map(|(n, _)| *n).collect();
    let original_query = Query::parse(&presigned_request.raw_query);
    let original = view(&presigned_request, &refs, &original_query);
    let query = signer
        .presign(&original, &names, &amz_date, 600, None)
        .expect("presigns");
    let query_view_query = Query::parse(&query);
    let query_view = view(&presigned_request, &refs, &query_view_query);
    let auth = SigV4Auth::from_request(&query_view)
        .expect("the signer's query parses")
        .expect("the signer's query is found");
    assert!(
        sigv4::verify(&auth, SECRET_KEY, &query_view, NOW + 600).is_ok(),
        "a correctly presigned request does not verify: {query:?}"
    );
    assert_eq!(
        sigv4::verify(&auth, SECRET_KEY, &query_view, NOW + 601),
        Err(AuthError::Expired)
    );
}

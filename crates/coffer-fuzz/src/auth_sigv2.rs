//! AWS Signature Version 2 (`coffer_proto::auth::sigv2`): `Authorization: AWS ak:sig` and the
//! presigned query (`AWSAccessKeyId`, `Expires`, `Signature`), verified against a fixed key.
//!
//! Input: the line form of `request.rs` (line 1 an `Authorization` value, or `?` and a
//! presigned query); the path line is used as the raw CanonicalizedResource path.
//! Invariants:
//! - parsing and verifying never panic;
//! - a parsed header form has a non-empty access key and signature without whitespace and
//!   renders (`AWS ak:sig`) to a value that parses back to it;
//! - sign-then-verify: signing the request with a fresh `Date` gives an `Authorization`
//!   value that verifies now, is `RequestTimeTooSkewed` 15 minutes later and does not verify
//!   with a changed signature; presigning gives a query that verifies until `Expires` and is
//!   `Expired` after. Whenever the request is unambiguous (no presigning parameter of its
//!   own).

use crate::auth_cos::{ACCESS_KEY, SECRET_KEY};
use crate::request::{view, FuzzRequest};
use coffer_proto::auth::sigv2::{self, SigV2Auth};
use coffer_proto::auth::{AuthError, Query};

/// The verifiers' clock.
const NOW: u64 = 1_700_000_000;

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
            (SigV2Auth::from_query(&Query::parse(&query)), query)
        }
        None => (
            SigV2Auth::parse_header(&request.auth).map(Some),
            request.raw_query.clone(),
        ),
    };
    let Ok(Some(auth)) = parsed else {
        return;
    };
    assert!(
        !auth.access_key.is_empty() && !auth.signature.is_empty(),
        "{auth:?}"
    );
    if !auth.is_presigned() {
        for text in [&auth.access_key, &auth.signature] {
            assert!(!text.bytes().any(|b| b.is_ascii_whitespace()), "{auth:?}");
        }
        let rendered = format!("AWS {}:{}", auth.access_key, auth.signature);
        assert_eq!(
            SigV2Auth::parse_header(&rendered).as_ref(),
            Ok(&auth),
            "{rendered:?} does not parse back"
        );
    }
    let headers = request.header_refs();
    let view_query = Query::parse(&query);
    let view = view(request, &headers, &view_query);
    let _ = sigv2::verify(&auth, SECRET_KEY, &view, &request.path, NOW);
    let _ = sigv2::parse_date(&request.auth);
}

fn sign_then_verify(request: &FuzzRequest) {
    let presigning = Query::parse(&request.raw_query)
        .text_pairs()
        .iter()
        .any(|(name, _)| matches!(name.as_str(), "AWSAccessKeyId" | "Signature" | "Expires"));
    if presigning {
        return;
    }
    let raw_path = &request.path;
    let date = coffer_proto::time::http_date(NOW as i64 * 1000);
    let signed_request = request
        .without(&["authorization", "date", "x-amz-date"])
        .with("Date", &date);
    let refs = signed_request.header_refs();
    let header_view_query = Query::parse(&signed_request.raw_query);
    let header_view = view(&signed_request, &refs, &header_view_query);
    let signed = sigv2::sign(ACCESS_KEY, SECRET_KEY, &header_view, raw_path);
    let auth =
        SigV2Auth::parse_header(&signed.authorization).expect("the signer's Authorization parses");
    assert_eq!(auth.signature, signed.signature);
    assert_eq!(
        sigv2::verify(&auth, SECRET_KEY, &header_view, raw_path, NOW),
        Ok(()),
        "a correctly signed request does not verify: {signed:?}"
    );
    assert_eq!(
        sigv2::verify(&auth, SECRET_KEY, &header_view, raw_path, NOW + 901),
        Err(AuthError::TimeTooSkewed)
    );
    let mut tampered = auth.clone();
    tampered.signature = format!("A{}", tampered.signature);
    assert!(matches!(
        sigv2::verify(&tampered, SECRET_KEY, &header_view, raw_path, NOW),
        Err(AuthError::SignatureMismatch { .. })
    ));

    // Presigned form.
    let presigned_request = request.without(&["authorization", "date", "x-amz-date"]);
    let refs = presigned_request.header_refs();
    let original_query = Query::parse(&presigned_request.raw_query);
    let original = view(&presigned_request, &refs, &original_query);
    let expires = NOW + 600;
    let query = sigv2::presign(ACCESS_KEY, SECRET_KEY, &original, raw_path, expires);
    let query_view_query = Query::parse(&query);
    let query_view = view(&presigned_request, &refs, &query_view_query);
    let auth = SigV2Auth::from_request(&query_view)
        .expect("the signer's query parses")
        .expect("the signer's query is found");
    assert_eq!(auth.expires, Some(expires));
    assert_eq!(
        sigv2::verify(&auth, SECRET_KEY, &query_view, raw_path, expires),
        Ok(()),
        "a correctly presigned request does not verify: {query:?}"
    );
    assert_eq!(
        sigv2::verify(&auth, SECRET_KEY, &query_view, raw_path, expires + 1),
        Err(AuthError::Expired)
    );
}

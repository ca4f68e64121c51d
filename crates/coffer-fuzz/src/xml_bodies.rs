//! Every request body the server parses, each by the handler's own parser
//! (`coffer_server::fuzzing`): DeleteObjects' `<Delete>`, CompleteMultipartUpload's
//! `<CompleteMultipartUpload>`, CreateBucket's optional `<CreateBucketConfiguration>` and the
//! admin API's JSON account.
//!
//! Input: one body, given to every parser. Invariants:
//! - never a panic, and every refusal is a client error (4xx), never a 500;
//! - a parsed `<Delete>` has 1 to 1000 objects and, written back as XML, parses to the same
//!   request (keys and version ids exactly, control characters included);
//! - a parsed `<CompleteMultipartUpload>` has parts in strictly ascending order and, written
//!   back, parses to the same parts;
//! - a parsed account has non-empty keys and numeric APPID and uin.

use coffer_proto::xml::XmlWriter;
use coffer_server::error::ApiResult;
use coffer_server::fuzzing::{
    check_create_bucket_configuration, parse_account, parse_complete, parse_delete,
};

/// Runs one input.
pub fn run(data: &[u8]) {
    check_delete(data);
    check_complete(data);
    client_error(check_create_bucket_configuration(data));
    if let Some(account) = client_error(parse_account(data)) {
        assert!(!account.secret_id.is_empty() && !account.secret_key.is_empty());
        for number in [&account.appid, &account.uin] {
            assert!(!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}

/// The value of a parse, asserting that a refusal is a client error.
fn client_error<T>(result: ApiResult<T>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(error) => {
            let status = error.code.status();
            assert!(
                (400..500).contains(&status),
                "a body answered {status} {:?}",
                error.code
            );
            None
        }
    }
}

fn check_delete(data: &[u8]) {
    let Some(request) = client_error(parse_delete(data)) else {
        return;
    };
    assert!((1..=1000).contains(&request.objects.len()));
    let mut w = XmlWriter::new();
    w.open("Delete")
        .leaf("Quiet", if request.quiet { "true" } else { "false" });
    for object in &request.objects {
        w.open("Object").leaf("Key", &object.key);
        w.leaf_opt("VersionId", object.version_id.as_deref());
        w.close("Object");
    }
    w.close("Delete");
    let written = w.finish();
    let again = parse_delete(written.as_bytes())
        .unwrap_or_else(|e| panic!("{written:?} written back does not parse: {e:?}"));
    assert_eq!(again, request, "written back as {written:?}");
}

fn check_complete(data: &[u8]) {
    let Some(parts) = client_error(parse_complete(data)) else {
        return;
    };
    assert!(!parts.is_empty());
    assert!(parts
        .windows(2)
        .all(|w| w[0].part_number < w[1].part_number));
    let mut w = XmlWriter::new();
    w.open("CompleteMultipartUpload");
    for part in &parts {
        w.open("Part")
            .leaf_display("PartNumber", part.part_number)
            .leaf("ETag", &part.etag)
            .close("Part");
    }
    w.close("CompleteMultipartUpload");
    let written = w.finish();
    let again = parse_complete(written.as_bytes())
        .unwrap_or_else(|e| panic!("{written:?} written back does not parse: {e:?}"));
    let pairs = |parts: &[coffer_store::RequestedPart]| -> Vec<(u32, String)> {
        parts
            .iter()
            .map(|p| (p.part_number, p.etag.clone()))
            .collect()
    };
    assert_eq!(pairs(&again), pairs(&parts), "written back as {written:?}");
}

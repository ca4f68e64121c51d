//! Parts of an object and flexible checksums (issue 17, items 6 and 7): GET/HEAD
//! `?partNumber=`, GetObjectAttributes, `x-amz-checksum-*` on PUT, parts and completions,
//! checksum-mode reads — every expected value computed here independently of the server's
//! code (bitwise reference CRCs, the `sha1`/`sha2` crates).

use crate::support::*;
use base64::Engine as _;
use sha2::Digest as _;

const MIB: usize = 1 << 20;

/// An S3 (SigV4-signed) request.
fn s3(method: &str, path: &str) -> Req {
    Req::new(method, BUCKET, path).signing(Signing::SigV4)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A reflected CRC computed bit by bit (init and final xor all ones): the reference the
/// server's table-driven and combined CRCs are checked against.
fn reference_crc(poly: u64, width: u32, data: &[u8]) -> Vec<u8> {
    let mask = if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    let mut crc = mask;
    for byte in data {
        crc ^= u64::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ poly
            } else {
                crc >> 1
            };
        }
    }
    let value = (crc ^ mask) & mask;
    value.to_be_bytes()[(8 - width as usize / 8)..].to_vec()
}

/// The binary digest of `data` under an algorithm named as S3 names it.
fn digest(algorithm: &str, data: &[u8]) -> Vec<u8> {
    match algorithm {
        "CRC32" => reference_crc(0xEDB8_8320, 32, data),
        "CRC32C" => reference_crc(0x82F6_3B78, 32, data),
        "CRC64NVME" => reference_crc(0x9A6C_9329_AC4B_C9B5, 64, data),
        "SHA1" => sha1::Sha1::digest(data).to_vec(),
        "SHA256" => sha2::Sha256::digest(data).to_vec(),
        other => panic!("unknown algorithm {other}"),
    }
}

fn header_of(algorithm: &str) -> String {
    format!("x-amz-checksum-{}", algorithm.to_ascii_lowercase())
}

/// Bytes that differ from part to part and position to position.
fn data(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

async fn create(server: &TestServer, key: &str, headers: &[(&str, &str)]) -> String {
    let mut req = s3("POST", key).param("uploads", "");
    for (name, value) in headers {
        req = req.header(name, value);
    }
    let response = server.send(req).await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.xml("UploadId").expect("upload id")
}

async fn upload_part(
    server: &TestServer,
    key: &str,
    upload: &str,
    number: u32,
    body: &[u8],
    checksum: Option<(&str, String)>,
) -> Resp {
    let mut req = s3("PUT", key)
        .param("partNumber", &number.to_string())
        .param("uploadId", upload)
        .body(body.to_vec());
    if let Some((algorithm, value)) = checksum {
        req = req.header(&header_of(algorithm), &value);
    }
    server.send(req).await
}

/// A part as a completion names it: number, ETag, optional (algorithm, checksum).
type NamedPart = (u32, String, Option<(&'static str, String)>);

/// A CompleteMultipartUpload body.
fn complete_body(parts: &[NamedPart]) -> String {
    let mut body = String::from("<CompleteMultipartUpload>");
    for (number, etag, checksum) in parts {
        body.push_str(&format!(
            "<Part><PartNumber>{number}</PartNumber><ETag>{}</ETag>",
            etag.replace('"', "&quot;")
        ));
        if let Some((algorithm, value)) = checksum {
            body.push_str(&format!(
                "<Checksum{algorithm}>{value}</Checksum{algorithm}>"
            ));
        }
        body.push_str("</Part>");
    }
    body.push_str("</CompleteMultipartUpload>");
    body
}

async fn complete(server: &TestServer, key: &str, upload: &str, body: String) -> Resp {
    server
        .send(s3("POST", key).param("uploadId", upload).body(body))
        .await
}

/// Uploads parts numbered 1, 3 and 7 (1 MiB, 1 MiB, 10 bytes) without checksums and
/// completes them; returns their bytes and the object's ETag.
async fn multipart_with_gaps(server: &TestServer, key: &str) -> (Vec<Vec<u8>>, String) {
    let upload = create(server, key, &[]).await;
    let bodies = vec![data(1, MIB), data(3, MIB), data(7, 10)];
    let mut parts = Vec::new();
    for (number, body) in [1u32, 3, 7].into_iter().zip(&bodies) {
        let response = upload_part(server, key, &upload, number, body, None).await;
        assert_eq!(response.status, 200, "{}", response.text());
        parts.push((number, response.header("ETag").expect("etag"), None));
    }
    let done = complete(server, key, &upload, complete_body(&parts)).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let etag = done.xml("ETag").expect("etag").replace("&quot;", "\"");
    (bodies, etag)
}

#[tokio::test]
async fn part_numbers_address_the_completed_parts_even_with_gaps() {
    let server = TestServer::with_bucket().await;
    let (bodies, etag) = multipart_with_gaps(&server, "/mp").await;
    let total = bodies.iter().map(Vec::len).sum::<usize>();
    // partNumber=3 is the second part.
    let get = server.send(s3("GET", "/mp").param("partNumber", "3")).await;
    assert_eq!(get.status, 206, "{}", get.text());
    assert!(get.body == bodies[1]);
    assert_eq!(get.header("Content-Length"), Some(MIB.to_string()));
    assert_eq!(
        get.header("Content-Range"),
        Some(format!("bytes {}-{}/{total}", MIB, 2 * MIB - 1))
    );
    assert_eq!(get.header("ETag"), Some(etag.clone()));
    assert_eq!(get.header("x-amz-mp-parts-count").as_deref(), Some("3"));
    let head = server
        .send(s3("HEAD", "/mp").param("partNumber", "7"))
        .await;
    assert_eq!(head.status, 206);
    assert_eq!(head.header("Content-Length").as_deref(), Some("10"));
    assert_eq!(
        head.header("Content-Range"),
        Some(format!("bytes {}-{}/{total}", 2 * MIB, total - 1))
    );
    assert_eq!(head.header("x-amz-mp-parts-count").as_deref(), Some("3"));
    let first = server.send(s3("GET", "/mp").param("partNumber", "1")).await;
    assert!(first.status == 206 && first.body == bodies[0]);
    // Numbers the completion did not use.
    for missing in ["2", "4", "8", "10000"] {
        let response = server
            .send(s3("GET", "/mp").param("partNumber", missing))
            .await;
        assert_eq!(response.status, 416, "{missing}");
        assert_eq!(response.xml("Code").as_deref(), Some("InvalidPartNumber"));
    }
    // A whole GET carries no part count; a COS GET of a part no S3 header.
    let whole = server.send(s3("GET", "/mp")).await;
    assert!(whole.status == 200 && whole.header("x-amz-mp-parts-count").is_none());
    let cos = server
        .send(Req::get(BUCKET, "/mp").param("partNumber", "3"))
        .await;
    assert!(cos.status == 206 && cos.body == bodies[1]);
    assert!(cos.header("x-amz-mp-parts-count").is_none());
}

#[tokio::test]
async fn part_one_of_a_single_part_object_is_the_whole_object_as_a_range() {
    let server = TestServer::with_bucket().await;
    let put = server.send(s3("PUT", "/single").body("body")).await;
    assert_eq!(put.status, 200);
    for method in ["GET", "HEAD"] {
        let response = server
            .send(s3(method, "/single").param("partNumber", "1"))
            .await;
        assert_eq!(response.status, 206, "{method}");
        assert_eq!(
            response.header("Content-Range").as_deref(),
            Some("bytes 0-3/4")
        );
        assert_eq!(response.header("Content-Length").as_deref(), Some("4"));
        assert_eq!(response.header("ETag"), put.header("ETag"));
        assert!(response.header("x-amz-mp-parts-count").is_none());
    }
    let get = server
        .send(s3("GET", "/single").param("partNumber", "1"))
        .await;
    assert_eq!(get.body, b"body");
    let two = server
        .send(s3("GET", "/single").param("partNumber", "2"))
        .await;
    assert_eq!(two.status, 416);
    assert_eq!(two.xml("Code").as_deref(), Some("InvalidPartNumber"));
}

#[tokio::test]
async fn invalid_part_numbers_ranges_and_conditions() {
    let server = TestServer::with_bucket().await;
    let put = server.send(s3("PUT", "/o").body("0123456789")).await;
    let etag = put.header("ETag").expect("etag");
    for bad in ["0", "-1", "10001", "abc", "", "1.5"] {
        let response = server.send(s3("GET", "/o").param("partNumber", bad)).await;
        assert_eq!(response.status, 400, "{bad:?}");
        assert_eq!(
            response.xml("Code").as_deref(),
            Some("InvalidArgument"),
            "{bad:?}"
        );
    }
    let both = server
        .send(
            s3("GET", "/o")
                .param("partNumber", "1")
                .header("Range", "bytes=0-1"),
        )
        .await;
    assert_eq!(both.status, 400);
    assert_eq!(both.xml("Code").as_deref(), Some("InvalidRequest"));
    let not_modified = server
        .send(
            s3("GET", "/o")
                .param("partNumber", "1")
                .header("If-None-Match", &etag),
        )
        .await;
    assert_eq!(not_modified.status, 304);
    let failed = server
        .send(
            s3("HEAD", "/o")
                .param("partNumber", "1")
                .header("If-Match", "\"0000\""),
        )
        .await;
    assert_eq!(failed.status, 412);
    // partNumber is read by GET and HEAD, so a COS signature must cover it.
    let unsigned = server
        .send(Req::get(BUCKET, "/o").unsigned_param("partNumber", "1"))
        .await;
    assert_eq!(unsigned.status, 403);
}

#[tokio::test]
async fn get_object_attributes_pages_parts_and_reports_the_checksum() {
    let server = TestServer::with_bucket().await;
    let (bodies, etag) = multipart_with_gaps(&server, "/mp").await;
    let all = "ETag,Checksum,ObjectParts,StorageClass,ObjectSize";
    let attributes = |marker: Option<&str>, max: Option<&str>| {
        let mut req = s3("GET", "/mp")
            .param("attributes", "")
            .header("x-amz-object-attributes", all);
        if let Some(marker) = marker {
            req = req.header("x-amz-part-number-marker", marker);
        }
        if let Some(max) = max {
            req = req.header("x-amz-max-parts", max);
        }
        req
    };
    let first = server.send(attributes(Some("1"), Some("1"))).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(first.text().contains("<GetObjectAttributesResponse"));
    assert_eq!(first.xml("ETag"), Some(etag.trim_matches('"').to_string()));
    assert_eq!(first.xml("PartsCount").as_deref(), Some("3"));
    assert_eq!(first.xml("PartNumberMarker").as_deref(), Some("1"));
    assert_eq!(first.xml("NextPartNumberMarker").as_deref(), Some("3"));
    assert_eq!(first.xml("MaxParts").as_deref(), Some("1"));
    assert_eq!(first.xml("IsTruncated").as_deref(), Some("true"));
    assert_eq!(first.xml("PartNumber").as_deref(), Some("3"));
    assert_eq!(first.xml("Size"), Some(MIB.to_string()));
    assert_eq!(first.xml("StorageClass").as_deref(), Some("STANDARD"));
    let total = bodies.iter().map(Vec::len).sum::<usize>();
    assert_eq!(first.xml("ObjectSize"), Some(total.to_string()));
    assert!(first.header("Last-Modified").is_some());
    // Uploaded without checksums: the default full-object CRC-64/NVME, per part and whole.
    let whole: Vec<u8> = bodies.concat();
    assert_eq!(
        first
            .xml("Checksum")
            .map(|c| c.contains(&b64(&digest("CRC64NVME", &whole)))),
        Some(true)
    );
    assert!(first
        .text()
        .contains("<ChecksumType>FULL_OBJECT</ChecksumType>"));
    assert!(first
        .text()
        .contains(&b64(&digest("CRC64NVME", &bodies[1]))));
    let rest = server.send(attributes(Some("3"), Some("10"))).await;
    assert_eq!(rest.xml("IsTruncated").as_deref(), Some("false"));
    assert_eq!(rest.xml("PartNumber").as_deref(), Some("7"));
    assert_eq!(rest.xml("Size").as_deref(), Some("10"));
    assert_eq!(rest.text().matches("<Part>").count(), 1);
    // Only what is asked for; a single-part object has no ObjectParts.
    server.send(s3("PUT", "/small").body("abc")).await;
    let small = server
        .send(
            s3("GET", "/small")
                .param("attributes", "")
                .header("x-amz-object-attributes", "ObjectParts,ObjectSize"),
        )
        .await;
    assert_eq!(small.status, 200);
    assert!(small.xml("ObjectParts").is_none() && small.xml("ETag").is_none());
    assert_eq!(small.xml("ObjectSize").as_deref(), Some("3"));
    for bad in ["ETag,Bogus", ""] {
        let response = server
            .send(
                s3("GET", "/small")
                    .param("attributes", "")
                    .header("x-amz-object-attributes", bad),
            )
            .await;
        assert_eq!(response.status, 400, "{bad:?}");
        assert_eq!(response.xml("Code").as_deref(), Some("InvalidArgument"));
    }
    let missing = server
        .send(
            s3("GET", "/nothing")
                .param("attributes", "")
                .header("x-amz-object-attributes", "ETag"),
        )
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn put_object_checksums_of_every_algorithm_are_verified_stored_and_returned() {
    let server = TestServer::with_bucket().await;
    let body = data(9, 70_000);
    for algorithm in ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"] {
        let key = format!("/{algorithm}");
        let value = b64(&digest(algorithm, &body));
        let put = server
            .send(
                s3("PUT", &key)
                    .header(&header_of(algorithm), &value)
                    .body(body.clone()),
            )
            .await;
        assert_eq!(put.status, 200, "{algorithm}: {}", put.text());
        assert_eq!(put.header(&header_of(algorithm)), Some(value.clone()));
        assert_eq!(
            put.header("x-amz-checksum-type").as_deref(),
            Some("FULL_OBJECT")
        );
        let plain = server.send(s3("HEAD", &key)).await;
        assert!(plain.header(&header_of(algorithm)).is_none(), "{algorithm}");
        let head = server
            .send(s3("HEAD", &key).header("x-amz-checksum-mode", "ENABLED"))
            .await;
        assert_eq!(head.header(&header_of(algorithm)), Some(value.clone()));
        assert_eq!(
            head.header("x-amz-checksum-type").as_deref(),
            Some("FULL_OBJECT")
        );
        // A range is not the object: no checksum.
        let ranged = server
            .send(
                s3("GET", &key)
                    .header("x-amz-checksum-mode", "ENABLED")
                    .header("Range", "bytes=0-9"),
            )
            .await;
        assert!(ranged.header(&header_of(algorithm)).is_none());
        let wrong = b64(&digest(algorithm, b"something else"));
        let bad = server
            .send(
                s3("PUT", &format!("{key}-bad"))
                    .header(&header_of(algorithm), &wrong)
                    .body(body.clone()),
            )
            .await;
        assert_eq!(bad.status, 400, "{algorithm}");
        assert_eq!(bad.xml("Code").as_deref(), Some("BadDigest"));
        assert_eq!(
            bad.xml("Message"),
            Some(format!(
                "The {algorithm} you specified did not match the calculated checksum."
            ))
        );
    }
    // Without a checksum the object gets the default CRC-64/NVME.
    let put = server.send(s3("PUT", "/plain").body(body.clone())).await;
    let expected = b64(&digest("CRC64NVME", &body));
    assert_eq!(
        put.header("x-amz-checksum-crc64nvme"),
        Some(expected.clone())
    );
    let get = server
        .send(s3("GET", "/plain").header("x-amz-checksum-mode", "ENABLED"))
        .await;
    assert_eq!(get.header("x-amz-checksum-crc64nvme"), Some(expected));
    // Two checksums, an unknown algorithm, an SDK algorithm without its checksum: refused.
    let crc = b64(&digest("CRC32", &body));
    let sha = b64(&digest("SHA1", &body));
    for req in [
        s3("PUT", "/x")
            .header("x-amz-checksum-crc32", &crc)
            .header("x-amz-checksum-sha1", &sha),
        s3("PUT", "/x").header("x-amz-checksum-md5", "AAAA"),
        s3("PUT", "/x").header("x-amz-sdk-checksum-algorithm", "SHA256"),
    ] {
        let response = server.send(req.body(body.clone())).await;
        assert_eq!(response.status, 400, "{}", response.text());
        assert_eq!(response.xml("Code").as_deref(), Some("InvalidRequest"));
    }
}

/// Uploads `bodies` as parts 1.. of a new upload created with `headers`, each with its
/// checksum in `algorithm` when `send_checksums`; returns the upload id and the parts for
/// the completion body.
async fn upload_all(
    server: &TestServer,
    key: &str,
    headers: &[(&str, &str)],
    algorithm: &'static str,
    bodies: &[Vec<u8>],
    send_checksums: bool,
) -> (String, Vec<NamedPart>) {
    let upload = create(server, key, headers).await;
    let mut parts = Vec::new();
    for (number, body) in (1u32..).zip(bodies) {
        let value = b64(&digest(algorithm, body));
        let sent = send_checksums.then(|| (algorithm, value.clone()));
        let response = upload_part(server, key, &upload, number, body, sent).await;
        assert_eq!(response.status, 200, "{}", response.text());
        assert_eq!(response.header(&header_of(algorithm)), Some(value.clone()));
        parts.push((
            number,
            response.header("ETag").expect("etag"),
            Some((algorithm, value)),
        ));
    }
    (upload, parts)
}

#[tokio::test]
async fn composite_checksums_are_verified_per_part_and_combined_at_completion() {
    let server = TestServer::with_bucket().await;
    let bodies = vec![data(1, MIB), data(2, MIB), data(3, 1000)];
    for algorithm in ["SHA256", "SHA1", "CRC32", "CRC32C"] {
        let key = format!("/composite-{algorithm}");
        let upload = create(&server, &key, &[("x-amz-checksum-algorithm", algorithm)]).await;
        // A part whose checksum does not match, and one without the upload's checksum.
        let wrong = b64(&digest(algorithm, b"other bytes"));
        let bad = upload_part(
            &server,
            &key,
            &upload,
            1,
            &bodies[0],
            Some((algorithm, wrong)),
        )
        .await;
        assert_eq!(bad.xml("Code").as_deref(), Some("BadDigest"), "{algorithm}");
        let missing = upload_part(&server, &key, &upload, 1, &bodies[0], None).await;
        assert_eq!(missing.status, 400);
        assert_eq!(missing.xml("Code").as_deref(), Some("InvalidRequest"));
        server
            .send(s3("DELETE", &key).param("uploadId", &upload))
            .await;

        let headers = [("x-amz-checksum-algorithm", algorithm)];
        let (upload, parts) = upload_all(&server, &key, &headers, algorithm, &bodies, true).await;
        let listed = server
            .send(s3("GET", &key).param("uploadId", &upload))
            .await;
        assert_eq!(listed.xml("ChecksumAlgorithm").as_deref(), Some(algorithm));
        assert_eq!(listed.xml("ChecksumType").as_deref(), Some("COMPOSITE"));
        assert_eq!(
            listed.xml(&format!("Checksum{algorithm}")),
            parts[0].2.as_ref().map(|(_, v)| v.clone())
        );
        // Completion: a part checksum that differs is InvalidPart, a missing one is refused.
        let mut tampered = parts.clone();
        tampered[1].2 = Some((algorithm, b64(&digest(algorithm, b"x"))));
        let refused = complete(&server, &key, &upload, complete_body(&tampered)).await;
        assert_eq!(
            refused.xml("Code").as_deref(),
            Some("InvalidPart"),
            "{algorithm}"
        );
        let mut without = parts.clone();
        without[2].2 = None;
        let refused = complete(&server, &key, &upload, complete_body(&without)).await;
        assert_eq!(refused.xml("Code").as_deref(), Some("InvalidRequest"));
        // A wrong stated object checksum is BadDigest, whatever the parts say.
        let stated_wrong = server
            .send(
                s3("POST", &key)
                    .param("uploadId", &upload)
                    .header(&header_of(algorithm), &b64(&digest(algorithm, b"no")))
                    .body(complete_body(&without)),
            )
            .await;
        assert_eq!(stated_wrong.xml("Code").as_deref(), Some("BadDigest"));
        let done = complete(&server, &key, &upload, complete_body(&parts)).await;
        assert_eq!(done.status, 200, "{}", done.text());
        let part_digests: Vec<u8> = bodies.iter().flat_map(|b| digest(algorithm, b)).collect();
        let expected = format!("{}-3", b64(&digest(algorithm, &part_digests)));
        assert_eq!(
            done.xml(&format!("Checksum{algorithm}")),
            Some(expected.clone())
        );
        assert_eq!(done.xml("ChecksumType").as_deref(), Some("COMPOSITE"));
        let head = server
            .send(s3("HEAD", &key).header("x-amz-checksum-mode", "ENABLED"))
            .await;
        assert_eq!(head.header(&header_of(algorithm)), Some(expected));
        assert_eq!(
            head.header("x-amz-checksum-type").as_deref(),
            Some("COMPOSITE")
        );
        // A part's GET carries the part's own checksum.
        let part = server
            .send(
                s3("GET", &key)
                    .param("partNumber", "2")
                    .header("x-amz-checksum-mode", "ENABLED"),
            )
            .await;
        assert_eq!(
            part.header(&header_of(algorithm)),
            Some(b64(&digest(algorithm, &bodies[1])))
        );
        assert_eq!(
            part.header("x-amz-checksum-type").as_deref(),
            Some("COMPOSITE")
        );
    }
}

#[tokio::test]
async fn full_object_crcs_are_combined_from_the_parts() {
    let server = TestServer::with_bucket().await;
    let bodies = vec![data(4, MIB), data(5, MIB + 17), data(6, 3)];
    let whole = bodies.concat();
    for algorithm in ["CRC32", "CRC32C", "CRC64NVME"] {
        let key = format!("/full-{algorithm}");
        let headers = [
            ("x-amz-checksum-algorithm", algorithm),
            ("x-amz-checksum-type", "FULL_OBJECT"),
        ];
        // FULL_OBJECT parts need not carry their checksum: the server computes it.
        let (upload, parts) = upload_all(&server, &key, &headers, algorithm, &bodies, false).await;
        let expected = b64(&digest(algorithm, &whole));
        let wrong_type = server
            .send(
                s3("POST", &key)
                    .param("uploadId", &upload)
                    .header("x-amz-checksum-type", "COMPOSITE")
                    .body(complete_body(&parts)),
            )
            .await;
        assert_eq!(wrong_type.xml("Code").as_deref(), Some("InvalidRequest"));
        let wrong_value = server
            .send(
                s3("POST", &key)
                    .param("uploadId", &upload)
                    .header(&header_of(algorithm), &b64(&digest(algorithm, b"no")))
                    .body(complete_body(&parts)),
            )
            .await;
        assert_eq!(wrong_value.xml("Code").as_deref(), Some("BadDigest"));
        let done = server
            .send(
                s3("POST", &key)
                    .param("uploadId", &upload)
                    .header(&header_of(algorithm), &expected)
                    .header("x-amz-checksum-type", "FULL_OBJECT")
                    .body(complete_body(&parts)),
            )
            .await;
        assert_eq!(done.status, 200, "{algorithm}: {}", done.text());
        assert_eq!(
            done.xml(&format!("Checksum{algorithm}")),
            Some(expected.clone())
        );
        assert_eq!(done.xml("ChecksumType").as_deref(), Some("FULL_OBJECT"));
        let get = server
            .send(s3("GET", &key).header("x-amz-checksum-mode", "ENABLED"))
            .await;
        assert!(get.body == whole);
        assert_eq!(get.header(&header_of(algorithm)), Some(expected));
        assert_eq!(
            get.header("x-amz-checksum-type").as_deref(),
            Some("FULL_OBJECT")
        );
    }
    // What CreateMultipartUpload refuses, and what it echoes.
    for (headers, ok) in [
        (
            vec![
                ("x-amz-checksum-algorithm", "SHA1"),
                ("x-amz-checksum-type", "FULL_OBJECT"),
            ],
            false,
        ),
        (
            vec![
                ("x-amz-checksum-algorithm", "CRC64NVME"),
                ("x-amz-checksum-type", "COMPOSITE"),
            ],
            false,
        ),
        (vec![("x-amz-checksum-type", "COMPOSITE")], false),
        (vec![("x-amz-checksum-algorithm", "MD5")], false),
        (vec![("x-amz-checksum-algorithm", "CRC64NVME")], true),
    ] {
        let mut req = s3("POST", "/refused").param("uploads", "");
        for (name, value) in &headers {
            req = req.header(name, value);
        }
        let response = server.send(req).await;
        if ok {
            assert_eq!(response.status, 200);
            assert_eq!(
                response.header("x-amz-checksum-algorithm").as_deref(),
                Some("CRC64NVME")
            );
            assert_eq!(
                response.header("x-amz-checksum-type").as_deref(),
                Some("FULL_OBJECT")
            );
        } else {
            assert_eq!(response.status, 400, "{headers:?}");
            assert_eq!(response.xml("Code").as_deref(), Some("InvalidRequest"));
        }
    }
}

#[tokio::test]
async fn copies_keep_or_recompute_the_checksum() {
    let server = TestServer::with_bucket().await;
    let body = data(8, 5000);
    let sha = b64(&digest("SHA256", &body));
    server
        .send(
            s3("PUT", "/src")
                .header("x-amz-checksum-sha256", &sha)
                .body(body.clone()),
        )
        .await;
    let source = format!("/{BUCKET}/src");
    let kept = server
        .send(s3("PUT", "/kept").header("x-amz-copy-source", &source))
        .await;
    assert_eq!(kept.status, 200, "{}", kept.text());
    assert_eq!(kept.xml("ChecksumSHA256"), Some(sha.clone()));
    let recomputed = server
        .send(
            s3("PUT", "/crc")
                .header("x-amz-copy-source", &source)
                .header("x-amz-checksum-algorithm", "CRC32C"),
        )
        .await;
    let crc = b64(&digest("CRC32C", &body));
    assert_eq!(recomputed.xml("ChecksumCRC32C"), Some(crc.clone()));
    let head = server
        .send(s3("HEAD", "/crc").header("x-amz-checksum-mode", "ENABLED"))
        .await;
    assert_eq!(head.header("x-amz-checksum-crc32c"), Some(crc));
    assert!(head.header("x-amz-checksum-sha256").is_none());
}

#[tokio::test]
async fn parts_and_checksums_survive_a_restart() {
    let server = TestServer::with_bucket().await;
    let (bodies, _) = multipart_with_gaps(&server, "/mp").await;
    let headers = [("x-amz-checksum-algorithm", "SHA256")];
    let (upload, parts) = upload_all(&server, "/sha", &headers, "SHA256", &bodies, true).await;
    // An upload in progress survives too: complete it after the restart.
    let server = server.restart().await;
    let done = complete(&server, "/sha", &upload, complete_body(&parts)).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let part_digests: Vec<u8> = bodies.iter().flat_map(|b| digest("SHA256", b)).collect();
    let expected = format!("{}-3", b64(&digest("SHA256", &part_digests)));
    let server = server.restart().await;
    let head = server
        .send(s3("HEAD", "/sha").header("x-amz-checksum-mode", "ENABLED"))
        .await;
    assert_eq!(head.header("x-amz-checksum-sha256"), Some(expected));
    let part = server
        .send(
            s3("GET", "/mp")
                .param("partNumber", "7")
                .header("x-amz-checksum-mode", "ENABLED"),
        )
        .await;
    assert!(part.status == 206 && part.body == bodies[2]);
    assert_eq!(
        part.header("x-amz-checksum-crc64nvme"),
        Some(b64(&digest("CRC64NVME", &bodies[2])))
    );
    assert_eq!(part.header("x-amz-mp-parts-count").as_deref(), Some("3"));
}

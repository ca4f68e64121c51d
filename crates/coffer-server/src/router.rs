//! Maps a request (method, bucket?, key?, sub-resource parameters, copy header) onto the
//! operation it asks for.

/// Every operation the server recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// GET / without a bucket.
    ListBuckets,
    /// PUT /bucket.
    CreateBucket,
    /// DELETE /bucket.
    DeleteBucket,
    /// HEAD /bucket.
    HeadBucket,
    /// GET /bucket?location.
    GetBucketLocation,
    /// GET /bucket (V1).
    ListObjects,
    /// GET /bucket?list-type=2.
    ListObjectsV2,
    /// GET /bucket?uploads.
    ListMultipartUploads,
    /// POST /bucket?delete.
    DeleteObjects,
    /// GET /bucket?acl.
    GetBucketAcl,
    /// PUT /key.
    PutObject,
    /// PUT /key with a copy source.
    CopyObject,
    /// GET /key.
    GetObject,
    /// HEAD /key.
    HeadObject,
    /// DELETE /key.
    DeleteObject,
    /// GET /key?acl.
    GetObjectAcl,
    /// POST /key?uploads.
    CreateMultipartUpload,
    /// PUT /key?partNumber&uploadId.
    UploadPart,
    /// PUT /key?partNumber&uploadId with a copy source.
    UploadPartCopy,
    /// GET /key?uploadId.
    ListParts,
    /// POST /key?uploadId.
    CompleteMultipartUpload,
    /// DELETE /key?uploadId.
    AbortMultipartUpload,
    /// The admin API under `/-/`.
    Admin,
    /// A sub-resource that exists in the protocol but is not implemented yet.
    NotImplemented,
    /// A method the resource does not support.
    MethodNotAllowed,
}

/// What the router looks at.
#[derive(Debug, Clone, Copy)]
pub struct RouteInput<'a> {
    /// Upper-case method.
    pub method: &'a str,
    /// Whether a bucket is addressed.
    pub has_bucket: bool,
    /// Whether the path is under the server's own `/-/` namespace.
    pub is_admin_path: bool,
    /// Whether a key is addressed.
    pub has_key: bool,
    /// Query parameter names present.
    pub params: &'a [&'a str],
    /// Whether `x-cos-copy-source` / `x-amz-copy-source` is present.
    pub has_copy_source: bool,
}

/// Sub-resources the protocol defines but later work implements.
const LATER_BUCKET: &[&str] = &[
    "cors",
    "lifecycle",
    "versioning",
    "versions",
    "policy",
    "policyStatus",
    "tagging",
    "website",
    "logging",
    "replication",
    "encryption",
    "referer",
    "domain",
    "inventory",
    "notification",
    "accelerate",
    "requestPayment",
    "object-lock",
    "intelligent-tiering",
    "intelligenttiering",
    "origin",
    "ownershipControls",
    "publicAccessBlock",
    "analytics",
    "metrics",
    "metadataTable",
];
const LATER_OBJECT: &[&str] = &[
    "append",
    "restore",
    "select",
    "tagging",
    "retention",
    "legal-hold",
    "torrent",
    "attributes",
];

/// Chooses the operation.
pub fn route(input: RouteInput<'_>) -> Operation {
    use Operation::*;
    let has = |name: &str| input.params.contains(&name);
    let method = input.method;
    if input.is_admin_path {
        return Admin;
    }
    if !input.has_bucket {
        return match method {
            "GET" => ListBuckets,
            _ => MethodNotAllowed,
        };
    }
    if !input.has_key {
        if has("acl") {
            return match method {
                "GET" => GetBucketAcl,
                _ => NotImplemented,
            };
        }
        if LATER_BUCKET.iter().any(|p| has(p)) {
            return NotImplemented;
        }
        return match method {
            "PUT" => CreateBucket,
            "DELETE" => DeleteBucket,
            "HEAD" => HeadBucket,
            "GET" if has("location") => GetBucketLocation,
            "GET" if has("uploads") => ListMultipartUploads,
            "GET" if has("list-type") => ListObjectsV2,
            "GET" => ListObjects,
            "POST" if has("delete") => DeleteObjects,
            // Browser-form uploads (POST Object) are not implemented yet.
            "POST" => NotImplemented,
            _ => MethodNotAllowed,
        };
    }
    if has("acl") {
        return match method {
            "GET" => GetObjectAcl,
            _ => NotImplemented,
        };
    }
    if LATER_OBJECT.iter().any(|p| has(p)) {
        return NotImplemented;
    }
    match method {
        "PUT" if has("uploadId") && has("partNumber") => {
            if input.has_copy_source {
                UploadPartCopy
            } else {
                UploadPart
            }
        }
        "PUT" if input.has_copy_source => CopyObject,
        "PUT" => PutObject,
        "GET" if has("uploadId") => ListParts,
        "GET" => GetObject,
        "HEAD" => HeadObject,
        "DELETE" if has("uploadId") => AbortMultipartUpload,
        "DELETE" => DeleteObject,
        "POST" if has("uploads") => CreateMultipartUpload,
        "POST" if has("uploadId") => CompleteMultipartUpload,
        _ => MethodNotAllowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Operation::*;

    fn r(line: &str, copy: bool) -> Operation {
        // "METHOD bucket/key?a&b"
        let (method, rest) = line.split_once(' ').expect("method");
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
        let params: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split('=').next().unwrap_or(p))
            .collect();
        route(RouteInput {
            method,
            has_bucket: !bucket.is_empty(),
            is_admin_path: bucket == "-",
            has_key: !key.is_empty(),
            params: &params,
            has_copy_source: copy,
        })
    }

    #[test]
    fn routes_table() {
        let table: &[(&str, bool, Operation)] = &[
            ("GET ", false, ListBuckets),
            ("PUT ", false, MethodNotAllowed),
            ("PUT b", false, CreateBucket),
            ("DELETE b", false, DeleteBucket),
            ("HEAD b", false, HeadBucket),
            ("GET b?location=", false, GetBucketLocation),
            ("GET b?prefix=&delimiter=%2F", false, ListObjects),
            ("GET b?list-type=2", false, ListObjectsV2),
            ("GET b?uploads", false, ListMultipartUploads),
            ("POST b?delete=", false, DeleteObjects),
            ("GET b?acl", false, GetBucketAcl),
            ("PUT b?cors", false, NotImplemented),
            ("GET b?versions", false, NotImplemented),
            ("POST b", false, NotImplemented),
            ("GET b?policyStatus", false, NotImplemented),
            ("PUT b/k", false, PutObject),
            ("PUT b/k", true, CopyObject),
            ("PUT b/k?partNumber=1&uploadId=x", false, UploadPart),
            ("PUT b/k?partNumber=1&uploadId=x", true, UploadPartCopy),
            ("GET b/k", false, GetObject),
            ("GET b/k?response-content-type=x", false, GetObject),
            ("GET b/k?uploadId=x", false, ListParts),
            ("GET b/k?acl", false, GetObjectAcl),
            ("HEAD b/k", false, HeadObject),
            ("DELETE b/k", false, DeleteObject),
            ("DELETE b/k?uploadId=x", false, AbortMultipartUpload),
            ("POST b/k?uploads", false, CreateMultipartUpload),
            ("POST b/k?uploadId=x", false, CompleteMultipartUpload),
            ("POST b/k?append&position=0", false, NotImplemented),
            ("POST b/k", false, MethodNotAllowed),
            ("PATCH b/k", false, MethodNotAllowed),
            ("GET -/admin/users", false, Admin),
        ];
        for (line, copy, expected) in table {
            assert_eq!(r(line, *copy), *expected, "{line}");
        }
    }
}

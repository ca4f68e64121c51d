//! The two wire dialects a request can speak: Tencent COS and Amazon S3.

/// Which family of headers, error extras and naming rules a request uses.
///
/// Decided per request from the authentication scheme (q-sign → COS, SigV4 → S3) or, for
/// anonymous requests, from the header prefixes present. Responses answer in the same family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Tencent COS: `x-cos-*` headers, `<TraceId>` in errors, `<name>-<appid>` buckets.
    Cos,
    /// Amazon S3: `x-amz-*` headers, `<HostId>` in errors, S3 bucket naming.
    S3,
}

impl Dialect {
    /// The vendor header prefix, e.g. `x-cos-`.
    pub fn prefix(self) -> &'static str {
        match self {
            Dialect::Cos => "x-cos-",
            Dialect::S3 => "x-amz-",
        }
    }

    /// The user-metadata header prefix, e.g. `x-cos-meta-`.
    pub fn meta_prefix(self) -> &'static str {
        match self {
            Dialect::Cos => "x-cos-meta-",
            Dialect::S3 => "x-amz-meta-",
        }
    }

    /// The name of the request-id response header.
    pub fn request_id_header(self) -> &'static str {
        match self {
            Dialect::Cos => "x-cos-request-id",
            Dialect::S3 => "x-amz-request-id",
        }
    }
}

//! Protocol error codes with their HTTP status and default message.
//!
//! The codes are shared by COS and S3 (COS-only codes are marked). An error answer is rendered
//! by [`crate::xml::error_document`].

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $name:ident => $status:literal, $message:literal; )*) => {
        /// A protocol error code, e.g. `NoSuchKey`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $name, )*
        }

        impl ErrorCode {
            /// The code as it appears in `<Code>`.
            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$name => stringify!($name), )* }
            }

            /// The HTTP status this code is answered with.
            pub fn status(self) -> u16 {
                match self { $( ErrorCode::$name => $status, )* }
            }

            /// A default human-readable message.
            pub fn default_message(self) -> &'static str {
                match self { $( ErrorCode::$name => $message, )* }
            }

            /// Every code, for tables and tests.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$name, )* ];
        }
    };
}

error_codes! {
    /// A bad parameter value.
    InvalidArgument => 400, "Invalid Argument.";
    /// An illegal request.
    InvalidRequest => 400, "The request is invalid.";
    /// The XML body is not well-formed or not of the expected shape.
    MalformedXML => 400, "The XML you provided was not well-formed or did not validate against our published schema.";
    /// Content-MD5 does not match the body.
    BadDigest => 400, "The Content-MD5 you specified did not match what we received.";
    /// Content-MD5 is not valid.
    InvalidDigest => 400, "The Content-MD5 you specified is not valid.";
    /// A non-last part of a multipart upload is too small.
    EntityTooSmall => 400, "Your proposed upload is smaller than the minimum allowed object size.";
    /// The body is larger than allowed.
    EntityTooLarge => 400, "Your proposed upload exceeds the maximum allowed object size.";
    /// A listed part is missing or its ETag does not match.
    InvalidPart => 400, "One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag.";
    /// The part list is not in ascending order.
    InvalidPartOrder => 400, "The list of parts was not in ascending order.";
    /// The bucket name is not valid.
    InvalidBucketName => 400, "The specified bucket is not valid.";
    /// The object key is too long.
    KeyTooLong => 400, "Your key is too long.";
    /// The request URI could not be parsed.
    InvalidURI => 400, "Couldn't parse the specified URI.";
    /// The copy source is not valid.
    InvalidCopySource => 400, "The copy source is not valid.";
    /// Content-MD5 is required for this request.
    MissingContentMD5 => 400, "Missing required header for this request: Content-MD5.";
    /// The caller owns too many buckets.
    TooManyBuckets => 400, "You have attempted to create more buckets than allowed.";
    /// The body is shorter than its declared length.
    IncompleteBody => 400, "You did not provide the number of bytes specified by the Content-Length HTTP header.";
    /// The Authorization header could not be parsed.
    AuthorizationHeaderMalformed => 400, "The authorization header is malformed.";
    /// A presigned URL's query parameters are not valid.
    AuthorizationQueryParametersError => 400, "The query parameters of the presigned request are not valid.";
    /// A header value is not valid.
    InvalidHeader => 400, "A header value is not valid.";
    /// The x-amz-content-sha256 does not match the body.
    XAmzContentSHA256Mismatch => 400, "The provided 'x-amz-content-sha256' header does not match what was computed.";
    /// The storage class is not valid.
    InvalidStorageClass => 400, "The storage class you specified is not valid.";
    /// The request is not valid for the object's state.
    InvalidObjectState => 403, "The operation is not valid for the object's storage class.";
    /// No permission, bad signature time or an anonymous request.
    AccessDenied => 403, "Access Denied.";
    /// The signature does not match.
    SignatureDoesNotMatch => 403, "The request signature we calculated does not match the signature you provided.";
    /// The access key id is unknown.
    InvalidAccessKeyId => 403, "The access key Id you provided does not exist in our records.";
    /// The request time differs from the server's by more than 15 minutes.
    RequestTimeTooSkewed => 403, "The difference between the request time and the server's time is too large.";
    /// A temporary token has expired.
    ExpiredToken => 403, "The provided token has expired.";
    /// The bucket does not exist.
    NoSuchBucket => 404, "The specified bucket does not exist.";
    /// The key does not exist.
    NoSuchKey => 404, "The specified key does not exist.";
    /// The multipart upload does not exist.
    NoSuchUpload => 404, "The specified multipart upload does not exist.";
    /// The version does not exist.
    NoSuchVersion => 404, "The specified version does not exist.";
    /// The copy source does not exist.
    NoSuchCopySource => 404, "The specified copy source does not exist.";
    /// No CORS configuration is set.
    NoSuchCORSConfiguration => 404, "The CORS configuration does not exist.";
    /// No lifecycle configuration is set.
    NoSuchLifecycleConfiguration => 404, "The lifecycle configuration does not exist.";
    /// No tag set is set.
    NoSuchTagSet => 404, "The TagSet does not exist.";
    /// The method is not allowed on this resource.
    MethodNotAllowed => 405, "The specified method is not allowed against this resource.";
    /// (COS) Restore of an object that is not archived.
    RestoreNonArchiveObject => 405, "Only archived objects can be restored.";
    /// The bucket name is taken by another account.
    BucketAlreadyExists => 409, "The requested bucket name is not available.";
    /// The caller already owns this bucket.
    BucketAlreadyOwnedByYou => 409, "Your previous request to create the named bucket succeeded and you already own it.";
    /// The bucket still holds objects or uploads.
    BucketNotEmpty => 409, "The bucket you tried to delete is not empty.";
    /// (COS) The append position is not the object's length.
    AppendPositionErr => 409, "Position is not equal to the length of the object.";
    /// (COS) Append to an object that is not appendable.
    ObjectNotAppendable => 409, "The object is not appendable.";
    /// A restore is already running.
    RestoreAlreadyInProgress => 409, "Object restore is already in progress.";
    /// A concurrent operation conflicted.
    OperationAborted => 409, "A conflicting conditional operation is currently in progress against this resource.";
    /// The body length is required.
    MissingContentLength => 411, "You must provide the Content-Length HTTP header.";
    /// A precondition failed.
    PreconditionFailed => 412, "At least one of the preconditions you specified did not hold.";
    /// The range cannot be satisfied.
    InvalidRange => 416, "The requested range is not satisfiable.";
    /// The object has no part of the number a GET or HEAD `?partNumber=` asks for.
    InvalidPartNumber => 416, "The requested partnumber is not satisfiable";
    /// The request body is too large for this operation.
    MaxMessageLengthExceeded => 400, "Your request was too big.";
    /// The request was not understood by the HTTP layer.
    BadRequest => 400, "Bad Request.";
    /// The body was not received in time.
    RequestTimeout => 400, "Your socket connection to the server was not read from or written to within the timeout period.";
    /// An error on our side; the cause is logged, never shown.
    InternalError => 500, "We encountered an internal error. Please try again.";
    /// The operation is not implemented.
    NotImplemented => 501, "A header you provided implies functionality that is not implemented.";
    /// The service cannot answer now.
    ServiceUnavailable => 503, "Please reduce your request rate.";
    /// Too many requests.
    SlowDown => 503, "Please reduce your request rate.";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_statuses() {
        assert_eq!(ErrorCode::NoSuchKey.as_str(), "NoSuchKey");
        assert_eq!(ErrorCode::NoSuchKey.status(), 404);
        assert_eq!(ErrorCode::BucketNotEmpty.status(), 409);
        assert_eq!(ErrorCode::MalformedXML.as_str(), "MalformedXML");
        for code in ErrorCode::ALL {
            assert!((400..600).contains(&code.status()));
            assert!(!code.default_message().is_empty());
        }
    }
}

//! Coffer's Rust SDK for the Tencent COS XML API (and Coffer itself).
//!
//! It mirrors the official COS Python SDK (`cos-python-sdk-v5`) operation for operation —
//! names in Rust case, typed requests and outputs — adds a transfer manager (parallel,
//! resumable upload and download, large copies, folders) and a client-side encryption client
//! whose objects interoperate with the official SDK's `CosEncryptionClient`.
//!
//! ```no_run
//! use coffer_sdk::{CosClient, CosConfig, PutObjectRequest, GetObjectRequest};
//!
//! # async fn demo() -> coffer_sdk::Result<()> {
//! let config = CosConfig::new("ap-guangzhou").credentials("AKID…", "secret…");
//! let client = CosClient::new(config)?;
//! let put = client
//!     .put_object(PutObjectRequest::new("examplebucket-1250000000", "hello.txt").body("hello"))
//!     .await?;
//! println!("ETag {}", put.etag);
//! let got = client
//!     .get_object(GetObjectRequest::new("examplebucket-1250000000", "hello.txt"))
//!     .await?;
//! assert_eq!(&got.body.bytes().await?[..], b"hello");
//! # Ok(())
//! # }
//! ```
//!
//! Map of the crate: [`config`] (CosConfig), [`credentials`], [`error`] (ClientError,
//! ServiceError), [`ops`] (one module per operation family), [`crypto`] (client-side
//! encryption primitives).

mod body;
mod client;
pub mod config;
pub mod credentials;
pub mod crypto;
pub mod encryption;
pub mod error;
mod object_body;
pub mod ops;
pub mod transfer;
pub mod types;

pub use body::{Body, ProgressCallback};
pub use client::CosClient;
pub use config::{CosConfig, RetryPolicy, Scheme};
pub use credentials::{CredentialProvider, Credentials, EnvCredentials, StaticCredentials};
pub use error::{ClientError, Error, Result, ServiceError};
pub use object_body::ObjectBody;
pub use ops::bucket::{CreateBucketRequest, HeadBucketOutput};
pub use ops::copy::{CopyObjectOutput, CopyObjectRequest, CopySource, MetadataDirective};
pub use ops::delete::{DeleteError, DeleteObjectsOutput, DeletedObject, ObjectIdentifier};
pub use ops::list::{ListObjectsOutput, ListObjectsRequest, ObjectSummary};
pub use ops::multipart::{
    CompleteMultipartUploadOutput, CompletedPart, CreateMultipartUploadOutput,
    CreateMultipartUploadRequest, ListMultipartUploadsOutput, ListMultipartUploadsRequest,
    ListPartsOutput, Part, UploadPartCopyOutput, UploadPartCopyRequest, UploadPartOutput,
    UploadPartRequest, UploadSummary,
};
pub use ops::object::{
    DeleteObjectOutput, GetObjectOutput, GetObjectRequest, HeadObjectRequest, PutObjectOutput,
    PutObjectRequest,
};
pub use ops::presign::PresignRequest;
pub use ops::service::{BucketSummary, ListBucketsOutput};
pub use reqwest::Method;
pub use transfer::{
    CopyOutput, CopyRequest, DownloadFileOutput, DownloadFileRequest, DownloadPrefixRequest,
    TransferSummary, UploadFileOutput, UploadFileRequest, UploadFolderRequest,
};
pub use types::{ByteRange, ObjectMetadata, ObjectOptions, Owner, Preconditions};

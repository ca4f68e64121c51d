//! Coffer's HTTP front end: a COS XML API and Amazon S3 server over [`coffer_store`].
//!
//! The path of a request: [`http`] parses it and owns the connection; [`service`] assigns a
//! request id, resolves bucket and key ([`addressing`]), authenticates ([`auth`]), routes
//! to one of the declared [`operations`], checks that the signature covers what the
//! operation reads, authorizes from its declaration ([`access`]) and runs the operation
//! ([`ops`]): parse the request into a typed input, apply it to the store, render the typed
//! output. Errors become the dialect's
//! `<Error>` document ([`error`]).
//!
//! Architecture invariant: handlers hold no SQL and no file paths; the store knows no HTTP.

pub mod access;
pub mod addressing;
pub mod auth;
pub mod context;
pub mod error;
pub mod http;
pub mod operations;
pub mod ops;
pub mod payload;
pub mod service;
pub mod state;

/// What the fuzz targets (`crates/coffer-fuzz`, run from `fuzz/`) need beyond the public
/// API: the HTTP layer's parsers as plain functions, the connection loop over any stream,
/// and the request-body parsers of the handlers. Not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::http::fuzzing::*;
    pub use crate::ops::admin::parse_account;
    pub use crate::ops::bucket::check_create_bucket_configuration;
    pub use crate::ops::copy::parse_copy_source;
    pub use crate::ops::delete_many::parse_delete;
    pub use crate::ops::multipart::parse_complete;

    /// What a resolved target addresses, as the pipeline decides it before routing.
    pub fn scope_of(target: &crate::addressing::Target) -> crate::operations::Scope {
        crate::service::scope_of(target)
    }
}

pub use http::HttpConfig;
pub use service::CofferHandler;
pub use state::{AppState, ServerConfig};

use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Serves COS/S3 on `listener` until `shutdown` turns true; in-flight requests finish.
pub async fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    http: HttpConfig,
    shutdown: watch::Receiver<bool>,
) {
    let handler = Arc::new(CofferHandler::new(state));
    http::serve(listener, http, handler, shutdown).await;
}

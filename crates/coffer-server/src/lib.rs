//! Coffer's HTTP front end: a COS XML API and Amazon S3 server over [`coffer_store`].
//!
//! The path of a request: [`http`] parses it and owns the connection; [`service`] assigns a
//! request id, resolves bucket and key ([`addressing`]), authenticates ([`auth`]), routes
//! to one of the declared [`operations`], checks that the signature covers what the
//! operation reads, authorizes from its declaration ([`access`]) and runs its handler
//! ([`ops`]), which calls the store and renders the answer. Errors become the dialect's
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

/// The HTTP layer's parsers as plain functions, for the fuzz targets in `fuzz/`. Not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::http::fuzzing::*;
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

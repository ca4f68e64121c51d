//! A small HTTP/1.1 server written for an object store's needs.
//!
//! Why not hyper: the official COS SDK looks response headers up *case-sensitively*
//! (`ETag`, `Content-Length`, lower-case `x-cos-*`), and hyper only writes lower-case or
//! title-case names (`Etag`, `X-Cos-…`), both of which break it. Owning the framing also
//! lets us send headers and a small body in one write with TCP_NODELAY (no delayed-ACK
//! stalls), accept absolute-form targets, and decide exactly when to drain or close after
//! an early error. Request heads are parsed by `httparse` and then checked strictly (`head`); everything else is
//! here.

mod body;
mod conn;
mod head;
mod response;

pub use body::{BodyError, RequestBody};
pub use conn::{serve, Handler, HttpConfig};
pub use head::{Rejection, Request};
pub use response::{Response, ResponseBody};

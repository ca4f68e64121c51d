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

/// Entry points for the fuzz targets (`coffer_server::fuzzing`).
#[doc(hidden)]
pub mod fuzzing {
    use super::{Handler, HttpConfig};
    use tokio::io::{AsyncRead, AsyncWrite};

    pub use super::body::{
        check_trailer_line, chunked_step, parse_chunk_size_line, ChunkState, ChunkStep,
        MAX_TRAILER_BYTES,
    };

    /// Parses a request head; `Some(len)` when complete. Panics only on a broken invariant.
    pub fn parse_head(bytes: &[u8]) -> Result<Option<usize>, super::Rejection> {
        let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 9));
        let parsed = super::head::parse_head(bytes, peer)?;
        Ok(parsed.map(|(head, len)| {
            assert!(len <= bytes.len(), "head longer than its input");
            let path = &head.request.raw_path;
            assert!(
                path.starts_with('/') || path == "*" || path.is_empty(),
                "odd path {path:?}"
            );
            len
        }))
    }

    /// Serves one connection over `stream` (say one end of `tokio::io::duplex`) with the
    /// real connection loop — head parsing, framing, keep-alive, early answers, draining —
    /// until the peer closes it.
    pub async fn serve_stream<H, S>(stream: S, config: HttpConfig, handler: &H)
    where
        H: Handler,
        S: AsyncRead + AsyncWrite + Send + Sync + 'static,
    {
        super::conn::serve_stream(stream, config, handler).await;
    }
}

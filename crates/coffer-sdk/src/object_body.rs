//! The streaming body of a GET answer.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::body::Meter;
use crate::crypto::DataCipher;
use crate::error::{ClientError, Error, Result};

/// The body of an object download, read as it arrives (never buffered whole unless asked);
/// decrypted on the way for the encryption client.
pub struct ObjectBody {
    response: Option<reqwest::Response>,
    expected: Option<u64>,
    received: u64,
    meter: Option<Arc<Meter>>,
    /// Client-side decryption, positioned at the first byte of this body.
    cipher: Option<DataCipher>,
}

impl fmt::Debug for ObjectBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectBody")
            .field("expected", &self.expected)
            .field("received", &self.received)
            .finish()
    }
}

impl ObjectBody {
    pub(crate) fn new(response: reqwest::Response, expected: Option<u64>) -> Self {
        ObjectBody {
            response: Some(response),
            expected,
            received: 0,
            meter: None,
            cipher: None,
        }
    }

    /// An empty body (a 304 answer).
    pub(crate) fn empty() -> Self {
        ObjectBody {
            response: None,
            expected: Some(0),
            received: 0,
            meter: None,
            cipher: None,
        }
    }

    pub(crate) fn set_meter(&mut self, meter: Arc<Meter>) {
        self.meter = Some(meter);
    }

    /// Decrypts the body with `cipher` (positioned at the body's first byte) as it is read.
    pub(crate) fn set_cipher(&mut self, cipher: DataCipher) {
        self.cipher = Some(cipher);
    }

    /// The announced length (`Content-Length`), when known.
    pub fn content_length(&self) -> Option<u64> {
        self.expected
    }

    /// The next chunk, `None` at the end. Fails if the body ends before its
    /// `Content-Length`.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        let Some(response) = self.response.as_mut() else {
            return Ok(None);
        };
        match response.chunk().await? {
            Some(chunk) => {
                self.received += chunk.len() as u64;
                if let Some(meter) = &self.meter {
                    meter.add(chunk.len() as u64);
                }
                Ok(Some(match &mut self.cipher {
                    Some(cipher) => {
                        let mut plain = Vec::from(chunk);
                        cipher.apply(&mut plain);
                        Bytes::from(plain)
                    }
                    None => chunk,
                }))
            }
            None => {
                self.response = None;
                match self.expected {
                    Some(expected) if expected != self.received => {
                        Err(Error::Client(ClientError::InvalidResponse(format!(
                            "body ended after {} of {expected} bytes",
                            self.received
                        ))))
                    }
                    _ => Ok(None),
                }
            }
        }
    }

    /// Reads the whole body into memory.
    pub async fn bytes(mut self) -> Result<Bytes> {
        let mut buf = Vec::with_capacity(self.expected.unwrap_or(0).min(64 << 20) as usize);
        while let Some(chunk) = self.chunk().await? {
            buf.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buf))
    }

    /// Copies the body into a writer; returns the byte count.
    pub async fn write_to<W: AsyncWrite + Unpin>(mut self, writer: &mut W) -> Result<u64> {
        let mut n = 0u64;
        while let Some(chunk) = self.chunk().await? {
            writer
                .write_all(&chunk)
                .await
                .map_err(|e| Error::io("writing the downloaded body", e))?;
            n += chunk.len() as u64;
        }
        writer
            .flush()
            .await
            .map_err(|e| Error::io("writing the downloaded body", e))?;
        Ok(n)
    }

    /// Writes the body to `path` through a temporary file in the same directory, renamed
    /// into place once complete (a reader never sees a partial file). Returns the byte count.
    pub async fn to_file(self, path: impl AsRef<Path>) -> Result<u64> {
        let path = path.as_ref();
        let temp = temp_path_for(path);
        let result = async {
            let mut file = tokio::fs::File::create(&temp)
                .await
                .map_err(|e| Error::io(format!("creating {}", temp.display()), e))?;
            let n = self.write_to(&mut file).await?;
            file.sync_all()
                .await
                .map_err(|e| Error::io(format!("syncing {}", temp.display()), e))?;
            drop(file);
            tokio::fs::rename(&temp, path)
                .await
                .map_err(|e| Error::io(format!("renaming into {}", path.display()), e))?;
            Ok(n)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        result
    }

    /// The body as a stream of chunks.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        futures_util::stream::try_unfold(self, |mut body| async move {
            Ok(body.chunk().await?.map(|chunk| (chunk, body)))
        })
    }

    /// The body as an [`AsyncRead`].
    pub fn into_async_read(self) -> impl AsyncRead + Send + Unpin + 'static {
        let stream = Box::pin(
            self.into_stream()
                .map_err(|e| std::io::Error::other(e.to_string())),
        );
        tokio_util::io::StreamReader::new(stream)
    }
}

/// `<path>_<random hex>`: the temporary name a download is written under.
pub(crate) fn temp_path_for(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(format!("_{:016x}", rand::random::<u64>()));
    PathBuf::from(name)
}

//! The local-filesystem blob store: one file per blob under `blobs/<2 hex>/<32 hex>`.
//!
//! Durability: a blob is written at its final path (its id is fresh and unreferenced, so no
//! reader can reach it), then `fdatasync`ed, then its directory is `fsync`ed. A crash before
//! the metadata commit leaves an unreferenced file that the start-up sweep deletes.
//!
//! Directories are `0700` and blob files `0600` (see `coffer_store::private`).

use coffer_store::blob::{BlobReader, BlobStore, BlobWriter};
use coffer_store::model::BlobId;
use coffer_store::{private, StoreResult};
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Blobs as files under a directory.
#[derive(Debug)]
pub struct FsBlobStore {
    root: PathBuf,
    /// Whether to fsync. Only tests that measure something else turn this off.
    durable: bool,
}

impl FsBlobStore {
    /// Opens (creating if needed) a blob directory. All 256 fan-out directories are created
    /// and made durable up front so that writing a blob never has to fsync a parent's parent.
    pub fn open(root: impl Into<PathBuf>) -> StoreResult<FsBlobStore> {
        let root = root.into();
        private::create_dir_all(&root)?;
        private::restrict(&root, private::DIR_MODE)?;
        let mut created_any = false;
        for fan in 0..=255u8 {
            let dir = root.join(format!("{fan:02x}"));
            // Several nodes may open one shared directory at the same instant: a fan-out
            // directory another node has just made is as good as one made here.
            match private::create_dir(&dir) {
                Ok(()) => created_any = true,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    // Directories of an older version were 0755.
                    private::restrict(&dir, private::DIR_MODE)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        if created_any {
            sync_dir(&root)?;
        }
        Ok(FsBlobStore {
            root,
            durable: true,
        })
    }

    fn path_of(&self, blob: BlobId) -> PathBuf {
        let hex = blob.to_hex();
        self.root.join(&hex[..2]).join(hex)
    }
}

impl BlobStore for FsBlobStore {
    fn create(&self) -> StoreResult<Box<dyn BlobWriter>> {
        let id = BlobId::random();
        let path = self.path_of(id);
        let file = private::create_new_file(&path)?;
        Ok(Box::new(FsBlobWriter {
            id,
            path,
            file: Some(io::BufWriter::with_capacity(1 << 20, file)),
            durable: self.durable,
            unsynced: 0,
        }))
    }

    fn open(&self, blob: BlobId) -> StoreResult<Box<dyn BlobReader>> {
        let file = File::open(self.path_of(blob))?;
        Ok(Box::new(FsBlobReader { file }))
    }

    fn delete(&self, blob: BlobId) -> StoreResult<()> {
        match fs::remove_file(self.path_of(blob)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn list_page(&self, after: Option<BlobId>, limit: usize) -> StoreResult<Vec<BlobId>> {
        // Ids are fixed-width hex, so fan-out directory order then name order is id order;
        // one directory (1/256 of the blobs) is read at a time.
        let mut out = Vec::new();
        let first_fan = after.map_or(0, fan_of);
        for fan in first_fan..=255u8 {
            if out.len() >= limit {
                break;
            }
            let dir = self.root.join(format!("{fan:02x}"));
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            let mut ids = Vec::new();
            for entry in entries {
                let entry = entry?;
                if let Some(id) = entry.file_name().to_str().and_then(BlobId::from_hex) {
                    if after.is_none_or(|after| id > after) {
                        ids.push(id);
                    }
                }
            }
            ids.sort_unstable();
            ids.truncate(limit - out.len());
            out.extend(ids);
        }
        Ok(out)
    }

    fn size_of(&self, blob: BlobId) -> StoreResult<u64> {
        Ok(fs::metadata(self.path_of(blob))?.len())
    }

    fn modified_ms(&self, blob: BlobId) -> StoreResult<Option<i64>> {
        let metadata = match fs::metadata(self.path_of(blob)) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let since_epoch = metadata
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Ok(Some(
            i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX),
        ))
    }
}

/// The fan-out directory of a blob: its id's first byte (the first two hex digits).
fn fan_of(blob: BlobId) -> u8 {
    blob.0.to_be_bytes()[0]
}

/// While a large blob is written, its data is flushed to disk every this many bytes, so the
/// `fdatasync` that makes it durable at the end has only the tail left to write.
const SYNC_EVERY: u64 = 16 << 20;

#[derive(Debug)]
struct FsBlobWriter {
    id: BlobId,
    path: PathBuf,
    file: Option<io::BufWriter<File>>,
    durable: bool,
    /// Bytes written since the last intermediate sync.
    unsynced: u64,
}

impl BlobWriter for FsBlobWriter {
    fn id(&self) -> BlobId {
        self.id
    }

    fn write_all(&mut self, data: &[u8]) -> StoreResult<()> {
        let Some(file) = self.file.as_mut() else {
            return Err(io::Error::other("blob already finished").into());
        };
        file.write_all(data)?;
        self.unsynced += data.len() as u64;
        if self.durable && self.unsynced >= SYNC_EVERY {
            // Write-back overlaps with the rest of the upload instead of all happening in
            // the final fdatasync. Durability still comes from `finish`.
            file.flush()?;
            file.get_ref().sync_data()?;
            self.unsynced = 0;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> StoreResult<()> {
        let writer = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("blob already finished"))?;
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        if self.durable {
            file.sync_data()?;
            if let Some(dir) = self.path.parent() {
                sync_dir(dir)?;
            }
        }
        // Finished: the file now belongs to whoever commits metadata pointing at it.
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for FsBlobWriter {
    fn drop(&mut self) {
        // An abandoned write (client went away, digest mismatch, error): remove the file now
        // rather than waiting for the next start-up sweep.
        if !self.path.as_os_str().is_empty() {
            self.file = None;
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[derive(Debug)]
struct FsBlobReader {
    file: File,
}

impl BlobReader for FsBlobReader {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> StoreResult<usize> {
        Ok(self.file.read_at(buf, offset)?)
    }
}

/// Makes a directory's entries durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Writing, reading, listing and deleting are the blob conformance suite's
    // (`tests/conformance.rs`); what is particular to files is here.

    #[test]
    fn directories_and_blobs_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("blobs");
        let store = FsBlobStore::open(&root).expect("open");
        let mut writer = store.create().expect("create");
        let id = writer.id();
        writer.write_all(b"secret").expect("write");
        writer.finish().expect("finish");
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&root.join("00")), 0o700);
        assert_eq!(mode(&store.path_of(id)), 0o600);
        // An older version's 0755 fan-out directories are tightened on open.
        fs::set_permissions(root.join("ab"), fs::Permissions::from_mode(0o755)).expect("chmod");
        FsBlobStore::open(&root).expect("reopen");
        assert_eq!(mode(&root.join("ab")), 0o700);
    }

    #[test]
    fn nodes_opening_one_fresh_directory_at_once_all_succeed() {
        // Several nodes over one shared directory start at the same instant: each one's
        // creation of the fan-out directories races the others'.
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("blobs");
        let start = std::sync::Barrier::new(8);
        std::thread::scope(|scope| {
            let openers: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        FsBlobStore::open(&root).map(|_| ())
                    })
                })
                .collect();
            for opener in openers {
                let opened = opener.join().expect("joined");
                assert!(opened.is_ok(), "{opened:?}");
            }
        });
    }
}

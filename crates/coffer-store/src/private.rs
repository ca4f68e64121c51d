//! Permissions under the data directory: it holds the accounts' secret keys (in the metadata
//! file) and every object's bytes, so directories are created `0700` and files `0600`, and a
//! data directory that group or others may write is refused.

use crate::error::{StoreError, StoreResult};
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of every directory created under (and including) the data directory.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file created under the data directory.
pub const FILE_MODE: u32 = 0o600;

/// Permission bits that let group or others write.
const GROUP_OTHER_WRITE: u32 = 0o022;
/// Permission bits that give group or others any access.
const GROUP_OTHER_ANY: u32 = 0o077;

/// What [`secure_data_dir`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataDirState {
    /// The directory did not exist and was created `0700`.
    Created,
    /// The directory was already private.
    Private,
    /// Group or others could read or enter it (an older version's `0755`); it is now `0700`.
    Tightened {
        /// The mode it had.
        from: u32,
    },
}

/// Makes sure `dir` exists and only its owner can reach it: creates it `0700`, tightens a
/// readable one to `0700`, and refuses ([`StoreError::InsecureDataDir`]) one that group or
/// others can write — someone else may already have changed what is in it.
pub fn secure_data_dir(dir: &Path) -> StoreResult<DataDirState> {
    let metadata = match fs::metadata(dir) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            create_dir_all(dir)?;
            return Ok(DataDirState::Created);
        }
        Err(e) => return Err(e.into()),
    };
    if !metadata.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!("{} is not a directory", dir.display()),
        )
        .into());
    }
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & GROUP_OTHER_WRITE != 0 {
        return Err(StoreError::InsecureDataDir {
            path: dir.to_path_buf(),
            mode,
        });
    }
    if mode & GROUP_OTHER_ANY != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))?;
        return Ok(DataDirState::Tightened { from: mode });
    }
    Ok(DataDirState::Private)
}

/// Creates a directory and its missing parents, each `0700`.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Creates one directory `0700`.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().mode(DIR_MODE).create(dir)
}

/// Takes group and other access away from an existing file or directory.
pub fn restrict(path: &Path, private_mode: u32) -> io::Result<()> {
    let mode = fs::metadata(path)?.permissions().mode() & 0o7777;
    if mode & GROUP_OTHER_ANY != 0 {
        fs::set_permissions(path, fs::Permissions::from_mode(private_mode))?;
    }
    Ok(())
}

/// Creates a new file `0600` for writing; fails if it exists.
pub fn create_new_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
}

/// Makes sure a file exists and is private: created empty `0600` if absent, tightened to
/// `0600` if group or others had access.
pub fn ensure_private_file(path: &Path) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(path)?;
    restrict(path, FILE_MODE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).expect("stat").permissions().mode() & 0o7777
    }

    #[test]
    fn creates_private_directories_and_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("a/b");
        assert_eq!(
            secure_data_dir(&dir).expect("secure"),
            DataDirState::Created
        );
        assert_eq!(mode_of(&dir), 0o700);
        assert_eq!(mode_of(&tmp.path().join("a")), 0o700);
        assert_eq!(
            secure_data_dir(&dir).expect("secure"),
            DataDirState::Private
        );
        let file = dir.join("f");
        ensure_private_file(&file).expect("file");
        assert_eq!(mode_of(&file), 0o600);
        drop(create_new_file(&dir.join("g")).expect("new file"));
        assert_eq!(mode_of(&dir.join("g")), 0o600);
    }

    #[test]
    fn tightens_readable_and_refuses_writable() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("d");
        fs::create_dir(&dir).expect("mkdir");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(
            secure_data_dir(&dir).expect("secure"),
            DataDirState::Tightened { from: 0o755 }
        );
        assert_eq!(mode_of(&dir), 0o700);
        for writable in [0o775, 0o757, 0o777, 0o1777] {
            fs::set_permissions(&dir, fs::Permissions::from_mode(writable)).expect("chmod");
            let err = secure_data_dir(&dir).expect_err("refused");
            assert!(matches!(err, StoreError::InsecureDataDir { mode, .. } if mode == writable));
            assert!(err.to_string().contains("chmod 700"), "{err}");
            assert_eq!(mode_of(&dir), writable, "left as it was");
        }
        let file = dir.join("meta");
        fs::write(&file, b"").expect("write");
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).expect("chmod");
        ensure_private_file(&file).expect("tighten");
        assert_eq!(mode_of(&file), 0o600);
    }
}

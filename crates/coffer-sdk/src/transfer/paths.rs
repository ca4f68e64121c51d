//! Local trees and keys: which files a folder transfer sees, and where keys land on disk.
//!
//! Public so that tools built on the SDK (the `coffer` command line) map trees the same way.

use std::path::{Component, Path, PathBuf};

/// Every regular file under `dir` (symbolic links to files are followed, to directories not),
/// with its size, in a stable order.
pub fn walk_files(dir: &Path) -> std::io::Result<Vec<(PathBuf, u64)>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&current)?.collect::<std::io::Result<_>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                files.push((path, entry.metadata()?.len()));
            } else if kind.is_symlink() {
                if let Ok(meta) = std::fs::metadata(&path) {
                    if meta.is_file() {
                        files.push((path, meta.len()));
                    }
                }
            }
        }
    }
    files.sort();
    Ok(files)
}

/// `<prefix><relative path with / separators>`; `None` for a non-UTF-8 path.
pub fn key_for(dir: &Path, path: &Path, prefix: &str) -> Option<String> {
    let relative = path.strip_prefix(dir).ok()?;
    let mut parts = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(name) => parts.push(name.to_str()?.to_string()),
            _ => return None,
        }
    }
    Some(format!("{prefix}{}", parts.join("/")))
}

/// The local path of a key below `dir`; `None` if the key would leave `dir` or names no file.
pub fn local_path_for(dir: &Path, relative_key: &str) -> Option<PathBuf> {
    let mut path = dir.to_path_buf();
    let mut any = false;
    for segment in relative_key.split('/') {
        match segment {
            "" | "." => continue,
            ".." => return None,
            s if s.contains('\\') || s.contains('\0') => return None,
            s => {
                path.push(s);
                any = true;
            }
        }
    }
    any.then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_escape_the_target_directory() {
        let dir = Path::new("/tmp/target");
        assert_eq!(
            local_path_for(dir, "a/b.txt"),
            Some(dir.join("a").join("b.txt"))
        );
        assert_eq!(local_path_for(dir, "/a//b"), Some(dir.join("a").join("b")));
        assert_eq!(local_path_for(dir, "../etc/passwd"), None);
        assert_eq!(local_path_for(dir, "a/../../x"), None);
        assert_eq!(local_path_for(dir, ""), None);
    }

    #[test]
    fn keys_use_slashes() {
        let dir = Path::new("/data");
        assert_eq!(
            key_for(dir, &dir.join("x").join("中文.txt"), "backup/"),
            Some("backup/x/中文.txt".to_string())
        );
    }
}

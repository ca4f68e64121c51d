//! What recursive commands (`cp -r`, `mv -r`, `sync`) see on each side: the files under a
//! local directory or the objects under a `cos://` prefix, each with its path relative to
//! the root (`/` separators), filtered by `--include` / `--exclude` globs.

use std::path::{Path, PathBuf};

use anyhow::Context;
use coffer_proto::checksum::normalize_etag;
use coffer_sdk::transfer::paths::{key_for, walk_files};
use coffer_sdk::{CosClient, ListObjectsRequest};
use futures_util::TryStreamExt;
use globset::{GlobBuilder, GlobMatcher};

/// `--include` / `--exclude` options of the recursive commands.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterArgs {
    /// Only paths matching this glob (repeatable). A pattern without `/` matches the file
    /// name at any depth (`*.jpg`); with `/` it matches the path below the root
    /// (`logs/**/*.gz`); `*` never crosses a `/`, `**` does.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip paths matching this glob (repeatable; same rules; wins over `--include`).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

/// One compiled `--include` / `--exclude` pattern.
#[derive(Debug)]
struct Pattern {
    matcher: GlobMatcher,
    /// Matched against the whole relative path (the pattern has a `/`), else the name.
    whole_path: bool,
}

impl Pattern {
    fn new(glob: &str) -> anyhow::Result<Pattern> {
        let pattern = glob.trim_start_matches('/');
        let matcher = GlobBuilder::new(pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .with_context(|| format!("invalid glob {glob:?}"))?
            .compile_matcher();
        Ok(Pattern {
            matcher,
            whole_path: pattern.contains('/'),
        })
    }

    fn matches(&self, relative: &str) -> bool {
        if self.whole_path {
            self.matcher.is_match(relative)
        } else {
            let name = relative.rsplit('/').next().unwrap_or(relative);
            self.matcher.is_match(name)
        }
    }
}

/// Which relative paths a recursive command takes.
#[derive(Debug, Default)]
pub struct Filter {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
}

impl Filter {
    /// Compiles the globs; an invalid one is an error naming it.
    pub fn new(args: &FilterArgs) -> anyhow::Result<Filter> {
        let compile = |globs: &[String]| -> anyhow::Result<Vec<Pattern>> {
            globs.iter().map(|g| Pattern::new(g)).collect()
        };
        Ok(Filter {
            include: compile(&args.include)?,
            exclude: compile(&args.exclude)?,
        })
    }

    /// True when no filter is set.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether `relative` (a path below the root, `/` separators) is taken.
    pub fn accepts(&self, relative: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| p.matches(relative)))
            && !self.exclude.iter().any(|p| p.matches(relative))
    }
}

/// A file under a local root.
#[derive(Debug, Clone)]
pub struct LocalFile {
    /// Path below the root, `/` separators.
    pub relative: String,
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
}

/// The files under `dir` that `filter` accepts, sorted by relative path. Names that are not
/// UTF-8 cannot be keys: they are reported on stderr and left out.
pub async fn local_files(dir: &Path, filter: &Filter) -> anyhow::Result<Vec<LocalFile>> {
    let root = dir.to_path_buf();
    let files = tokio::task::spawn_blocking(move || walk_files(&root))
        .await
        .context("walking the directory")?
        .with_context(|| format!("reading {}", dir.display()))?;
    let mut out = Vec::with_capacity(files.len());
    for (path, size) in files {
        let Some(relative) = key_for(dir, &path, "") else {
            eprintln!("coffer: skipping {}: not a UTF-8 name", path.display());
            continue;
        };
        if filter.accepts(&relative) {
            out.push(LocalFile {
                relative,
                path,
                size,
            });
        }
    }
    out.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok(out)
}

/// An object under a `cos://` prefix.
#[derive(Debug, Clone)]
pub struct RemoteObject {
    /// Key below the prefix.
    pub relative: String,
    /// The whole key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// ETag, quotes removed.
    pub etag: String,
}

/// The objects under `prefix` (a directory prefix: empty or ending in `/`) that `filter`
/// accepts, in key order. Folder placeholders (keys ending in `/`) are left out.
pub async fn remote_objects(
    client: &CosClient,
    bucket: &str,
    prefix: &str,
    filter: &Filter,
) -> anyhow::Result<Vec<RemoteObject>> {
    client
        .list_objects_stream(ListObjectsRequest::new(bucket).prefix(prefix))
        .map_err(anyhow::Error::from)
        .try_filter_map(|o| async move {
            let relative = o.key.strip_prefix(prefix).unwrap_or(&o.key).to_string();
            if relative.is_empty() || relative.ends_with('/') || !filter.accepts(&relative) {
                return Ok(None);
            }
            Ok(Some(RemoteObject {
                relative,
                etag: normalize_etag(&o.etag).to_string(),
                key: o.key,
                size: o.size,
            }))
        })
        .try_collect()
        .await
        .with_context(|| format!("listing cos://{bucket}/{prefix}"))
}

/// A key prefix for a tree: empty, or ending in `/`.
pub fn dir_prefix(key: &str) -> String {
    if key.is_empty() || key.ends_with('/') {
        key.to_string()
    } else {
        format!("{key}/")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    fn filter(include: &[&str], exclude: &[&str]) -> Filter {
        Filter::new(&FilterArgs {
            include: include.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap()
    }

    #[test]
    fn names_match_at_any_depth_paths_from_the_root() {
        let f = filter(&["*.txt"], &[]);
        assert!(f.accepts("a.txt") && f.accepts("deep/er/中文.txt"));
        assert!(!f.accepts("a.bin") && !f.accepts("x.txt/a.bin"));

        let f = filter(&["logs/*.gz"], &[]);
        assert!(f.accepts("logs/a.gz"));
        assert!(!f.accepts("logs/2025/a.gz") && !f.accepts("other/logs/a.gz"));
        assert!(filter(&["logs/**/*.gz"], &[]).accepts("logs/2025/01/a.gz"));
        assert!(filter(&["/logs/*.gz"], &[]).accepts("logs/a.gz"));
    }

    #[test]
    fn exclude_wins_and_no_filter_takes_all() {
        let f = filter(&["*.txt"], &["secret*"]);
        assert!(f.accepts("notes.txt"));
        assert!(!f.accepts("dir/secret.txt"));
        assert!(filter(&[], &[]).accepts("anything/at/all"));
        assert!(filter(&[], &[]).is_empty());
        assert!(!filter(&[], &["**/tmp/**"]).accepts("a/tmp/b"));
    }

    #[test]
    fn bad_globs_are_errors() {
        let err = Filter::new(&FilterArgs {
            include: vec!["a[".into()],
            exclude: vec![],
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("a["), "{err:#}");
    }

    #[test]
    fn prefixes_become_directories() {
        assert_eq!(dir_prefix(""), "");
        assert_eq!(dir_prefix("a"), "a/");
        assert_eq!(dir_prefix("a/"), "a/");
    }
}

//! Corpus replay: every file of `fuzz/corpus/<target>/` through its target's body, on the
//! stable toolchain, as part of `cargo test`. A corpus input that panics fails the test and is
//! named in its message, so CI catches a regression of anything the fuzzers ever found or
//! covered.

use crate::{Target, TARGETS};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// The repository's corpus folder.
pub fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

/// Runs `target` over every file of `dir` (sorted by name); returns how many ran, or the
/// names of the inputs that panicked.
pub fn replay_dir(target: &Target, dir: &Path) -> Result<usize, Vec<String>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| vec![format!("{}: {e}", dir.display())])?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    let mut failed = Vec::new();
    for path in &files {
        let data = match std::fs::read(path) {
            Ok(data) => data,
            Err(e) => {
                failed.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        if catch_unwind(AssertUnwindSafe(|| (target.run)(&data))).is_err() {
            failed.push(path.display().to_string());
        }
    }
    if failed.is_empty() {
        Ok(files.len())
    } else {
        Err(failed)
    }
}

/// Replays the corpus of the target named `name`; panics naming every failing input.
pub fn replay(name: &str) {
    let target = TARGETS
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no target {name}"));
    let started = std::time::Instant::now();
    match replay_dir(target, &corpus_root().join(name)) {
        Ok(count) => {
            assert!(count > 0, "the corpus of {name} is empty");
            eprintln!(
                "{name}: {count} inputs in {:.2} s",
                started.elapsed().as_secs_f64()
            );
        }
        Err(failed) => panic!("{name}: these corpus inputs fail:\n{}", failed.join("\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! replay_tests {
        ($($name:ident),* $(,)?) => {
            $(
                #[test]
                fn $name() {
                    replay(stringify!($name));
                }
            )*

            /// Every target has a replay test above and a corpus folder, and every corpus
            /// folder belongs to a target.
            #[test]
            fn every_target_is_replayed() {
                let tested = [$(stringify!($name)),*];
                for target in TARGETS {
                    assert!(tested.contains(&target.name), "{} has no replay test", target.name);
                }
                let entries = std::fs::read_dir(corpus_root()).expect("fuzz/corpus");
                for entry in entries.filter_map(Result::ok) {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    assert!(
                        TARGETS.iter().any(|t| t.name == name),
                        "fuzz/corpus/{name} belongs to no target"
                    );
                }
            }
        };
    }

    replay_tests!(
        http_head,
        http_chunked,
        auth_cos,
        auth_sigv4,
        auth_sigv2,
        aws_chunked,
        xml,
        xml_bodies,
        op_parse,
        copy_source,
        range,
        query,
        time,
        names,
        pipeline,
        pipeline_signed,
    );
}

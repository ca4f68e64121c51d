//! Command-line locations: a local path or `cos://<bucket>/<key or prefix>`.

use std::fmt;
use std::path::PathBuf;

/// Where a command reads or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local file or directory (`-` is standard input/output).
    Local(PathBuf),
    /// A bucket and a key or prefix (empty for the whole bucket).
    Cos {
        /// Bucket name (`<name>-<appid>`).
        bucket: String,
        /// Key or prefix, without a leading `/`.
        key: String,
    },
}

/// Why an argument is not a valid location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationError(String);

impl fmt::Display for LocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LocationError {}

impl Location {
    /// Parses `cos://bucket/key`, `cos://bucket` or a local path.
    pub fn parse(arg: &str) -> Result<Location, LocationError> {
        let Some(rest) = arg.strip_prefix("cos://") else {
            if arg.is_empty() {
                return Err(LocationError("an empty path".into()));
            }
            return Ok(Location::Local(PathBuf::from(arg)));
        };
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = !bucket.is_empty()
            && bucket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !bucket.starts_with('-')
            && !bucket.ends_with('-');
        if !valid {
            return Err(LocationError(format!(
                "{arg:?}: the bucket of a cos:// location has letters, digits and '-' only"
            )));
        }
        Ok(Location::Cos {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(path) => write!(f, "{}", path.display()),
            Location::Cos { bucket, key } => write!(f, "cos://{bucket}/{key}"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    #[test]
    fn parses_both_kinds() {
        assert_eq!(
            Location::parse("cos://b-125/dir/中文 x.txt").unwrap(),
            Location::Cos {
                bucket: "b-125".into(),
                key: "dir/中文 x.txt".into()
            }
        );
        assert_eq!(
            Location::parse("cos://b-125").unwrap(),
            Location::Cos {
                bucket: "b-125".into(),
                key: String::new()
            }
        );
        assert_eq!(
            Location::parse("./a/b").unwrap(),
            Location::Local("./a/b".into())
        );
        assert!(Location::parse("cos://").is_err());
        assert!(Location::parse("cos://bad_bucket/x").is_err());
        assert!(Location::parse("").is_err());
        assert_eq!(
            Location::parse("cos://b/k").unwrap().to_string(),
            "cos://b/k"
        );
    }
}

//! The `Range` header (`coffer_proto::range::ByteRange`).
//!
//! Input: one header value; its length also serves as an object size. Invariants:
//! - never a panic; a parsed range written back (`bytes=a-b`, `bytes=a-`, `bytes=-n`) parses
//!   to the same range;
//! - resolved against any size (0, 1, the input's, a random one, `u64::MAX`), a range is
//!   either unsatisfiable or a non-empty slice inside the object; `bytes=a-…` starts at `a`;
//!   a suffix ends at the object's end; only a start at or past the end, an empty object or
//!   `bytes=-0` are unsatisfiable.

use coffer_proto::range::{ByteRange, ResolvedRange};

/// Runs one input.
pub fn run(data: &[u8]) {
    let value = String::from_utf8_lossy(data);
    let Some(range) = ByteRange::parse(&value) else {
        return;
    };
    let written = match range {
        ByteRange::FromTo { first, last: None } => format!("bytes={first}-"),
        ByteRange::FromTo {
            first,
            last: Some(last),
        } => {
            assert!(first <= last);
            format!("bytes={first}-{last}")
        }
        ByteRange::Suffix(n) => format!("bytes=-{n}"),
    };
    assert_eq!(ByteRange::parse(&written), Some(range), "{written:?}");
    let sizes = [
        0,
        1,
        data.len() as u64,
        data.iter()
            .fold(0u64, |h, b| h.rotate_left(8) ^ u64::from(*b)),
        u64::MAX,
    ];
    for size in sizes {
        match range.resolve(size) {
            ResolvedRange::Partial { start, len } => {
                assert!(len >= 1, "{range:?} in {size}: empty");
                let end = start.checked_add(len).expect("range end overflows");
                assert!(end <= size, "{range:?} in {size}: beyond the end");
                match range {
                    ByteRange::FromTo { first, last } => {
                        assert_eq!(start, first);
                        if let Some(last) = last {
                            assert_eq!(end, (last.saturating_add(1)).min(size));
                        } else {
                            assert_eq!(end, size);
                        }
                    }
                    ByteRange::Suffix(n) => {
                        assert_eq!(end, size);
                        assert_eq!(len, n.min(size));
                    }
                }
            }
            ResolvedRange::Unsatisfiable => {
                let expected = match range {
                    ByteRange::FromTo { first, .. } => first >= size,
                    ByteRange::Suffix(n) => n == 0 || size == 0,
                };
                assert!(expected, "{range:?} in {size}: unsatisfiable");
            }
        }
    }
}

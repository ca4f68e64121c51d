//! The `Range` request header (`bytes=a-b`, `bytes=a-`, `bytes=-n`).

/// A parsed single byte range, before it is resolved against an object size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-last` (last inclusive) or `bytes=first-` (`last` = None).
    FromTo {
        /// First byte offset.
        first: u64,
        /// Last byte offset, inclusive; `None` to the end.
        last: Option<u64>,
    },
    /// `bytes=-n`: the last `n` bytes.
    Suffix(u64),
}

/// The outcome of resolving a range against an object of a given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolvedRange {
    /// Serve bytes `start..start+len` with 206.
    Partial {
        /// First byte.
        start: u64,
        /// Number of bytes.
        len: u64,
    },
    /// The range cannot be satisfied: answer 416 `InvalidRange`.
    Unsatisfiable,
}

impl ByteRange {
    /// Parses a `Range` header value. Returns `None` for anything that is not one
    /// well-formed byte range; HTTP says such headers are ignored (full 200 answer).
    pub fn parse(value: &str) -> Option<ByteRange> {
        let spec = value.trim().strip_prefix("bytes=")?.trim();
        if spec.contains(',') {
            return None;
        }
        let (first, last) = spec.split_once('-')?;
        let (first, last) = (first.trim(), last.trim());
        if first.is_empty() {
            let n = parse_digits(last)?;
            return Some(ByteRange::Suffix(n));
        }
        let first = parse_digits(first)?;
        let last = if last.is_empty() {
            None
        } else {
            let last = parse_digits(last)?;
            if last < first {
                return None;
            }
            Some(last)
        };
        Some(ByteRange::FromTo { first, last })
    }

    /// Resolves against an object size: clamps the end, refuses a start beyond the end.
    pub fn resolve(self, size: u64) -> ResolvedRange {
        match self {
            ByteRange::FromTo { first, last } => {
                if first >= size {
                    return ResolvedRange::Unsatisfiable;
                }
                let last = last.map_or(size - 1, |l| l.min(size - 1));
                ResolvedRange::Partial {
                    start: first,
                    len: last - first + 1,
                }
            }
            ByteRange::Suffix(n) => {
                if n == 0 || size == 0 {
                    return ResolvedRange::Unsatisfiable;
                }
                let n = n.min(size);
                ResolvedRange::Partial {
                    start: size - n,
                    len: n,
                }
            }
        }
    }
}

fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_resolves() {
        let cases: &[(&str, u64, Option<ResolvedRange>)] = &[
            (
                "bytes=0-4",
                11,
                Some(ResolvedRange::Partial { start: 0, len: 5 }),
            ),
            (
                "bytes=6-",
                11,
                Some(ResolvedRange::Partial { start: 6, len: 5 }),
            ),
            (
                "bytes=-3",
                11,
                Some(ResolvedRange::Partial { start: 8, len: 3 }),
            ),
            (
                "bytes=-30",
                11,
                Some(ResolvedRange::Partial { start: 0, len: 11 }),
            ),
            (
                "bytes=5-100",
                11,
                Some(ResolvedRange::Partial { start: 5, len: 6 }),
            ),
            ("bytes=11-", 11, Some(ResolvedRange::Unsatisfiable)),
            ("bytes=0-0", 0, Some(ResolvedRange::Unsatisfiable)),
            ("bytes=-0", 11, Some(ResolvedRange::Unsatisfiable)),
            ("bytes=5-4", 11, None),
            ("bytes=0-1,3-4", 11, None),
            ("bytes=a-b", 11, None),
            ("items=0-1", 11, None),
            ("bytes=-", 11, None),
            ("bytes=99999999999999999999999-", 11, None),
        ];
        for (header, size, expected) in cases {
            let got = ByteRange::parse(header).map(|r| r.resolve(*size));
            assert_eq!(got, *expected, "{header}");
        }
    }
}

//! Percent-encoding rules shared by signatures and listings (query strings are decoded by
//! [`crate::query`]).

use percent_encoding::{percent_decode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but `A–Z a–z 0–9 - _ . ~` is escaped (RFC 3986 unreserved).
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Like [`UNRESERVED`] but keeps `/` (used for paths).
pub const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

/// Percent-encodes bytes keeping only unreserved characters, upper-case hex (`%20` for space,
/// `%2B` for plus, `%2F` for slash). This is what `encoding-type=url` listings emit.
pub fn encode_unreserved(input: &[u8]) -> String {
    percent_encoding::percent_encode(input, UNRESERVED).to_string()
}

/// Percent-encodes a path, keeping unreserved characters and `/`.
pub fn encode_path(input: &str) -> String {
    percent_encoding::utf8_percent_encode(input, UNRESERVED_AND_SLASH).to_string()
}

/// Decodes `%XX` escapes (a `+` stays a `+`), as for URL paths. Returns `None` when the
/// result is not valid UTF-8.
pub fn decode_path(input: &str) -> Option<String> {
    percent_decode(input.as_bytes())
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_cos() {
        assert_eq!(
            encode_unreserved("dir/a b+c~.txt".as_bytes()),
            "dir%2Fa%20b%2Bc~.txt"
        );
        assert_eq!(encode_unreserved("中".as_bytes()), "%E4%B8%AD");
        assert_eq!(encode_path("dir/中 a+b.txt"), "dir/%E4%B8%AD%20a%2Bb.txt");
    }

    #[test]
    fn decodes_paths() {
        assert_eq!(decode_path("/a%20b+c%2F").as_deref(), Some("/a b+c/"));
        assert_eq!(decode_path("/%FF"), None);
    }
}

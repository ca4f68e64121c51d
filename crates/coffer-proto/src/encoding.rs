//! Percent-encoding rules shared by signatures and listings.

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

/// Decodes a form-encoded query component: `+` is a space, `%XX` an escaped byte. Invalid
/// UTF-8 is replaced, never an error: signatures are computed over the re-encoded bytes.
pub fn decode_query_component(input: &str) -> String {
    let replaced: Vec<u8> = input
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&replaced).decode_utf8_lossy().into_owned()
}

/// Splits a raw query string into form-decoded `(name, value)` pairs, in order. A parameter
/// without `=` gets an empty value.
pub fn parse_query(raw_query: &str) -> Vec<(String, String)> {
    raw_query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((name, value)) => (decode_query_component(name), decode_query_component(value)),
            None => (decode_query_component(part), String::new()),
        })
        .collect()
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
    fn decodes_paths_and_queries() {
        assert_eq!(decode_path("/a%20b+c%2F").as_deref(), Some("/a b+c/"));
        assert_eq!(decode_path("/%FF"), None);
        assert_eq!(
            parse_query("prefix=a+b%2F&uploads&marker="),
            vec![
                ("prefix".to_string(), "a b/".to_string()),
                ("uploads".to_string(), String::new()),
                ("marker".to_string(), String::new()),
            ]
        );
    }
}

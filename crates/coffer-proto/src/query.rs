//! A request's query string, split and form-decoded once.
//!
//! The server parses the query of each request exactly once, into a [`Query`]; the signature
//! schemes ([`crate::auth`]), routing and the handlers all read that one parse, so they
//! cannot disagree about what a parameter says.

use std::borrow::Cow;

/// One query parameter: its name and value as sent, and form-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param<'a> {
    /// The name as sent (still encoded).
    pub raw_name: &'a str,
    /// The value as sent (still encoded); empty when the parameter has no `=`.
    pub raw_value: &'a str,
    /// The form-decoded name (`%XX` → byte, `+` → space).
    pub name: Cow<'a, [u8]>,
    /// The form-decoded value.
    pub value: Cow<'a, [u8]>,
}

impl Param<'_> {
    /// The decoded name as text, invalid UTF-8 replaced.
    pub fn name_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.name)
    }

    /// The decoded value as text, invalid UTF-8 replaced.
    pub fn value_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.value)
    }
}

/// A query string split into its parameters, in order. Empty segments (`a=1&&b=2`) are
/// skipped; a segment without `=` has an empty value; repeated names are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query<'a> {
    raw: &'a str,
    params: Vec<Param<'a>>,
}

impl<'a> Query<'a> {
    /// Splits and decodes a raw query string (without the leading `?`).
    pub fn parse(raw: &'a str) -> Self {
        let params = raw
            .split('&')
            .filter(|segment| !segment.is_empty())
            .map(|segment| {
                let (raw_name, raw_value) = segment.split_once('=').unwrap_or((segment, ""));
                Param {
                    raw_name,
                    raw_value,
                    name: form_decode(raw_name.as_bytes()),
                    value: form_decode(raw_value.as_bytes()),
                }
            })
            .collect();
        Query { raw, params }
    }

    /// The query string as received.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The parameters, in order.
    pub fn params(&self) -> &[Param<'a>] {
        &self.params
    }

    /// Whether there is no parameter.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// The decoded value of the first parameter named exactly `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.params
            .iter()
            .find(|p| *p.name == *name.as_bytes())
            .map(|p| &*p.value)
    }

    /// Every parameter as decoded text pairs (invalid UTF-8 replaced), in order.
    pub fn text_pairs(&self) -> Vec<(String, String)> {
        self.params
            .iter()
            .map(|p| (p.name_text().into_owned(), p.value_text().into_owned()))
            .collect()
    }
}

/// Form-decodes one query component: `%XX` → byte and `+` → space. A `%` not followed by
/// two hex digits is kept literally. Borrows when there is nothing to decode.
pub fn form_decode(s: &[u8]) -> Cow<'_, [u8]> {
    if !s.iter().any(|b| *b == b'+' || *b == b'%') {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = s.get(i + 1).and_then(|c| hex_val(*c));
                let lo = s.get(i + 2).and_then(|c| hex_val(*c));
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi << 4) | lo);
                    i += 3;
                } else {
                    out.push(b'%');
                    i += 1;
                }
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    #[test]
    fn form_decoding_handles_plus_percent_and_broken_escapes() {
        assert_eq!(&*form_decode(b"a+b%2F"), b"a b/");
        assert_eq!(&*form_decode(b"%e4%B8%ad"), "中".as_bytes());
        assert_eq!(&*form_decode(b"100%"), b"100%");
        assert_eq!(&*form_decode(b"%zz%4"), b"%zz%4");
        assert_eq!(&*form_decode(b""), b"");
        assert!(matches!(form_decode(b"plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn splitting_keeps_order_repeats_and_raw_forms() {
        let q = Query::parse("a=1&&b&c=x=y&=z&a=%32");
        let raw: Vec<_> = q
            .params()
            .iter()
            .map(|p| (p.raw_name, p.raw_value))
            .collect();
        assert_eq!(
            raw,
            vec![("a", "1"), ("b", ""), ("c", "x=y"), ("", "z"), ("a", "%32")]
        );
        assert_eq!(q.get("a"), Some(&b"1"[..]));
        assert_eq!(q.get("c"), Some(&b"x=y"[..]));
        assert_eq!(q.get("missing"), None);
        assert_eq!(q.raw(), "a=1&&b&c=x=y&=z&a=%32");
    }

    #[test]
    fn text_pairs_are_decoded() {
        assert_eq!(
            Query::parse("prefix=a+b%2F&uploads&marker=").text_pairs(),
            vec![
                ("prefix".to_string(), "a b/".to_string()),
                ("uploads".to_string(), String::new()),
                ("marker".to_string(), String::new()),
            ]
        );
        assert_eq!(Query::parse("k=%FF").text_pairs()[0].1, "\u{FFFD}");
        assert!(Query::parse("").is_empty());
    }
}

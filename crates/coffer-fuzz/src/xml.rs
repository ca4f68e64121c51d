//! The XML tree reader for request bodies (`coffer_proto::xml::parse`).
//!
//! Invariants: any bytes give an element tree or `MalformedXML` — never a panic, never
//! another error; a tree respects the reader's depth limit; and a tree whose names are
//! plain (no prefix, no odd characters) and whose attribute names are unique per element,
//! written back with the crate's escaping (`escape_into`), parses to the same tree: text
//! (whitespace and control characters included), attributes and children survive.

use coffer_proto::xml::{escape_into, parse, Element};
use coffer_proto::ErrorCode;

/// The reader's nesting limit (`Start` elements; an empty element may sit one deeper).
const MAX_DEPTH: usize = 32;

/// Runs one input.
pub fn run(data: &[u8]) {
    let root = match parse(data) {
        Ok(root) => root,
        Err(code) => {
            assert_eq!(code, ErrorCode::MalformedXML);
            return;
        }
    };
    assert!(depth(&root) <= MAX_DEPTH + 1, "nesting beyond the limit");
    if plain(&root) {
        let mut written = String::new();
        write(&root, &mut written);
        assert_eq!(
            parse(written.as_bytes()).as_ref(),
            Ok(&root),
            "the tree written back as {written:?} parses differently"
        );
    }
}

fn depth(element: &Element) -> usize {
    1 + element.children.iter().map(depth).max().unwrap_or(0)
}

/// Whether a name is written back as itself: non-empty, no prefix, no markup characters.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') || !c.is_ascii())
}

/// Whether the whole tree has plain names and unique attribute names.
fn plain(element: &Element) -> bool {
    let mut names: Vec<&str> = element.attributes.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    let unique = names.windows(2).all(|w| w[0] != w[1]);
    unique
        && plain_name(&element.name)
        && names.iter().all(|n| plain_name(n) && !n.starts_with("xml"))
        && element.children.iter().all(plain)
}

/// Writes an element: an empty one as `<a/>` (it may sit one level deeper than others),
/// attribute whitespace as character references (literal whitespace in attributes is
/// normalised by XML parsers).
fn write(element: &Element, out: &mut String) {
    out.push('<');
    out.push_str(&element.name);
    for (name, value) in &element.attributes {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\t' | '\n' | '\r' => out.push_str(&format!("&#{};", c as u32)),
                c => escape_into(out, c.encode_utf8(&mut [0; 4])),
            }
        }
        out.push('"');
    }
    if element.text.is_empty() && element.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    escape_into(out, &element.text);
    for child in &element.children {
        write(child, out);
    }
    out.push_str("</");
    out.push_str(&element.name);
    out.push('>');
}

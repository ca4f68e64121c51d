//! XML bodies: a small writer for responses and a tree reader for request bodies.
//!
//! Responses are written by hand-ordered calls so that element order and spelling match
//! what the official SDKs read, with no namespace (the COS SDK breaks on unknown ones).
//! Request bodies are read into a [`Element`] tree that keeps text exactly, whitespace
//! included (`<RecordDelimiter>\n</RecordDelimiter>` must stay a newline).

use crate::error::ErrorCode;
use quick_xml::events::Event;

/// The XML declaration every response starts with.
pub const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// Builds an XML document into a string.
#[derive(Debug, Default)]
pub struct XmlWriter {
    buf: String,
}

impl XmlWriter {
    /// A document starting with the XML declaration.
    pub fn new() -> Self {
        XmlWriter {
            buf: String::from(DECLARATION),
        }
    }

    /// Opens `<name>`.
    pub fn open(&mut self, name: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    /// Opens `<name a="v" …>`.
    pub fn open_with_attrs(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        for (key, value) in attrs {
            self.buf.push(' ');
            self.buf.push_str(key);
            self.buf.push_str("=\"");
            escape_into(&mut self.buf, value);
            self.buf.push('"');
        }
        self.buf.push('>');
        self
    }

    /// Closes `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Self {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    /// Writes `<name>text</name>`, escaping the text.
    pub fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name);
        escape_into(&mut self.buf, text);
        self.close(name)
    }

    /// Writes `<name>text</name>` for a displayable value.
    pub fn leaf_display(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        self.leaf(name, &value.to_string())
    }

    /// Writes a leaf only when a value is present.
    pub fn leaf_opt(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(text) = text {
            self.leaf(name, text);
        }
        self
    }

    /// Writes `<name/>`.
    pub fn empty(&mut self, name: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push_str("/>");
        self
    }

    /// The finished document.
    pub fn finish(self) -> String {
        self.buf
    }
}

/// Escapes `& < > " '` for text and attribute values.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // NUL has no representation in XML, not even as a reference: a document holding
            // one could not be read back. It only reaches answers through diagnostics (the
            // StringToSign of a SignatureDoesNotMatch: found by the pipeline_signed fuzz
            // target), never through names, which cannot hold it.
            '\0' => out.push(char::REPLACEMENT_CHARACTER),
            // Control characters other than tab/newline/carriage return cannot appear in
            // XML 1.0 at all; keys may contain them, so write them as character references.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                out.push_str(&format!("&#x{:X};", c as u32));
            }
            c => out.push(c),
        }
    }
}

/// Renders an `<Error>` document. `extra` is the dialect's additional element:
/// `("TraceId", …)` for COS, `("HostId", …)` for S3.
pub fn error_document(
    code: &str,
    message: &str,
    resource: &str,
    request_id: &str,
    extra: (&str, &str),
) -> String {
    let mut w = XmlWriter::new();
    w.open("Error")
        .leaf("Code", code)
        .leaf("Message", message)
        .leaf("Resource", if resource.is_empty() { "/" } else { resource })
        .leaf("RequestId", request_id)
        .leaf(extra.0, extra.1)
        .close("Error");
    w.finish()
}

/// One element of a parsed request body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Local name (any namespace prefix removed).
    pub name: String,
    /// Attributes as (local name, value).
    pub attributes: Vec<(String, String)>,
    /// Child elements in document order.
    pub children: Vec<Element>,
    /// Concatenated text content directly inside this element, unescaped, untrimmed.
    pub text: String,
}

impl Element {
    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child with this name.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// An attribute value by local name.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Limits on what [`parse`] accepts, so a hostile body cannot exhaust memory or stack.
const MAX_DEPTH: usize = 32;
const MAX_ELEMENTS: usize = 200_000;

/// Parses a request body into its root element. Any syntax error, a second root, excessive
/// nesting, a DOCTYPE or a NUL character is `MalformedXML`.
pub fn parse(body: &[u8]) -> Result<Element, ErrorCode> {
    // NUL is no XML character in any form: the reader below refuses `&#0;` but would pass a
    // raw NUL, which no answer could then write back (found by the `xml` fuzz target).
    if body.contains(&0) {
        return Err(ErrorCode::MalformedXML);
    }
    let text = std::str::from_utf8(body).map_err(|_| ErrorCode::MalformedXML)?;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(false);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let event = reader.read_event().map_err(|_| ErrorCode::MalformedXML)?;
        match event {
            Event::Start(start) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS || root.is_some() {
                    return Err(ErrorCode::MalformedXML);
                }
                stack.push(element_from_start(&start)?);
            }
            Event::Empty(start) => {
                count += 1;
                if count > MAX_ELEMENTS || root.is_some() {
                    return Err(ErrorCode::MalformedXML);
                }
                let element = element_from_start(&start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or(ErrorCode::MalformedXML)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(t) => {
                let decoded = t.decode().map_err(|_| ErrorCode::MalformedXML)?;
                match stack.last_mut() {
                    Some(current) => current.text.push_str(&decoded),
                    None if decoded.trim().is_empty() => {}
                    None => return Err(ErrorCode::MalformedXML),
                }
            }
            Event::CData(t) => {
                let current = stack.last_mut().ok_or(ErrorCode::MalformedXML)?;
                let decoded = t.decode().map_err(|_| ErrorCode::MalformedXML)?;
                current.text.push_str(&decoded);
            }
            Event::GeneralRef(reference) => {
                let current = stack.last_mut().ok_or(ErrorCode::MalformedXML)?;
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => {
                        let name = reference.decode().map_err(|_| ErrorCode::MalformedXML)?;
                        match name.as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            _ => return Err(ErrorCode::MalformedXML),
                        }
                    }
                    Err(_) => return Err(ErrorCode::MalformedXML),
                };
                current.text.push(resolved);
            }
            Event::DocType(_) => return Err(ErrorCode::MalformedXML),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(ErrorCode::MalformedXML);
    }
    root.ok_or(ErrorCode::MalformedXML)
}

fn element_from_start(start: &quick_xml::events::BytesStart<'_>) -> Result<Element, ErrorCode> {
    let name = std::str::from_utf8(start.local_name().as_ref())
        .map_err(|_| ErrorCode::MalformedXML)?
        .to_string();
    let mut attributes = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|_| ErrorCode::MalformedXML)?;
        let key = std::str::from_utf8(attr.key.local_name().as_ref())
            .map_err(|_| ErrorCode::MalformedXML)?
            .to_string();
        let value = attr
            .unescape_value()
            .map_err(|_| ErrorCode::MalformedXML)?
            .into_owned();
        attributes.push((key, value));
    }
    Ok(Element {
        name,
        attributes,
        children: Vec::new(),
        text: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_escaped_documents() {
        let mut w = XmlWriter::new();
        w.open("A")
            .leaf("Key", "a&b<c>\"")
            .empty("Marker")
            .close("A");
        assert_eq!(
            w.finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<A><Key>a&amp;b&lt;c&gt;&quot;</Key><Marker/></A>"
        );
        let doc = error_document("NoSuchKey", "m", "", "rid", ("TraceId", "tid"));
        assert!(doc.contains("<Resource>/</Resource>"));
        assert!(doc.contains("<TraceId>tid</TraceId>"));
    }

    #[test]
    fn written_documents_parse_back_whatever_their_text() {
        let text: String = (0u8..0x80).map(char::from).collect();
        let mut w = XmlWriter::new();
        w.open("A").leaf("B", &text).close("A");
        let document = w.finish();
        let root = parse(document.as_bytes()).expect("a written document parses");
        let expected = text.replace('\0', "\u{fffd}");
        assert_eq!(root.child_text("B"), Some(expected.as_str()));
    }

    #[test]
    fn parses_and_keeps_whitespace() {
        let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag></Part><D>\n</D><E/></CompleteMultipartUpload>";
        let root = parse(body.as_bytes()).expect("parses");
        assert_eq!(root.name, "CompleteMultipartUpload");
        let part = root.child("Part").expect("part");
        assert_eq!(part.child_text("ETag"), Some("\"abc\""));
        assert_eq!(root.child_text("D"), Some("\n"));
        assert_eq!(root.child_text("E"), Some(""));
    }

    #[test]
    fn parses_namespaces_and_attributes() {
        let body = r#"<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>u</URI></Grantee></AccessControlPolicy>"#;
        let root = parse(body.as_bytes()).expect("parses");
        let grantee = root.child("Grantee").expect("grantee");
        assert_eq!(grantee.attribute("type"), Some("Group"));
        assert_eq!(grantee.child_text("URI"), Some("u"));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "text",
            "<a>&unknown;</a>",
            "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
            &"<a>".repeat(100),
            "<a>\0</a>",
            "<a>&#0;</a>",
            "<a b=\"\0\"/>",
        ] {
            assert_eq!(parse(bad.as_bytes()), Err(ErrorCode::MalformedXML), "{bad}");
        }
        assert_eq!(parse(&[0xff, 0xfe]), Err(ErrorCode::MalformedXML));
    }
}

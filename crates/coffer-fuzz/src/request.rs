//! The request form the signature targets read, as text lines (so seeds stay readable):
//! line 1 is the authorization under test (an `Authorization` value, or `?` and a presigned
//! query that is appended to the request's own), line 2 the method, line 3 the decoded path,
//! line 4 the raw query, and every further line a `name: value` header.

use coffer_proto::auth::{Query, RequestView};

/// A request read from fuzz input.
#[derive(Debug, Clone)]
pub(crate) struct FuzzRequest {
    /// Line 1, as bytes.
    pub(crate) auth: String,
    /// Upper-case method (`GET` if the line is empty).
    pub(crate) method: String,
    /// Decoded path, starting with `/`.
    pub(crate) path: String,
    /// Raw query, without `?`.
    pub(crate) raw_query: String,
    /// Headers as the HTTP layer gives them: token names, values trimmed of SP and HTAB.
    pub(crate) headers: Vec<(String, Vec<u8>)>,
}

/// Whether `b` is an HTTP token character (RFC 9110 §5.6.2).
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r'] = s {
        s = rest;
    }
    s
}

impl FuzzRequest {
    /// Reads the line form (see the module doc); headers whose name is not a token are
    /// dropped, as the HTTP layer would refuse them.
    pub(crate) fn parse(data: &[u8]) -> FuzzRequest {
        let mut lines = data.split(|b| *b == b'\n');
        let mut text = || {
            let line = lines.next().unwrap_or_default();
            String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)).into_owned()
        };
        let auth = text();
        let method = match text().to_ascii_uppercase() {
            m if m.is_empty() => "GET".to_string(),
            m => m,
        };
        let path = match text() {
            p if p.starts_with('/') => p,
            p => format!("/{p}"),
        };
        let raw_query = text();
        let headers = lines
            .filter_map(|line| {
                let colon = line.iter().position(|b| *b == b':')?;
                let (name, value) = line.split_at(colon);
                if name.is_empty() || !name.iter().all(|b| is_tchar(*b)) {
                    return None;
                }
                let name = String::from_utf8_lossy(name).into_owned();
                Some((name, trim_ows(&value[1..]).to_vec()))
            })
            .collect();
        FuzzRequest {
            auth,
            method,
            path,
            raw_query,
            headers,
        }
    }

    /// The headers as the verifiers take them.
    pub(crate) fn header_refs(&self) -> Vec<(&str, &[u8])> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect()
    }

    /// Removes every header named (case-insensitively) in `names`.
    pub(crate) fn without(&self, names: &[&str]) -> FuzzRequest {
        let mut copy = self.clone();
        copy.headers
            .retain(|(n, _)| !names.iter().any(|x| n.eq_ignore_ascii_case(x)));
        copy
    }

    /// Adds a header.
    pub(crate) fn with(mut self, name: &str, value: &str) -> FuzzRequest {
        self.headers
            .push((name.to_string(), value.as_bytes().to_vec()));
        self
    }
}

/// A view of `request` with these headers and query.
pub(crate) fn view<'a>(
    request: &'a FuzzRequest,
    headers: &'a [(&'a str, &'a [u8])],
    query: &'a Query<'a>,
) -> RequestView<'a> {
    RequestView::new(&request.method, &request.path, query, headers)
}

//! What the server wrote on the connection, parsed strictly and checked: the invariants every
//! answer must meet, whatever the request.

/// One answer read off the wire.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// The status code.
    pub(crate) status: u16,
    /// Header fields as written.
    pub(crate) headers: Vec<(String, String)>,
    /// The body (empty for HEAD).
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// The first header with this name (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One response the handler produced, in order: whether it answers a HEAD request (no body on
/// the wire) and its status.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Produced {
    pub(crate) head: bool,
    pub(crate) status: u16,
}

/// Parses `wire` as the answers to `produced`, in order, checking that each is a well-formed
/// HTTP/1.1 response (interim `100 Continue` answers allowed before it) with its declared
/// body, that nothing else was written, and the invariants of [`check`].
pub(crate) fn parse_answers(wire: &[u8], produced: &[Produced]) -> Vec<Answer> {
    let mut rest = wire;
    let mut answers = Vec::new();
    for expected in produced {
        let answer = loop {
            let (answer, after) = parse_one(rest, expected.head);
            rest = after;
            if answer.status != 100 {
                break answer;
            }
        };
        assert_eq!(answer.status, expected.status, "status on the wire");
        check(&answer, expected.head);
        answers.push(answer);
    }
    assert!(
        rest.is_empty(),
        "bytes after the last answer: {:?}",
        String::from_utf8_lossy(rest)
    );
    answers
}

/// Parses one response at the start of `wire`; returns it and what follows.
fn parse_one(wire: &[u8], head_request: bool) -> (Answer, &[u8]) {
    let end = wire
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("an answer without the end of its head: {wire:?}"));
    let head_bytes = &wire[..end];
    let mut lines = head_bytes.split(|b| *b == b'\n');
    let status_line = lines.next().unwrap_or_default();
    let status_line = std::str::from_utf8(status_line.strip_suffix(b"\r").unwrap_or(status_line))
        .unwrap_or_else(|_| panic!("status line not UTF-8: {status_line:?}"));
    let status_text = status_line
        .strip_prefix("HTTP/1.1 ")
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let (code, reason) = status_text.split_at(3.min(status_text.len()));
    assert!(
        code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()),
        "bad status line {status_line:?}"
    );
    assert!(
        reason.starts_with(' ') && reason.len() > 1,
        "status line without a reason: {status_line:?}"
    );
    let status: u16 = code.parse().unwrap_or_default();
    let mut headers = Vec::new();
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        assert!(!line.contains(&b'\r'), "bare CR in {line:?}");
        let colon = line
            .iter()
            .position(|b| *b == b':')
            .unwrap_or_else(|| panic!("header line without a colon: {line:?}"));
        let (name, value) = line.split_at(colon);
        assert!(
            !name.is_empty() && name.iter().all(|b| crate::request::is_tchar(*b)),
            "bad header name {name:?}"
        );
        let value = value[1..].strip_prefix(b" ").unwrap_or(&value[1..]);
        headers.push((
            String::from_utf8_lossy(name).into_owned(),
            String::from_utf8_lossy(value).into_owned(),
        ));
    }
    let after_head = &wire[end + 4..];
    if status == 100 {
        assert!(headers.is_empty(), "100 Continue with headers");
        let answer = Answer {
            status,
            headers,
            body: Vec::new(),
        };
        return (answer, after_head);
    }
    let lengths: Vec<&String> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(lengths.len(), 1, "Content-Length count in {headers:?}");
    let length: usize = lengths[0]
        .parse()
        .unwrap_or_else(|_| panic!("bad Content-Length {:?}", lengths[0]));
    let body_len = if head_request { 0 } else { length };
    assert!(
        after_head.len() >= body_len,
        "body shorter than its Content-Length ({} < {body_len})",
        after_head.len()
    );
    let (body, rest) = after_head.split_at(body_len);
    let answer = Answer {
        status,
        headers,
        body: body.to_vec(),
    };
    (answer, rest)
}

/// The invariants of every answer: never a server error for client input (501 Not
/// Implemented is a refusal, not a failure); an error carries an `<Error>` document with
/// `Code` and `RequestId` (HEAD answers: the request id header); every XML body is
/// well-formed.
fn check(answer: &Answer, head_request: bool) {
    assert!(
        answer.status < 500 || answer.status == 501,
        "answered {} to client input: {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );
    let xml = answer
        .header("content-type")
        .is_some_and(|t| t.eq_ignore_ascii_case("application/xml"));
    if answer.status >= 400 {
        let request_id = answer
            .header("x-cos-request-id")
            .or_else(|| answer.header("x-amz-request-id"));
        assert!(
            request_id.is_some_and(|id| !id.is_empty()),
            "error without a request id"
        );
        if !head_request {
            assert!(xml, "error without an XML body: {answer:?}");
            let root = coffer_proto::xml::parse(&answer.body).unwrap_or_else(|e| {
                panic!(
                    "error body is not XML ({e:?}): {}",
                    String::from_utf8_lossy(&answer.body)
                )
            });
            assert_eq!(root.name, "Error");
            assert!(
                root.child_text("Code").is_some_and(|c| !c.is_empty()),
                "error without a Code"
            );
            assert_eq!(root.child_text("RequestId"), request_id, "RequestId");
        }
    } else if xml && !answer.body.is_empty() {
        if let Err(e) = coffer_proto::xml::parse(&answer.body) {
            panic!(
                "a {} answer's XML does not parse ({e:?}): {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            );
        }
    }
}

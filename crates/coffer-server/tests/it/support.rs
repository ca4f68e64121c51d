//! Test support: an in-process server on an ephemeral loopback port and a raw HTTP/1.1
//! client that shows header names exactly as the server wrote them.

use coffer_proto::auth::sigv4::SigV4Signer;
use coffer_proto::auth::{cos, form_encode, Query, RequestView};
use coffer_server::{AppState, HttpConfig, ServerConfig};
use coffer_store::model::AccountRecord;
use coffer_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const SECRET_ID: &str = "AKIDtestsecretid";
pub const SECRET_KEY: &str = "testsecretkey";
pub const APPID: &str = "1250000000";
pub const UIN: &str = "100000000001";
pub const BUCKET: &str = "examplebucket-1250000000";

/// A server running in this process.
pub struct TestServer {
    pub addr: SocketAddr,
    #[allow(dead_code)]
    pub store: Store,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    http: HttpConfig,
    dir: Option<tempfile::TempDir>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(HttpConfig::default()).await
    }

    /// A server with these HTTP limits.
    pub async fn start_with(http: HttpConfig) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = coffer_store_embedded::open(dir.path())
            .await
            .expect("store");
        store
            .meta()
            .create_account(AccountRecord {
                secret_id: SECRET_ID.into(),
                secret_key: SECRET_KEY.into(),
                appid: APPID.into(),
                uin: UIN.into(),
                created_ms: 0,
                admin: true,
            })
            .await
            .expect("account");
        TestServer::serve(store, http, dir).await
    }

    /// Stops the server, closes its store, and starts a new server on the same data
    /// directory (a process restart, as far as the data can tell).
    #[allow(dead_code)]
    pub async fn restart(mut self) -> TestServer {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
        self.store.close().await.expect("close");
        let dir = self.dir.take().expect("data directory");
        let http = self.http.clone();
        drop(self);
        // The engine allows one open handle: wait until the last one is gone.
        let mut attempts = 0;
        let store = loop {
            match coffer_store_embedded::open(dir.path()).await {
                Ok(store) => break store,
                Err(e) if attempts < 100 => {
                    attempts += 1;
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => panic!("reopen: {e}"),
            }
        };
        TestServer::serve(store, http, dir).await
    }

    async fn serve(store: Store, http: HttpConfig, dir: tempfile::TempDir) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(AppState::new(store.clone(), ServerConfig::default()));
        let (shutdown, rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(coffer_server::run(listener, state, http.clone(), rx));
        TestServer {
            addr,
            store,
            shutdown,
            task: Some(task),
            http,
            dir: Some(dir),
        }
    }

    /// A server with the test bucket created.
    pub async fn with_bucket() -> TestServer {
        TestServer::with_bucket_and(HttpConfig::default()).await
    }

    /// A server with these HTTP limits and the test bucket created.
    pub async fn with_bucket_and(http: HttpConfig) -> TestServer {
        let server = TestServer::start_with(http).await;
        let response = server.send(Req::put(BUCKET, "/")).await;
        assert_eq!(response.status, 200, "{}", response.text());
        server
    }

    pub async fn send(&self, req: Req) -> Resp {
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        stream.write_all(&req.to_bytes()).await.expect("write");
        // Boxed: the reader's 64 KiB buffer would otherwise be part of every test's future,
        // once per request, and a test with many requests overflows the test thread's stack.
        Box::pin(read_response(&mut stream, req.method == "HEAD")).await
    }

    /// Sends raw bytes and reads one response.
    pub async fn send_raw(&self, raw: &[u8]) -> Resp {
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        stream.write_all(raw).await.expect("write");
        read_response(&mut stream, false).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// How a test request is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signing {
    /// Anonymous.
    None,
    /// COS q-sign in the Authorization header, every signable header signed.
    Cos,
    /// A COS presigned URL signing only the host.
    CosPresigned,
    /// SigV4 in the Authorization header, every x-amz-* header signed.
    SigV4,
    /// A SigV4 presigned URL signing host and any x-amz-* headers present.
    SigV4Presigned,
}

/// `k=v&…`, form-encoded.
fn form_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                form_encode(k.as_bytes()),
                form_encode(v.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A request to build.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    pub bucket: Option<String>,
    /// The decoded key path, starting with `/`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub signing: Signing,
    pub secret_key: String,
    /// Headers added after signing (not covered by the signature).
    pub unsigned_headers: Vec<(String, String)>,
    /// Query parameters appended after signing (not covered by the signature).
    pub unsigned_query: Vec<(String, String)>,
    /// Seconds the signature stays valid.
    pub lifetime: u64,
    /// Send no Content-Length even for methods that usually carry one.
    pub no_length: bool,
    /// A Host header to send instead of the COS virtual-host name.
    pub host_override: Option<String>,
}

impl Req {
    pub fn new(method: &str, bucket: &str, path: &str) -> Req {
        Req {
            method: method.into(),
            bucket: (!bucket.is_empty()).then(|| bucket.to_string()),
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
            signing: Signing::Cos,
            secret_key: SECRET_KEY.into(),
            unsigned_headers: Vec::new(),
            unsigned_query: Vec::new(),
            lifetime: 600,
            no_length: false,
            host_override: None,
        }
    }
    pub fn get(bucket: &str, path: &str) -> Req {
        Req::new("GET", bucket, path)
    }
    pub fn put(bucket: &str, path: &str) -> Req {
        Req::new("PUT", bucket, path)
    }
    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn param(mut self, name: &str, value: &str) -> Req {
        self.query.push((name.into(), value.into()));
        self
    }
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Req {
        self.body = body.into();
        self
    }
    pub fn anonymous(mut self) -> Req {
        self.signing = Signing::None;
        self
    }
    pub fn signing(mut self, signing: Signing) -> Req {
        self.signing = signing;
        self
    }
    pub fn unsigned_header(mut self, name: &str, value: &str) -> Req {
        self.unsigned_headers.push((name.into(), value.into()));
        self
    }
    pub fn unsigned_param(mut self, name: &str, value: &str) -> Req {
        self.unsigned_query.push((name.into(), value.into()));
        self
    }

    pub fn host(&self) -> String {
        if let Some(host) = &self.host_override {
            return host.clone();
        }
        match &self.bucket {
            Some(bucket) => format!("{bucket}.cos.ap-guangzhou.myqcloud.com"),
            None => "service.cos.myqcloud.com".into(),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let host = self.host();
        let mut headers = self.headers.clone();
        headers.push(("Host".into(), host.clone()));
        let has_body = self.method != "GET" && self.method != "HEAD" || !self.body.is_empty();
        let chunked = headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"));
        if has_body && !chunked && !self.no_length {
            headers.push(("Content-Length".into(), self.body.len().to_string()));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let encoded_path = coffer_proto::encoding::encode_path(&self.path);
        let mut query = form_query(&self.query);
        match self.signing {
            Signing::None => {}
            Signing::Cos => {
                let signed: Vec<(String, String)> = headers
                    .iter()
                    .filter(|(n, _)| cos::is_signable_header(n))
                    .cloned()
                    .collect();
                let auth = cos::sign(
                    SECRET_ID,
                    &self.secret_key,
                    &self.method,
                    &self.path,
                    &self.query,
                    &signed,
                    now - 60,
                    now + self.lifetime,
                );
                headers.push(("Authorization".into(), auth));
            }
            Signing::CosPresigned => {
                query = cos::presign_query(
                    SECRET_ID,
                    &self.secret_key,
                    &self.method,
                    &self.path,
                    &self.query,
                    &[("host".to_string(), host.clone())],
                    now - 60,
                    now + self.lifetime,
                );
            }
            Signing::SigV4 | Signing::SigV4Presigned => {
                let amz_date = coffer_proto::auth::sigv4::format_amz_date(now).expect("date");
                let signer = SigV4Signer::new(SECRET_ID, &self.secret_key, "us-east-1");
                if self.signing == Signing::SigV4 {
                    headers.push(("x-amz-date".into(), amz_date.clone()));
                    headers.push(("x-amz-content-sha256".into(), "UNSIGNED-PAYLOAD".into()));
                }
                let names: Vec<String> = headers
                    .iter()
                    .map(|(n, _)| n.to_ascii_lowercase())
                    .filter(|n| n == "host" || n.starts_with("x-amz-") || n == "content-md5")
                    .collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let raw: Vec<(&str, &[u8])> = headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_bytes()))
                    .collect();
                let parsed = Query::parse(&query);
                let view = RequestView::new(&self.method, &self.path, &parsed, &raw);
                if self.signing == Signing::SigV4 {
                    let signed = signer
                        .sign(&view, &names, "UNSIGNED-PAYLOAD", &amz_date)
                        .expect("sign");
                    headers.push(("Authorization".into(), signed.authorization));
                } else {
                    query = signer
                        .presign(&view, &names, &amz_date, self.lifetime, None)
                        .expect("presign");
                }
            }
        }
        headers.extend(self.unsigned_headers.iter().cloned());
        let extra = form_query(&self.unsigned_query);
        if !extra.is_empty() {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&extra);
        }
        let mut target = encoded_path;
        if !query.is_empty() {
            target.push('?');
            target.push_str(&query);
        }
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, target).into_bytes();
        for (name, value) in headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// A response with header names as written by the server.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// A header by exact (case-sensitive) name.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The text of the first `<name>` element of the body.
    pub fn xml(&self, name: &str) -> Option<String> {
        let text = self.text();
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{name}>"))? + start;
        Some(text[start..end].to_string())
    }
}

/// Reads one response from a stream.
pub async fn read_response(stream: &mut TcpStream, head_request: bool) -> Resp {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Response::new(&mut headers);
        if let Ok(httparse::Status::Complete(len)) = parsed.parse(&buf) {
            let status = parsed.code.expect("status");
            let headers: Vec<(String, Vec<u8>)> = parsed
                .headers
                .iter()
                .map(|h| (h.name.to_string(), h.value.to_vec()))
                .collect();
            let length: usize = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .map(|(_, v)| String::from_utf8_lossy(v).parse().expect("length"))
                .unwrap_or(0);
            let length = if head_request || status == 100 {
                0
            } else {
                length
            };
            let mut body = buf[len..].to_vec();
            while body.len() < length {
                let n = stream.read(&mut chunk).await.expect("read body");
                assert!(n > 0, "connection closed mid-body");
                body.extend_from_slice(&chunk[..n]);
            }
            body.truncate(length);
            return Resp {
                status,
                headers,
                body,
            };
        }
        let n = stream.read(&mut chunk).await.expect("read head");
        assert!(n > 0, "connection closed before a response");
        buf.extend_from_slice(&chunk[..n]);
    }
}

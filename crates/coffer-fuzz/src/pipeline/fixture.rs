//! The server the pipeline targets talk to: a real store in a temporary directory (on
//! `/dev/shm` when there is one, so fsyncs are cheap), prepared once per process with two
//! accounts, two buckets, a few objects and multipart uploads, and rebuilt from scratch every
//! [`RESET_EVERY`] inputs so long runs neither fill the disk nor drift far from the prepared
//! state.

use super::build::{build, Payload, Scheme, Spec};
use super::wire::{parse_answers, Answer, Produced};
use coffer_server::http::{Handler, Rejection, Request, RequestBody, Response};
use coffer_server::{AppState, CofferHandler, HttpConfig, ServerConfig};
use coffer_store::model::AccountRecord;
use coffer_store::Store;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Inputs served by one store before it is rebuilt.
const RESET_EVERY: u64 = 2000;

/// The account owning the prepared buckets (not an admin).
pub(crate) const OWNER: (&str, &str) = ("AKIDfuzzowner", "fuzzownersecret");
/// An admin account with a bucket of its own.
pub(crate) const ADMIN: (&str, &str) = ("AKIDfuzzadmin", "fuzzadminsecret");
/// The owner's private bucket.
pub(crate) const PRIVATE_BUCKET: &str = "examplebucket-1250000000";
/// The owner's public-read-write bucket (anonymous requests reach its handlers).
pub(crate) const PUBLIC_BUCKET: &str = "public-1250000000";
/// The admin's bucket.
pub(crate) const ADMIN_BUCKET: &str = "admin-1250000001";
/// Objects prepared in each of the owner's buckets (`big.bin` is stored as a blob file).
pub(crate) const OBJECTS: &[&str] = &["a.txt", "dir/b.txt", "big.bin"];
/// The key of the prepared multipart uploads (one part uploaded).
pub(crate) const UPLOAD_KEY: &str = "mp.bin";
/// Written in place of the prepared uploads' id (`pipeline` inputs and `pipeline_signed`
/// values): the id is random, so inputs name it by this placeholder.
pub(crate) const UPLOAD_PLACEHOLDER: &str = "@UPLOAD@";

/// A prepared server.
struct Live {
    handler: Arc<CofferHandler>,
    store: Store,
    upload_id: String,
    served: u64,
    _dir: tempfile::TempDir,
}

/// The process-wide fixture: a runtime and, once prepared, the server.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    live: Option<Live>,
}

static FIXTURE: Mutex<Option<Fixture>> = Mutex::new(None);

/// The HTTP limits of the in-memory connections: no minimum rate (the whole input is there
/// at once), timeouts that only a hang would reach.
fn http_config() -> HttpConfig {
    HttpConfig {
        header_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(10),
        body_timeout: Duration::from_secs(10),
        body_min_rate: 0,
        write_timeout: Duration::from_secs(10),
        max_connections: 4,
        max_uploads: 4,
        ..HttpConfig::default()
    }
}

/// What one connection gave: the answers, in order.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub(crate) answers: Vec<Answer>,
}

/// Sends `input` as one connection, with [`UPLOAD_PLACEHOLDER`] replaced by the prepared
/// uploads' id, and returns the checked answers. `make` may build the input from the id.
pub(crate) fn exchange(make: impl FnOnce(&str) -> Vec<u8>) -> Exchange {
    let mut guard = FIXTURE.lock().unwrap_or_else(PoisonError::into_inner);
    let fixture = guard.get_or_insert_with(|| Fixture {
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime"),
        live: None,
    });
    let Fixture { runtime, live } = fixture;
    runtime.block_on(async {
        if live.as_ref().is_some_and(|l| l.served >= RESET_EVERY) {
            if let Some(old) = live.take() {
                let _ = old.store.close().await;
            }
        }
        if live.is_none() {
            *live = Some(prepare().await);
        }
        let Some(current) = live.as_mut() else {
            unreachable!("prepared above");
        };
        current.served += 1;
        let input = make(&current.upload_id);
        let answers = converse(&current.handler, &input).await;
        Exchange { answers }
    })
}

/// The real handler, recording what it produced so the wire can be parsed knowing which
/// answers are to HEAD requests (they have no body).
struct Recorder {
    inner: Arc<CofferHandler>,
    produced: Mutex<Vec<Produced>>,
}

impl Recorder {
    fn note(&self, head: bool, status: u16) {
        self.produced
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Produced { head, status });
    }
}

impl Handler for Recorder {
    fn handle<'a, 'b: 'a>(
        &'a self,
        request: Request,
        body: &'a mut RequestBody<'b>,
    ) -> Pin<Box<dyn Future<Output = Response> + Send + 'a>> {
        let head = request.method.eq_ignore_ascii_case("HEAD");
        Box::pin(async move {
            let response = self.inner.handle(request, body).await;
            self.note(head, response.status);
            response
        })
    }

    fn reject(&self, rejection: Rejection) -> Response {
        let response = self.inner.reject(rejection);
        self.note(false, response.status);
        response
    }
}

/// Serves `input` as one connection over an in-memory stream and checks what came back.
async fn converse(handler: &Arc<CofferHandler>, input: &[u8]) -> Vec<Answer> {
    let recorder = Recorder {
        inner: handler.clone(),
        produced: Mutex::new(Vec::new()),
    };
    let (client, server) = tokio::io::duplex(1 << 20);
    let (mut from_server, mut to_server) = tokio::io::split(client);
    let serve = coffer_server::fuzzing::serve_stream(server, http_config(), &recorder);
    let talk = async {
        // The server may close early (a rejected head): a failed write is fine.
        let _ = to_server.write_all(input).await;
        let _ = to_server.shutdown().await;
        let mut wire = Vec::new();
        let _ = from_server.read_to_end(&mut wire).await;
        wire
    };
    let ((), wire) = tokio::join!(serve, talk);
    let produced = recorder
        .produced
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    parse_answers(&wire, &produced)
}

/// A spec signed by the owner with COS, for preparing the store.
fn owner_spec(method: &str, bucket: &str, key: &str) -> Spec {
    Spec {
        scheme: Scheme::CosHeader,
        access_key: OWNER.0.to_string(),
        secret_key: OWNER.1.to_string(),
        method: method.to_string(),
        host: format!("{bucket}.cos.ap-guangzhou.myqcloud.com"),
        decoded_path: format!("/{key}"),
        params: Vec::new(),
        headers: Vec::new(),
        body: Vec::new(),
        chunked: None,
        payload: Payload::Unsigned,
    }
}

/// Sends one prepared request; the fixture is broken if it does not succeed.
async fn send(handler: &Arc<CofferHandler>, spec: &Spec) -> Answer {
    let built = build(spec, now());
    let mut answers = converse(handler, &built.bytes).await;
    assert_eq!(answers.len(), 1, "preparing {spec:?}");
    let answer = answers.remove(0);
    assert_eq!(
        answer.status,
        200,
        "preparing {} {}: {}",
        spec.method,
        spec.decoded_path,
        String::from_utf8_lossy(&answer.body)
    );
    answer
}

/// The server clock, in Unix seconds.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The name of the stores' directories: this prefix, the process id, a random suffix.
const DIR_PREFIX: &str = "coffer-fuzz-";

/// Removes the store directories of fuzzing processes that are gone: libFuzzer ends a run
/// with `exit`, and a crash ends it too, so the last store of a process is never dropped.
fn remove_stale(base: &std::path::Path) {
    // Without /proc, a process's liveness is unknown: leave everything.
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(DIR_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Builds a fresh store and prepares it.
async fn prepare() -> Live {
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    remove_stale(&base);
    let dir = tempfile::Builder::new()
        .prefix(&format!("{DIR_PREFIX}{}-", std::process::id()))
        .tempdir_in(&base)
        .or_else(|_| tempfile::tempdir())
        .expect("a temporary directory");
    let store = coffer_store_embedded::open(dir.path())
        .await
        .expect("a store");
    for (secret_id, secret_key, appid, uin, admin) in [
        (OWNER.0, OWNER.1, "1250000000", "100000000001", false),
        (ADMIN.0, ADMIN.1, "1250000001", "100000000002", true),
    ] {
        store
            .meta()
            .create_account(AccountRecord {
                secret_id: secret_id.into(),
                secret_key: secret_key.into(),
                appid: appid.into(),
                uin: uin.into(),
                created_ms: 0,
                admin,
            })
            .await
            .expect("an account");
    }
    let config = ServerConfig {
        min_part_size: 1,
        ..ServerConfig::default()
    };
    let state = Arc::new(AppState::new(store.clone(), config));
    let handler = Arc::new(CofferHandler::new(state));

    send(&handler, &owner_spec("PUT", PRIVATE_BUCKET, "")).await;
    let mut public = owner_spec("PUT", PUBLIC_BUCKET, "");
    public
        .headers
        .push(("x-cos-acl".into(), "public-read-write".into(), true));
    send(&handler, &public).await;
    let mut admin = owner_spec("PUT", ADMIN_BUCKET, "");
    admin.access_key = ADMIN.0.into();
    admin.secret_key = ADMIN.1.into();
    send(&handler, &admin).await;

    let mut upload_id = String::new();
    for bucket in [PRIVATE_BUCKET, PUBLIC_BUCKET] {
        for key in OBJECTS {
            let mut put = owner_spec("PUT", bucket, key);
            put.body = if *key == "big.bin" {
                (0..100 * 1024).map(|i| (i % 251) as u8).collect()
            } else {
                format!("the object {key}\n").into_bytes()
            };
            put.headers
                .push(("Content-Type".into(), "text/plain".into(), true));
            send(&handler, &put).await;
        }
        let mut create = owner_spec("POST", bucket, UPLOAD_KEY);
        create.params.push(("uploads".into(), String::new(), true));
        let created = send(&handler, &create).await;
        let document = coffer_proto::xml::parse(&created.body).expect("an upload document");
        upload_id = document
            .child_text("UploadId")
            .expect("an upload id")
            .to_string();
        let mut part = owner_spec("PUT", bucket, UPLOAD_KEY);
        part.params.push(("partNumber".into(), "1".into(), true));
        part.params
            .push(("uploadId".into(), upload_id.clone(), true));
        part.body = b"part one".to_vec();
        send(&handler, &part).await;
    }
    // Both buckets' uploads exist; inputs name the public bucket's.
    Live {
        handler,
        store,
        upload_id,
        served: 0,
        _dir: dir,
    }
}

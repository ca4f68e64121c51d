//! Listing cases: [`crate::listing`] over a backend's cursors against a reference model
//! written the obvious way (filter everything, then roll up and cut).

use super::meta_cases::{bucket, open, put, upload_record, version, ORDERED_KEYS};
use super::MetadataFactory;
use crate::listing::{list_objects, list_uploads};
use crate::meta::{ListEntry, ListPage, ListQuery, UploadEntry, UploadListQuery, UploadPage};

/// An entry as the model and the comparison see it: a key, or a common prefix + `*`.
fn render(entries: &[ListEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| match e {
            ListEntry::Object { key, .. } => key.clone(),
            ListEntry::CommonPrefix(p) => format!("{p}*"),
        })
        .collect()
}

/// The common prefix `key` rolls up into, if any.
fn rolled_up(key: &str, prefix: &str, delimiter: Option<&str>) -> Option<String> {
    let delimiter = delimiter.filter(|d| !d.is_empty())?;
    let rest = &key[prefix.len()..];
    rest.find(delimiter)
        .map(|at| key[..prefix.len() + at + delimiter.len()].to_string())
}

/// Every entry after the marker, in order, each common prefix once.
fn model_entries(
    keys: &[&str],
    prefix: &str,
    delimiter: Option<&str>,
    marker: &str,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut sorted: Vec<&str> = keys.to_vec();
    sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    for key in sorted {
        if !key.starts_with(prefix) || key.as_bytes() <= marker.as_bytes() {
            continue;
        }
        let entry = match rolled_up(key, prefix, delimiter) {
            Some(cp) if cp.as_bytes() <= marker.as_bytes() => continue,
            Some(cp) => format!("{cp}*"),
            None => key.to_string(),
        };
        if out.last() != Some(&entry) {
            out.push(entry);
        }
    }
    out
}

fn check_page(page: &ListPage, expected_all: &[String], max_keys: usize, what: &str) {
    let expected: Vec<String> = expected_all.iter().take(max_keys).cloned().collect();
    assert_eq!(render(&page.entries), expected, "{what}: entries");
    let truncated = expected_all.len() > max_keys && max_keys > 0;
    assert_eq!(page.is_truncated, truncated, "{what}: truncation");
    let next = truncated
        .then(|| expected.last().map(|e| e.trim_end_matches('*').to_string()))
        .flatten();
    // A common prefix ending in `*` itself would be ambiguous here; no fixture key has one.
    assert_eq!(page.next_marker, next, "{what}: next marker");
}

const PREFIXES: &[&str] = &[
    "", "a", "a/", "a/b", "a/b/c", "b/", "é", "日本", "nope", "~",
];
const DELIMITERS: &[Option<&str>] = &[None, Some("/"), Some("b"), Some("é"), Some("//"), Some("")];
const MARKERS: &[&str] = &[
    "",
    "0",
    "a",
    "a/",
    "a//b",
    "a/b",
    "a/b/",
    "a0",
    "b/",
    "é",
    "\u{10ffff}",
];
const MAX_KEYS: &[usize] = &[0, 1, 2, 3, 1000];

pub(super) async fn object_listings_match_the_reference_model(factory: &dyn MetadataFactory) {
    let meta = open(factory, "listing-model").await;
    let b = bucket(meta.as_ref(), "b").await;
    for key in ORDERED_KEYS {
        put(meta.as_ref(), &b, key, version(key, &[])).await;
    }
    for prefix in PREFIXES {
        for delimiter in DELIMITERS {
            for marker in MARKERS {
                let expected = model_entries(ORDERED_KEYS, prefix, *delimiter, marker);
                for &max_keys in MAX_KEYS {
                    let query = ListQuery {
                        prefix: prefix.to_string(),
                        delimiter: delimiter.map(str::to_string),
                        marker: (!marker.is_empty()).then(|| marker.to_string()),
                        max_keys,
                    };
                    let page = list_objects(meta.as_ref(), &b, &query).await.expect("list");
                    check_page(&page, &expected, max_keys, &format!("{query:?}"));
                    for entry in &page.entries {
                        if let ListEntry::Object { key, version } = entry {
                            assert_eq!(
                                version.etag,
                                format!("\"{key}\""),
                                "{query:?}: version of {key}"
                            );
                        }
                    }
                }
            }
        }
    }
}

pub(super) async fn object_listings_page_to_the_full_listing(factory: &dyn MetadataFactory) {
    let meta = open(factory, "listing-pages").await;
    let b = bucket(meta.as_ref(), "b").await;
    // Wide subtrees, so skipping them matters, and many keys, so cursor batches refill.
    let mut keys: Vec<String> = ORDERED_KEYS.iter().map(|k| k.to_string()).collect();
    for i in 0..300 {
        keys.push(format!("deep/{:03}/leaf", i % 7));
        keys.push(format!("flat{i:04}"));
        keys.push(format!("deep/{i:03}"));
    }
    keys.sort();
    keys.dedup();
    for key in &keys {
        put(meta.as_ref(), &b, key, version(key, &[])).await;
    }
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    for prefix in ["", "deep/", "a/", "flat"] {
        for delimiter in [None, Some("/"), Some("0")] {
            let expected = model_entries(&refs, prefix, delimiter, "");
            for max_keys in [1, 7, 1000] {
                let mut seen = Vec::new();
                let mut marker = None;
                for _ in 0..=expected.len() {
                    let query = ListQuery {
                        prefix: prefix.into(),
                        delimiter: delimiter.map(str::to_string),
                        marker: marker.clone(),
                        max_keys,
                    };
                    let page = list_objects(meta.as_ref(), &b, &query).await.expect("list");
                    assert!(page.entries.len() <= max_keys, "{query:?}");
                    seen.extend(render(&page.entries));
                    if !page.is_truncated {
                        break;
                    }
                    marker = page.next_marker.clone();
                    assert!(
                        marker.is_some(),
                        "{query:?}: a truncated page names its marker"
                    );
                }
                assert_eq!(
                    seen, expected,
                    "paging {prefix:?} {delimiter:?} by {max_keys}"
                );
            }
        }
    }
}

/// Uploads as the model and the comparison see them: `key#upload` or a common prefix + `*`.
fn render_uploads(page: &UploadPage) -> Vec<String> {
    page.entries
        .iter()
        .map(|e| match e {
            UploadEntry::Upload(u) => format!("{}#{}", u.key, u.upload_id),
            UploadEntry::CommonPrefix(p) => format!("{p}*"),
        })
        .collect()
}

fn model_uploads(uploads: &[(&str, &str)], query: &UploadListQuery) -> Vec<String> {
    let mut sorted = uploads.to_vec();
    sorted.sort_by(|a, b| (a.0.as_bytes(), a.1.as_bytes()).cmp(&(b.0.as_bytes(), b.1.as_bytes())));
    let key_marker = query.key_marker.clone().unwrap_or_default();
    let upload_marker = query
        .upload_id_marker
        .clone()
        .filter(|_| !key_marker.is_empty());
    let mut out: Vec<String> = Vec::new();
    for (key, id) in sorted {
        if !key.starts_with(query.prefix.as_str()) {
            continue;
        }
        let after_marker = match &upload_marker {
            Some(u) => (key.as_bytes(), id.as_bytes()) > (key_marker.as_bytes(), u.as_bytes()),
            None => key.as_bytes() > key_marker.as_bytes(),
        };
        if !key_marker.is_empty() && !after_marker {
            continue;
        }
        let entry = match rolled_up(key, &query.prefix, query.delimiter.as_deref()) {
            Some(cp) if !key_marker.is_empty() && cp.as_bytes() <= key_marker.as_bytes() => {
                continue
            }
            Some(cp) => format!("{cp}*"),
            None => format!("{key}#{id}"),
        };
        if out.last() != Some(&entry) {
            out.push(entry);
        }
    }
    out
}

pub(super) async fn upload_listings_match_the_reference_model(factory: &dyn MetadataFactory) {
    let meta = open(factory, "upload-listing").await;
    let b = bucket(meta.as_ref(), "b").await;
    let uploads: &[(&str, &str)] = &[
        ("a", "001"),
        ("a", "002"),
        ("a/1", "001"),
        ("a/2", "003"),
        ("a/b/c", "001"),
        ("ab", "001"),
        ("b", "001"),
        ("é/x", "002"),
        ("é/x", "001"),
        ("z", "009"),
    ];
    for (key, id) in uploads {
        meta.create_upload(&b, upload_record(key, id))
            .await
            .expect("create");
    }
    for prefix in ["", "a", "a/", "é", "zz"] {
        for delimiter in [None, Some("/")] {
            for (key_marker, upload_marker) in [
                (None, None),
                (Some("a"), None),
                (Some("a"), Some("001")),
                (Some("a/"), None),
                (Some("a/1"), Some("000")),
                (Some("é/x"), Some("001")),
                (Some("z"), Some("009")),
                (None, Some("001")),
            ] {
                for max_uploads in [0, 1, 2, 1000] {
                    let query = UploadListQuery {
                        prefix: prefix.into(),
                        delimiter: delimiter.map(str::to_string),
                        key_marker: key_marker.map(str::to_string),
                        upload_id_marker: upload_marker.map(str::to_string),
                        max_uploads,
                    };
                    let all = model_uploads(uploads, &query);
                    let page = list_uploads(meta.as_ref(), &b, &query).await.expect("list");
                    let expected: Vec<String> = all.iter().take(max_uploads).cloned().collect();
                    assert_eq!(render_uploads(&page), expected, "{query:?}");
                    let truncated = max_uploads > 0 && all.len() > max_uploads;
                    assert_eq!(page.is_truncated, truncated, "{query:?}: truncation");
                    if truncated {
                        let last = expected.last().cloned().unwrap_or_default();
                        let (key, id) = match last.split_once('#') {
                            Some((key, id)) => (key.to_string(), Some(id.to_string())),
                            None => (last.trim_end_matches('*').to_string(), None),
                        };
                        assert_eq!(page.next_key_marker, Some(key), "{query:?}");
                        assert_eq!(page.next_upload_id_marker, id, "{query:?}");
                    } else {
                        assert_eq!(page.next_key_marker, None, "{query:?}");
                    }
                }
            }
        }
    }
}

pub(super) async fn listing_is_per_bucket(factory: &dyn MetadataFactory) {
    let meta = open(factory, "listing-buckets").await;
    let a = bucket(meta.as_ref(), "a").await;
    let b = bucket(meta.as_ref(), "b").await;
    let c = bucket(meta.as_ref(), "c").await;
    put(meta.as_ref(), &a, "x", version("x", &[])).await;
    put(meta.as_ref(), &c, "\u{10ffff}", version("y", &[])).await;
    meta.create_upload(&a, upload_record("x", "1"))
        .await
        .expect("create");
    let everything = ListQuery {
        max_keys: 1000,
        ..ListQuery::default()
    };
    let page = list_objects(meta.as_ref(), &b, &everything)
        .await
        .expect("list");
    assert!(page.entries.is_empty() && !page.is_truncated);
    let page = list_objects(meta.as_ref(), &a, &everything)
        .await
        .expect("list");
    assert_eq!(render(&page.entries), ["x"]);
    let uploads = UploadListQuery {
        max_uploads: 1000,
        ..UploadListQuery::default()
    };
    let page = list_uploads(meta.as_ref(), &b, &uploads)
        .await
        .expect("list");
    assert!(page.entries.is_empty());
    let page = list_uploads(meta.as_ref(), &c, &uploads)
        .await
        .expect("list");
    assert!(page.entries.is_empty());
}

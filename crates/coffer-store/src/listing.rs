//! Listing, written once above the backends: prefixes, delimiters, markers and the skipping
//! of rolled-up subtrees, over the ordered cursors every [`MetadataStore`] provides
//! ([`MetadataStore::scan_objects`], [`MetadataStore::scan_uploads`]).
//!
//! A key that rolls up into a common prefix is followed by a seek past that prefix
//! ([`Seek::Past`]), so a subtree of a million keys costs one seek, not a million reads.
//! Cursor batches start small when a delimiter may roll keys up (what a batch holds beyond
//! a rolled-up key is wasted) and double while they are consumed.
//!
//! A page may be read through several cursor calls, each its own snapshot: a key written
//! while the page is being read may or may not appear in it (as with S3), but every key
//! appears at most once and in order, since each call resumes strictly after the last.

use crate::error::StoreResult;
use crate::meta::{
    ListEntry, ListPage, ListQuery, MetadataStore, Seek, UploadEntry, UploadListQuery, UploadPage,
    UploadSeek,
};
use crate::model::BucketRecord;

/// The first cursor batch of a listing with a delimiter.
const FIRST_BATCH_WITH_DELIMITER: usize = 64;

/// The smallest byte string greater than every string that starts with `prefix`, or `None`
/// when there is none (all 0xFF). Backends use it to turn [`Seek::Past`] into a bound.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// What the delimiter does to a key: either the key stands alone, or it rolls up into the
/// common prefix returned.
fn common_prefix<'k>(key: &'k str, prefix: &str, delimiter: Option<&str>) -> Option<&'k str> {
    let delimiter = delimiter.filter(|d| !d.is_empty())?;
    let rest = key.get(prefix.len()..)?;
    let at = rest.find(delimiter)?;
    key.get(..prefix.len() + at + delimiter.len())
}

/// An owned [`Seek`].
#[derive(Debug, Clone)]
enum Cursor {
    At(String),
    After(String),
    Past(String),
}

impl Cursor {
    fn seek(&self) -> Seek<'_> {
        match self {
            Cursor::At(k) => Seek::At(k),
            Cursor::After(k) => Seek::After(k),
            Cursor::Past(p) => Seek::Past(p),
        }
    }
}

/// How many entries the next cursor call asks for: one more than still fit (to learn
/// whether the page is truncated), at most `cap`.
fn batch(room: usize, cap: usize) -> usize {
    room.saturating_add(1).min(cap).max(1)
}

/// Lists current versions (S3 ListObjects semantics) through `meta`'s ordered cursor.
pub async fn list_objects(
    meta: &dyn MetadataStore,
    bucket: &BucketRecord,
    query: &ListQuery,
) -> StoreResult<ListPage> {
    let mut page = ListPage::default();
    if query.max_keys == 0 {
        return Ok(page);
    }
    let prefix = query.prefix.as_str();
    let delimiter = query.delimiter.as_deref().filter(|d| !d.is_empty());
    let marker = query.marker.as_deref().filter(|m| !m.is_empty());
    let mut cursor = match marker {
        Some(m) if m.as_bytes() >= prefix.as_bytes() => Cursor::After(m.to_string()),
        _ => Cursor::At(prefix.to_string()),
    };
    let mut cap = if delimiter.is_some() {
        FIRST_BATCH_WITH_DELIMITER
    } else {
        usize::MAX
    };
    'scan: loop {
        let want = batch(query.max_keys - page.entries.len(), cap);
        let entries = meta
            .scan_objects(bucket, prefix, cursor.seek(), want)
            .await?;
        let exhausted = entries.len() < want;
        // The common prefix whose subtree the rest of this batch may still be in.
        let mut rolled: Option<String> = None;
        let mut last: Option<String> = None;
        for (key, version) in entries {
            if rolled.as_deref().is_some_and(|cp| key.starts_with(cp)) {
                continue;
            }
            rolled = None;
            if let Some(cp) = common_prefix(&key, prefix, delimiter) {
                let already_returned = marker.is_some_and(|m| cp.as_bytes() <= m.as_bytes());
                if !already_returned {
                    if page.entries.len() == query.max_keys {
                        page.is_truncated = true;
                        break 'scan;
                    }
                    page.entries.push(ListEntry::CommonPrefix(cp.to_string()));
                }
                rolled = Some(cp.to_string());
                continue;
            }
            if page.entries.len() == query.max_keys {
                page.is_truncated = true;
                break 'scan;
            }
            last = Some(key.clone());
            page.entries.push(ListEntry::Object { key, version });
        }
        if exhausted {
            break;
        }
        cursor = match (rolled, last) {
            (Some(cp), _) => Cursor::Past(cp),
            (None, Some(key)) => Cursor::After(key),
            // A full batch yields an object or a rolled-up prefix.
            (None, None) => break,
        };
        cap = cap.saturating_mul(2);
    }
    if page.is_truncated {
        page.next_marker = page.entries.last().map(|e| match e {
            ListEntry::Object { key, .. } => key.clone(),
            ListEntry::CommonPrefix(p) => p.clone(),
        });
    }
    Ok(page)
}

/// An owned [`UploadSeek`].
#[derive(Debug, Clone)]
enum UploadCursor {
    Key(Cursor),
    AfterUpload(String, String),
}

impl UploadCursor {
    fn seek(&self) -> UploadSeek<'_> {
        match self {
            UploadCursor::Key(cursor) => UploadSeek::Key(cursor.seek()),
            UploadCursor::AfterUpload(key, upload_id) => UploadSeek::AfterUpload { key, upload_id },
        }
    }
}

/// Lists multipart uploads in progress (S3 ListMultipartUploads semantics) through
/// `meta`'s ordered cursor.
pub async fn list_uploads(
    meta: &dyn MetadataStore,
    bucket: &BucketRecord,
    query: &UploadListQuery,
) -> StoreResult<UploadPage> {
    let mut page = UploadPage::default();
    if query.max_uploads == 0 {
        return Ok(page);
    }
    let prefix = query.prefix.as_str();
    let delimiter = query.delimiter.as_deref().filter(|d| !d.is_empty());
    let key_marker = query.key_marker.as_deref().filter(|m| !m.is_empty());
    let upload_marker = query.upload_id_marker.as_deref().filter(|m| !m.is_empty());
    let mut cursor = match (key_marker, upload_marker) {
        (Some(m), Some(u)) if m.as_bytes() >= prefix.as_bytes() => {
            UploadCursor::AfterUpload(m.to_string(), u.to_string())
        }
        (Some(m), None) if m.as_bytes() >= prefix.as_bytes() => {
            UploadCursor::Key(Cursor::After(m.to_string()))
        }
        _ => UploadCursor::Key(Cursor::At(prefix.to_string())),
    };
    let mut cap = if delimiter.is_some() {
        FIRST_BATCH_WITH_DELIMITER
    } else {
        usize::MAX
    };
    'scan: loop {
        let want = batch(query.max_uploads - page.entries.len(), cap);
        let uploads = meta
            .scan_uploads(bucket, prefix, cursor.seek(), want)
            .await?;
        let exhausted = uploads.len() < want;
        let mut rolled: Option<String> = None;
        let mut last: Option<(String, String)> = None;
        for upload in uploads {
            if rolled
                .as_deref()
                .is_some_and(|cp| upload.key.starts_with(cp))
            {
                continue;
            }
            rolled = None;
            if let Some(cp) = common_prefix(&upload.key, prefix, delimiter) {
                let already_returned = key_marker.is_some_and(|m| cp.as_bytes() <= m.as_bytes());
                if !already_returned {
                    if page.entries.len() == query.max_uploads {
                        page.is_truncated = true;
                        break 'scan;
                    }
                    page.entries.push(UploadEntry::CommonPrefix(cp.to_string()));
                }
                rolled = Some(cp.to_string());
                continue;
            }
            if page.entries.len() == query.max_uploads {
                page.is_truncated = true;
                break 'scan;
            }
            last = Some((upload.key.clone(), upload.upload_id.clone()));
            page.entries.push(UploadEntry::Upload(upload));
        }
        if exhausted {
            break;
        }
        cursor = match (rolled, last) {
            (Some(cp), _) => UploadCursor::Key(Cursor::Past(cp)),
            (None, Some((key, upload_id))) => UploadCursor::AfterUpload(key, upload_id),
            (None, None) => break,
        };
        cap = cap.saturating_mul(2);
    }
    if page.is_truncated {
        match page.entries.last() {
            Some(UploadEntry::Upload(u)) => {
                page.next_key_marker = Some(u.key.clone());
                page.next_upload_id_marker = Some(u.upload_id.clone());
            }
            Some(UploadEntry::CommonPrefix(p)) => page.next_key_marker = Some(p.clone()),
            None => {}
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_first_string_past_the_subtree() {
        assert_eq!(prefix_end(b"a/"), Some(b"a0".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
        assert_eq!(prefix_end(b""), None);
    }

    #[test]
    fn common_prefixes_end_at_the_first_delimiter_after_the_prefix() {
        assert_eq!(common_prefix("a/b/c", "", Some("/")), Some("a/"));
        assert_eq!(common_prefix("a/b/c", "a/", Some("/")), Some("a/b/"));
        assert_eq!(common_prefix("a/b", "a/", Some("/")), None);
        assert_eq!(common_prefix("xaaa", "", Some("aa")), Some("xaa"));
        assert_eq!(common_prefix("a/b", "", Some("")), None);
        assert_eq!(common_prefix("a/b", "", None), None);
    }
}

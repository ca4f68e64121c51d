//! A small per-node cache of account lookups (the secret-key lookup of every signed
//! request), so that authentication does not cost a database round trip per request.
//!
//! Only accounts found are kept (a key created through another node is usable at once), for
//! at most [`PgOptions::account_ttl`](crate::PgOptions::account_ttl); a deletion through this
//! node removes its entry at once. A deletion through **another** node is seen here only
//! when the entry expires: for up to one TTL this node still accepts the deleted key. The
//! cache holds at most [`MAX_ENTRIES`] accounts and is emptied when full, so its memory is
//! bounded whatever the number of keys presented.

use coffer_store::model::AccountRecord;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most accounts kept; past it the cache starts over (bounded memory).
pub(crate) const MAX_ENTRIES: usize = 4096;

/// Accounts looked up recently, by secret id.
#[derive(Debug)]
pub(crate) struct AccountCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, AccountRecord)>>,
}

impl AccountCache {
    /// A cache keeping entries for `ttl` (zero: keeps nothing).
    pub(crate) fn new(ttl: Duration) -> AccountCache {
        AccountCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, AccountRecord)>> {
        // A panic while holding the lock cannot leave the map inconsistent (single calls).
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached account of `secret_id`, if looked up less than one TTL ago.
    pub(crate) fn get(&self, secret_id: &str) -> Option<AccountRecord> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut entries = self.entries();
        match entries.get(secret_id) {
            Some((at, account)) if at.elapsed() < self.ttl => Some(account.clone()),
            Some(_) => {
                entries.remove(secret_id);
                None
            }
            None => None,
        }
    }

    /// Keeps an account just read from the database.
    pub(crate) fn put(&self, account: &AccountRecord) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(account.secret_id.clone(), (Instant::now(), account.clone()));
    }

    /// Forgets an account (deleted through this node).
    pub(crate) fn forget(&self, secret_id: &str) {
        self.entries().remove(secret_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(secret_id: &str) -> AccountRecord {
        AccountRecord {
            secret_id: secret_id.into(),
            secret_key: "key".into(),
            appid: "1250000000".into(),
            uin: "100".into(),
            created_ms: 1,
            admin: false,
        }
    }

    #[test]
    fn entries_live_for_one_ttl_and_are_forgotten_on_delete() {
        let cache = AccountCache::new(Duration::from_secs(600));
        assert_eq!(cache.get("AKIDa"), None);
        cache.put(&account("AKIDa"));
        assert_eq!(cache.get("AKIDa"), Some(account("AKIDa")));
        cache.forget("AKIDa");
        assert_eq!(cache.get("AKIDa"), None);

        let expired = AccountCache::new(Duration::from_nanos(1));
        expired.put(&account("AKIDa"));
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(expired.get("AKIDa"), None);
        assert!(expired.entries().is_empty());
    }

    #[test]
    fn a_zero_ttl_keeps_nothing_and_the_size_is_bounded() {
        let off = AccountCache::new(Duration::ZERO);
        off.put(&account("AKIDa"));
        assert_eq!(off.get("AKIDa"), None);

        let cache = AccountCache::new(Duration::from_secs(600));
        for n in 0..MAX_ENTRIES + 10 {
            cache.put(&account(&format!("AKID{n}")));
        }
        assert!(cache.entries().len() <= MAX_ENTRIES);
    }
}

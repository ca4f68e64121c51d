//! Timestamps as the protocol writes them: ISO 8601 in XML, RFC 1123 in headers.

use chrono::{DateTime, TimeZone, Utc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Formats milliseconds since the Unix epoch as `2017-08-08T09:43:35.000Z`.
pub fn iso8601_millis(unix_millis: i64) -> String {
    match Utc.timestamp_millis_opt(unix_millis).single() {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => "1970-01-01T00:00:00.000Z".to_string(),
    }
}

/// Formats milliseconds since the Unix epoch as an HTTP date, `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(unix_millis: i64) -> String {
    let secs = u64::try_from(unix_millis.max(0) / 1000).unwrap_or(0);
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Parses an HTTP date (RFC 1123, RFC 850 or asctime) into seconds since the epoch. A wrong
/// weekday is tolerated (the COS SDK's own samples send `Wed, 28 Oct 2014`, a Tuesday).
pub fn parse_http_date(value: &str) -> Option<i64> {
    let value = value.trim();
    if let Ok(t) = httpdate::parse_http_date(value) {
        let secs = t.duration_since(UNIX_EPOCH).ok()?.as_secs();
        return i64::try_from(secs).ok();
    }
    let without_weekday = value
        .split_once(", ")
        .map_or(value, |(_, rest)| rest)
        .trim();
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(without_weekday, "%d %b %Y %H:%M:%S GMT") {
        return Some(t.and_utc().timestamp());
    }
    // RFC 2822 with a numeric zone (`+0000`, `-0000`), as some clients write `Date`.
    chrono::DateTime::parse_from_str(without_weekday, "%d %b %Y %H:%M:%S %z")
        .ok()
        .map(|t| t.timestamp())
}

/// Parses an ISO 8601 / RFC 3339 timestamp into seconds since the epoch.
pub fn parse_iso8601(value: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(value.trim())
        .ok()
        .map(|t| t.timestamp())
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(
            iso8601_millis(1_502_185_415_000),
            "2017-08-08T09:43:35.000Z"
        );
        assert_eq!(http_date(784_111_777_000), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("garbage"), None);
        assert_eq!(
            parse_http_date("Wed, 28 Oct 2014 20:30:00 GMT"),
            Some(1_414_528_200)
        );
        assert_eq!(
            parse_iso8601("2030-04-24T00:00:00+08:00"),
            Some(1_903_190_400)
        );
    }
}

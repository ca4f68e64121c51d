//! Timestamps from the network: HTTP dates (`Date`, `If-Modified-Since`, … via
//! `coffer_proto::time::parse_http_date`), ISO 8601 (`parse_iso8601`), the SigV4 amz-date
//! (`sigv4::parse_amz_date`), the SigV2 `Date` (`sigv2::parse_date`), and COS key times
//! (`q-key-time` windows, through `CosAuthorization::parse_header`).
//!
//! Input: one timestamp. Invariants: never a panic; a parsed time formats back to text that
//! parses to the same time (HTTP dates and ISO 8601 for years 1970–9999; amz-dates to the
//! very same text); a parsed key-time window is ordered and renders to itself.

use coffer_proto::auth::cos::CosAuthorization;
use coffer_proto::auth::{sigv2, sigv4};
use coffer_proto::time::{http_date, iso8601_millis, parse_http_date, parse_iso8601};

/// 9999-12-31T23:59:59Z: the last second the formats can write.
const MAX_UNIX: i64 = 253_402_300_799;

/// Runs one input.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(t) = parse_http_date(&text) {
        if (0..=MAX_UNIX).contains(&t) {
            let written = http_date(t * 1000);
            assert_eq!(parse_http_date(&written), Some(t), "{written:?}");
        }
    }
    if let Some(t) = parse_iso8601(&text) {
        if (0..=MAX_UNIX).contains(&t) {
            let written = iso8601_millis(t * 1000);
            assert_eq!(parse_iso8601(&written), Some(t), "{written:?}");
        }
    }
    if let Some(t) = sigv4::parse_amz_date(&text) {
        assert_eq!(
            sigv4::format_amz_date(t).as_deref(),
            Some(text.as_ref()),
            "amz-date {t}"
        );
    }
    if let Some(t) = sigv2::parse_date(&text) {
        if let Ok(t) = i64::try_from(t) {
            if t <= MAX_UNIX {
                assert_eq!(parse_http_date(&http_date(t * 1000)), Some(t));
            }
        }
    }
    let header =
        format!("q-sign-algorithm=sha1&q-ak=ak&q-sign-time=0;1&q-key-time={text}&q-signature=00");
    if let Ok(auth) = CosAuthorization::parse_header(&header) {
        let (start, end) = auth.key_time;
        assert!(start <= end);
        let written = auth.to_header_value();
        let again = CosAuthorization::parse_header(&written).map(|a| a.key_time);
        assert_eq!(again, Ok((start, end)), "{written:?}");
    }
}

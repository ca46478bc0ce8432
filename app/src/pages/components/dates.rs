//! Dates as the pages show them ("22 November 2026"), from Unix seconds or RFC 3339.

/// Formats Unix seconds as a calendar date, e.g. "22 November 2026".
pub fn format_date(unix: i64) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:long] [year]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|d| d.format(&format).ok())
        .unwrap_or_default()
}

/// Formats an RFC 3339 timestamp as a calendar date, e.g. "22 November 2026".
pub fn format_day(rfc3339: &str) -> String {
    parse_time(rfc3339).map(|t| format_date(t.unix_timestamp())).unwrap_or_default()
}

/// Reads an RFC 3339 timestamp; `None` when it is not one.
pub fn parse_time(rfc3339: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).ok()
}

//! RFC 3339 UTC timestamps with nanoseconds, as Docker's json-file lines carry them.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now as `2026-11-28T19:42:13.123456789Z` (always nine fraction digits).
pub fn now_rfc3339_nano() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_nanos(d.as_secs() as i64, d.subsec_nanos())
}

pub fn format_nanos(secs: i64, nanos: u32) -> String {
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// Proleptic Gregorian date from days since 1970-01-01 (H. Hinnant's public-domain method).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_instants() {
        assert_eq!(super::format_nanos(0, 5), "1970-01-01T00:00:00.000000005Z");
        assert_eq!(
            super::format_nanos(1_709_210_096, 123_456_789),
            "2024-02-29T12:34:56.123456789Z"
        );
    }
}

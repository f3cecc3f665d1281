//! `Retry-After` ([RFC 9110 §10.2.3](https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3)):
//! delay-seconds or an HTTP-date in any of the three formats recipients must accept.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::num::parse_digits;

/// The delay asked for, in ms (never negative), or `None` when the value is malformed.
/// An HTTP-date is measured against `now_ms`, the caller's clock.
pub fn parse_retry_after(value: &str, now_ms: f64) -> Option<f64> {
    let value = value.trim_ascii();
    if let Some(secs) = parse_digits(value) {
        return Some(secs as f64 * 1000.0);
    }
    let at = parse_http_date(value, now_ms)?;
    Some((at - now_ms).max(0.0))
}

/// Parses IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`) to epoch ms.
pub fn parse_http_date(value: &str, now_ms: f64) -> Option<f64> {
    let mut parts = crate::text::split(value, b" ,-").filter(|p| !p.is_empty());
    let weekday = parts.next()?;
    if weekday.len() < 3 || !weekday.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let fields: Vec<&str> = parts.collect();
    let (day, month, year, time) = match fields.as_slice() {
        [day, month, year, time, "GMT"] => (*day, *month, *year, *time),
        [month, day, time, year] => (*day, *month, *year, *time),
        _ => return None,
    };
    let year = match (year.len(), parse_digits(year)?) {
        (4, y) => y,
        (2, yy) => two_digit_year(yy, now_ms),
        _ => return None,
    };
    let month = month_number(month)?;
    let day = parse_digits(day)
        .filter(|d| (1..=days_in_month(year, month)).contains(d) && day.len() <= 2)?;
    let secs_of_day = parse_time(time)?;
    let days = days_from_civil(year, month, day);
    Some((days as f64 * 86_400.0 + secs_of_day as f64) * 1000.0)
}

/// RFC 9110: a two-digit year more than 50 years in the future is in the past century.
fn two_digit_year(yy: u64, now_ms: f64) -> u64 {
    let this_year = 1970 + (now_ms / 1000.0 / 86_400.0 / 365.2425) as u64;
    let candidate = 2000 + yy;
    if candidate > this_year + 50 {
        candidate - 100
    } else {
        candidate
    }
}

fn month_number(name: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let pos = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(name))?;
    Some(pos as u64 + 1)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `HH:MM:SS` → seconds of the day (a leap second 60 is accepted).
fn parse_time(time: &str) -> Option<u64> {
    let mut it = crate::text::split(time, b":");
    let mut field = |max: u64| {
        it.next()
            .filter(|f| f.len() == 2)
            .and_then(parse_digits)
            .filter(|v| *v <= max)
    };
    let (h, m, s) = (field(23)?, field(59)?, field(60)?);
    it.next().is_none().then_some(h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: u64, month: u64, day: u64) -> i64 {
    let y = year as i64 - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV_6_1994: f64 = 784_111_777_000.0; // Date.UTC(1994, 10, 6, 8, 49, 37)

    #[test]
    fn delay_seconds() {
        assert_eq!(parse_retry_after("120", 0.0), Some(120_000.0));
        assert_eq!(parse_retry_after(" 0 ", 0.0), Some(0.0));
        for bad in ["", "-1", "1.5", "+3", "soon", "12abc"] {
            assert_eq!(parse_retry_after(bad, 0.0), None, "{bad:?}");
        }
    }

    #[test]
    fn all_three_date_formats() {
        let now = NOV_6_1994 - 30_000.0;
        for v in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(v, now), Some(NOV_6_1994), "{v}");
            assert_eq!(parse_retry_after(v, now), Some(30_000.0), "{v}");
        }
    }

    #[test]
    fn past_date_means_no_wait() {
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", NOV_6_1994 + 5_000.0),
            Some(0.0)
        );
    }

    #[test]
    fn leap_years_and_bounds() {
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT", 0.0),
            Some(1_709_164_800_000.0)
        );
        assert_eq!(parse_http_date("Thu, 29 Feb 2023 00:00:00 GMT", 0.0), None);
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
            Some(0.0)
        );
        for bad in [
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 32 Jan 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 199 08:49:37 GMT",
            "Sun, 006 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad, 0.0), None, "{bad}");
        }
    }

    #[test]
    fn two_digit_years_follow_the_fifty_year_rule() {
        let now_2026 = 1_780_000_000_000.0;
        assert_eq!(two_digit_year(94, now_2026), 1994);
        assert_eq!(two_digit_year(30, now_2026), 2030);
        assert_eq!(two_digit_year(76, now_2026), 2076);
        assert_eq!(two_digit_year(77, now_2026), 1977);
    }
}

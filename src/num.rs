//! Number formatting and parsing without `core::fmt`, which would cost kilobytes of wasm.

#[allow(unused_imports)]
use crate::prelude::*;

/// Appends the decimal digits of `n` to `out`.
pub fn push_u64(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut rest = n;
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &d in digits.iter().skip(digits.len() - len) {
        out.push(char::from(d));
    }
}

/// Parses a plain non-negative decimal such as `7200` or `3599.5`: digits, optionally a
/// dot and more digits; no sign, exponent, spaces or hex. `None` for anything else.
pub fn parse_decimal(s: &str) -> Option<f64> {
    let (int, frac) = match crate::text::split_once(s, b'.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !frac.map_or(true, all_digits) {
        return None;
    }
    // No `str::parse::<f64>` (its correct-rounding machinery costs ~5 KB of wasm): the digits
    // as one whole number over a power of ten. Exact (one correctly rounded division, the
    // same result as `parse`) while the digits fit in 2^53 and the fraction in 22 digits,
    // which covers every lifetime a server sends; beyond that, within an ulp or two.
    let frac = frac.unwrap_or("");
    let digits = |t: &str| {
        t.bytes()
            .fold(0.0f64, |acc, b| acc * 10.0 + f64::from(b - b'0'))
    };
    let scale = frac.bytes().fold(1.0f64, |acc, _| acc * 10.0);
    let whole = digits(int) * scale + digits(frac);
    Some(whole / scale).filter(|v| v.is_finite())
}

/// Whether a non-negative `x` below 2^63 is a whole number (`f64::fract` is std-only).
pub fn is_whole(x: f64) -> bool {
    x == (x as u64) as f64
}

/// Parses 1*DIGIT as a whole number, saturating instead of overflowing.
pub fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_integers() {
        for n in [0u64, 7, 10, 408, 7200, u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }

    #[test]
    fn parses_decimals_strictly() {
        assert_eq!(parse_decimal("7200"), Some(7200.0));
        assert_eq!(parse_decimal("0"), Some(0.0));
        assert_eq!(parse_decimal("3599.5"), Some(3599.5));
        for bad in [
            "", " 7200", "7200 ", "-1", "+1", "1e3", "0x10", "1.", ".5", "Infinity", "NaN", "1.2.3",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn decimals_match_std_parse() {
        let exact = [
            "0.1",
            "0.3",
            "7199.999",
            "59.95",
            "3600.25",
            "86400",
            "1.0000001",
            "123456789012.5",
        ];
        for t in exact {
            assert_eq!(parse_decimal(t), t.parse::<f64>().ok(), "{t}");
        }
        // Past 2^53 of digits: within a couple of ulps of the correctly rounded value.
        for t in ["12345678901234567.89", "0.12345678901234567890123"] {
            let (ours, std) = (parse_decimal(t).unwrap(), t.parse::<f64>().unwrap());
            assert!(
                (ours - std).abs() <= std * 4.0 * f64::EPSILON,
                "{t}: {ours} vs {std}"
            );
        }
    }

    #[test]
    fn parses_digits_saturating() {
        assert_eq!(parse_digits("120"), Some(120));
        assert_eq!(parse_digits("99999999999999999999999"), Some(u64::MAX));
        assert_eq!(parse_digits("+1"), None);
        assert_eq!(parse_digits(""), None);
    }
}

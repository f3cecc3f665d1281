//! Secrets (client secret, refresh token, access token) and their redaction.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt;

/// The text that stands in for a secret wherever one would otherwise be shown.
pub const REDACTED: &str = "[redacted]";

/// A string that must never be shown: `Debug` prints `[redacted]`, and there is no
/// `Display`. Read it with [`Secret::expose`] only where it goes on the wire.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the request that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Replaces every occurrence of any of `secrets` in `text` with `[redacted]`, in every
/// spelling a server plausibly echoes: raw, form- or percent-encoded (hex in either case),
/// HTML entities (`&#x2F;`, `&#47;`, `&amp;`), JSON escapes (`\/`, `\u002f`), and base64
/// (standard or URL-safe) of the secret. The text is decoded once, unit by unit, with each
/// decoded byte remembering where in `text` it came from; the secrets are searched in the
/// decoded bytes (ASCII case folded, space and `+` alike: over-redacting a look-alike is
/// harmless), and every matched span of the original text, merged, becomes one placeholder.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut needles: Vec<Vec<u8>> = Vec::new();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        let b64 = crate::b64::standard(s.as_bytes());
        for spelling in [
            fold(s.as_bytes()),
            decode(s).0,
            fold(crate::form::urlencode(s).as_bytes()),
            fold(crate::form::percent_encode(s).as_bytes()),
            fold(b64.as_bytes()),
            fold(b64.trim_end_matches('=').as_bytes()),
            fold(crate::b64::url_safe(s.as_bytes()).as_bytes()),
        ] {
            if !spelling.is_empty() && !needles.contains(&spelling) {
                needles.push(spelling);
            }
        }
    }
    // Two passes: over the decoded text, and over the text as it is (folded only), since
    // decoding can swallow a secret's first character into an escape that text around it
    // happened to start (`%2` + `3…` reads as `%23`).
    let (decoded, spans) = decode(text);
    let raw = fold(text.as_bytes());
    let mut hits: Vec<(usize, usize)> = Vec::new();
    // A hostile text could make the plain scan quadratic; past this many byte comparisons
    // the whole text is withheld instead.
    let mut budget = 64 * (decoded.len() + raw.len() + 1024);
    let found = scan(&decoded, &needles, &mut budget, &mut |i, j| {
        if let (Some(a), Some(b)) = (spans.get(i), spans.get(j)) {
            hits.push((a.0, b.1));
        }
    }) && scan(&raw, &needles, &mut budget, &mut |i, j| {
        hits.push((i, j + 1))
    });
    if !found {
        return String::from(REDACTED);
    }
    if hits.is_empty() {
        return String::from(text);
    }
    splice(text, hits)
}

/// Calls `hit(first, last)` for every occurrence of every needle in `hay` (byte indexes,
/// inclusive); false once the comparison budget runs out.
fn scan(
    hay: &[u8],
    needles: &[Vec<u8>],
    budget: &mut usize,
    hit: &mut dyn FnMut(usize, usize),
) -> bool {
    for n in needles {
        let Some(&first) = n.first() else { continue };
        for i in 0..hay.len().saturating_sub(n.len() - 1) {
            if hay.get(i) != Some(&first) {
                continue;
            }
            *budget = budget.saturating_sub(n.len());
            if *budget == 0 {
                return false;
            }
            if hay.get(i..i + n.len()) == Some(n.as_slice()) {
                hit(i, i + n.len() - 1);
            }
        }
    }
    true
}

/// `text` with each span of `hits` (merged where they touch) replaced by the placeholder.
fn splice(text: &str, mut hits: Vec<(usize, usize)>) -> String {
    // Insertion sort: `sort` costs kilobytes of wasm, and hits are few and mostly in order.
    for i in 1..hits.len() {
        let mut j = i;
        while j > 0 && hits.get(j - 1) > hits.get(j) {
            hits.swap(j - 1, j);
            j -= 1;
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut open: Option<(usize, usize)> = None;
    for (a, b) in hits {
        match open {
            Some((oa, ob)) if a <= ob => open = Some((oa, ob.max(b))),
            _ => {
                if let Some((oa, ob)) = open {
                    out.push_str(text.get(at..oa).unwrap_or(""));
                    out.push_str(REDACTED);
                    at = ob;
                }
                open = Some((a, b));
            }
        }
    }
    if let Some((oa, ob)) = open {
        out.push_str(text.get(at..oa).unwrap_or(""));
        out.push_str(REDACTED);
        at = ob;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// ASCII lower case, space as `+`: the folding both sides of a comparison get.
fn fold_byte(b: u8) -> u8 {
    if b == b' ' {
        b'+'
    } else {
        b.to_ascii_lowercase()
    }
}

fn fold(s: &[u8]) -> Vec<u8> {
    s.iter().map(|&b| fold_byte(b)).collect()
}

/// The decoded, folded bytes of `text`, and for each the span `[start, end)` of the unit of
/// `text` it came from (every span lies on char boundaries).
fn decode(text: &str) -> (Vec<u8>, Vec<(usize, usize)>) {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut spans = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let rest = bytes.get(i..).unwrap_or(&[]);
        let (len, unit) = match unit(rest) {
            Some(u) => u,
            None => {
                // A plain character, copied whole so spans stay on char boundaries.
                let width = match b {
                    0..=0x7f => 1,
                    0xc0..=0xdf => 2,
                    0xe0..=0xef => 3,
                    _ => 4,
                };
                let width = width.min(rest.len());
                for &c in rest.get(..width).unwrap_or(&[]) {
                    out.push(fold_byte(c));
                    spans.push((i, i + width));
                }
                i += width;
                continue;
            }
        };
        let mut buf = [0u8; 4];
        let n = match unit {
            Unit::Byte(b) => {
                buf = [b, 0, 0, 0];
                1
            }
            Unit::Char(c) => c.encode_utf8(&mut buf).len(),
        };
        for &c in buf.get(..n).unwrap_or(&[]) {
            out.push(fold_byte(c));
            spans.push((i, i + len));
        }
        i += len;
    }
    (out, spans)
}

/// What an escaped unit stands for: one byte (`%XX`) or a character.
enum Unit {
    Byte(u8),
    Char(char),
}

/// An escaped unit at the start of `s`: its length and what it stands for.
fn unit(s: &[u8]) -> Option<(usize, Unit)> {
    match s.first()? {
        b'%' => Some((3, Unit::Byte(digits(s.get(1..3)?, 16)? as u8))),
        b'\\' => match s.get(1)? {
            b'u' => Some((6, Unit::Char(char::from_u32(digits(s.get(2..6)?, 16)?)?))),
            &c @ (b'/' | b'\\' | b'"' | b'\'') => Some((2, Unit::Byte(c))),
            _ => None,
        },
        b'&' => entity(s).map(|(n, c)| (n, Unit::Char(c))),
        _ => None,
    }
}

/// `&#xHH;`, `&#DD;` or one of the five named entities XML and HTML share.
fn entity(s: &[u8]) -> Option<(usize, char)> {
    let end = s.iter().take(12).position(|&b| b == b';')?;
    let body = s.get(1..end)?;
    let c = match body {
        b"amp" => '&',
        b"lt" => '<',
        b"gt" => '>',
        b"quot" => '"',
        b"apos" => '\'',
        [b'#', b'x' | b'X', hex @ ..] => char::from_u32(digits(hex, 16)?)?,
        [b'#', dec @ ..] => char::from_u32(digits(dec, 10)?)?,
        _ => return None,
    };
    Some((end + 1, c))
}

/// The value of 1 to 7 digits in `radix`.
fn digits(s: &[u8], radix: u32) -> Option<u32> {
    if s.is_empty() || s.len() > 7 {
        return None;
    }
    s.iter().try_fold(0u32, |n, &b| {
        let d = char::from(b).to_digit(radix)?;
        Some(n * radix + d)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        assert_eq!(format!("{:?}", Secret::new("s3cr3t")), "[redacted]");
    }

    #[test]
    fn redacts_raw_and_encoded_occurrences() {
        let got = redact("token a b/c+ and a+b%2Fc%2B and zz", &["a b/c+"]);
        assert_eq!(got, "token [redacted] and [redacted] and zz");
    }

    /// Found by the secrets property test (tests/js/secrets.test.mjs): a server echoing the
    /// secret the way `encodeURIComponent` spells it (`%20`, `!` kept) got past redaction.
    #[test]
    fn redacts_percent_encoded_occurrences() {
        let got = redact("s=n%24k%C3%BCh!%20x and n$küh! x", &["n$küh! x"]);
        assert_eq!(got, "s=[redacted] and [redacted]");
    }

    #[test]
    fn longest_first_and_no_rescan_of_placeholder() {
        assert_eq!(
            redact("abcd abc", &["abc", "abcd"]),
            "[redacted] [redacted]"
        );
        // Overlapping and touching matches merge into one placeholder, never re-scanned.
        assert_eq!(redact("see", &["e", "se"]), "[redacted]");
    }

    /// Issue #12, defect 6: spellings that got past the first redaction.
    #[test]
    fn redacts_every_echoed_spelling() {
        let secret = "sec/ret +&x";
        let b64 = crate::b64::standard(secret.as_bytes());
        let basic = crate::b64::standard(b"id:sec%2Fret");
        for echo in [
            String::from("sec%2fret%20%2b%26x"), // lowercase percent-encoding
            String::from("sec&#x2F;ret &#43;&amp;x"), // HTML entities
            String::from("sec&#47;ret +&x"),
            String::from("sec\\/ret \\u002b&x"), // JSON escapes
            String::from("sec%2Fret++%26x"),     // form-encoded
            b64.clone(),
            String::from(b64.trim_end_matches('=')),
            crate::b64::url_safe(secret.as_bytes()),
            basic.clone(),
        ] {
            let text = String::from("before ") + &echo + " after";
            let got = redact(&text, &[secret, &basic]);
            assert_eq!(got, "before [redacted] after", "{echo:?}");
        }
    }

    /// Found by the fuzzer: text before the secret can start an escape that swallows the
    /// secret's first character (`%2` + `3*+…` decodes as `#*+…`).
    #[test]
    fn an_escape_started_by_the_text_before_cannot_hide_a_secret() {
        let got = redact("x%23*+a! b", &["3*+a! b"]);
        assert_eq!(got, "x%2[redacted]");
    }

    #[test]
    fn hostile_text_cannot_make_redaction_quadratic() {
        let text = "a".repeat(200_000);
        let secret = "a".repeat(5_000) + "b";
        assert_eq!(redact(&text, &[&secret]), "[redacted]");
        assert_eq!(redact("plain", &[&secret]), "plain");
    }

    #[test]
    fn empty_secrets_are_ignored() {
        assert_eq!(redact("text", &["", ""]), "text");
    }

    #[test]
    fn multibyte_text_is_kept() {
        assert_eq!(redact("ü€x€", &["x"]), "ü€[redacted]€");
    }
}

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

/// Replaces every occurrence of any of `secrets` in `text` — raw, form-urlencoded (`+` for
/// space) or percent-encoded (`encodeURIComponent`'s `%20`), the spellings servers echo —
/// with `[redacted]`, in one left-to-right pass (longest match first, so a secret that is a
/// prefix of another cannot leave a tail behind, and the placeholder is never re-scanned).
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut needles: Vec<String> = Vec::new();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        for spelling in [
            String::from(*s),
            crate::form::urlencode(s),
            crate::form::percent_encode(s),
        ] {
            if !needles.contains(&spelling) {
                needles.push(spelling);
            }
        }
    }
    if !needles.iter().any(|n| crate::text::contains(text, n)) {
        return String::from(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        // The longest needle matching here (no sort: a sort costs kilobytes of wasm).
        let longest = needles
            .iter()
            .filter(|n| rest.starts_with(n.as_str()))
            .max_by_key(|n| n.len());
        if let Some(n) = longest {
            out.push_str(REDACTED);
            rest = rest.get(n.len()..).unwrap_or("");
        } else {
            out.push(c);
            rest = rest.get(c.len_utf8()..).unwrap_or("");
        }
    }
    out
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
        // "e" occurs inside "[redacted]": one pass must not touch the placeholder.
        assert_eq!(redact("see", &["e", "se"]), "[redacted][redacted]");
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

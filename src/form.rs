//! `application/x-www-form-urlencoded` bodies and the HTTP Basic client credential.

#[allow(unused_imports)]
use crate::prelude::*;

/// How `client_secret_basic` encodes the id and secret before base64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BasicEncoding {
    /// RFC 6749 §2.3.1: form-urlencode each of id and secret first (the default), but a space
    /// as `%20`: it decodes to a space under form-decoding and percent-decoding servers
    /// alike (`+` stays `+` under the latter), and is still what §2.3.1 asks for.
    Form,
    /// No urlencoding, for servers that do not decode (golang/oauth2#476).
    Raw,
}

/// Appends `s` in the WHATWG `application/x-www-form-urlencoded` serialization, exactly as
/// `URLSearchParams` does: ASCII alphanumerics and `*-._` kept, space as `+`, every other
/// UTF-8 byte as `%XX` (upper-case hex).
pub fn urlencode_into(out: &mut String, s: &str) {
    encode_into(out, s, b"*-._", true);
}

/// `s` form-urlencoded, as a new string.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    urlencode_into(&mut out, s);
    out
}

/// `s` percent-encoded as JavaScript's `encodeURIComponent` does it (RFC 3986 unreserved
/// and `!'()*` kept, space as `%20`): how servers often echo a value inside a URI or text.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    encode_into(&mut out, s, b"-._~!'()*", false);
    out
}

/// ASCII alphanumerics and `keep` as they are, space as `+` when `plus`, else `%XX`.
fn encode_into(out: &mut String, s: &str, keep: &[u8], plus: bool) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || crate::text::has_byte(keep, b) {
            out.push(char::from(b));
        } else if b == b' ' && plus {
            out.push('+');
        } else {
            out.push('%');
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0xf));
        }
    }
}

fn hex_digit(n: u8) -> char {
    char::from(if n < 10 { b'0' + n } else { b'A' + n - 10 })
}

/// A form body under construction: `name=value` pairs joined by `&`.
#[derive(Default)]
pub struct Form(String);

impl Form {
    /// Appends one pair, encoding both sides.
    pub fn push(&mut self, name: &str, value: &str) {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        urlencode_into(&mut self.0, name);
        self.0.push('=');
        urlencode_into(&mut self.0, value);
    }

    /// The finished body.
    pub fn finish(self) -> String {
        self.0
    }
}

/// The `Authorization` header value for `client_secret_basic`:
/// `Basic base64(enc(id) ":" enc(secret))` over UTF-8 bytes.
pub fn basic_auth(id: &str, secret: &str, encoding: BasicEncoding) -> String {
    let credential = match encoding {
        BasicEncoding::Form => basic_part(id) + ":" + &basic_part(secret),
        BasicEncoding::Raw => String::from(id) + ":" + secret,
    };
    String::from("Basic ") + &crate::b64::standard(credential.as_bytes())
}

/// One side of the Basic credential: form-urlencoded, with a space as `%20`.
fn basic_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    encode_into(&mut out, s, b"*-._", false);
    out
}

/// Whether the §2.3.1 encoding spells this credential differently from the raw one, so that
/// a server that does not decode it sees other bytes.
pub fn basic_encodings_differ(id: &str, secret: &str) -> bool {
    basic_part(id) != id || basic_part(secret) != secret
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_url_search_params() {
        // Expected values are what `new URLSearchParams({k: v}).toString()` prints.
        let cases = [
            ("abcXYZ019", "abcXYZ019"),
            ("*-._", "*-._"),
            ("a b", "a+b"),
            ("~!'()", "%7E%21%27%28%29"),
            (
                "a+b/c=d&e?f#g%h:i;j,k@l",
                "a%2Bb%2Fc%3Dd%26e%3Ff%23g%25h%3Ai%3Bj%2Ck%40l",
            ),
            ("ü€😀", "%C3%BC%E2%82%AC%F0%9F%98%80"),
            ("\n\t\0", "%0A%09%00"),
        ];
        for (raw, want) in cases {
            assert_eq!(urlencode(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn form_joins_pairs() {
        let mut f = Form::default();
        f.push("grant_type", "refresh_token");
        f.push("refresh_token", "ccc");
        assert_eq!(f.finish(), "grant_type=refresh_token&refresh_token=ccc");
    }

    #[test]
    fn basic_header_matches_edgetag_btoa_for_uuid_ids() {
        // EdgeTag's example: btoa(id + ':' + secret) with a UUID id and an alphanumeric secret.
        let id = "3f2b8c1e-9d4a-4e7b-8f6c-2a1d0e9b7c55";
        let got = basic_auth(id, "s3cretVALUE", BasicEncoding::Form);
        assert_eq!(
            got,
            "Basic M2YyYjhjMWUtOWQ0YS00ZTdiLThmNmMtMmExZDBlOWI3YzU1OnMzY3JldFZBTFVF"
        );
    }

    #[test]
    fn basic_header_encodes_reserved_and_utf8() {
        use base64::Engine as _;
        // enc("my id") = "my%20id" (a space as %20, not +), enc("p:w/ü") = "p%3Aw%2F%C3%BC"
        let want = String::from("Basic ")
            + &base64::engine::general_purpose::STANDARD.encode("my%20id:p%3Aw%2F%C3%BC");
        assert_eq!(basic_auth("my id", "p:w/ü", BasicEncoding::Form), want);
        assert_eq!(want, "Basic bXklMjBpZDpwJTNBdyUyRiVDMyVCQw==");
        assert!(basic_encodings_differ("my id", "s"));
        assert!(basic_encodings_differ("id", "a+b"));
        assert!(!basic_encodings_differ("3f2b8c1e-9d4a", "s3cret.VALUE_*"));
    }

    #[test]
    fn raw_basic_skips_urlencoding() {
        assert_eq!(
            basic_auth("my id", "p:w/ü", BasicEncoding::Raw),
            "Basic bXkgaWQ6cDp3L8O8"
        );
    }
}

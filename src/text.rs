//! Splitting text on ASCII bytes without core's `str::pattern` searchers, whose panic paths
//! (`slice_error_fail`, `panic_bounds_check`) keep kilobytes of `core::fmt` in the wasm.

/// Whether `set` holds `b`. Not `<[u8]>::contains`: its memchr brings bounds-check panics
/// (and with them `core::fmt`) back into the wasm.
#[allow(clippy::manual_contains)]
pub fn has_byte(set: &[u8], b: u8) -> bool {
    set.iter().any(|&x| x == b)
}

/// The pieces of `s` between any of the ASCII bytes in `seps` (like `str::split`).
pub fn split<'a>(s: &'a str, seps: &'a [u8]) -> impl Iterator<Item = &'a str> + 'a {
    let mut rest = Some(s);
    core::iter::from_fn(move || {
        let r = rest?;
        // An ASCII byte is always a char boundary, so `get` cannot fail here.
        match r.bytes().position(|b| has_byte(seps, b)) {
            Some(i) => {
                rest = r.get(i + 1..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// `s` split at the first `sep` (like `str::split_once`).
pub fn split_once(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == sep)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// Whether `haystack` contains `needle` (non-empty), by a plain scan.
pub fn contains(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    !n.is_empty() && (0..h.len()).any(|i| h.get(i..).is_some_and(|t| t.starts_with(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_std() {
        for s in [
            "",
            "a",
            ".",
            "a.b",
            "..",
            "127.0.0.1",
            "a.b.",
            ".a",
            "é.ü.x",
        ] {
            let ours: Vec<&str> = split(s, b".").collect();
            let std: Vec<&str> = s.split('.').collect();
            assert_eq!(ours, std, "{s:?}");
            assert_eq!(split_once(s, b'.'), s.split_once('.'), "{s:?}");
        }
        let date = "Sun, 06-Nov-94 08:49:37 GMT";
        assert_eq!(
            split(date, b" ,-").collect::<Vec<_>>(),
            date.split([' ', ',', '-']).collect::<Vec<_>>()
        );
        for (h, n) in [
            ("abc", "bc"),
            ("abc", "abcd"),
            ("", "a"),
            ("aaab", "aab"),
            ("xü", "ü"),
        ] {
            assert_eq!(contains(h, n), h.contains(n), "{h:?} {n:?}");
        }
        assert!(!contains("abc", ""));
    }
}

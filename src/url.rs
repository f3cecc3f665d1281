//! Which token URLs may be used. The wasm layer parses the URL with the host's own WHATWG
//! `URL` (the same parser `fetch` uses, so `http://127.0.0.1@evil.example/` cannot fool
//! us); this module judges the parsed parts.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::{Code, Error};

/// The parts of a WHATWG-parsed URL that decide whether it may be used.
#[derive(Clone, Copy, Debug)]
pub struct UrlParts<'a> {
    /// `URL.protocol`, e.g. `"https:"`.
    pub protocol: &'a str,
    /// `URL.hostname` in canonical form (lower case, IPv4 dotted, IPv6 in brackets).
    pub hostname: &'a str,
    /// `URL.href`.
    pub href: &'a str,
    /// `URL.username` or `URL.password` is non-empty.
    pub has_credentials: bool,
}

/// Accepts `https:` URLs, and `http:` ones only to loopback or with `allow_insecure_http`.
/// No fragment and no credentials in the URL.
pub fn check_token_url(url: &UrlParts<'_>, allow_insecure_http: bool) -> Result<(), Error> {
    check_url(url, allow_insecure_http, "tokenUrl")
}

/// The rule of [`check_token_url`] for the option `name` (also `authorizeUrl`).
pub fn check_url(url: &UrlParts<'_>, allow_insecure_http: bool, name: &str) -> Result<(), Error> {
    if url.href.bytes().any(|b| b == b'#') {
        return Err(Error::invalid_option(name, "must not have a fragment"));
    }
    if url.has_credentials {
        return Err(Error::invalid_option(name, "must not contain credentials"));
    }
    match url.protocol {
        "https:" => Ok(()),
        "http:" if allow_insecure_http || is_loopback(url.hostname) => Ok(()),
        "http:" => Err(Error::new(
            Code::InsecureUrl,
            String::from(name)
                + " uses http: to a host that is not loopback; use https: or set allowInsecureHttp",
        )),
        _ => Err(Error::invalid_option(
            name,
            "must be an http: or https: URL",
        )),
    }
}

/// `localhost`, `127.0.0.0/8` or `[::1]`, for a canonical WHATWG hostname.
pub fn is_loopback(hostname: &str) -> bool {
    hostname == "localhost" || hostname == "[::1]" || is_ipv4_loopback(hostname)
}

fn is_ipv4_loopback(hostname: &str) -> bool {
    let mut octets = crate::text::split(hostname, b".");
    let first_is_127 = octets.next() == Some("127");
    let rest: Vec<&str> = octets.collect();
    first_is_127
        && rest.len() == 3
        && rest.iter().all(|o| {
            !o.is_empty()
                && o.len() <= 3
                && o.bytes().all(|b| b.is_ascii_digit())
                && crate::num::parse_digits(o).is_some_and(|v| v <= 255)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(protocol: &str, hostname: &str, allow: bool) -> Result<(), Code> {
        let href = String::from(protocol) + "//" + hostname + "/token";
        let parts = UrlParts {
            protocol,
            hostname,
            href: &href,
            has_credentials: false,
        };
        check_token_url(&parts, allow).map_err(|e| e.code)
    }

    #[test]
    fn loopback_table() {
        for host in [
            "localhost",
            "127.0.0.1",
            "127.255.255.254",
            "127.1.2.3",
            "[::1]",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "localhost.example.com",
            "example.com",
            "128.0.0.1",
            "127.0.0.256",
            "127.0.0",
            "127.0.0.1.5",
            "[::2]",
            "[::ffff:7f00:1]",
            "0.0.0.0",
            "127.0.0.01a",
            "",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn scheme_rules() {
        assert_eq!(check("https:", "example.com", false), Ok(()));
        assert_eq!(check("http:", "127.0.0.1", false), Ok(()));
        assert_eq!(check("http:", "example.com", false), Err(Code::InsecureUrl));
        assert_eq!(check("http:", "example.com", true), Ok(()));
        assert_eq!(
            check("ftp:", "example.com", true),
            Err(Code::InvalidOptions)
        );
        assert_eq!(check("file:", "", true), Err(Code::InvalidOptions));
    }

    #[test]
    fn fragment_and_credentials_refused() {
        let frag = UrlParts {
            protocol: "https:",
            hostname: "a.b",
            href: "https://a.b/t#",
            has_credentials: false,
        };
        assert_eq!(
            check_token_url(&frag, false).map_err(|e| e.code),
            Err(Code::InvalidOptions)
        );
        let cred = UrlParts {
            protocol: "https:",
            hostname: "a.b",
            href: "https://u@a.b/t",
            has_credentials: true,
        };
        assert_eq!(
            check_token_url(&cred, false).map_err(|e| e.code),
            Err(Code::InvalidOptions)
        );
    }
}

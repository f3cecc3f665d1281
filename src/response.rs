//! Parsing the token endpoint's answer
//! ([RFC 6749 §5.1](https://www.rfc-editor.org/rfc/rfc6749#section-5.1) and §5.2), sans-IO.
//!
//! The body is parsed as JSON by the host (`JSON.parse` is free in bytes and is what `raw`
//! must be anyway); this module only sees the fields it asks for, through [`JsonObject`].

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::{Code, Error};
use crate::num::parse_decimal;
use crate::retry_after::parse_retry_after;
use crate::secret::{redact, Secret};

/// The longest lifetime taken from `expires_in`: one year. A larger value (a server's
/// "never expires", or `"99999999999999999999999"`) is capped, so the cache still refreshes
/// once a year and no expiry overflows to infinity; `raw` keeps what was sent.
pub const MAX_LIFETIME_SEC: f64 = 365.0 * 24.0 * 3600.0;

/// Token responses larger than this are refused, whatever the status (as golang.org/x/oauth2).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// One field of a JSON object, as far as this parser cares.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// The key is absent.
    Missing,
    /// `null`.
    Null,
    /// A string.
    Str(String),
    /// A number.
    Num(f64),
    /// A boolean, array or object.
    Other,
}

/// A parsed JSON object: the host's object in wasm, `serde_json` in native tests.
pub trait JsonObject {
    /// The value under `key`.
    fn field(&self, key: &'static str) -> Json;

    /// The value under `key` if it is a non-empty string.
    fn text(&self, key: &'static str) -> Option<String> {
        match self.field(key) {
            Json::Str(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    /// The value under `key` if it is a finite number `>= 0` (a lifetime, an expiry).
    fn non_negative(&self, key: &'static str) -> Option<f64> {
        match self.field(key) {
            Json::Num(n) if n.is_finite() && n >= 0.0 => Some(n),
            _ => None,
        }
    }
}

/// Why the body could not be handed to the parser as a JSON object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Longer than [`MAX_BODY_BYTES`].
    TooLarge,
    /// Not JSON, or JSON that is not an object.
    NotJsonObject,
}

/// A successful token response, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenFields {
    /// Non-empty.
    pub access_token: Secret,
    /// As sent; `Bearer` when absent or not a string.
    pub token_type: String,
    /// Seconds, as sent.
    pub expires_in: Option<f64>,
    /// Epoch ms: the time the request was sent plus `expires_in`.
    pub expires_at: Option<f64>,
    /// Present only when the server sent a non-empty one (rotation).
    pub refresh_token: Option<Secret>,
    /// As sent.
    pub scope: Option<String>,
}

impl TokenFields {
    /// No token: what a revocation "grants" (its access token is empty).
    pub fn none() -> TokenFields {
        TokenFields {
            access_token: Secret::new(""),
            token_type: String::new(),
            expires_in: None,
            expires_at: None,
            refresh_token: None,
            scope: None,
        }
    }
}

/// What the transport saw of the response.
#[derive(Clone, Copy, Debug)]
pub struct Received<'a> {
    /// HTTP status; 0 for a browser's opaque redirect.
    pub status: u16,
    /// The `Retry-After` header.
    pub retry_after: Option<&'a str>,
    /// When the request was sent, epoch ms.
    pub sent_at: f64,
    /// Now, epoch ms (for an HTTP-date `Retry-After`).
    pub now: f64,
}

/// Turns a response into the token fields or the documented error. `secrets` are redacted
/// from every server-sent text that ends up in the error.
pub fn parse_token_response<B: JsonObject>(
    got: &Received<'_>,
    body: Result<&B, BodyError>,
    secrets: &[&str],
) -> Result<TokenFields, Error> {
    let result = classify(got.status, body, secrets);
    result
        .map_err(|mut e| {
            e.retry_after_ms = got.retry_after.and_then(|v| parse_retry_after(v, got.now));
            e
        })
        .and_then(|b| token_fields(b, got.status, got.sent_at))
}

/// A token revocation response (RFC 7009 §2.2): any 2xx is success and its body is ignored;
/// anything else fails as a token response would (§2.2.1: the same error body).
pub fn parse_revocation_response<B: JsonObject>(
    got: &Received<'_>,
    body: Result<&B, BodyError>,
    secrets: &[&str],
) -> Result<(), Error> {
    if (200..300).contains(&got.status) {
        return Ok(());
    }
    parse_token_response(got, body, secrets).map(|_| ())
}

fn classify<'b, B: JsonObject>(
    status: u16,
    body: Result<&'b B, BodyError>,
    secrets: &[&str],
) -> Result<&'b B, Error> {
    let ok = (200..300).contains(&status);
    if (300..400).contains(&status) || status == 0 {
        let mut e = Error::new(
            Code::HttpError,
            "token endpoint redirected; redirects are not followed",
        );
        e.status = (status != 0).then_some(status);
        return Err(e);
    }
    match body {
        Err(BodyError::TooLarge) => Err(Error::with_status(
            Code::InvalidResponse,
            status,
            "body over 1 MiB",
        )),
        Err(BodyError::NotJsonObject) if ok => Err(Error::with_status(
            Code::InvalidResponse,
            status,
            "body is not a JSON object",
        )),
        Err(BodyError::NotJsonObject) => Err(Error::with_status(
            Code::HttpError,
            status,
            "no OAuth error body",
        )),
        Ok(b) => match b.text("error") {
            Some(code) => Err(server_error(status, code, b, secrets)),
            None if ok => Ok(b),
            None => Err(Error::with_status(
                Code::HttpError,
                status,
                "no OAuth error body",
            )),
        },
    }
}

/// The §5.2 codes freshtoken itself acts on (and callers test first): kept as sent. (The
/// whole IANA registry, 18 codes, cost +226 bytes gzip; these five +50.)
fn is_registered(code: &str) -> bool {
    is_grant_refusal(code) || code == "invalid_client"
}

/// The §5.2 errors about the grant itself, which a server sends only to a client it has
/// authenticated.
pub fn is_grant_refusal(code: &str) -> bool {
    matches!(
        code,
        "invalid_grant" | "invalid_scope" | "unauthorized_client" | "unsupported_grant_type"
    )
}

fn server_error<B: JsonObject>(status: u16, code: String, body: &B, secrets: &[&str]) -> Error {
    // A body can carry an error and tokens at once; none of them may show in the error.
    let sent = [body.text("access_token"), body.text("refresh_token")];
    let mut secrets = secrets.to_vec();
    secrets.extend(sent.iter().flatten().map(String::as_str));
    let redact = |t: &str| redact(t, &secrets);
    // These codes are protocol, not echoes: kept as sent, so that a short secret (found,
    // case-folded, inside "invalid_grant") cannot garble the code callers test.
    let code = if is_registered(&code) {
        code
    } else {
        redact(&code)
    };
    let description = body.text("error_description").map(|d| redact(&d));
    let mut message = code.clone();
    if let Some(d) = &description {
        message.push_str(": ");
        message.push_str(d);
    }
    Error {
        status: Some(status),
        description,
        uri: body.text("error_uri").map(|u| redact(&u)),
        ..Error::new(Code::Server(code), message)
    }
}

fn token_fields<B: JsonObject>(b: &B, status: u16, sent_at: f64) -> Result<TokenFields, Error> {
    let invalid = |what: &str| Error::with_status(Code::InvalidResponse, status, what);
    let access_token = b
        .text("access_token")
        .ok_or_else(|| invalid("no access_token string"))?;
    let expires_in = match b.field("expires_in") {
        Json::Missing | Json::Null => None,
        Json::Str(s) => Some(parse_decimal(&s).ok_or_else(|| invalid("malformed expires_in"))?),
        _ => Some(
            b.non_negative("expires_in")
                .ok_or_else(|| invalid("malformed expires_in"))?,
        ),
    };
    let expires_in = expires_in.map(|s| s.min(MAX_LIFETIME_SEC));
    let expires_at = expires_in.map(|s| sent_at + s * 1000.0);
    Ok(TokenFields {
        access_token: Secret::new(access_token),
        token_type: b
            .text("token_type")
            .unwrap_or_else(|| String::from("Bearer")),
        expires_in,
        expires_at,
        refresh_token: b.text("refresh_token").map(Secret::new),
        scope: match b.field("scope") {
            Json::Str(s) => Some(s),
            _ => None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    impl JsonObject for serde_json::Map<String, serde_json::Value> {
        fn field(&self, key: &'static str) -> Json {
            match self.get(key) {
                None => Json::Missing,
                Some(serde_json::Value::Null) => Json::Null,
                Some(serde_json::Value::String(s)) => Json::Str(s.clone()),
                Some(serde_json::Value::Number(n)) => n.as_f64().map_or(Json::Other, Json::Num),
                Some(_) => Json::Other,
            }
        }
    }

    const SENT: f64 = 1_000_000.0;

    /// Parses like the wasm layer: JSON text → object or `NotJsonObject`.
    fn parse(status: u16, body: &str, retry_after: Option<&str>) -> Result<TokenFields, Error> {
        let obj = match serde_json::from_str::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(m)) => Some(m),
            _ => None,
        };
        let got = Received {
            status,
            retry_after,
            sent_at: SENT,
            now: SENT + 50.0,
        };
        let body = obj.as_ref().ok_or(BodyError::NotJsonObject);
        parse_token_response(&got, body, &["CLIENT-SECRET", "REFRESH-1"])
    }

    #[test]
    fn revocation_success_is_any_2xx_whatever_the_body() {
        let got = |status| Received {
            status,
            retry_after: None,
            sent_at: SENT,
            now: SENT,
        };
        let none: Result<&serde_json::Map<String, serde_json::Value>, _> =
            Err(BodyError::NotJsonObject);
        assert_eq!(parse_revocation_response(&got(200), none, &[]), Ok(()));
        assert_eq!(parse_revocation_response(&got(204), none, &[]), Ok(()));
        let e = parse_revocation_response(&got(503), none, &[]).unwrap_err();
        assert_eq!(
            (e.retryable(), e.status, e.code),
            (true, Some(503), Code::HttpError)
        );
        let body: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
            r#"{"error":"unsupported_token_type","error_description":"no REFRESH-1"}"#,
        )
        .unwrap();
        let e = parse_revocation_response(&got(400), Ok(&body), &["REFRESH-1"]).unwrap_err();
        assert_eq!(e.code.as_str(), "unsupported_token_type");
        assert!(!e.description.unwrap().contains("REFRESH-1"));
        let redirect = parse_revocation_response(&got(302), none, &[]).unwrap_err();
        assert_eq!(redirect.code, Code::HttpError);
    }

    fn err(status: u16, body: &str) -> (String, Option<u16>, bool) {
        let e = parse(status, body, None).unwrap_err();
        (e.code.as_str().to_string(), e.status, e.retryable())
    }

    #[test]
    fn success_cases() {
        let t = parse(200, r#"{"access_token":"AT","expires_in":7200}"#, None).unwrap();
        assert_eq!(t.access_token.expose(), "AT");
        assert_eq!(t.token_type, "Bearer");
        assert_eq!(t.expires_in, Some(7200.0));
        assert_eq!(t.expires_at, Some(SENT + 7_200_000.0));
        assert_eq!(t.refresh_token, None);

        let t = parse(201, r#"{"access_token":"AT","token_type":"DPoP","expires_in":"7200","refresh_token":"R2","scope":"a b"}"#, None).unwrap();
        assert_eq!(
            (t.token_type.as_str(), t.expires_in),
            ("DPoP", Some(7200.0))
        );
        assert_eq!(t.refresh_token.unwrap().expose(), "R2");
        assert_eq!(t.scope.as_deref(), Some("a b"));

        let cases = [
            (r#"{"access_token":"AT","expires_in":null}"#, None),
            (r#"{"access_token":"AT"}"#, None),
            (r#"{"access_token":"AT","expires_in":0}"#, Some(0.0)),
            (r#"{"access_token":"AT","expires_in":3599.5}"#, Some(3599.5)),
            // Lifetimes are capped at a year (issue #12, defect 9).
            (
                r#"{"access_token":"AT","expires_in":31536001}"#,
                Some(MAX_LIFETIME_SEC),
            ),
            (
                r#"{"access_token":"AT","expires_in":1e308}"#,
                Some(MAX_LIFETIME_SEC),
            ),
            (
                r#"{"access_token":"AT","expires_in":"99999999999999999999999"}"#,
                Some(MAX_LIFETIME_SEC),
            ),
        ];
        for (body, want) in cases {
            assert_eq!(parse(200, body, None).unwrap().expires_in, want, "{body}");
        }
        // Non-string token_type reads as Bearer; empty refresh_token is not a rotation.
        let t = parse(
            200,
            r#"{"access_token":"AT","token_type":5,"refresh_token":""}"#,
            None,
        )
        .unwrap();
        assert_eq!((t.token_type.as_str(), t.refresh_token), ("Bearer", None));
    }

    #[test]
    fn error_table() {
        let cases: &[(u16, &str, &str, Option<u16>, bool)] = &[
            (
                400,
                r#"{"error":"invalid_grant","error_description":"expired"}"#,
                "invalid_grant",
                Some(400),
                false,
            ),
            (
                401,
                r#"{"error":"invalid_client"}"#,
                "invalid_client",
                Some(401),
                false,
            ),
            (
                200,
                r#"{"error":"invalid_grant"}"#,
                "invalid_grant",
                Some(200),
                false,
            ),
            (200, r#"{"error":"","access_token":"AT"}"#, "", None, false), // empty error: success
            (
                500,
                r#"{"error":"server_error"}"#,
                "server_error",
                Some(500),
                true,
            ),
            (503, "<html>busy</html>", "http_error", Some(503), true),
            (502, "", "http_error", Some(502), true),
            (408, "", "http_error", Some(408), true),
            (
                429,
                r#"{"message":"slow down"}"#,
                "http_error",
                Some(429),
                true,
            ),
            (404, "not found", "http_error", Some(404), false),
            (400, r#"{"error":7}"#, "http_error", Some(400), false),
            (
                302,
                r#"{"error":"invalid_grant"}"#,
                "http_error",
                Some(302),
                false,
            ),
            (0, "", "http_error", None, false),
            (200, "<html>", "invalid_response", Some(200), false),
            (200, r#"{"access_tok"#, "invalid_response", Some(200), false),
            (200, "", "invalid_response", Some(200), false),
            (200, "[1,2]", "invalid_response", Some(200), false),
            (200, r#""AT""#, "invalid_response", Some(200), false),
            (
                200,
                r#"{"token_type":"Bearer"}"#,
                "invalid_response",
                Some(200),
                false,
            ),
            (
                200,
                r#"{"access_token":""}"#,
                "invalid_response",
                Some(200),
                false,
            ),
            (
                200,
                r#"{"access_token":42}"#,
                "invalid_response",
                Some(200),
                false,
            ),
            (
                200,
                r#"{"access_token":"AT","expires_in":-1}"#,
                "invalid_response",
                Some(200),
                false,
            ),
            (
                200,
                r#"{"access_token":"AT","expires_in":"soon"}"#,
                "invalid_response",
                Some(200),
                false,
            ),
            (
                200,
                r#"{"access_token":"AT","expires_in":" 60"}"#,
                "invalid_response",
                Some(200),
                false,
            ),
            (
                200,
                r#"{"access_token":"AT","expires_in":true}"#,
                "invalid_response",
                Some(200),
                false,
            ),
            (
                200,
                r#"{"access_token":"AT","expires_in":[60]}"#,
                "invalid_response",
                Some(200),
                false,
            ),
        ];
        for &(status, body, code, want_status, retryable) in cases {
            if code.is_empty() {
                assert!(parse(status, body, None).is_ok(), "{body}");
                continue;
            }
            assert_eq!(
                err(status, body),
                (code.to_string(), want_status, retryable),
                "{status} {body}"
            );
        }
    }

    #[test]
    fn oauth_error_fields_and_message() {
        let e = parse(400, r#"{"error":"invalid_grant","error_description":"Token expired","error_uri":"https://x/e"}"#, None).unwrap_err();
        assert_eq!(e.description.as_deref(), Some("Token expired"));
        assert_eq!(e.uri.as_deref(), Some("https://x/e"));
        assert_eq!(e.message, "invalid_grant: Token expired");
    }

    #[test]
    fn too_large_is_invalid_response_for_every_status() {
        let got = Received {
            status: 503,
            retry_after: None,
            sent_at: 0.0,
            now: 0.0,
        };
        let body: Result<&serde_json::Map<String, serde_json::Value>, _> = Err(BodyError::TooLarge);
        let e = parse_token_response(&got, body, &[]).unwrap_err();
        assert_eq!(
            (e.retryable(), e.code, e.status),
            (true, Code::InvalidResponse, Some(503))
        );
    }

    #[test]
    fn retry_after_is_attached() {
        let e = parse(429, "", Some("3")).unwrap_err();
        assert_eq!(e.retry_after_ms, Some(3000.0));
        let e = parse(503, "", Some("Thu, 01 Jan 1970 00:16:41 GMT")).unwrap_err(); // 1_001_000 ms
        assert_eq!(e.retry_after_ms, Some(1_001_000.0 - (SENT + 50.0)));
        assert_eq!(
            parse(503, "", Some("later")).unwrap_err().retry_after_ms,
            None
        );
    }

    #[test]
    fn a_short_secret_does_not_garble_a_registered_code() {
        // "r" occurs in "invalid_grant"; a code outside the registry is still redacted.
        let got = |code: &str| {
            let text = format!(r#"{{"error":"{code}","error_description":"bad r"}}"#);
            let body = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text);
            let r = Received {
                status: 400,
                retry_after: None,
                sent_at: SENT,
                now: SENT + 50.0,
            };
            parse_token_response(&r, Ok(&body.unwrap()), &["r"]).unwrap_err()
        };
        let e = got("invalid_grant");
        assert_eq!(e.code, Code::Server("invalid_grant".into()));
        assert_eq!(e.description.as_deref(), Some("bad [redacted]"));
        assert_eq!(got("rt_echo").code, Code::Server("[redacted]t_echo".into()));
    }

    #[test]
    fn echoed_secrets_are_redacted() {
        let body = r#"{"error":"invalid_grant","error_description":"refresh token REFRESH-1 unknown for secret CLIENT-SECRET (REFRESH%2D1?)","error_uri":"https://x/?t=REFRESH-1","access_token":"ATX","refresh_token":"RTX"}"#;
        let e = parse(200, body, None).unwrap_err();
        let d = e.description.unwrap();
        assert_eq!(
            d,
            "refresh token [redacted] unknown for secret [redacted] ([redacted]?)"
        );
        assert_eq!(e.uri.as_deref(), Some("https://x/?t=[redacted]"));
        let body = r#"{"error":"bad ATX RTX","error_description":"got ATX and RTX"}"#;
        let e = parse(400, body, None).unwrap_err();
        assert_eq!(e.message, "bad ATX RTX: got ATX and RTX"); // not tokens of this exchange
        let body = r#"{"error":"x","error_description":"got ATX and RTX","access_token":"ATX","refresh_token":"RTX"}"#;
        let e = parse(400, body, None).unwrap_err();
        assert_eq!(e.message, "x: got [redacted] and [redacted]");
    }
}

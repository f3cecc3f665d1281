//! The token cache's decisions, sans-IO: is the token fresh, which refresh token is
//! current, may this failure be retried and after how long. The wasm `TokenCache` does the
//! I/O and asks this module at every step; an injected clock makes it table-testable.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::{Code, Error};
use crate::response::TokenFields;
use crate::secret::Secret;

/// How the cache treats lifetimes and failures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// A token with less than this left is not fresh (capped at half its lifetime).
    pub skew_ms: f64,
    /// The lifetime assumed when the response has no `expires_in`.
    pub default_expires_in_sec: f64,
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff delay.
    pub min_delay_ms: f64,
    /// Largest backoff delay, and the longest `Retry-After` the cache will wait for.
    pub max_delay_ms: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            skew_ms: 60_000.0,
            default_expires_in_sec: 3600.0,
            retries: 2,
            min_delay_ms: 200.0,
            max_delay_ms: 5000.0,
        }
    }
}

/// An access token the cache holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Held {
    /// The token itself.
    pub access_token: Secret,
    /// When it expires, epoch ms (from `expires_in`, else the default lifetime).
    pub expires_at: f64,
    /// Its lifetime in seconds as sent, if sent: it caps the skew.
    pub expires_in: Option<f64>,
}

impl Held {
    /// Fresh: more than the skew left, the skew being capped at half the lifetime so that a
    /// short-lived token is not stale on arrival. Without a known lifetime, the full skew.
    pub fn is_fresh(&self, now: f64, policy: &Policy) -> bool {
        let skew = match self.expires_in {
            Some(secs) => policy.skew_ms.min(secs * 1000.0 / 2.0),
            None => policy.skew_ms,
        };
        now < self.expires_at - skew
    }
}

/// What the cache knows between refreshes.
#[derive(Clone, Debug)]
pub struct State {
    /// The access token, if any.
    pub token: Option<Held>,
    /// The refresh token in use: the configured one, a rotated one, or one from the store.
    pub refresh_token: Secret,
    /// True once this server has returned a refresh token: it rotates, so replays are risky.
    pub rotation_seen: bool,
    /// The last access token `invalidate` dropped: never taken back from the store.
    pub invalidated: Option<Secret>,
    /// The refresh token last read from or written to the store.
    pub store_seen: Option<Secret>,
}

impl State {
    /// A cache that has only its configured refresh token.
    pub fn new(refresh_token: Secret) -> State {
        State {
            token: None,
            refresh_token,
            rotation_seen: false,
            invalidated: None,
            store_seen: None,
        }
    }

    /// The access token if it is fresh at `now`.
    pub fn fresh(&self, now: f64, policy: &Policy) -> Option<&Held> {
        self.token.as_ref().filter(|t| t.is_fresh(now, policy))
    }

    /// Takes a successful response: the new access token, and a rotated refresh token
    /// (replacing the old one before anyone sees the new access token). `sent_at` anchors
    /// the default lifetime when the server sent no `expires_in`.
    pub fn accept(&mut self, t: &TokenFields, sent_at: f64, policy: &Policy) {
        let expires_at = t
            .expires_at
            .unwrap_or(sent_at + policy.default_expires_in_sec * 1000.0);
        let expires_in = Some(t.expires_in.unwrap_or(policy.default_expires_in_sec));
        self.token = Some(Held {
            access_token: t.access_token.clone(),
            expires_at,
            expires_in,
        });
        if let Some(rt) = &t.refresh_token {
            self.refresh_token = rt.clone();
            self.rotation_seen = true;
        }
    }

    /// Takes what the store holds: a refresh token that differs from the one the cache last
    /// read or wrote there is newer (another instance rotated it) and is adopted; an access
    /// token is adopted unless it is the one we invalidated. Returns true when the access
    /// token was adopted.
    pub fn adopt_stored(&mut self, stored: &Stored) -> bool {
        if let Some(rt) = &stored.refresh_token {
            if self.store_seen.as_ref() != Some(rt) {
                self.refresh_token = rt.clone();
                self.store_seen = Some(rt.clone());
            }
        }
        let Some(held) = &stored.token else {
            return false;
        };
        if self.invalidated.as_ref() == Some(&held.access_token) {
            return false;
        }
        self.token = Some(held.clone());
        true
    }

    /// Forgets the access token (after a 401), remembering it so the store cannot give it
    /// back. Keeps the refresh token.
    pub fn invalidate(&mut self) {
        if let Some(t) = self.token.take() {
            self.invalidated = Some(t.access_token);
        }
    }

    /// After a failed attempt `attempt` (0-based): how long to wait before the next one,
    /// or `None` to give up. `jitter` is uniform in [0, 1).
    pub fn retry_delay(
        &self,
        err: &Error,
        attempt: u32,
        jitter: f64,
        policy: &Policy,
    ) -> Option<f64> {
        if attempt >= policy.retries || !self.may_retry(err) {
            return None;
        }
        if let Some(wait) = err.retry_after_ms {
            return (wait <= policy.max_delay_ms).then_some(wait);
        }
        let exp = policy.min_delay_ms * f64::from(2u32.saturating_pow(attempt.min(30)));
        let cap = exp.min(policy.max_delay_ms);
        Some(cap / 2.0 + jitter.clamp(0.0, 1.0) * cap / 2.0)
    }

    /// Retryable failures; once the server is known to rotate, only those where it surely
    /// did not consume the refresh token (408, 429, 503): replaying a consumed one gets the
    /// whole grant revoked on servers with reuse detection.
    fn may_retry(&self, err: &Error) -> bool {
        if !err.retryable() {
            return false;
        }
        if !self.rotation_seen {
            return true;
        }
        matches!(err.status, Some(408 | 429 | 503))
            && !matches!(err.code, Code::NetworkError | Code::Timeout)
    }
}

/// The fields of a store value besides `"v": 1`: the TokenSet's own names, so a TokenSet
/// can be written as it is.
pub const STORE_FIELDS: [&str; 6] = [
    "accessToken",
    "expiresAt",
    "expiresIn",
    "refreshToken",
    "tokenType",
    "scope",
];

/// A store entry, as read back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stored {
    /// The access token and its expiry, when both were stored.
    pub token: Option<Held>,
    /// The refresh token in use when it was written.
    pub refresh_token: Option<Secret>,
    /// As stored.
    pub token_type: Option<String>,
    /// As stored.
    pub scope: Option<String>,
}

impl Stored {
    /// Reads the store value `{"v":1,"accessToken","expiresAt","expiresIn","refreshToken",
    /// "tokenType","scope"}`; anything else (another version, wrong types) is `None`, as if
    /// absent.
    pub fn from_json<B: crate::response::JsonObject>(b: &B) -> Option<Stored> {
        if b.field("v") != crate::response::Json::Num(1.0) {
            return None;
        }
        let token = match (b.text("accessToken"), b.non_negative("expiresAt")) {
            (Some(at), Some(exp)) => Some(Held {
                access_token: Secret::new(at),
                expires_at: exp,
                expires_in: b.non_negative("expiresIn"),
            }),
            _ => None,
        };
        let refresh_token = b.text("refreshToken").map(Secret::new);
        if token.is_none() && refresh_token.is_none() {
            return None;
        }
        Some(Stored {
            token,
            refresh_token,
            token_type: b.text("tokenType"),
            scope: b.text("scope"),
        })
    }
}

/// The default store key: `freshtoken:` + base64url(SHA-256(`len:tokenUrl` `len:clientId`
/// `len:refreshToken`)), each part prefixed by its UTF-8 length so no two triples collide.
/// It never contains a secret; a newly provisioned refresh token gets a fresh entry, while
/// rotation (which changes only the stored value) keeps the key.
pub fn default_store_key(token_url: &str, client_id: &str, refresh_token: &str) -> String {
    let mut input = String::new();
    for part in [token_url, client_id, refresh_token] {
        crate::num::push_u64(&mut input, part.len() as u64);
        input.push(':');
        input.push_str(part);
    }
    let digest = crate::sha256::sha256(input.as_bytes());
    String::from("freshtoken:") + &crate::b64::url_safe(&digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy {
        skew_ms: 60_000.0,
        default_expires_in_sec: 3600.0,
        retries: 2,
        min_delay_ms: 200.0,
        max_delay_ms: 5000.0,
    };

    fn fields(expires_in: Option<f64>, rt: Option<&str>) -> TokenFields {
        TokenFields {
            access_token: Secret::new("AT"),
            token_type: "Bearer".into(),
            expires_in,
            expires_at: expires_in.map(|s| 1000.0 + s * 1000.0),
            refresh_token: rt.map(Secret::new),
            scope: None,
        }
    }

    fn state_with(expires_in: Option<f64>) -> State {
        let mut s = State::new(Secret::new("RT0"));
        s.accept(&fields(expires_in, None), 1000.0, &P);
        s
    }

    #[test]
    fn freshness_boundaries() {
        // 7200 s token sent at t=1000: fresh until 60 s before expiry.
        let s = state_with(Some(7200.0));
        let exp = 1000.0 + 7_200_000.0;
        assert!(s.fresh(exp - 60_000.0 - 1.0, &P).is_some());
        assert!(s.fresh(exp - 60_000.0, &P).is_none());
        // 30 s token: skew capped at 15 s, so it is fresh on arrival.
        let s = state_with(Some(30.0));
        let exp = 1000.0 + 30_000.0;
        assert!(s.fresh(1000.0, &P).is_some());
        assert!(s.fresh(exp - 15_000.0 - 1.0, &P).is_some());
        assert!(s.fresh(exp - 15_000.0, &P).is_none());
        // expires_in 0: already expired.
        assert!(state_with(Some(0.0)).fresh(1000.0, &P).is_none());
        // No expires_in: the default lifetime (3600 s), full skew.
        let s = state_with(None);
        let exp = 1000.0 + 3_600_000.0;
        assert_eq!(s.token.as_ref().unwrap().expires_at, exp);
        assert!(s.fresh(exp - 60_000.0 - 1.0, &P).is_some());
        assert!(s.fresh(exp - 60_000.0, &P).is_none());
        // A stored token without expiresIn gets the full skew.
        let held = Held {
            access_token: Secret::new("x"),
            expires_at: 100_000.0,
            expires_in: None,
        };
        assert!(held.is_fresh(39_999.0, &P) && !held.is_fresh(40_000.0, &P));
    }

    #[test]
    fn rotation_replaces_refresh_token_and_empty_keeps_it() {
        let mut s = State::new(Secret::new("RT0"));
        s.accept(&fields(Some(60.0), None), 0.0, &P);
        assert_eq!((s.refresh_token.expose(), s.rotation_seen), ("RT0", false));
        s.accept(&fields(Some(60.0), Some("RT1")), 0.0, &P);
        assert_eq!((s.refresh_token.expose(), s.rotation_seen), ("RT1", true));
    }

    #[test]
    fn store_refresh_token_adopted_only_when_it_changed_there() {
        let mut s = State::new(Secret::new("RT0"));
        let entry = |rt: &str| Stored {
            refresh_token: Some(Secret::new(rt)),
            ..Default::default()
        };
        s.adopt_stored(&entry("RT-store"));
        assert_eq!(s.refresh_token.expose(), "RT-store");
        // We rotate, but writing the store failed: the store still has what we last read,
        // which is older than ours and must not be adopted.
        s.accept(&fields(Some(60.0), Some("RT-mine")), 0.0, &P);
        s.adopt_stored(&entry("RT-store"));
        assert_eq!(s.refresh_token.expose(), "RT-mine");
        // Another instance rotated and wrote: adopted.
        s.adopt_stored(&entry("RT-other"));
        assert_eq!(s.refresh_token.expose(), "RT-other");
    }

    #[test]
    fn invalidate_keeps_refresh_token_and_refuses_the_same_token_from_the_store() {
        let mut s = state_with(Some(7200.0));
        s.invalidate();
        assert!(s.token.is_none());
        assert_eq!(s.refresh_token.expose(), "RT0");
        let same = Stored {
            token: Some(Held {
                access_token: Secret::new("AT"),
                expires_at: 9e12,
                expires_in: None,
            }),
            ..Default::default()
        };
        assert!(!s.adopt_stored(&same));
        let newer = Stored {
            token: Some(Held {
                access_token: Secret::new("AT2"),
                expires_at: 9e12,
                expires_in: None,
            }),
            refresh_token: Some(Secret::new("RT9")),
            ..Default::default()
        };
        assert!(s.adopt_stored(&newer));
        assert_eq!(s.refresh_token.expose(), "RT9");
    }

    fn err(code: Code, status: Option<u16>, retry_after: Option<f64>) -> Error {
        Error {
            status,
            retry_after_ms: retry_after,
            ..Error::new(code, "x")
        }
    }

    #[test]
    fn retry_table() {
        let plain = State::new(Secret::new("r"));
        let mut rotating = State::new(Secret::new("r"));
        rotating.rotation_seen = true;
        let http = |s| err(Code::HttpError, Some(s), None);
        let cases: &[(Error, bool, bool)] = &[
            // (error, retried before rotation is seen, retried after)
            (err(Code::NetworkError, None, None), true, false),
            (err(Code::Timeout, None, None), true, false),
            (http(408), true, true),
            (http(429), true, true),
            (http(503), true, true),
            (http(500), true, false),
            (http(502), true, false),
            (
                err(Code::Server("server_error".into()), Some(500), None),
                true,
                false,
            ),
            (http(400), false, false),
            (http(404), false, false),
            (
                err(Code::Server("invalid_grant".into()), Some(400), None),
                false,
                false,
            ),
            (
                err(Code::Server("invalid_client".into()), Some(401), None),
                false,
                false,
            ),
            (err(Code::InvalidResponse, Some(200), None), false, false),
            (err(Code::InvalidOptions, None, None), false, false),
            (err(Code::Aborted, None, None), false, false),
        ];
        for (e, before, after) in cases {
            assert_eq!(plain.retry_delay(e, 0, 0.5, &P).is_some(), *before, "{e:?}");
            assert_eq!(
                rotating.retry_delay(e, 0, 0.5, &P).is_some(),
                *after,
                "{e:?}"
            );
        }
    }

    #[test]
    fn backoff_and_retry_after() {
        let s = State::new(Secret::new("r"));
        let e = err(Code::HttpError, Some(503), None);
        assert_eq!(s.retry_delay(&e, 0, 0.0, &P), Some(100.0));
        assert_eq!(s.retry_delay(&e, 0, 1.0, &P), Some(200.0));
        assert_eq!(s.retry_delay(&e, 1, 1.0, &P), Some(400.0));
        assert_eq!(s.retry_delay(&e, 2, 1.0, &P), None); // retries: 2
        let many = Policy { retries: 40, ..P };
        assert_eq!(s.retry_delay(&e, 30, 1.0, &many), Some(5000.0));
        let ra = err(Code::HttpError, Some(429), Some(3000.0));
        assert_eq!(s.retry_delay(&ra, 0, 0.3, &P), Some(3000.0));
        let too_long = err(Code::HttpError, Some(429), Some(5001.0));
        assert_eq!(s.retry_delay(&too_long, 0, 0.3, &P), None);
        let none = Policy { retries: 0, ..P };
        assert_eq!(s.retry_delay(&e, 0, 0.3, &none), None);
    }

    #[test]
    fn store_key_is_stable_and_secret_free() {
        let k = default_store_key("https://a/t", "id", "RT-secret");
        assert!(k.starts_with("freshtoken:") && k.len() == "freshtoken:".len() + 43);
        assert!(!k.contains("RT-secret"));
        assert_eq!(k, default_store_key("https://a/t", "id", "RT-secret"));
        assert_ne!(k, default_store_key("https://a/t", "id", "RT-other"));
        assert_ne!(
            default_store_key("a", "b\0c", "d"),
            default_store_key("a\0b", "c", "d")
        );
    }

    #[test]
    fn stored_values() {
        let parse = |s: &str| {
            let v: serde_json::Value = serde_json::from_str(s).unwrap();
            Stored::from_json(v.as_object().unwrap())
        };
        let full = parse(r#"{"v":1,"accessToken":"AT","expiresAt":5000,"expiresIn":60,"refreshToken":"RT","tokenType":"Bearer"}"#).unwrap();
        assert_eq!(full.token.unwrap().expires_in, Some(60.0));
        assert_eq!(full.refresh_token.unwrap().expose(), "RT");
        let rt_only = parse(r#"{"v":1,"refreshToken":"RT"}"#).unwrap();
        assert!(rt_only.token.is_none());
        for bad in [
            r#"{"v":2,"refreshToken":"RT"}"#,
            r#"{"accessToken":"AT","expiresAt":1}"#,
            r#"{"v":1}"#,
            r#"{"v":1,"accessToken":"AT"}"#,
            r#"{"v":"1","refreshToken":"RT"}"#,
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}

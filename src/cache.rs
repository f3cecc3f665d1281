//! The token cache's decisions, sans-IO: is the token fresh, which refresh token is
//! current, may this failure be retried and after how long. The wasm `TokenCache` does the
//! I/O and asks this module at every step; an injected clock makes it table-testable.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::{Code, Error};
use crate::secret::Secret;

mod store;
mod token;
pub use store::{client_credentials_key, default_store_key, Stored};
pub use token::Token;

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
    /// `invalidate(accessToken)` drops a token younger than this (and not expired) at most
    /// once per this many ms (the Durable Object broker sets it, so an RPC caller looping
    /// invalidate cannot force a token request per loop).
    pub min_token_age_ms: f64,
    /// Within the skew a token is still served while a background refresh runs, until it
    /// has less than this left (capped at the skew); then callers wait.
    pub margin_ms: f64,
    /// After a failed refresh, callers share its outcome this long (or the `Retry-After`)
    /// instead of each sending another request.
    pub cooldown_ms: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            skew_ms: 60_000.0,
            default_expires_in_sec: 3600.0,
            retries: 2,
            min_delay_ms: 200.0,
            max_delay_ms: 5000.0,
            min_token_age_ms: 0.0,
            margin_ms: 5000.0,
            cooldown_ms: 1000.0,
        }
    }
}

/// How a held token can serve a caller now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Serve {
    /// Outside the skew: serve it.
    Fresh,
    /// Within the skew but outside the margin: serve it, and refresh in the background.
    Ahead,
    /// Within the margin, or expired: the caller waits for a refresh.
    Stale,
}

/// The longest `Retry-After` a cooldown honours: a server asking for more is asked again
/// after this.
const MAX_COOLDOWN_MS: f64 = 300_000.0;

/// How many past secrets a cache remembers (see [`State::history`]).
pub const HISTORY: usize = 8;

/// What the cache knows between refreshes.
#[derive(Clone, Debug)]
pub struct State {
    /// The access token callers are served, if any (published only after the hooks ran).
    pub token: Option<Token>,
    /// The refresh token in use: the configured one, a rotated one, or one from the store.
    pub refresh_token: Secret,
    /// True once this server has returned a refresh token: it rotates, so replays are risky.
    pub rotation_seen: bool,
    /// The last [`HISTORY`] secrets this cache moved past: refresh tokens rotated away, access
    /// tokens replaced, invalidated or refused by the server. None of them is ever taken back
    /// from a store (a lagging store hands out old values: Workers KV, for up to 60 s), and
    /// all of them are redacted from server texts.
    pub history: Vec<Secret>,
    /// The refresh token last read from or written to the store.
    pub store_seen: Option<Secret>,
    /// When `invalidate_token` last dropped a token younger than the floor.
    pub young_dropped_at: f64,
    /// Until when the last failed refresh is every caller's outcome (epoch ms).
    pub cooldown_until: f64,
}

impl State {
    /// A cache that has only its configured refresh token.
    pub fn new(refresh_token: Secret) -> State {
        State {
            token: None,
            refresh_token,
            rotation_seen: false,
            history: Vec::new(),
            store_seen: None,
            young_dropped_at: f64::NEG_INFINITY,
            cooldown_until: f64::NEG_INFINITY,
        }
    }

    /// After a refresh failed with `err` at `now`: share that outcome for the cooldown, or
    /// as long as the server's `Retry-After` asks (at most 5 minutes).
    pub fn cool_down(&mut self, err: &Error, now: f64, policy: &Policy) {
        let wait = err.retry_after_ms.unwrap_or(policy.cooldown_ms);
        self.cooldown_until = now + wait.clamp(0.0, MAX_COOLDOWN_MS);
    }

    /// Whether a failed refresh's outcome is still every caller's.
    pub fn cooling(&self, now: f64) -> bool {
        now < self.cooldown_until
    }

    /// The access token if it is fresh at `now`.
    pub fn fresh(&self, now: f64, policy: &Policy) -> Option<&Token> {
        self.token.as_ref().filter(|t| t.is_fresh(now, policy))
    }

    fn retire(&mut self, s: Secret) {
        if self.history.contains(&s) {
            return;
        }
        if self.history.len() >= HISTORY {
            self.history.remove(0);
        }
        self.history.push(s);
    }

    /// Takes a rotated refresh token at once (before anything else can fail), retiring the
    /// old one.
    pub fn rotate(&mut self, rotated: Option<&Secret>) {
        let Some(rt) = rotated else { return };
        self.rotation_seen = true;
        if *rt != self.refresh_token {
            let old = core::mem::replace(&mut self.refresh_token, rt.clone());
            self.retire(old);
        }
    }

    /// Makes `t` the token callers are served; the one it replaces is retired.
    pub fn publish(&mut self, t: Token) {
        self.cooldown_until = f64::NEG_INFINITY;
        if let Some(old) = self.token.replace(t) {
            if self.token.as_ref().map(|t| &t.access_token) != Some(&old.access_token) {
                self.retire(old.access_token);
            }
        }
    }

    /// Takes what the store holds, unless it is older than what this cache knows: an entry
    /// whose refresh token this cache rotated away is ignored whole. A refresh token that
    /// differs from the one the cache last read or wrote there is newer (another instance
    /// rotated it) and is adopted; an access token is adopted unless this cache moved past
    /// it. Returns true when the store's access token is now the held one.
    pub fn adopt_stored(&mut self, stored: &Stored) -> bool {
        if let Some(rt) = &stored.refresh_token {
            if self.history.contains(rt) {
                return false;
            }
            if self.store_seen.as_ref() != Some(rt) {
                self.store_seen = Some(rt.clone());
                let old = core::mem::replace(&mut self.refresh_token, rt.clone());
                if old != *rt {
                    self.retire(old);
                }
            }
        }
        let Some(t) = &stored.token else {
            return false;
        };
        if self.history.contains(&t.access_token) {
            return false;
        }
        if self.token.as_ref() != Some(t) {
            self.publish(t.clone());
        }
        true
    }

    /// After the refresh token was revoked: forgets the access token and remembers both, so
    /// that no store hands either back.
    pub fn revoked(&mut self) {
        self.invalidate();
        let rt = self.refresh_token.clone();
        self.retire(rt);
    }

    /// Forgets the access token (after a 401, or when the server refused the grant), and
    /// remembers it so the store cannot give it back. Keeps the refresh token.
    pub fn invalidate(&mut self) {
        if let Some(t) = self.token.take() {
            self.retire(t.access_token);
        }
    }

    /// Forgets `access_token` if it is the held one. A token younger than `min_age_ms` (and
    /// not expired) is dropped at most once per `min_age_ms`: a server that revoked a new
    /// token is believed, but a caller looping invalidate cannot force a request per loop.
    /// It is remembered either way: a cache that does not hold it yet (a new Durable Object
    /// instance) then refuses it from the store. True when dropped.
    pub fn invalidate_token(&mut self, access_token: &Secret, now: f64, min_age_ms: f64) -> bool {
        let held = self
            .token
            .as_ref()
            .filter(|t| t.access_token == *access_token);
        if let Some(t) = held {
            let young = t.age(now).is_some_and(|a| a < min_age_ms) && now < t.expires_at;
            if young && now - self.young_dropped_at < min_age_ms {
                return false;
            }
            if young {
                self.young_dropped_at = now;
            }
        }
        let dropped = held.is_some();
        if dropped {
            self.token = None;
        }
        self.retire(access_token.clone());
        dropped
    }

    /// Every secret this cache holds or held, for redaction.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        let held = self.token.as_ref().map(|t| t.access_token.expose());
        held.into_iter()
            .chain(core::iter::once(self.refresh_token.expose()))
            .chain(self.history.iter().map(Secret::expose))
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

#[cfg(test)]
mod ahead_tests {
    use super::*;

    fn token(expires_at: f64, expires_in: f64) -> Token {
        Token {
            access_token: Secret::new("at"),
            token_type: "Bearer".into(),
            expires_at,
            expires_in: Some(expires_in),
            scope: None,
        }
    }

    #[test]
    fn fresh_then_served_ahead_then_stale() {
        let p = Policy::default(); // skew 60 s, margin 5 s
        let t = token(7_200_000.0, 7200.0);
        assert_eq!(
            t.serve(7_140_000.0, &p),
            Serve::Fresh,
            "exactly the skew left"
        );
        assert_eq!(t.serve(7_140_001.0, &p), Serve::Ahead);
        assert_eq!(t.serve(7_194_999.0, &p), Serve::Ahead);
        assert_eq!(t.serve(7_195_000.0, &p), Serve::Stale, "the margin left");
        assert_eq!(t.serve(7_300_000.0, &p), Serve::Stale);
        // A 4 s token: skew 2 s (half), margin capped at the skew: never served ahead.
        let short = token(4000.0, 4.0);
        assert_eq!(short.serve(2000.0, &p), Serve::Fresh);
        assert_eq!(short.serve(2001.0, &p), Serve::Stale);
        let small = Policy {
            margin_ms: 500.0,
            ..p
        };
        assert_eq!(short.serve(3000.0, &small), Serve::Ahead);
    }

    #[test]
    fn a_failure_cools_down_for_the_policy_or_retry_after_and_a_token_ends_it() {
        let p = Policy::default();
        let mut st = State::new(Secret::new("rt"));
        let e = Error::new(Code::Server("temporarily_unavailable".into()), "x");
        st.cool_down(&e, 1000.0, &p);
        assert!(st.cooling(1999.0));
        assert!(!st.cooling(2000.0));
        let later = Error {
            retry_after_ms: Some(30_000.0),
            ..e.clone()
        };
        st.cool_down(&later, 0.0, &p);
        assert!(st.cooling(29_999.0));
        let huge = Error {
            retry_after_ms: Some(1e12),
            ..e
        };
        st.cool_down(&huge, 0.0, &p);
        assert!(!st.cooling(MAX_COOLDOWN_MS));
        st.publish(token(1e9, 7200.0));
        assert!(!st.cooling(1.0), "a new token ends the cooldown");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::TokenFields;

    const P: Policy = Policy {
        skew_ms: 60_000.0,
        default_expires_in_sec: 3600.0,
        retries: 2,
        min_delay_ms: 200.0,
        max_delay_ms: 5000.0,
        min_token_age_ms: 0.0,
        margin_ms: 5000.0,
        cooldown_ms: 1000.0,
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
        s.publish(Token::from_fields(&fields(expires_in, None), 1000.0, &P));
        s
    }

    fn token(at: &str, expires_at: f64, expires_in: Option<f64>) -> Token {
        Token {
            access_token: Secret::new(at),
            token_type: "Bearer".into(),
            expires_at,
            expires_in,
            scope: None,
        }
    }

    #[test]
    fn freshness_boundaries() {
        // 7200 s token sent at t=1000: fresh while at least 60 s are left (golang's rule:
        // stale once fewer than expiryDelta remain).
        let s = state_with(Some(7200.0));
        let exp = 1000.0 + 7_200_000.0;
        assert!(s.fresh(exp - 60_000.0, &P).is_some());
        assert!(s.fresh(exp - 60_000.0 + 1.0, &P).is_none());
        // 30 s token: skew capped at 15 s, so it is fresh on arrival.
        let s = state_with(Some(30.0));
        let exp = 1000.0 + 30_000.0;
        assert!(s.fresh(1000.0, &P).is_some());
        assert!(s.fresh(exp - 15_000.0, &P).is_some());
        assert!(s.fresh(exp - 15_000.0 + 1.0, &P).is_none());
        // expires_in 0: already expired, even at the instant it was sent.
        assert!(state_with(Some(0.0)).fresh(1000.0, &P).is_none());
        // No expires_in: the default lifetime (3600 s), full skew.
        let s = state_with(None);
        let exp = 1000.0 + 3_600_000.0;
        assert_eq!(s.token.as_ref().unwrap().expires_at, exp);
        assert!(s.fresh(exp - 60_000.0, &P).is_some());
        assert!(s.fresh(exp - 60_000.0 + 1.0, &P).is_none());
        // A stored token without expiresIn gets the full skew.
        let t = token("x", 100_000.0, None);
        assert!(t.is_fresh(40_000.0, &P) && !t.is_fresh(40_001.0, &P));
        // A skew of 0: fresh up to, not at, the expiry.
        let zero = Policy { skew_ms: 0.0, ..P };
        assert!(t.is_fresh(99_999.0, &zero) && !t.is_fresh(100_000.0, &zero));
    }

    #[test]
    fn rotation_replaces_refresh_token_and_empty_keeps_it() {
        let mut s = State::new(Secret::new("RT0"));
        s.rotate(None);
        assert_eq!((s.refresh_token.expose(), s.rotation_seen), ("RT0", false));
        s.rotate(Some(&Secret::new("RT1")));
        assert_eq!((s.refresh_token.expose(), s.rotation_seen), ("RT1", true));
        assert_eq!(s.history, [Secret::new("RT0")]);
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
        s.rotate(Some(&Secret::new("RT-mine")));
        s.adopt_stored(&entry("RT-store"));
        assert_eq!(s.refresh_token.expose(), "RT-mine");
        // Another instance rotated and wrote: adopted.
        s.adopt_stored(&entry("RT-other"));
        assert_eq!(s.refresh_token.expose(), "RT-other");
    }

    #[test]
    fn history_is_bounded_and_every_past_secret_is_refused_and_redactable() {
        let mut s = State::new(Secret::new("RT0"));
        for i in 1..=20 {
            s.rotate(Some(&Secret::new(format!("RT{i}"))));
        }
        assert_eq!(s.history.len(), HISTORY);
        assert!(s.secrets().any(|x| x == "RT19") && !s.secrets().any(|x| x == "RT1"));
        let old = Stored {
            refresh_token: Some(Secret::new("RT15")),
            token: Some(token("AT-old", 9e12, None)),
        };
        assert!(!s.adopt_stored(&old));
        assert_eq!((s.refresh_token.expose(), s.token.as_ref()), ("RT20", None));
    }

    #[test]
    fn invalidate_keeps_refresh_token_and_refuses_the_same_token_from_the_store() {
        let mut s = state_with(Some(7200.0));
        s.invalidate();
        assert!(s.token.is_none());
        assert_eq!(s.refresh_token.expose(), "RT0");
        let same = Stored {
            token: Some(token("AT", 9e12, None)),
            ..Default::default()
        };
        assert!(!s.adopt_stored(&same));
        let newer = Stored {
            token: Some(token("AT2", 9e12, None)),
            refresh_token: Some(Secret::new("RT9")),
        };
        assert!(s.adopt_stored(&newer));
        assert_eq!(s.refresh_token.expose(), "RT9");
    }

    /// Defect 8 (a, d): the broker's invalidate by value, with an age floor.
    #[test]
    fn invalidate_token_by_value_with_a_floor() {
        let mut s = state_with(Some(7200.0)); // issued at t=1000
        let at = Secret::new("AT");
        assert!(!s.invalidate_token(&Secret::new("other"), 2000.0, 10_000.0));
        assert!(s.token.is_some(), "not the held token");
        // The first young one is believed; the next young one within the floor is not.
        assert!(s.invalidate_token(&at, 2000.0, 10_000.0));
        s.publish(Token::from_fields(&fields(Some(7200.0), None), 3000.0, &P));
        s.history.clear();
        assert!(
            !s.invalidate_token(&at, 5000.0, 10_000.0),
            "young, and one dropped 3 s ago"
        );
        assert!(s.token.is_some());
        // Old enough: dropped whatever came before.
        assert!(s.invalidate_token(&at, 14_000.0, 10_000.0));
        assert!(s.token.is_none());
        // A cache that never held it (a new Durable Object instance) refuses it from the store.
        let mut fresh = State::new(Secret::new("RT0"));
        assert!(!fresh.invalidate_token(&at, 0.0, 10_000.0));
        let stored = Stored {
            token: Some(token("AT", 9e12, Some(7200.0))),
            refresh_token: Some(Secret::new("RT0")),
        };
        assert!(!fresh.adopt_stored(&stored));
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
        let full = parse(r#"{"v":1,"accessToken":"AT","expiresAt":5000,"expiresIn":60,"refreshToken":"RT","tokenType":"DPoP","scope":"a b"}"#).unwrap();
        let t = full.token.clone().unwrap();
        assert_eq!(
            (t.token_type.as_str(), t.scope.as_deref()),
            ("DPoP", Some("a b"))
        );
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

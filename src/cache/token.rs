//! The access token a cache holds, and when it is fresh.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{Policy, Serve};
use crate::response::TokenFields;
use crate::secret::Secret;

/// An access token the cache holds: a TokenSet without its refresh token (the cache keeps
/// that apart, in [`State`]) and without `raw`. The one shape for a response, a store entry
/// and what callers see.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// The token itself.
    pub access_token: Secret,
    /// As sent; `Bearer` when absent.
    pub token_type: String,
    /// When it expires, epoch ms (from `expires_in`, else the default lifetime).
    pub expires_at: f64,
    /// Its lifetime in seconds as sent, if known: it caps the skew and dates the token.
    pub expires_in: Option<f64>,
    /// As sent.
    pub scope: Option<String>,
}

impl Token {
    /// The token of a successful response sent at `sent_at`, with the default lifetime when
    /// the server sent no `expires_in`.
    pub fn from_fields(t: &TokenFields, sent_at: f64, policy: &Policy) -> Token {
        let expires_in = t.expires_in.unwrap_or(policy.default_expires_in_sec);
        Token {
            access_token: t.access_token.clone(),
            token_type: t.token_type.clone(),
            expires_at: t.expires_at.unwrap_or(sent_at + expires_in * 1000.0),
            expires_in: Some(expires_in),
            scope: t.scope.clone(),
        }
    }

    /// Fresh: at least the skew left (and some time at all), the skew being capped at half
    /// the lifetime so that a short-lived token is not stale on arrival. Without a known
    /// lifetime, the full skew. "Less than `refreshSkewMs` left is not fresh": exactly the
    /// skew left still is.
    pub fn is_fresh(&self, now: f64, policy: &Policy) -> bool {
        now < self.expires_at && now <= self.expires_at - self.skew(policy)
    }

    fn skew(&self, policy: &Policy) -> f64 {
        match self.expires_in {
            Some(secs) => policy.skew_ms.min(secs * 1000.0 / 2.0),
            None => policy.skew_ms,
        }
    }

    /// Fresh; else still served while a background refresh runs, as long as more than the
    /// margin (capped at the skew) is left.
    pub fn serve(&self, now: f64, policy: &Policy) -> Serve {
        if self.is_fresh(now, policy) {
            return Serve::Fresh;
        }
        let margin = policy.margin_ms.min(self.skew(policy));
        if now < self.expires_at - margin {
            Serve::Ahead
        } else {
            Serve::Stale
        }
    }

    /// Its fields as a response would have them (what a TokenSet shows).
    pub fn fields(&self) -> TokenFields {
        TokenFields {
            access_token: self.access_token.clone(),
            token_type: self.token_type.clone(),
            expires_in: self.expires_in,
            expires_at: Some(self.expires_at),
            refresh_token: None,
            scope: self.scope.clone(),
        }
    }

    /// How long ago it was issued, when its lifetime is known.
    pub(super) fn age(&self, now: f64) -> Option<f64> {
        self.expires_in
            .map(|s| now - (self.expires_at - s * 1000.0))
    }
}

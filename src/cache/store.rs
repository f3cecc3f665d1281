//! A cache's store entry (the one shape read back and written) and its default key.

#[allow(unused_imports)]
use crate::prelude::*;

use super::Token;
use crate::secret::Secret;

/// A store entry, as read back or to be written: the held token (when there is one) and
/// the refresh token in use.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stored {
    /// The access token and its expiry, when both were stored.
    pub token: Option<Token>,
    /// The refresh token in use when it was written.
    pub refresh_token: Option<Secret>,
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
            (Some(at), Some(exp)) => Some(Token {
                access_token: Secret::new(at),
                token_type: b
                    .text("tokenType")
                    .unwrap_or_else(|| String::from("Bearer")),
                expires_at: exp,
                expires_in: b.non_negative("expiresIn"),
                scope: b.text("scope"),
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
        })
    }
}

/// The `client_credentials` part of a default store key, in place of the refresh token:
/// scope and every extra parameter (audience, resource), so that each token kind has its
/// own entry. Never a secret (the client secret is not among them).
pub fn client_credentials_key(scope: Option<&str>, params: &[(String, String)]) -> String {
    let mut key = String::from("client_credentials\n");
    key.push_str(scope.unwrap_or(""));
    for (k, v) in params {
        key.push('\n');
        key.push_str(k);
        key.push('=');
        key.push_str(v);
    }
    key
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

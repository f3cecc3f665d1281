//! Auto-detected client authentication, in the spirit of golang.org/x/oauth2's
//! `AuthStyleAutoDetect`: servers disagree on RFC 6749 §2.3.1 (some never decode the Basic
//! credential, some percent-decode it, a few accept only the body), so a client that did not
//! say how it authenticates tries the ways in turn and the token endpoint's answer decides.
//!
//! The order is `client_secret_basic` §2.3.1-encoded, then unencoded (only when that spells
//! the credential differently), then `client_secret_post`. Each step is taken only after an
//! authentication refusal (`invalid_client`, or a bare 401): a server checks the client before
//! it looks at the grant (§5.2), so the refresh token (or code) was not spent and can be sent
//! again. What worked is remembered per token endpoint and client, so later requests start there.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::{Code, Error};
use crate::form::basic_encodings_differ;
use crate::grant::{BasicEncoding, Client, ClientAuth};

/// Whether `e` is the server refusing the client's authentication, not the grant.
pub fn is_refusal(e: &Error) -> bool {
    match &e.code {
        Code::Server(s) => s == "invalid_client",
        Code::HttpError => e.status == Some(401),
        _ => false,
    }
}

/// Whether `e` shows the server authenticated the client and then refused the grant: §5.2
/// has these errors only for an authenticated client, so the way it was sent is remembered.
pub fn is_past_authentication(e: &Error) -> bool {
    match &e.code {
        Code::Server(s) => crate::response::is_grant_refusal(s),
        _ => false,
    }
}

/// The way to try after `client` was refused with `e`, or `None` (not in auto mode, not a
/// refusal, or nothing left to try).
pub fn fallback(client: &Client, e: &Error) -> Option<Client> {
    if !client.auto || !is_refusal(e) {
        return None;
    }
    let (auth, encoding) = match (client.auth, client.basic_encoding) {
        (ClientAuth::Basic, BasicEncoding::Form)
            if basic_encodings_differ(&client.id, client.secret()) =>
        {
            (ClientAuth::Basic, BasicEncoding::Raw)
        }
        (ClientAuth::Basic, _) => (ClientAuth::Post, BasicEncoding::Form),
        _ => return None,
    };
    let mut next = client.clone();
    next.auth = auth;
    next.basic_encoding = encoding;
    Some(next)
}

/// Most endpoints remembered; the oldest is forgotten first.
const MAX_REMEMBERED: usize = 16;

/// What worked, per token endpoint and client id.
#[derive(Default)]
pub struct Memory(pub Vec<(String, ClientAuth, BasicEncoding)>);

impl Memory {
    /// `client` as last seen working at `token_url` (unchanged when not in auto mode or
    /// nothing is known).
    pub fn recall(&self, token_url: &str, client: &Client) -> Client {
        let mut c = client.clone();
        if client.auto {
            let key = key(token_url, &client.id);
            if let Some((_, auth, encoding)) = self.0.iter().find(|(k, _, _)| *k == key) {
                c.auth = *auth;
                c.basic_encoding = *encoding;
            }
        }
        c
    }

    /// Notes that `client` was accepted at `token_url`.
    pub fn remember(&mut self, token_url: &str, client: &Client) {
        if !client.auto {
            return;
        }
        let key = key(token_url, &client.id);
        self.0.retain(|(k, _, _)| *k != key);
        if self.0.len() >= MAX_REMEMBERED {
            self.0.remove(0);
        }
        self.0.push((key, client.auth, client.basic_encoding));
    }

    /// Forgets what worked at `token_url` for `client` (it was refused after all), so the
    /// next request starts from the first way again.
    pub fn forget(&mut self, token_url: &str, client: &Client) {
        if !client.auto {
            return;
        }
        let key = key(token_url, &client.id);
        self.0.retain(|(k, _, _)| *k != key);
    }
}

/// One string per (endpoint, client): a NUL cannot occur in a URL `fetch` accepts.
fn key(token_url: &str, client_id: &str) -> String {
    String::from(token_url) + "\0" + client_id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn client(id: &str, secret: &str, auth: Option<ClientAuth>) -> Client {
        Client::new(id.into(), Some(Secret::new(secret)), auth, None).unwrap()
    }

    fn refused() -> Error {
        Error::new(Code::Server("invalid_client".into()), "x")
    }

    fn style(c: &Client) -> (ClientAuth, BasicEncoding) {
        (c.auth, c.basic_encoding)
    }

    #[test]
    fn order_is_basic_encoded_then_raw_then_post() {
        let c = client("my id", "p:w/ü", None);
        assert_eq!(style(&c), (ClientAuth::Basic, BasicEncoding::Form));
        let raw = fallback(&c, &refused()).unwrap();
        assert_eq!(style(&raw), (ClientAuth::Basic, BasicEncoding::Raw));
        let post = fallback(&raw, &refused()).unwrap();
        assert_eq!(post.auth, ClientAuth::Post);
        assert!(fallback(&post, &refused()).is_none());
    }

    #[test]
    fn raw_is_skipped_when_it_spells_the_same() {
        let c = client("3f2b8c1e-9d4a", "s3cret.VALUE", None);
        assert_eq!(fallback(&c, &refused()).unwrap().auth, ClientAuth::Post);
    }

    #[test]
    fn only_refusals_move_on_and_only_in_auto_mode() {
        let c = client("id", "a b", None);
        let bare_401 = Error::with_status(Code::HttpError, 401, "x");
        assert!(fallback(&c, &bare_401).is_some());
        for e in [
            Error::new(Code::Server("invalid_grant".into()), "x"),
            Error::with_status(Code::HttpError, 500, "x"),
            Error::new(Code::Timeout, "x"),
        ] {
            assert!(fallback(&c, &e).is_none(), "{e:?}");
        }
        assert!(fallback(&client("id", "a b", Some(ClientAuth::Basic)), &refused()).is_none());
        let explicit = Client::new(
            "id".into(),
            Some(Secret::new("a b")),
            None,
            Some(BasicEncoding::Form),
        )
        .unwrap();
        assert!(fallback(&explicit, &refused()).is_none());
        let public = Client::new("id".into(), None, None, None).unwrap();
        assert!(fallback(&public, &refused()).is_none());
    }

    #[test]
    fn grant_errors_are_past_authentication() {
        let grant = Error::new(Code::Server("invalid_grant".into()), "x");
        assert!(is_past_authentication(&grant));
        assert!(!is_past_authentication(&refused()));
        assert!(!is_past_authentication(&Error::new(
            Code::Server("invalid_request".into()),
            "x"
        )));
        assert!(!is_past_authentication(&Error::with_status(
            Code::HttpError,
            500,
            "x"
        )));
    }

    #[test]
    fn memory_is_per_endpoint_and_client_and_bounded() {
        let mut m = Memory::default();
        let c = client("id", "a b", None);
        let post = fallback(&fallback(&c, &refused()).unwrap(), &refused()).unwrap();
        m.remember("https://a/token", &post);
        assert_eq!(m.recall("https://a/token", &c).auth, ClientAuth::Post);
        assert_eq!(m.recall("https://b/token", &c).auth, ClientAuth::Basic);
        let other = client("id2", "a b", None);
        assert_eq!(m.recall("https://a/token", &other).auth, ClientAuth::Basic);
        // An explicit client is never changed by what auto clients learnt.
        let explicit = client("id", "a b", Some(ClientAuth::Basic));
        assert_eq!(
            m.recall("https://a/token", &explicit).auth,
            ClientAuth::Basic
        );
        m.forget("https://a/token", &explicit);
        assert_eq!(
            m.recall("https://a/token", &c).auth,
            ClientAuth::Post,
            "explicit: no-op"
        );
        m.forget("https://a/token", &c);
        assert_eq!(m.recall("https://a/token", &c).auth, ClientAuth::Basic);
        m.remember("https://a/token", &post);
        for i in 0..MAX_REMEMBERED {
            m.remember(&format!("https://{i}/token"), &post);
        }
        assert_eq!(m.0.len(), MAX_REMEMBERED);
        assert_eq!(m.recall("https://a/token", &c).auth, ClientAuth::Basic);
    }
}

//! Building token requests, sans-IO: options in, method/headers/body out.
//! The refresh-token grant is [RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749#section-6);
//! client authentication is §2.3.1.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
pub use crate::form::BasicEncoding;
use crate::form::{basic_auth, Form};
use crate::secret::Secret;

/// How the client authenticates to the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// `Authorization: Basic …` (`client_secret_basic`).
    Basic,
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    Post,
    /// A public client: `client_id` in the body, no secret.
    None,
}

impl ClientAuth {
    /// Parses the JS option value.
    pub fn parse(s: &str) -> Option<ClientAuth> {
        match s {
            "client_secret_basic" => Some(ClientAuth::Basic),
            "client_secret_post" => Some(ClientAuth::Post),
            "none" => Some(ClientAuth::None),
            _ => None,
        }
    }
}

/// The OAuth client: who is asking, and how it proves it.
#[derive(Clone, Debug)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// `client_secret`, if the client is confidential.
    pub secret: Option<Secret>,
    /// Resolved authentication method.
    pub auth: ClientAuth,
    /// How `Basic` encodes the credential.
    pub basic_encoding: BasicEncoding,
    /// Neither `clientAuth` nor `basicAuthEncoding` was given for a client with a secret:
    /// on an authentication refusal, try the other ways ([`crate::auth`]).
    pub auto: bool,
}

impl Client {
    /// Resolves the authentication method: `Basic` when a secret is given, else `None`;
    /// an explicit `Basic` or `Post` without a secret is `invalid_options`. With neither
    /// `auth` nor `basic_encoding` given, a client with a secret is in auto mode.
    pub fn new(
        id: String,
        secret: Option<Secret>,
        auth: Option<ClientAuth>,
        basic_encoding: Option<BasicEncoding>,
    ) -> Result<Client, Error> {
        if id.is_empty() {
            return Err(Error::invalid_option(
                "clientId",
                "must be a non-empty string",
            ));
        }
        let auto = secret.is_some() && auth.is_none() && basic_encoding.is_none();
        let auth = auth.unwrap_or(if secret.is_some() {
            ClientAuth::Basic
        } else {
            ClientAuth::None
        });
        if auth != ClientAuth::None && secret.is_none() {
            return Err(Error::invalid_option(
                "clientSecret",
                "is required by this clientAuth",
            ));
        }
        Ok(Client {
            auto,
            id,
            secret,
            auth,
            basic_encoding: basic_encoding.unwrap_or(BasicEncoding::Form),
        })
    }

    /// The client secret, or `""` for a public client.
    pub fn secret(&self) -> &str {
        self.secret.as_ref().map_or("", Secret::expose)
    }
}

/// What the caller adds to every request: extra form parameters and headers.
#[derive(Clone, Debug, Default)]
pub struct Extras {
    /// `extraParams`, in the caller's order.
    pub params: Vec<(String, String)>,
    /// `headers`, in the caller's order.
    pub headers: Vec<(String, String)>,
}

/// A token request ready for `fetch`: always `POST`, always form-encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// Request headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The form body.
    pub body: String,
}

/// Builds the refresh-token grant request.
pub fn refresh_request(
    client: &Client,
    refresh_token: &Secret,
    scope: Option<&str>,
    extras: &Extras,
) -> Result<HttpRequest, Error> {
    if refresh_token.expose().is_empty() {
        return Err(Error::invalid_option(
            "refreshToken",
            "must be a non-empty string",
        ));
    }
    let mut grant = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
    ];
    if let Some(scope) = scope {
        grant.push(("scope", scope));
    }
    token_request(client, &grant, extras)
}

/// Builds the client-credentials grant request (RFC 6749 §4.4.2): machine to machine, no
/// refresh token; `audience` or `resource` go in `extraParams`.
pub fn client_credentials_request(
    client: &Client,
    scope: Option<&str>,
    extras: &Extras,
) -> Result<HttpRequest, Error> {
    let mut grant = vec![("grant_type", "client_credentials")];
    if let Some(scope) = scope {
        grant.push(("scope", scope));
    }
    token_request(client, &grant, extras)
}

/// Builds a token revocation request (RFC 7009 §2.1), authenticated like a grant.
pub fn revocation_request(
    client: &Client,
    token: &Secret,
    hint: Option<&str>,
    extras: &Extras,
) -> Result<HttpRequest, Error> {
    if token.expose().is_empty() {
        return Err(Error::invalid_option("token", "must be a non-empty string"));
    }
    let mut params = vec![("token", token.expose())];
    if let Some(h) = hint {
        params.push(("token_type_hint", h));
    }
    token_request(client, &params, extras)
}

/// Builds the authorization-code grant request with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.5).
pub fn code_request(
    client: &Client,
    code: &Secret,
    code_verifier: &Secret,
    redirect_uri: Option<&str>,
    extras: &Extras,
) -> Result<HttpRequest, Error> {
    if code.expose().is_empty() {
        return Err(Error::invalid_option("code", "must be a non-empty string"));
    }
    if !crate::pkce::is_valid_verifier(code_verifier.expose()) {
        return Err(Error::invalid_option(
            "codeVerifier",
            "must be 43-128 characters of A-Z a-z 0-9 - . _ ~",
        ));
    }
    let mut grant = vec![
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        ("code_verifier", code_verifier.expose()),
    ];
    if let Some(r) = redirect_uri {
        grant.push(("redirect_uri", r));
    }
    token_request(client, &grant, extras)
}

/// Builds a token request for any grant: the `grant` parameters first, then the caller's
/// `extraParams`, then the client's body credentials. Parameters the library sets itself
/// cannot be overridden through `extraParams`.
pub fn token_request(
    client: &Client,
    grant: &[(&str, &str)],
    extras: &Extras,
) -> Result<HttpRequest, Error> {
    let mut body_auth: Vec<(&str, &str)> = Vec::new();
    if client.auth != ClientAuth::Basic {
        body_auth.push(("client_id", &client.id));
    }
    if client.auth == ClientAuth::Post {
        body_auth.push(("client_secret", client.secret()));
    }
    let mut form = Form::default();
    for (name, value) in grant {
        form.push(name, value);
    }
    for (name, value) in &extras.params {
        let reserved =
            name == "client_secret" || grant.iter().chain(&body_auth).any(|(n, _)| n == name);
        if reserved {
            return Err(Error::invalid_option(
                "extraParams",
                "may not set a parameter the library sets",
            ));
        }
        form.push(name, value);
    }
    for (name, value) in &body_auth {
        form.push(name, value);
    }
    Ok(HttpRequest {
        headers: headers(client, &extras.headers)?,
        body: form.finish(),
    })
}

fn headers(client: &Client, extra: &[(String, String)]) -> Result<Vec<(String, String)>, Error> {
    let mut out = vec![
        (
            String::from("content-type"),
            String::from("application/x-www-form-urlencoded"),
        ),
        (String::from("accept"), String::from("application/json")),
    ];
    if client.auth == ClientAuth::Basic {
        let value = basic_auth(&client.id, client.secret(), client.basic_encoding);
        out.push((String::from("authorization"), value));
    }
    for (name, value) in extra {
        let name = name.to_ascii_lowercase();
        if !is_token(&name) || !is_field_value(value) {
            return Err(Error::invalid_option(
                "headers",
                "has an invalid header name or value",
            ));
        }
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((n, _)) if n == "content-type" || n == "authorization" => {
                return Err(Error::invalid_option(
                    "headers",
                    "may not set a header the library sets",
                ));
            }
            Some((_, v)) => *v = value.clone(),
            None => out.push((name, value.clone())),
        }
    }
    Ok(out)
}

/// What `fetch` accepts as a header value: a ByteString (no code point above U+00FF)
/// without CR, LF or NUL.
fn is_field_value(v: &str) -> bool {
    v.chars()
        .all(|c| u32::from(c) <= 0xFF && !matches!(c, '\r' | '\n' | '\0'))
}

/// RFC 9110 `token`: the characters a header name may have.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    fn client(secret: Option<&str>, auth: Option<ClientAuth>) -> Client {
        Client::new(
            String::from("client 1"),
            secret.map(Secret::new),
            auth,
            None,
        )
        .unwrap()
    }

    fn body(c: &Client, scope: Option<&str>, params: &[(&str, &str)]) -> Result<String, Code> {
        let extras = Extras {
            params: params
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            headers: vec![],
        };
        refresh_request(c, &Secret::new("r/t+1"), scope, &extras)
            .map(|r| r.body)
            .map_err(|e| e.code)
    }

    fn header<'a>(r: &'a HttpRequest, name: &str) -> Option<&'a str> {
        r.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn client_credentials_bodies() {
        let extras = Extras {
            params: vec![("audience".into(), "https://api.example".into())],
            headers: vec![],
        };
        let c = client(Some("s"), None);
        let r = client_credentials_request(&c, Some("read write"), &extras).unwrap();
        assert_eq!(
            r.body,
            "grant_type=client_credentials&scope=read+write&audience=https%3A%2F%2Fapi.example"
        );
        assert!(header(&r, "authorization").is_some());
    }

    #[test]
    fn revocation_bodies() {
        let none = Extras {
            params: vec![],
            headers: vec![],
        };
        let t = Secret::new("r/t+1");
        let basic = client(Some("s"), None);
        let r = revocation_request(&basic, &t, Some("refresh_token"), &none).unwrap();
        assert_eq!(r.body, "token=r%2Ft%2B1&token_type_hint=refresh_token");
        assert!(header(&r, "authorization").is_some_and(|h| h.starts_with("Basic ")));
        let public = client(None, None);
        let r = revocation_request(&public, &t, None, &none).unwrap();
        assert_eq!(r.body, "token=r%2Ft%2B1&client_id=client+1");
        let empty = revocation_request(&public, &Secret::new(""), None, &none);
        assert_eq!(empty.map_err(|e| e.code), Err(Code::InvalidOptions));
    }

    #[test]
    fn exact_bodies_per_client_auth() {
        let basic = client(Some("s"), None);
        assert_eq!(
            body(&basic, None, &[]),
            Ok("grant_type=refresh_token&refresh_token=r%2Ft%2B1".into())
        );
        let post = client(Some("p w"), Some(ClientAuth::Post));
        assert_eq!(
            body(&post, Some("read write"), &[("audience", "a&b")]),
            Ok("grant_type=refresh_token&refresh_token=r%2Ft%2B1&scope=read+write&audience=a%26b&client_id=client+1&client_secret=p+w".into())
        );
        let public = client(None, None);
        assert_eq!(public.auth, ClientAuth::None);
        assert_eq!(
            body(&public, None, &[]),
            Ok("grant_type=refresh_token&refresh_token=r%2Ft%2B1&client_id=client+1".into())
        );
    }

    #[test]
    fn edgetag_request_is_exact() {
        let c = Client::new(
            String::from("3f2b8c1e-9d4a-4e7b-8f6c-2a1d0e9b7c55"),
            Some(Secret::new("s3cretVALUE")),
            None,
            None,
        )
        .unwrap();
        let r = refresh_request(&c, &Secret::new("ccc"), None, &Extras::default()).unwrap();
        assert_eq!(r.body, "grant_type=refresh_token&refresh_token=ccc");
        assert_eq!(
            header(&r, "content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(header(&r, "accept"), Some("application/json"));
        assert_eq!(
            header(&r, "authorization"),
            Some("Basic M2YyYjhjMWUtOWQ0YS00ZTdiLThmNmMtMmExZDBlOWI3YzU1OnMzY3JldFZBTFVF")
        );
    }

    #[test]
    fn extra_params_cannot_override_library_params() {
        let post = client(Some("s"), Some(ClientAuth::Post));
        for name in ["grant_type", "refresh_token", "client_id", "client_secret"] {
            assert_eq!(
                body(&post, None, &[(name, "x")]),
                Err(Code::InvalidOptions),
                "{name}"
            );
        }
        assert_eq!(
            body(&post, Some("a"), &[("scope", "b")]),
            Err(Code::InvalidOptions)
        );
        // With Basic auth client_id is not in the body, so a server that wants it may get it.
        let basic = client(Some("s"), None);
        assert!(body(&basic, None, &[("client_id", "client 1")]).is_ok());
        assert_eq!(
            body(&basic, None, &[("client_secret", "x")]),
            Err(Code::InvalidOptions)
        );
    }

    #[test]
    fn auth_without_secret_is_invalid() {
        for auth in [ClientAuth::Basic, ClientAuth::Post] {
            let e = Client::new(String::from("id"), None, Some(auth), None).unwrap_err();
            assert_eq!(e.code, Code::InvalidOptions);
        }
        let e = Client::new(String::new(), None, None, None).unwrap_err();
        assert_eq!(e.code, Code::InvalidOptions);
        assert_eq!(body(&client(None, None), None, &[]).map(|_| ()), Ok(()));
        let empty_rt = refresh_request(
            &client(None, None),
            &Secret::new(""),
            None,
            &Extras::default(),
        );
        assert_eq!(empty_rt.unwrap_err().code, Code::InvalidOptions);
    }

    #[test]
    fn caller_headers() {
        let c = client(Some("s"), None);
        let mk = |h: &[(&str, &str)]| {
            let extras = Extras {
                params: vec![],
                headers: h
                    .iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            };
            refresh_request(&c, &Secret::new("r"), None, &extras)
        };
        let r = mk(&[
            ("X-Tenant", "t1"),
            ("Accept", "application/json, text/plain"),
        ])
        .unwrap();
        assert_eq!(header(&r, "x-tenant"), Some("t1"));
        assert_eq!(header(&r, "accept"), Some("application/json, text/plain"));
        for bad in [
            ("Authorization", "Bearer x"),
            ("content-type", "text/plain"),
            ("bad name", "v"),
            ("x", "a\r\nb"),
            ("", "v"),
            ("x", "€"),
        ] {
            assert_eq!(
                mk(&[bad]).unwrap_err().code,
                Code::InvalidOptions,
                "{bad:?}"
            );
        }
        // Without Basic auth the caller may set Authorization (e.g. a gateway's own scheme).
        let public = client(None, None);
        let extras = Extras {
            params: vec![],
            headers: vec![("authorization".into(), "Gateway k".into())],
        };
        assert!(refresh_request(&public, &Secret::new("r"), None, &extras).is_ok());
    }

    #[test]
    fn secrets_never_debug_print() {
        let c = client(Some("topsecret"), None);
        assert!(!format!("{c:?}").contains("topsecret"));
    }
}

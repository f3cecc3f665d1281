//! The options of one request: `refreshAccessToken`, `exchangeCode`, `revokeToken`, and
//! `buildAuthorizeUrl`'s.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{
    checked_url, opt_bool, opt_function, opt_record, opt_string, read, req_string, Kind, Source,
};
use crate::error::Error;
use crate::grant::{BasicEncoding, Client, ClientAuth, Extras};
use crate::pkce::{authorize_query, AuthorizeRequest};
use crate::secret::Secret;

/// `timeoutMs` when not given.
pub const DEFAULT_TIMEOUT_MS: f64 = 10_000.0;

/// Validated options of one request.
pub struct RefreshOptions<S: Source> {
    /// The endpoint URL (`tokenUrl`, or `revocationUrl`), as the host's parser normalised it.
    pub token_url: String,
    /// Who is asking and how it authenticates.
    pub client: Client,
    /// The refresh token from the options (empty where none is read).
    pub refresh_token: Secret,
    /// `scope`.
    pub scope: Option<String>,
    /// `extraParams` and `headers`.
    pub extras: Extras,
    /// `timeoutMs`; infinite means no timer.
    pub timeout_ms: f64,
    /// The caller's abort signal (anything with a boolean `aborted` and `addEventListener`).
    pub signal: Option<S>,
    /// An injected `fetch`.
    pub fetch: Option<S::Func>,
    /// An injected clock.
    pub now: Option<S::Func>,
    /// `grant: 'client_credentials'`: no refresh token; each refresh is a new grant.
    pub client_credentials: bool,
    /// `allowInsecureHttp`: `http:` may leave loopback.
    pub allow_insecure_http: bool,
}

impl<S: Source> RefreshOptions<S> {
    /// Every option of `refreshAccessToken` (`url` names the endpoint option;
    /// `needs_refresh_token`: read `refreshToken`, falling back to `fallback`'s when absent).
    pub fn read(
        v: &S,
        url: &'static str,
        needs_refresh_token: bool,
        fallback: Option<&S>,
    ) -> Result<RefreshOptions<S>, Error> {
        let client = client(v)?;
        let client_credentials = match opt_string(v, "grant")?.as_deref() {
            None | Some("refresh_token") => false,
            Some("client_credentials") if client.secret().is_empty() => {
                return Err(Error::invalid_option(
                    "clientSecret",
                    "is required for grant 'client_credentials'",
                ))
            }
            Some("client_credentials") => true,
            Some(_) => return Err(bad("grant")),
        };
        let refresh_token = Secret::new(if needs_refresh_token && !client_credentials {
            refresh_token(v, fallback)?
        } else {
            String::new()
        });
        let allow_insecure_http = opt_bool(v, "allowInsecureHttp")?.unwrap_or(false);
        let opts = RefreshOptions {
            token_url: checked_url::<S>(&req_string(v, url)?, allow_insecure_http, url)?,
            client,
            refresh_token,
            scope: opt_string(v, "scope")?,
            extras: Extras {
                params: opt_record(v, "extraParams")?,
                headers: opt_record(v, "headers")?,
            },
            timeout_ms: timeout(v)?,
            signal: signal(v)?,
            fetch: opt_function(v, "fetch")?,
            now: opt_function(v, "now")?,
            client_credentials,
            allow_insecure_http,
        };
        S::room(opts.request_bytes().saturating_mul(12))?;
        Ok(opts)
    }

    /// The bytes of every string a request carries: a byte becomes up to three when
    /// percent-encoded, and the body, the header and their copies coexist, hence the room
    /// for twelve times this that `read` checks for.
    fn request_bytes(&self) -> usize {
        let mut n = self.client.id.len() + self.client.secret().len() + self.token_url.len();
        n += self.refresh_token.expose().len() + self.scope.as_ref().map_or(0, String::len);
        for (k, v) in self.extras.params.iter().chain(&self.extras.headers) {
            n += k.len() + v.len();
        }
        n
    }
}

/// `clientId`, `clientSecret`, `clientAuth`, `basicAuthEncoding`.
fn client<S: Source>(v: &S) -> Result<Client, Error> {
    let secret = opt_string(v, "clientSecret")?.map(Secret::new);
    let client_auth = match opt_string(v, "clientAuth")? {
        None => None,
        Some(s) => Some(ClientAuth::parse(&s).ok_or_else(|| bad("clientAuth"))?),
    };
    let basic_encoding = match opt_string(v, "basicAuthEncoding")?.as_deref() {
        None => None,
        Some("form") => Some(BasicEncoding::Form),
        Some("raw") => Some(BasicEncoding::Raw),
        Some(_) => return Err(bad("basicAuthEncoding")),
    };
    let id = req_string(v, "clientId")?;
    Client::new(id, secret, client_auth, basic_encoding)
}

/// `refreshToken`, or when it is absent the one `fallback` (a TokenSet) has.
fn refresh_token<S: Source>(v: &S, fallback: Option<&S>) -> Result<String, Error> {
    match (fallback, read(v, "refreshToken")?.kind()) {
        (Some(set), Kind::Undefined) => req_string(set, "refreshToken"),
        _ => req_string(v, "refreshToken"),
    }
}

fn bad(name: &str) -> Error {
    Error::invalid_option(name, "has an unsupported value")
}

fn timeout<S: Source>(v: &S) -> Result<f64, Error> {
    let t = read(v, "timeoutMs")?;
    match (t.kind(), t.number()) {
        (Kind::Undefined, _) => Ok(DEFAULT_TIMEOUT_MS),
        (Kind::Number, ms) if ms > 0.0 => Ok(ms), // Infinity: no timer
        _ => Err(Error::invalid_option(
            "timeoutMs",
            "must be a positive number",
        )),
    }
}

/// An optional `AbortSignal`: anything with a boolean `aborted` and an `addEventListener`.
fn signal<S: Source>(v: &S) -> Result<Option<S>, Error> {
    let s = read(v, "signal")?;
    match s.kind() {
        Kind::Undefined => return Ok(None),
        Kind::Object => {}
        _ => return Err(not_a_signal()),
    }
    let aborted = s
        .field("aborted")
        .is_ok_and(|x| matches!(x.kind(), Kind::Bool));
    let listens = s
        .field("addEventListener")
        .is_ok_and(|x| matches!(x.kind(), Kind::Func));
    if aborted && listens {
        Ok(Some(s))
    } else {
        Err(not_a_signal())
    }
}

fn not_a_signal() -> Error {
    Error::invalid_option("signal", "must be an AbortSignal")
}

/// `tokenTypeHint` of `revokeToken`: `refresh_token` or `access_token` (RFC 7009 §2.1).
pub fn token_type_hint<S: Source>(v: &S) -> Result<Option<String>, Error> {
    let hint = opt_string(v, "tokenTypeHint")?;
    match hint.as_deref() {
        None | Some("refresh_token" | "access_token") => Ok(hint),
        Some(_) => Err(Error::invalid_option(
            "tokenTypeHint",
            "must be 'refresh_token' or 'access_token'",
        )),
    }
}

/// `buildAuthorizeUrl(options)`: `authorizeUrl` plus `response_type=code`, `client_id`,
/// `redirect_uri`, `scope`, `state`, `code_challenge`, `code_challenge_method=S256`.
pub fn authorize_url<S: Source>(v: &S) -> Result<String, Error> {
    let v = super::object(v)?;
    let allow_insecure = opt_bool(v, "allowInsecureHttp")?.unwrap_or(false);
    let base = req_string(v, "authorizeUrl")?;
    let href = checked_url::<S>(&base, allow_insecure, "authorizeUrl")?;
    let (redirect_uri, scope, state) = (
        opt_string(v, "redirectUri")?,
        opt_string(v, "scope")?,
        opt_string(v, "state")?,
    );
    let query = authorize_query(&AuthorizeRequest {
        client_id: &req_string(v, "clientId")?,
        redirect_uri: redirect_uri.as_deref(),
        scope: scope.as_deref(),
        state: state.as_deref(),
        code_challenge: &req_string(v, "codeChallenge")?,
        extra: &opt_record(v, "extraParams")?,
    })?;
    let joint = match href.bytes().last() {
        _ if !href.bytes().any(|b| b == b'?') => "?",
        Some(b'?') | Some(b'&') => "",
        _ => "&",
    };
    Ok(href + joint + &query)
}

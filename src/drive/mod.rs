//! The I/O flows, written once over an injected host: one token request (redaction, the
//! client-authentication fallbacks, what each endpoint accepted) and one refresh job of a
//! cache (performing each [`crate::engine`] action and reporting it as events). The wasm
//! layer implements [`Host`] and [`job::Cache`] for the JS host, native tests for a
//! simulated one: the sequencing lives here, where `cargo test` reaches it, and the host
//! only performs single steps.
//!
//! The traits' `async fn`s are used only through generics, on one thread: no `Send` bound
//! is wanted, hence `allow(async_fn_in_trait)`.

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::RefCell;

use crate::auth::Memory;
use crate::error::Error;
use crate::grant::HttpRequest;
use crate::options::{RefreshOptions, Source};
use crate::response::{BodyError, JsonObject, Received, TokenFields};

pub mod bearer;
pub mod deadline;
pub mod events;
pub mod http;
pub mod job;
mod request;
pub mod shared;

pub use request::{authenticated, recalled, refresh, revoke};

/// Why a call failed: an error of ours (an `OAuthError` to be, with its `cause`), or what
/// the caller's code (clock, store, hook) threw, passed through unchanged.
pub enum Failure<V> {
    /// An `OAuthError` to be, with its `cause`.
    OAuth(Error, Option<V>),
    /// A value thrown by the caller's code.
    Thrown(V),
}

impl<V: Host> Failure<V> {
    /// The value a promise rejects with: the `OAuthError`, or what was thrown.
    pub fn into_value(self) -> V {
        match self {
            Failure::OAuth(e, cause) => V::error(&e, cause.as_ref()),
            Failure::Thrown(v) => v,
        }
    }
}

impl<V> From<Error> for Failure<V> {
    fn from(e: Error) -> Self {
        Failure::OAuth(e, None)
    }
}

/// What the host's `fetch` gave.
pub struct Response<V> {
    /// HTTP status (0: a browser's opaque redirect).
    pub status: u16,
    /// The `Retry-After` header.
    pub retry_after: Option<String>,
    /// The body as a JSON object, or why it is none.
    pub body: Result<V, BodyError>,
}

/// A successful request: the fields, the parsed JSON (`raw`), and when it was sent.
pub struct Granted<V> {
    /// Validated token fields.
    pub fields: TokenFields,
    /// The whole parsed JSON (the host's "nothing" when there was no JSON object).
    pub raw: V,
    /// Epoch ms, by the caller's clock.
    pub sent_at: f64,
}

/// What an endpoint's success is.
#[derive(Clone, Copy, PartialEq)]
pub enum Expect {
    /// A token response.
    Token,
    /// A revocation response (RFC 7009): any 2xx, whatever the body; [`Granted::fields`]
    /// then holds no token.
    Revoked,
}

/// The host's side of one request. `Default` is its "nothing" (`undefined`).
#[allow(async_fn_in_trait)]
pub trait Host: Source + JsonObject + Default + Clone + PartialEq {
    /// One `POST` of `req` to `url`, bounded by the options' timeout and signal.
    async fn post(
        opts: &RefreshOptions<Self>,
        url: &str,
        req: &HttpRequest,
    ) -> Result<Response<Self>, Failure<Self>>;
    /// The caller's clock (`options.now`), or the host's. What `now` throws passes through.
    fn now(opts: &RefreshOptions<Self>) -> Result<f64, Failure<Self>>;
    /// What each token endpoint accepted from auto-mode clients (one per instance).
    fn auth_memory() -> &'static RefCell<Memory>;
    /// The host's error for `e` (an `OAuthError`), with its `cause`.
    fn error(e: &Error, cause: Option<&Self>) -> Self;
}

/// Sends `req` to `url` and parses the answer; `secrets`, and the credential of the
/// request's own `Authorization` header (servers echo it), are redacted from server texts.
pub async fn exchange<H: Host>(
    opts: &RefreshOptions<H>,
    url: &str,
    req: &HttpRequest,
    secrets: &[&str],
    expect: Expect,
) -> Result<Granted<H>, Failure<H>> {
    let secrets = with_credential(req, secrets);
    let sent_at = H::now(opts)?;
    let got = H::post(opts, url, req).await?;
    let received = Received {
        status: got.status,
        retry_after: got.retry_after.as_deref(),
        sent_at,
        now: H::now(opts)?,
    };
    let body = got.body.as_ref().map_err(|e| *e);
    let fields = match expect {
        Expect::Token => crate::response::parse_token_response(&received, body, &secrets)?,
        Expect::Revoked => {
            crate::response::parse_revocation_response(&received, body, &secrets)?;
            TokenFields::none()
        }
    };
    Ok(Granted {
        fields,
        raw: got.body.unwrap_or_default(),
        sent_at,
    })
}

/// `secrets` and the credential of the request's own `Authorization` header.
fn with_credential<'a>(req: &'a HttpRequest, secrets: &[&'a str]) -> Vec<&'a str> {
    let mut secrets = secrets.to_vec();
    for (name, value) in &req.headers {
        if name == "authorization" {
            secrets.push(value.as_str());
            secrets.extend(value.get(6..).filter(|_| value.starts_with("Basic ")));
        }
    }
    secrets
}

#[cfg(test)]
pub(crate) mod tests;

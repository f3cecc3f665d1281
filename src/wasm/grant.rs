//! Which request goes out: the refresh grant, and the client authentication loop (auto mode,
//! `crate::auth`) that every grant is sent through.

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::RefCell;

use super::fetch::{exchange, Expect, Failure, Granted};
use super::js::Global;
use super::options::RefreshOptions;
use crate::auth::{self, Memory};
use crate::error::Error;
use crate::grant::{client_credentials_request, refresh_request, Client, HttpRequest};
use crate::secret::Secret;

/// One refresh-token grant. `held` are further secrets to redact from server texts (a
/// cache's access token and the refresh tokens it rotated away).
pub async fn refresh(
    opts: &RefreshOptions,
    refresh_token: &Secret,
    held: &[&str],
) -> Result<Granted, Failure> {
    let scope = opts.scope.as_deref();
    let mut secrets: Vec<&str> = vec![opts.client.secret(), refresh_token.expose()];
    secrets.extend_from_slice(held);
    let build = |c: &Client| match opts.client_credentials {
        true => client_credentials_request(c, scope, &opts.extras),
        false => refresh_request(c, refresh_token, scope, &opts.extras),
    };
    authenticated(opts, &build, &secrets).await
}

/// What each token endpoint accepted from auto-mode clients (`crate::auth`).
static AUTH_MEMORY: Global<RefCell<Memory>> = Global(RefCell::new(Memory(Vec::new())));

/// The client as the token endpoint last accepted it (auto mode), else as configured.
pub fn recalled(opts: &RefreshOptions) -> Client {
    AUTH_MEMORY.0.borrow().recall(&opts.token_url, &opts.client)
}

/// Sends the grant `build` makes for the client, starting from the way this endpoint last
/// accepted; in auto mode, after an authentication refusal, once more per fallback (at most
/// three requests: a refusal does not spend the grant).
pub async fn authenticated(
    opts: &RefreshOptions,
    build: &dyn Fn(&Client) -> Result<HttpRequest, Error>,
    secrets: &[&str],
) -> Result<Granted, Failure> {
    let url = opts.token_url.as_str();
    let mut client = AUTH_MEMORY.0.borrow().recall(url, &opts.client);
    loop {
        let req = build(&client)?;
        match exchange(opts, url, &req, secrets, Expect::Token).await {
            Ok(granted) => {
                AUTH_MEMORY.0.borrow_mut().remember(url, &client);
                return Ok(granted);
            }
            Err(Failure::OAuth(e, cause)) => match auth::fallback(&client, &e) {
                Some(next) => client = next,
                None => {
                    if auth::is_refusal(&e) {
                        AUTH_MEMORY.0.borrow_mut().forget(url, &client);
                    } else if auth::is_past_authentication(&e) {
                        AUTH_MEMORY.0.borrow_mut().remember(url, &client);
                    }
                    return Err(Failure::OAuth(e, cause));
                }
            },
            Err(thrown) => return Err(thrown),
        }
    }
}

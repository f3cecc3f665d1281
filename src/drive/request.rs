//! Which request goes out: the refresh grant, the revocation, and the client
//! authentication loop (auto mode, [`crate::auth`]) that every token request is sent through.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{exchange, Expect, Failure, Granted, Host};
use crate::auth;
use crate::error::Error;
use crate::grant::{client_credentials_request, refresh_request, revocation_request};
use crate::grant::{Client, HttpRequest};
use crate::options::RefreshOptions;
use crate::secret::Secret;

/// One refresh-token grant (or, with `grant: 'client_credentials'`, that grant). `held` are
/// further secrets to redact from server texts (a cache's access token and the refresh
/// tokens it rotated away).
pub async fn refresh<H: Host>(
    opts: &RefreshOptions<H>,
    refresh_token: &Secret,
    held: &[&str],
) -> Result<Granted<H>, Failure<H>> {
    let scope = opts.scope.as_deref();
    let mut secrets: Vec<&str> = vec![opts.client.secret(), refresh_token.expose()];
    secrets.extend_from_slice(held);
    let build = |c: &Client| match opts.client_credentials {
        true => client_credentials_request(c, scope, &opts.extras),
        false => refresh_request(c, refresh_token, scope, &opts.extras),
    };
    authenticated(opts, &build, &secrets).await
}

/// The client as the token endpoint last accepted it (auto mode), else as configured.
pub fn recalled<H: Host>(opts: &RefreshOptions<H>) -> Client {
    H::auth_memory()
        .borrow()
        .recall(&opts.token_url, &opts.client)
}

/// Sends the grant `build` makes for the client, starting from the way this endpoint last
/// accepted; in auto mode, after an authentication refusal, once more per fallback (at most
/// three requests: a refusal does not spend the grant).
pub async fn authenticated<H: Host>(
    opts: &RefreshOptions<H>,
    build: &dyn Fn(&Client) -> Result<HttpRequest, Error>,
    secrets: &[&str],
) -> Result<Granted<H>, Failure<H>> {
    let url = opts.token_url.as_str();
    let memory = H::auth_memory();
    let mut client = recalled(opts);
    loop {
        let req = build(&client)?;
        match exchange(opts, url, &req, secrets, Expect::Token).await {
            Ok(granted) => {
                memory.borrow_mut().remember(url, &client);
                return Ok(granted);
            }
            Err(Failure::OAuth(e, cause)) => match auth::fallback(&client, &e) {
                Some(next) => client = next,
                None => {
                    if auth::is_refusal(&e) {
                        memory.borrow_mut().forget(url, &client);
                    } else if auth::is_past_authentication(&e) {
                        memory.borrow_mut().remember(url, &client);
                    }
                    return Err(Failure::OAuth(e, cause));
                }
            },
            Err(thrown) => return Err(thrown),
        }
    }
}

/// Revokes `token` at `url` (RFC 7009 §2.1): one request, authenticated the way the token
/// endpoint last accepted (auto mode) or as configured; any 2xx is success.
pub async fn revoke<H: Host>(
    opts: &RefreshOptions<H>,
    url: &str,
    token: &Secret,
    hint: Option<&str>,
) -> Result<(), Failure<H>> {
    let secrets = [opts.client.secret(), token.expose()];
    let req = revocation_request(&recalled(opts), token, hint, &opts.extras)?;
    exchange(opts, url, &req, &secrets, Expect::Revoked).await?;
    Ok(())
}

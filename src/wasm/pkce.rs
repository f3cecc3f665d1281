//! The authorization-code flow with PKCE: `createPkce`, `buildAuthorizeUrl`, `exchangeCode`.
//! The exchange shares `refreshAccessToken`'s options, request, response and errors.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::{Function, Object, Promise, Uint8Array};
use wasm_bindgen::prelude::*;

use super::error::to_js;
use super::fetch::Failure;
use super::js::{self, get, set};
use crate::error::Error;
use crate::grant::{code_request, Client};
use crate::options::{authorize_url, opt_string, req_string};
use crate::pkce::{challenge, verifier_from};
use crate::secret::Secret;

/// `{ codeVerifier, codeChallenge, codeChallengeMethod: 'S256' }`: a 43-character verifier
/// from 32 bytes of the host's `crypto.getRandomValues`, and its S256 challenge.
#[wasm_bindgen(js_name = createPkce)]
pub fn create_pkce() -> Result<JsValue, JsValue> {
    let no_crypto = || {
        let e = Error::invalid_option("crypto", "this host has no crypto.getRandomValues");
        to_js(&e, None)
    };
    let crypto = get(&js_sys::global(), "crypto");
    let random: Function = get(&crypto, "getRandomValues")
        .dyn_into()
        .map_err(|_| no_crypto())?;
    let bytes = Uint8Array::new_with_length(32);
    random.call1(&crypto, &bytes).map_err(|_| no_crypto())?;
    let bytes: [u8; 32] = bytes.to_vec().try_into().map_err(|_| no_crypto())?;
    let verifier = verifier_from(&bytes);
    let out: JsValue = Object::new().into();
    set(&out, "codeChallenge", &challenge(&verifier).into());
    set(&out, "codeVerifier", &verifier.into());
    set(&out, "codeChallengeMethod", &"S256".into());
    Ok(out)
}

/// The URL to send the user to: `authorizeUrl` plus `response_type=code`, `client_id`,
/// `redirect_uri`, `scope`, `state`, `code_challenge`, `code_challenge_method=S256`.
/// Throws `invalid_options` / `insecure_url`.
#[wasm_bindgen(js_name = buildAuthorizeUrl)]
pub fn build_authorize_url(options: JsValue) -> Result<String, JsValue> {
    authorize_url(&options).map_err(|e| to_js(&e, None))
}

/// Exchanges an authorization code (RFC 6749 §4.1.3 with PKCE): one request, the options
/// and errors of `refreshAccessToken` plus `code`, `codeVerifier` and `redirectUri`.
/// Resolves to a TokenSet (with the server's refresh token).
#[wasm_bindgen(js_name = exchangeCode)]
pub fn exchange_code(options: JsValue) -> Promise {
    js::promise(async move {
        let fail = |e: Error| to_js(&e, None);
        let opts = super::options::request(&options, "tokenUrl", false).map_err(fail)?;
        let code = Secret::new(req_string(&options, "code").map_err(fail)?);
        let verifier = Secret::new(req_string(&options, "codeVerifier").map_err(fail)?);
        let redirect = opt_string(&options, "redirectUri").map_err(fail)?;
        let build =
            |c: &Client| code_request(c, &code, &verifier, redirect.as_deref(), &opts.extras);
        let secrets = [opts.client.secret(), code.expose(), verifier.expose()];
        let got = crate::drive::authenticated(&opts, &build, &secrets)
            .await
            .map_err(Failure::into_value)?;
        Ok(js::token_set(
            &got.fields,
            &got.raw,
            got.fields.refresh_token.as_ref(),
        ))
    })
}

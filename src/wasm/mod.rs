//! The only `#[wasm_bindgen]` code: JS options in, the host's `fetch` out, JS values back.
//! Here: the two one-shot calls of the token endpoints, `refreshAccessToken` and
//! `revokeToken` (RFC 7009).

#[allow(unused_imports)]
use crate::prelude::*;

mod cache;
mod driver;
mod error;
mod events;
mod fetch;
mod js;
mod options;
mod pkce;

use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::options::{req_string, token_type_hint};
use crate::secret::Secret;

pub use cache::{set_keep_alive, TokenCache};
pub use pkce::{build_authorize_url, create_pkce, exchange_code};

/// One refresh-token grant ([RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749#section-6))
/// through the host's `fetch`: exactly one request, no retries. Resolves to a TokenSet;
/// rejects with an `OAuthError` (or, unchanged, whatever the caller's `now` threw).
#[wasm_bindgen(js_name = refreshAccessToken)]
pub fn refresh_access_token(options: JsValue) -> js_sys::Promise {
    js::promise(async move {
        let opts =
            options::request(&options, "tokenUrl", true).map_err(|e| error::to_js(&e, None))?;
        let got = crate::drive::refresh(&opts, &opts.refresh_token, &[])
            .await
            .map_err(fetch::Failure::into_value)?;
        Ok(js::token_set(
            &got.fields,
            &got.raw,
            got.fields.refresh_token.as_ref(),
        ))
    })
}

/// Revokes one token at `options.revocationUrl` (RFC 7009 §2.1): exactly one request,
/// authenticated like a refresh. Resolves `undefined` on any 2xx (the server also answers
/// 200 for a token it did not know); rejects with an `OAuthError` otherwise.
#[wasm_bindgen(js_name = revokeToken)]
pub fn revoke_token(options: JsValue) -> js_sys::Promise {
    js::promise(async move {
        let read = || -> Result<_, Error> {
            let opts = options::request(&options, "revocationUrl", false)?;
            let token = Secret::new(req_string(&options, "token")?);
            Ok((opts, token, token_type_hint(&options)?))
        };
        let (opts, token, hint) = read().map_err(|e| error::to_js(&e, None))?;
        crate::drive::revoke(&opts, &opts.token_url, &token, hint.as_deref())
            .await
            .map_err(fetch::Failure::into_value)?;
        Ok(JsValue::UNDEFINED)
    })
}

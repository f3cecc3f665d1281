//! Token revocation (RFC 7009): `revokeToken(options)`, and `TokenCache.revoke()` which
//! revokes the cache's refresh token and forgets its tokens, in memory and in the store.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::error::to_js;
use super::fetch::Failure;
use super::js;
use crate::error::Error;
use crate::options::{req_string, token_type_hint};
use crate::secret::Secret;

/// Revokes one token at `options.revocationUrl` (RFC 7009 §2.1): exactly one request,
/// authenticated like a refresh. Resolves `undefined` on any 2xx (the server also answers
/// 200 for a token it did not know); rejects with an `OAuthError` otherwise.
#[wasm_bindgen(js_name = revokeToken)]
pub fn revoke_token(options: JsValue) -> Promise {
    js::promise(async move {
        let read = || -> Result<_, Error> {
            let opts = super::options::request(&options, "revocationUrl", false)?;
            let token = Secret::new(req_string(&options, "token")?);
            Ok((opts, token, token_type_hint(&options)?))
        };
        let (opts, token, hint) = read().map_err(|e| to_js(&e, None))?;
        crate::drive::revoke(&opts, &opts.token_url, &token, hint.as_deref())
            .await
            .map_err(Failure::into_value)?;
        Ok(JsValue::UNDEFINED)
    })
}

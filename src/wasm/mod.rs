//! The only `#[wasm_bindgen]` code: JS options in, the host's `fetch` out, JS values back.

#[allow(unused_imports)]
use crate::prelude::*;

mod bearer;
mod cache;
mod deadline;
mod driver;
mod error;
mod events;
mod fetch;
mod js;
mod memory;
mod options;
mod pkce;
mod revoke;

use wasm_bindgen::prelude::*;

pub use cache::{set_keep_alive, TokenCache};
pub use pkce::{build_authorize_url, create_pkce, exchange_code};
pub use revoke::revoke_token;

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

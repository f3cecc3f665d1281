//! `cache.fetch(input, init)`: the caller's request with `Authorization: Bearer …`, and
//! on a 401 one refresh and one retry.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::cache::TokenCache;
use super::error::to_js;
use super::js::{self, get, HeaderMap};
use crate::error::Error;

/// `cache.fetch`: the resource response passes through unchanged, whatever its status.
pub async fn fetch(
    cache: &TokenCache,
    input: &JsValue,
    init: &JsValue,
) -> Result<JsValue, JsValue> {
    let fetch = super::fetch::fetch_fn(cache.inner.cache.opts.refresh.fetch.as_ref())
        .map_err(|e| to_js(&e, None))?;
    let request = Request::new(input, init).map_err(|e| {
        let bad = Error::invalid_option("fetch(input, init)", "is not a valid Request");
        to_js(&bad, Some(&e))
    })?;
    let streaming = get(&get(init, "body"), "getReader").is_function();
    let token = JsFuture::from(cache.get_access_token()).await?;
    // A stream body cannot be replayed: send the request itself, once.
    let first = if streaming {
        None
    } else {
        Some(request.duplicate()?)
    };
    let response = send(&fetch, first.as_ref().unwrap_or(&request), &token).await?;
    if get(&response, "status").as_f64() != Some(401.0) {
        return Ok(response);
    }
    // Invalidate only if no one has replaced the token meanwhile; then refresh (or join).
    let current = cache.peek();
    if current == token || current.is_undefined() {
        cache.invalidate(JsValue::UNDEFINED);
    }
    if streaming {
        return Ok(response);
    }
    let token = JsFuture::from(cache.get_access_token()).await?;
    send(&fetch, &request, &token).await
}

async fn send(fetch: &Function, request: &Request, token: &JsValue) -> Result<JsValue, JsValue> {
    let bearer = js_sys::JsString::from("Bearer ").concat(token);
    request.headers().put("authorization", &bearer)?;
    js::settle(fetch.call1(&JsValue::UNDEFINED, request)).await
}

#[wasm_bindgen]
extern "C" {
    /// The host's `Request`, for `cache.fetch`.
    pub type Request;
    /// `new Request(input, init)`.
    #[wasm_bindgen(constructor, catch)]
    pub fn new(input: &JsValue, init: &JsValue) -> Result<Request, JsValue>;
    /// `request.clone()`: a replay copy (tees the body).
    #[wasm_bindgen(method, catch, js_name = clone)]
    pub fn duplicate(this: &Request) -> Result<Request, JsValue>;
    /// `request.headers`.
    #[wasm_bindgen(method, getter)]
    pub fn headers(this: &Request) -> HeaderMap;
    /// `headers.set(name, value)`.
    #[wasm_bindgen(method, catch, js_name = set)]
    pub fn put(this: &HeaderMap, name: &str, value: &JsValue) -> Result<(), JsValue>;
}

//! The host's `Request`, for `cache.fetch` ([`crate::drive::bearer`]; its single steps are
//! in the driver's `Cache` impl).

#[allow(unused_imports)]
use crate::prelude::*;

use wasm_bindgen::prelude::*;

use super::js::HeaderMap;

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

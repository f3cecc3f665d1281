//! The host's side of [`crate::drive::Host`], [`crate::drive::http::Fetch`] and
//! [`crate::drive::deadline::Abort`]: the caller's clock, the host's `fetch` with its
//! request init, the single steps of reading a response, and the timers and abort signals
//! each step is raced against.

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::RefCell;

use js_sys::{Array, Function, JsString, Object, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal};

use super::error::to_js;
use super::js::{self, get, set, HeaderMap, TextDecoder};
use super::options::RefreshOptions;
use crate::auth::Memory;
use crate::drive::deadline::Abort;
use crate::drive::http::Fetch;
use crate::drive::{Host, Response};
use crate::error::Error;
use crate::grant::HttpRequest;

/// Why a call failed (see [`crate::drive::Failure`]).
pub type Failure = crate::drive::Failure<JsValue>;

/// What each token endpoint accepted from auto-mode clients (`crate::auth`).
static AUTH_MEMORY: js::Global<RefCell<Memory>> = js::Global(RefCell::new(Memory(Vec::new())));

impl Host for JsValue {
    fn post(
        opts: &RefreshOptions,
        url: &str,
        req: &HttpRequest,
    ) -> impl core::future::Future<Output = Result<Response<JsValue>, Failure>> {
        crate::drive::http::post(opts, url, req)
    }

    fn now(opts: &RefreshOptions) -> Result<f64, Failure> {
        now(opts.now.as_ref())
    }

    fn auth_memory() -> &'static RefCell<Memory> {
        &AUTH_MEMORY.0
    }

    fn error(e: &Error, cause: Option<&JsValue>) -> JsValue {
        to_js(e, cause)
    }
}

/// The caller's clock (`options.now`), or `Date.now`. Whatever `now` throws passes through.
pub fn now(clock: Option<&Function>) -> Result<f64, Failure> {
    let Some(f) = clock else {
        return Ok(js_sys::Date::now());
    };
    f.call0(&JsValue::UNDEFINED)
        .map_err(Failure::Thrown)?
        .as_f64()
        .filter(|t| t.is_finite())
        .ok_or_else(|| Error::invalid_option("now", "must return a finite number").into())
}

/// `options.fetch`, or the global `fetch` as it is now.
pub fn fetch_fn(injected: Option<&Function>) -> Result<Function, Error> {
    match injected {
        Some(f) => Ok(f.clone()),
        None => get(&js_sys::global(), "fetch")
            .dyn_into::<Function>()
            .map_err(|_| {
                Error::invalid_option("fetch", "is required: this host has no global fetch")
            }),
    }
}

fn request_init(req: &HttpRequest, signal: &JsValue) -> JsValue {
    let headers: JsValue = Object::new().into();
    for (name, value) in &req.headers {
        js::set_named(&headers, name, &value.as_str().into());
    }
    let init: JsValue = Object::new().into();
    set(&init, "method", &"POST".into());
    set(&init, "headers", &headers);
    set(&init, "body", &req.body.as_str().into());
    set(&init, "redirect", &"manual".into());
    set(&init, "signal", signal);
    init
}

impl Fetch for JsValue {
    fn fetch_fn(opts: &RefreshOptions) -> Result<JsValue, Error> {
        fetch_fn(opts.fetch.as_ref()).map(JsValue::from)
    }

    fn send(
        fetch: &JsValue,
        url: &str,
        req: &HttpRequest,
        signal: &JsValue,
    ) -> Result<JsValue, JsValue> {
        let init = request_init(req, signal);
        let f: &Function = fetch.unchecked_ref();
        f.call2(&JsValue::UNDEFINED, &url.into(), &init)
    }

    fn get(obj: &JsValue, key: &'static str) -> JsValue {
        get(obj, key)
    }

    fn header(headers: &JsValue, name: &'static str) -> Option<String> {
        headers
            .unchecked_ref::<HeaderMap>()
            .get(name)
            .ok()
            .flatten()
    }

    #[inline(always)]
    fn call(obj: &JsValue, method: &'static str) -> Result<JsValue, JsValue> {
        let f = get(obj, method);
        f.unchecked_ref::<Function>().call0(obj)
    }

    fn bytes(chunk: &JsValue) -> Option<usize> {
        let array = chunk.dyn_ref::<Uint8Array>()?;
        Some(array.byte_length() as usize)
    }

    fn decoder() -> Result<JsValue, JsValue> {
        TextDecoder::new().map(JsValue::from)
    }

    fn decode(decoder: &JsValue, chunk: &JsValue, stream: bool) -> Result<JsValue, JsValue> {
        let options: JsValue = Object::new().into();
        set(&options, "stream", &stream.into());
        let decoder: &TextDecoder = decoder.unchecked_ref();
        decoder.decode(chunk, &options).map(JsValue::from)
    }

    fn concat(a: &JsValue, b: &JsValue) -> JsValue {
        a.unchecked_ref::<JsString>().concat(b).into()
    }

    fn parse_json(text: &JsValue) -> Option<JsValue> {
        js::json_parse(text.unchecked_ref()).ok()
    }

    fn quiet(returned: &JsValue) {
        let _ = js::quiet(&Promise::resolve(returned));
    }
}

impl Abort for JsValue {
    fn controller() -> Result<(JsValue, JsValue), JsValue> {
        let c = AbortController::new()?;
        let signal = c.signal().into();
        Ok((c.into(), signal))
    }

    fn abort(controller: &JsValue) {
        controller.unchecked_ref::<AbortController>().abort();
    }

    fn listen(signal: &JsValue) -> (JsValue, JsValue) {
        let mut listener = JsValue::UNDEFINED;
        let p = Promise::new(&mut |_, reject| {
            let s: &AbortSignal = signal.unchecked_ref();
            let _ = s.add_event_listener_with_callback("abort", &reject);
            listener = reject.into();
        });
        (p.into(), listener)
    }

    fn unlisten(signal: &JsValue, listener: &JsValue) {
        let s: &AbortSignal = signal.unchecked_ref();
        let _ = s.remove_event_listener_with_callback("abort", listener.unchecked_ref());
    }

    fn aborted(signal: &JsValue) -> bool {
        signal.unchecked_ref::<AbortSignal>().aborted()
    }

    fn reason(signal: &JsValue) -> JsValue {
        signal.unchecked_ref::<AbortSignal>().reason()
    }

    fn token() -> JsValue {
        Object::new().into()
    }

    fn alarm(ms: f64, token: &JsValue) -> (JsValue, JsValue) {
        let mut id = JsValue::UNDEFINED;
        let p = Promise::new(&mut |_, reject| id = js::set_timeout(&reject, ms, token));
        (p.into(), id)
    }

    fn disarm(id: &JsValue) {
        js::clear_timeout(id);
    }

    fn race(
        step: JsValue,
        rivals: [Option<&JsValue>; 2],
    ) -> impl core::future::Future<Output = Result<JsValue, JsValue>> {
        let racers = Array::of1(&Promise::resolve(&step));
        // Not `flatten()`: its adapter cost more than two `if let`s.
        let [a, b] = rivals;
        if let Some(a) = a {
            racers.push(a);
        }
        if let Some(b) = b {
            racers.push(b);
        }
        JsFuture::from(Promise::race(&racers))
    }
}

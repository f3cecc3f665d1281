//! The host's side of [`crate::drive::Host`] and [`crate::drive::http::Fetch`]: the
//! caller's clock, the host's `fetch` with its request init, and the single steps of
//! reading a response, each raced against the [`Deadline`].

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::boxed::Box;
use core::cell::RefCell;

use js_sys::{Function, JsString, Object, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortSignal;

use super::deadline::Deadline;
use super::error::to_js;
use super::js::{self, get, set, HeaderMap, TextDecoder};
use super::options::RefreshOptions;
use crate::auth::Memory;
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

fn request_init(req: &HttpRequest, signal: &AbortSignal) -> JsValue {
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
    /// Boxed: `send` hands it back through a `Result` and the request's future keeps it, so
    /// a pointer moves instead of the whole struct (−106 bytes gzip).
    type Deadline = Box<Deadline>;

    fn send(
        opts: &RefreshOptions,
        url: &str,
        req: &HttpRequest,
    ) -> Result<(JsValue, Box<Deadline>), Failure> {
        let fetch = fetch_fn(opts.fetch.as_ref())?;
        let signal = opts.signal.as_ref().map(JsCast::unchecked_ref);
        let deadline = Box::new(Deadline::start(opts.timeout_ms, signal)?);
        let init = request_init(req, &deadline.controller.signal());
        match fetch.call2(&JsValue::UNDEFINED, &url.into(), &init) {
            Ok(pending) => Ok((pending, deadline)),
            Err(e) => Err(deadline.fail(e)),
        }
    }

    fn race(
        d: &Box<Deadline>,
        step: JsValue,
    ) -> impl core::future::Future<Output = Result<JsValue, Failure>> {
        d.race(step)
    }

    fn complete(d: &Box<Deadline>) {
        d.done.set(true);
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

    fn call(d: &Box<Deadline>, obj: &JsValue, method: &'static str) -> Result<JsValue, Failure> {
        let f = get(obj, method);
        f.unchecked_ref::<Function>()
            .call0(obj)
            .map_err(|e| d.fail(e))
    }

    fn bytes(chunk: &JsValue) -> Option<usize> {
        let array = chunk.dyn_ref::<Uint8Array>()?;
        Some(array.byte_length() as usize)
    }

    fn decoder(d: &Box<Deadline>) -> Result<JsValue, Failure> {
        TextDecoder::new().map(JsValue::from).map_err(|e| d.fail(e))
    }

    fn decode(
        d: &Box<Deadline>,
        decoder: &JsValue,
        chunk: &JsValue,
        stream: bool,
    ) -> Result<JsValue, Failure> {
        let options: JsValue = Object::new().into();
        set(&options, "stream", &stream.into());
        let decoder: &TextDecoder = decoder.unchecked_ref();
        decoder
            .decode(chunk, &options)
            .map(JsValue::from)
            .map_err(|e| d.fail(e))
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

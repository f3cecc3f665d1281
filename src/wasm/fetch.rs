//! One `POST` through the host's `fetch`, bounded as a whole (headers and body) by
//! `timeoutMs` and the caller's `AbortSignal`: the host's side of [`crate::drive::Host`].

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::RefCell;

use js_sys::{Array, Function, JsString, Object, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortSignal;

use super::deadline::{Deadline, Interrupt};
use super::error::to_js;
use super::js::{self, get, set, BodyReader, BodyStream, HeaderMap, TextDecoder};
use super::options::RefreshOptions;
use crate::auth::Memory;
use crate::drive::{Host, Response};
use crate::error::{Code, Error};
use crate::grant::HttpRequest;
use crate::num::parse_digits;
use crate::response::{BodyError, MAX_BODY_BYTES};

/// A stream that yields this many chunks without ending is cut off (with the byte cap,
/// this bounds the read loop even without a timeout).
const MAX_CHUNKS: usize = 1 << 16;

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
        post(opts, url, req)
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

async fn post(
    opts: &RefreshOptions,
    url: &str,
    req: &HttpRequest,
) -> Result<Response<JsValue>, Failure> {
    let fetch = fetch_fn(opts.fetch.as_ref())?;
    let signal = opts.signal.as_ref().map(JsCast::unchecked_ref);
    let deadline = Deadline::start(opts.timeout_ms, signal)?;
    let init = request_init(req, &deadline.controller.signal());
    let pending = fetch
        .call2(&JsValue::UNDEFINED, &url.into(), &init)
        .map(|p| Promise::resolve(&p))
        .map_err(|e| deadline.fail(Interrupt::Failed(e)))?;
    let response = deadline.race(pending).await?;
    let status = get(&response, "status")
        .as_f64()
        .filter(|s| (0.0..=599.0).contains(s) && crate::num::is_whole(*s));
    let Some(status) = status.filter(|_| response.is_object()) else {
        return Err(
            Error::new(Code::InvalidResponse, "fetch did not resolve to a Response").into(),
        );
    };
    let headers: HeaderMap = get(&response, "headers").unchecked_into();
    let header = |name| headers.get(name).ok().flatten();
    // A Content-Length bounds what `text()` reads only without a Content-Encoding: a 255 KB
    // gzip body decoded to 256 MB, all read before the cap was checked. (A browser hides
    // Content-Encoding from a cross-origin response unless the server exposes it; checking
    // the response type as well cost +49 bytes gzip for a threat a browser tab bounds itself.)
    let length = header("content-length").as_deref().and_then(parse_digits);
    let bounded = length.is_some() && header("content-encoding").is_none();
    let body = match length {
        Some(n) if n > MAX_BODY_BYTES as u64 => Err(BodyError::TooLarge),
        _ => read_body(&deadline, &response, bounded).await?,
    };
    deadline.done.set(true);
    Ok(Response {
        status: status as u16,
        retry_after: header("retry-after"),
        body,
    })
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

/// Reads the whole body (at most 1 MiB) and parses it as a JSON object. When `fetch` itself
/// bounds the body (`bounded`: a Content-Length within the cap, no Content-Encoding), one
/// `text()` does (fewer awaited steps than streaming); else the decoded body is streamed and
/// counted.
async fn read_body(
    deadline: &Deadline,
    response: &JsValue,
    bounded: bool,
) -> Result<Result<JsValue, BodyError>, Failure> {
    let stream = get(response, "body");
    let text_fn = get(response, "text");
    // A body that is no WHATWG stream (node-fetch's is a Node stream) can only be read by
    // its own `text()`; the cap is then checked after the read.
    let streams = get(&stream, "getReader").is_function();
    let text = if (bounded || !streams) && text_fn.is_function() {
        let unreadable = |e: JsValue| deadline.fail(Interrupt::Failed(e));
        let pending = text_fn
            .unchecked_ref::<Function>()
            .call0(response)
            .map(|p| Promise::resolve(&p))
            .map_err(unreadable)?;
        deadline
            .race(pending)
            .await?
            .dyn_into::<JsString>()
            .unwrap_or_else(|_| JsString::from(""))
    } else if stream.is_object() {
        match read_capped(deadline, stream.unchecked_ref()).await? {
            Some(text) => text,
            None => return Ok(Err(BodyError::TooLarge)),
        }
    } else {
        JsString::from("")
    };
    if text.length() as usize > MAX_BODY_BYTES {
        return Ok(Err(BodyError::TooLarge));
    }
    crate::options::room_for_text::<JsValue>(text.length())?;
    Ok(match js::json_parse(&text) {
        Ok(v) if v.is_object() && !Array::is_array(&v) => Ok(v),
        _ => Err(BodyError::NotJsonObject),
    })
}

/// Streams the body through a `TextDecoder`, counting bytes; `None` once past the cap.
/// The text stays a JS string: it goes straight to `JSON.parse`.
async fn read_capped(
    deadline: &Deadline,
    stream: &BodyStream,
) -> Result<Option<JsString>, Failure> {
    let unreadable = |e: JsValue| deadline.fail(Interrupt::Failed(e));
    let reader = stream.get_reader().map_err(unreadable)?;
    let decoder = TextDecoder::new().map_err(unreadable)?;
    let streaming: JsValue = Object::new().into();
    set(&streaming, "stream", &true.into());
    let mut text = JsString::from("");
    let mut bytes = 0usize;
    let malformed = || -> Failure {
        Error::new(
            Code::InvalidResponse,
            "the body stream yielded something other than bytes",
        )
        .into()
    };
    for _ in 0..MAX_CHUNKS {
        let read = reader.read().map_err(unreadable)?;
        let chunk = deadline.race(Promise::resolve(&read)).await?;
        if !chunk.is_object() {
            cancel(reader);
            return Err(malformed());
        }
        if get(&chunk, "done").is_truthy() {
            let tail = decoder
                .decode(&JsValue::UNDEFINED, &JsValue::UNDEFINED)
                .map_err(unreadable)?;
            return Ok(Some(text.concat(&tail.into())));
        }
        let value = get(&chunk, "value");
        let Some(array) = value.dyn_ref::<Uint8Array>() else {
            cancel(reader);
            return Err(malformed());
        };
        bytes = bytes.saturating_add(array.byte_length() as usize);
        if bytes > MAX_BODY_BYTES {
            cancel(reader);
            return Ok(None);
        }
        let piece: JsValue = decoder
            .decode(&value, &streaming)
            .map_err(unreadable)?
            .into();
        text = text.concat(&piece);
    }
    cancel(reader);
    Ok(None)
}

/// Stops reading a body we will not use; its outcome does not matter. What `cancel()`
/// returns goes through `Promise.resolve`: a hostile reader's may be no promise at all, and
/// its rejection must not surface as unhandled.
fn cancel(reader: BodyReader) {
    if let Ok(p) = reader.cancel() {
        let _ = js::quiet(&Promise::resolve(&p));
    }
}

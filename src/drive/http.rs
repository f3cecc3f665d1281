//! One `POST` through the host's `fetch` and the read of its body, for any host: the
//! sequencing and every limit are here (a status that is no HTTP status, the 1 MiB cap
//! whether or not `Content-Length` tells it, the chunk count, a stream that yields
//! something other than bytes); the host performs single calls, each raced against the
//! request's time limit and the caller's signal.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::boxed::Box;

use super::deadline::{Abort, Deadline};
use super::{Failure, Response};
use crate::error::{Code, Error};
use crate::grant::HttpRequest;
use crate::num::{is_whole, parse_digits, push_u64};
use crate::options::{room_for_text, Kind, RefreshOptions, Source, Text};
use crate::response::{BodyError, MAX_BODY_BYTES};

/// A stream that yields this many chunks without ending is cut off (with the byte cap,
/// this bounds the read loop even without a timeout).
pub const MAX_CHUNKS: usize = 1 << 16;

/// The host's single steps of one HTTP exchange, each raced by the core against the
/// request's [`Deadline`]. A step's `Err` is what it threw. The traits' `async fn`s are used
/// only through generics, on one thread (see [`super`]).
pub trait Fetch: Source + Abort {
    /// The host's `fetch` function for these options.
    fn fetch_fn(opts: &RefreshOptions<Self>) -> Result<Self, Error>;
    /// Calls `fetch` for `req` with the abort `signal`: what it returned (to be raced).
    fn send(fetch: &Self, url: &str, req: &HttpRequest, signal: &Self) -> Result<Self, Self>;
    /// `obj[key]`, or the host's "nothing" when reading it throws.
    fn get(obj: &Self, key: &'static str) -> Self;
    /// `headers.get(name)`, `None` when absent or unreadable.
    fn header(headers: &Self, name: &'static str) -> Option<String>;
    /// `obj[method]()`: what it returned.
    fn call(obj: &Self, method: &'static str) -> Result<Self, Self>;
    /// The byte length of a chunk, `None` unless it is a `Uint8Array`.
    fn bytes(chunk: &Self) -> Option<usize>;
    /// A UTF-8 decoder for a stream of chunks.
    fn decoder() -> Result<Self, Self>;
    /// The text of `chunk`, decoded as part of a stream (`stream`), or as its end (the
    /// decoder's tail, with the host's "nothing" as the chunk).
    fn decode(decoder: &Self, chunk: &Self, stream: bool) -> Result<Self, Self>;
    /// Two texts joined.
    fn concat(a: &Self, b: &Self) -> Self;
    /// A text parsed as JSON, `None` when it is none.
    fn parse_json(text: &Self) -> Option<Self>;
    /// Leaves what a call returned (a promise, or anything) to settle unobserved: its
    /// rejection is no host error.
    fn quiet(returned: &Self);
}

/// Why a raced step did not finish.
pub enum Interrupt<V> {
    /// `timeoutMs` passed.
    Timeout(f64),
    /// The caller's signal fired, with its reason.
    Aborted(V),
    /// The step itself failed.
    Failed(V),
}

impl<V> Interrupt<V> {
    /// The failure it is. Inlined into the host's one caller.
    #[inline(always)]
    pub fn failure(self) -> Failure<V> {
        let (code, message, cause) = match self {
            Interrupt::Timeout(ms) => {
                let mut m = String::from("no complete response within timeoutMs (");
                push_u64(&mut m, ms as u64);
                m.push_str(" ms)");
                return Failure::OAuth(Error::new(Code::Timeout, m), None);
            }
            Interrupt::Aborted(reason) => (Code::Aborted, "aborted by the caller's signal", reason),
            Interrupt::Failed(cause) => (
                Code::NetworkError,
                "the token endpoint could not be reached",
                cause,
            ),
        };
        Failure::OAuth(Error::new(code, message), Some(cause))
    }
}

/// One `POST` of `req` to `url`, bounded as a whole (headers and body) by the options'
/// timeout and signal.
pub async fn post<H: Fetch>(
    opts: &RefreshOptions<H>,
    url: &str,
    req: &HttpRequest,
) -> Result<Response<H>, Failure<H>> {
    let (pending, d) = send(opts, url, req)?;
    let response = d.race(pending).await?;
    let status = H::get(&response, "status").number();
    if !is_object(&response) || !(0.0..=599.0).contains(&status) || !is_whole(status) {
        let e = Error::new(Code::InvalidResponse, "fetch did not resolve to a Response");
        return Err(e.into());
    }
    // A Content-Length bounds what `text()` reads only without a Content-Encoding: a 255 KB
    // gzip body decoded to 256 MB, all read before the cap was checked. (A browser hides
    // Content-Encoding from a cross-origin response unless the server exposes it; checking
    // the response type as well cost +49 bytes gzip for a threat a browser tab bounds itself.)
    let headers = H::get(&response, "headers");
    let length = H::header(&headers, "content-length");
    let length = length.as_deref().and_then(parse_digits);
    let bounded = length.is_some() && H::header(&headers, "content-encoding").is_none();
    let body = match length {
        Some(n) if n > MAX_BODY_BYTES as u64 => Err(BodyError::TooLarge),
        _ => read_body(&d, &response, bounded).await?,
    };
    d.complete();
    Ok(Response {
        status: status as u16,
        retry_after: H::header(&headers, "retry-after"),
        body,
    })
}

/// Starts the deadline and calls `fetch`: what it returned (to be raced), and the deadline.
/// Boxed: the request's future keeps it across every await, so a pointer moves instead of
/// the whole struct (−106 bytes gzip). Out of line: inlined into every caller's future
/// it cost 1.4 KB of wasm.
#[inline(never)]
fn send<H: Fetch>(
    opts: &RefreshOptions<H>,
    url: &str,
    req: &HttpRequest,
) -> Result<(H, Box<Deadline<H>>), Failure<H>> {
    let fetch = H::fetch_fn(opts)?;
    let d = Box::new(Deadline::start(opts.timeout_ms, opts.signal.as_ref())?);
    match H::send(&fetch, url, req, &d.signal) {
        Ok(pending) => Ok((pending, d)),
        Err(e) => Err(d.fail(e)),
    }
}

/// Reads the whole body (at most 1 MiB) and parses it as a JSON object. When `fetch` itself
/// bounds the body (`bounded`: a Content-Length within the cap, no Content-Encoding), one
/// `text()` does (fewer awaited steps than streaming); else the decoded body is streamed and
/// counted.
async fn read_body<H: Fetch>(
    d: &Deadline<H>,
    response: &H,
    bounded: bool,
) -> Result<Result<H, BodyError>, Failure<H>> {
    let stream = H::get(response, "body");
    // A body that is no WHATWG stream (node-fetch's is a Node stream) can only be read by
    // its own `text()`; the cap is then checked after the read.
    let streams = matches!(H::get(&stream, "getReader").kind(), Kind::Func);
    let text = if (bounded || !streams) && matches!(H::get(response, "text").kind(), Kind::Func) {
        let pending = call(d, response, "text")?;
        Some(d.race(pending).await?).filter(|t| matches!(t.kind(), Kind::Text))
    } else if is_object(&stream) {
        match read_capped(d, &stream).await? {
            Some(text) => Some(text),
            None => return Ok(Err(BodyError::TooLarge)),
        }
    } else {
        None
    };
    let Some(text) = text else {
        return Ok(Err(BodyError::NotJsonObject));
    };
    let units = text.clone().into_text().units();
    if units as usize > MAX_BODY_BYTES {
        return Ok(Err(BodyError::TooLarge));
    }
    room_for_text::<H>(units)?;
    let parsed = H::parse_json(&text).filter(|v| matches!(v.kind(), Kind::Object));
    Ok(parsed.ok_or(BodyError::NotJsonObject))
}

/// Streams the body through the host's decoder, counting bytes: its text, or `None` once
/// past the cap. The text stays the host's: it goes straight to its
/// JSON parser.
async fn read_capped<H: Fetch>(d: &Deadline<H>, stream: &H) -> Result<Option<H>, Failure<H>> {
    let reader = call(d, stream, "getReader")?;
    let decoder = H::decoder().map_err(|e| d.fail(e))?;
    let mut text = None;
    let mut bytes = 0usize;
    for _ in 0..MAX_CHUNKS {
        let read = call(d, &reader, "read")?;
        let chunk = d.race(read).await?;
        // A chunk that is no object has no `done` and no bytes: malformed, below.
        if H::get(&chunk, "done").boolean() {
            let tail = H::decode(&decoder, &H::default(), false).map_err(|e| d.fail(e))?;
            return Ok(Some(join(text, tail)));
        }
        let value = H::get(&chunk, "value");
        let Some(size) = H::bytes(&value) else {
            return Err(malformed(&reader));
        };
        bytes = bytes.saturating_add(size);
        if bytes > MAX_BODY_BYTES {
            cancel(&reader);
            return Ok(None);
        }
        let piece = H::decode(&decoder, &value, true).map_err(|e| d.fail(e))?;
        text = Some(join(text, piece));
    }
    cancel(&reader);
    Ok(None)
}

/// A stream that yields something other than `{ done, value: Uint8Array }`: stopped at once,
/// not read 65,536 times.
fn malformed<H: Fetch>(reader: &H) -> Failure<H> {
    cancel(reader);
    let e = "the body stream yielded something other than bytes";
    Error::new(Code::InvalidResponse, e).into()
}

fn join<H: Fetch>(text: Option<H>, piece: H) -> H {
    match text {
        Some(t) => H::concat(&t, &piece),
        None => piece,
    }
}

/// Stops reading a body we will not use; its outcome does not matter, and what `cancel()`
/// returns may be no promise at all (a hostile reader's).
fn cancel<H: Fetch>(reader: &H) {
    if let Ok(returned) = H::call(reader, "cancel") {
        H::quiet(&returned);
    }
}

/// `obj[method]()`, what it threw as the deadline's failure.
fn call<H: Fetch>(d: &Deadline<H>, obj: &H, method: &'static str) -> Result<H, Failure<H>> {
    H::call(obj, method).map_err(|e| d.fail(e))
}

/// Whether `v` is an object (a function or array included), as `typeof` and null tell it.
fn is_object<S: Source>(v: &S) -> bool {
    matches!(v.kind(), Kind::Object | Kind::Array | Kind::Func)
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;

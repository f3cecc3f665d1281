//! One exchange over a simulated `fetch` whose response, headers, `text()` and body stream
//! are scripted, and which records every call: which way a body is read, the cap with and
//! without `Content-Length`, hostile streams (non-objects, non-bytes, endless, a `cancel()`
//! that returns no promise), and what is no Response at all.

#![allow(clippy::panic)]

use core::cell::RefCell;
use core::future::Future;
use core::task::{Context, Poll, Waker};
use std::collections::VecDeque;

use super::*;
use crate::drive::tests::Units;
use crate::grant::{Client, Extras};
use crate::options::{ParsedUrl, Threw};
use crate::response::{BodyError, MAX_BODY_BYTES};
use crate::secret::Secret;

/// A host value of the simulated `fetch`.
#[derive(Clone, Debug, Default, PartialEq)]
enum F {
    #[default]
    Undef,
    Num(f64),
    Str(String),
    Bool(bool),
    Obj(Vec<(&'static str, F)>),
    Arr,
    /// A function; what calling it does depends on the method it is called as.
    Func,
    /// A `Uint8Array` holding these UTF-8 bytes.
    Bytes(String),
    /// A step that threw (or a promise that rejects) with this.
    Threw(&'static str),
}

/// What the simulated `fetch` does, and every call made of it.
#[derive(Default)]
struct Script {
    response: F,
    text: F,
    /// What each `read()` resolves to; when empty, `{ done: true }` (or, `endless`, one
    /// more empty chunk).
    chunks: VecDeque<F>,
    endless: bool,
    calls: Vec<String>,
}

std::thread_local! {
    static SCRIPT: RefCell<Script> = RefCell::new(Script::default());
}

fn script<T>(f: impl FnOnce(&mut Script) -> T) -> T {
    SCRIPT.with(|s| f(&mut s.borrow_mut()))
}

fn note(call: &str) {
    script(|s| s.calls.push(String::from(call)));
}

impl Source for F {
    type Func = ();
    type Text = Units;
    fn kind(&self) -> Kind {
        match self {
            F::Undef => Kind::Undefined,
            F::Num(_) => Kind::Number,
            F::Str(_) => Kind::Text,
            F::Bool(_) => Kind::Bool,
            F::Obj(_) | F::Bytes(_) => Kind::Object,
            F::Arr => Kind::Array,
            F::Func => Kind::Func,
            F::Threw(_) => Kind::Other,
        }
    }
    fn number(&self) -> f64 {
        match self {
            F::Num(n) => *n,
            _ => f64::NAN,
        }
    }
    fn boolean(&self) -> bool {
        !matches!(self, F::Undef | F::Bool(false) | F::Num(0.0))
    }
    fn field(&self, key: &'static str) -> Result<F, Threw> {
        Ok(F::get(self, key))
    }
    fn entries(&self) -> Result<F, Threw> {
        Err(Threw)
    }
    fn length(&self) -> u32 {
        0
    }
    fn at(&self, _: u32) -> F {
        F::Undef
    }
    fn into_text(self) -> Units {
        match self {
            F::Str(s) => Units(s.len() as u32),
            _ => Units(0),
        }
    }
    fn into_func(self) {}
    fn parse_url(_: &str) -> Option<ParsedUrl> {
        None
    }
    fn room(_: usize) -> Result<(), Error> {
        Ok(())
    }
}

/// No timer fires and no signal is given here: a step fails only by itself.
impl Abort for F {
    fn controller() -> Result<(F, F), F> {
        Ok((F::Func, F::Undef))
    }
    fn abort(_: &F) {
        note("abort");
    }
    fn listen(_: &F) -> (F, F) {
        panic!("no signal is given")
    }
    fn unlisten(_: &F, _: &F) {}
    fn aborted(_: &F) -> bool {
        false
    }
    fn reason(_: &F) -> F {
        F::Undef
    }
    fn token() -> F {
        F::Arr
    }
    fn alarm(_: f64, _: &F) -> (F, F) {
        (F::Undef, F::Undef)
    }
    fn disarm(_: &F) {}
    async fn race(step: F, _: [Option<&F>; 2]) -> Result<F, F> {
        match step {
            F::Threw(e) => Err(F::Threw(e)),
            v => Ok(v),
        }
    }
}

impl Fetch for F {
    fn fetch_fn(_: &RefreshOptions<F>) -> Result<F, Error> {
        Ok(F::Func)
    }
    fn send(_: &F, _: &str, _: &HttpRequest, _: &F) -> Result<F, F> {
        note("fetch");
        match script(|s| s.response.clone()) {
            F::Threw(e) => Err(F::Threw(e)),
            r => Ok(r),
        }
    }
    fn get(obj: &F, key: &'static str) -> F {
        let F::Obj(o) = obj else {
            return F::Undef;
        };
        o.iter()
            .find(|(k, _)| *k == key)
            .map_or(F::Undef, |(_, v)| v.clone())
    }
    fn header(headers: &F, name: &'static str) -> Option<String> {
        match F::get(headers, name) {
            F::Str(s) => Some(s),
            _ => None,
        }
    }
    fn call(_: &F, method: &'static str) -> Result<F, F> {
        note(method);
        let returned = match method {
            "text" => script(|s| s.text.clone()),
            "getReader" => F::Obj(vec![("read", F::Func), ("cancel", F::Func)]),
            "read" => script(|s| match s.chunks.pop_front() {
                Some(c) => c,
                None if s.endless => chunk(""),
                None => F::Obj(vec![("done", F::Bool(true))]),
            }),
            // A hostile reader's cancel(): no promise at all.
            "cancel" => F::Num(1.0),
            _ => panic!("{method}() called"),
        };
        match returned {
            F::Threw(e) if method != "read" => Err(F::Threw(e)),
            v => Ok(v),
        }
    }
    fn bytes(chunk: &F) -> Option<usize> {
        match chunk {
            F::Bytes(b) => Some(b.len()),
            _ => None,
        }
    }
    fn decoder() -> Result<F, F> {
        Ok(F::Undef)
    }
    fn decode(_: &F, chunk: &F, _: bool) -> Result<F, F> {
        Ok(F::Str(match chunk {
            F::Bytes(b) => b.clone(),
            _ => String::new(),
        }))
    }
    fn concat(a: &F, b: &F) -> F {
        match (a, b) {
            (F::Str(a), F::Str(b)) => F::Str(format!("{a}{b}")),
            _ => panic!("concat of {a:?} and {b:?}"),
        }
    }
    /// Only the shape matters here: an object is `{…}`, an array `[…]`.
    fn parse_json(text: &F) -> Option<F> {
        let F::Str(t) = text else {
            return None;
        };
        match (t.chars().next(), t.chars().last()) {
            (Some('{'), Some('}')) => Some(F::Obj(vec![("json", F::Str(t.clone()))])),
            (Some('['), Some(']')) => Some(F::Arr),
            _ => None,
        }
    }
    fn quiet(returned: &F) {
        note(&format!("quiet {returned:?}"));
    }
}

fn chunk(text: &str) -> F {
    F::Obj(vec![
        ("done", F::Bool(false)),
        ("value", F::Bytes(String::from(text))),
    ])
}

/// A Response of `status` with these headers, a WHATWG body stream and a `text()`.
fn response(status: f64, headers: &[(&'static str, &str)]) -> F {
    let headers = headers.iter().map(|(k, v)| (*k, F::Str(String::from(*v))));
    F::Obj(vec![
        ("status", F::Num(status)),
        ("headers", F::Obj(headers.collect())),
        ("body", F::Obj(vec![("getReader", F::Func)])),
        ("text", F::Func),
    ])
}

/// Runs one `post` with this script; its outcome and the calls made.
fn post_with(set: impl FnOnce(&mut Script)) -> (Result<Response<F>, Failure<F>>, Vec<String>) {
    script(|s| {
        *s = Script::default();
        set(s);
    });
    let opts = RefreshOptions {
        token_url: String::from("https://auth.example/token"),
        client: Client::new(String::from("app"), None, None, None).unwrap(),
        refresh_token: Secret::new("RT0"),
        scope: None,
        extras: Extras::default(),
        timeout_ms: 10_000.0,
        signal: None,
        fetch: None,
        now: None,
        client_credentials: false,
        allow_insecure_http: false,
    };
    let req = HttpRequest {
        headers: Vec::new(),
        body: String::new(),
    };
    let mut f = core::pin::pin!(post(&opts, "https://auth.example/token", &req));
    let Poll::Ready(got) = f.as_mut().poll(&mut Context::from_waker(Waker::noop())) else {
        panic!("the simulated fetch never waits");
    };
    (got, script(|s| core::mem::take(&mut s.calls)))
}

fn body(got: &Result<Response<F>, Failure<F>>) -> Result<&F, BodyError> {
    match got {
        Ok(r) => r.body.as_ref().map_err(|e| *e),
        Err(_) => panic!("expected a response"),
    }
}

/// `code: message` of the OAuthError to be.
fn code(got: &Result<Response<F>, Failure<F>>) -> String {
    match got {
        Err(Failure::OAuth(e, _)) => format!("{}: {}", e.code.as_str(), e.message),
        _ => panic!("expected an OAuthError"),
    }
}

#[test]
fn a_body_bounded_by_its_length_is_read_by_text_else_streamed_and_counted() {
    let (got, calls) = post_with(|s| {
        s.response = response(200.0, &[("content-length", "7"), ("retry-after", "5")]);
        s.text = F::Str(String::from("{\"a\":1}"));
    });
    assert!(matches!(body(&got), Ok(F::Obj(_))));
    assert_eq!(got.as_ref().ok().unwrap().retry_after.as_deref(), Some("5"));
    assert_eq!(calls, ["fetch", "text"]);
    // No length, or a length with a Content-Encoding (it counts encoded bytes): streamed.
    for headers in [
        &[][..],
        &[("content-length", "7"), ("content-encoding", "gzip")],
    ] {
        let (got, calls) = post_with(|s| {
            s.response = response(200.0, headers);
            s.chunks.extend([chunk("{\"a\""), chunk(":1}")]);
        });
        assert_eq!(
            body(&got),
            Ok(&F::Obj(vec![("json", F::Str(String::from("{\"a\":1}")))]))
        );
        assert_eq!(calls, ["fetch", "getReader", "read", "read", "read"]);
    }
}

#[test]
fn the_cap_holds_with_a_length_without_one_and_after_a_text_read() {
    let over = (MAX_BODY_BYTES + 1).to_string();
    let (got, calls) = post_with(|s| s.response = response(200.0, &[("content-length", &over)]));
    assert_eq!(body(&got), Err(BodyError::TooLarge));
    assert_eq!(calls, ["fetch"], "nothing read, nothing aborted");
    let half = "x".repeat(MAX_BODY_BYTES / 2 + 1);
    let (got, calls) = post_with(|s| {
        s.response = response(200.0, &[]);
        s.chunks.extend([chunk(&half), chunk(&half), chunk("}")]);
    });
    assert_eq!(body(&got), Err(BodyError::TooLarge));
    assert_eq!(
        calls,
        [
            "fetch",
            "getReader",
            "read",
            "read",
            "cancel",
            "quiet Num(1.0)",
        ],
        "cut off at the chunk past the cap, the reader cancelled, its answer left alone"
    );
    // A body that is no WHATWG stream (node-fetch's): its text(), checked after.
    let no_stream = |text: F| {
        post_with(move |s| {
            s.response = response(200.0, &[]);
            if let F::Obj(o) = &mut s.response {
                o.retain(|(k, _)| *k != "body");
            }
            s.text = text;
        })
    };
    let (got, calls) = no_stream(F::Str("x".repeat(MAX_BODY_BYTES + 1)));
    assert_eq!(body(&got), Err(BodyError::TooLarge));
    assert_eq!(calls, ["fetch", "text"]);
    assert_eq!(
        body(&no_stream(F::Str(String::from("[1]"))).0),
        Err(BodyError::NotJsonObject)
    );
    assert_eq!(
        body(&no_stream(F::Num(1.0)).0),
        Err(BodyError::NotJsonObject)
    );
}

#[test]
fn a_stream_that_yields_no_bytes_fails_at_once_and_an_endless_one_is_cut_off() {
    for bad in [
        F::Num(1.0),
        F::Obj(vec![("value", F::Str(String::from("{}")))]),
    ] {
        let (got, calls) = post_with(|s| {
            s.response = response(200.0, &[]);
            s.chunks.push_back(bad);
        });
        assert_eq!(
            code(&got),
            "invalid_response: the body stream yielded something other than bytes"
        );
        assert_eq!(
            calls,
            [
                "fetch",
                "getReader",
                "read",
                "cancel",
                "quiet Num(1.0)",
                "abort"
            ]
        );
    }
    let (got, calls) = post_with(|s| {
        s.response = response(200.0, &[]);
        s.endless = true;
    });
    assert_eq!(body(&got), Err(BodyError::TooLarge));
    let reads = calls.iter().filter(|c| *c == "read").count();
    assert_eq!(reads, 65_536, "bounded by the chunk count");
    assert!(calls.contains(&String::from("cancel")));
}

#[test]
fn what_is_no_response_or_cannot_be_read_is_an_error_with_its_cause() {
    for not_a_response in [
        F::Num(200.0),
        response(600.0, &[]),
        response(200.5, &[]),
        response(f64::NAN, &[]),
    ] {
        let (got, _) = post_with(|s| s.response = not_a_response);
        assert_eq!(
            code(&got),
            "invalid_response: fetch did not resolve to a Response"
        );
    }
    assert!(
        matches!(
            post_with(|s| s.response = response(0.0, &[])).0,
            Ok(Response { status: 0, .. })
        ),
        "a browser's opaque redirect is a status"
    );
    let (got, _) = post_with(|s| {
        s.response = response(200.0, &[("content-length", "2")]);
        s.text = F::Threw("boom");
    });
    assert!(code(&got).starts_with("network_error: "));
    assert!(matches!(
        got,
        Err(Failure::OAuth(_, Some(F::Threw("boom"))))
    ));
    let (got, calls) = post_with(|s| s.response = F::Threw("refused"));
    assert!(code(&got).starts_with("network_error: "));
    assert_eq!(calls, ["fetch", "abort"]);
}

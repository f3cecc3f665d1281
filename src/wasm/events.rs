//! What a cache reports as it works: to the `onEvent` option and, in Node, to the
//! `freshtoken` diagnostics channel (the convention undici uses: subscribe with
//! `diagnostics_channel.subscribe('freshtoken', fn)`). An event is built only from values
//! that are never secret — its type, durations, attempt numbers, an HTTP status, an error
//! code — so no event can carry a token. A throwing listener is ignored.

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::RefCell;

use js_sys::{Function, Object};
use wasm_bindgen::prelude::*;

use super::fetch::Failure;
use super::js::{get, set, Global};
use crate::engine::Outcome;
use crate::error::Error;

/// The `freshtoken` channel once looked up: `null` where the host has none (browsers,
/// Workers), so the lookup happens once per instance.
static CHANNEL: Global<RefCell<Option<JsValue>>> = Global(RefCell::new(None));

/// `process.getBuiltinModule('node:diagnostics_channel').channel('freshtoken')`, or null.
fn channel() -> JsValue {
    if let Some(c) = CHANNEL.0.borrow().as_ref() {
        return c.clone();
    }
    let c = lookup().unwrap_or(JsValue::NULL);
    CHANNEL.0.replace(Some(c.clone()));
    c
}

fn lookup() -> Option<JsValue> {
    let process = get(&js_sys::global(), "process");
    let load = get(&process, "getBuiltinModule")
        .dyn_into::<Function>()
        .ok()?;
    let dc = load
        .call1(&process, &"node:diagnostics_channel".into())
        .ok()?;
    let make = get(&dc, "channel").dyn_into::<Function>().ok()?;
    make.call1(&dc, &"freshtoken".into()).ok()
}

/// One refresh job's reporter: the cache's `onEvent`, the channel when someone subscribed.
pub struct Events<'a> {
    hook: Option<&'a Function>,
    channel: JsValue,
    started: f64,
    attempts: u32,
    last_failed: bool,
}

impl<'a> Events<'a> {
    /// The sinks for a cache with this `onEvent`.
    pub fn new(hook: Option<&'a Function>) -> Events<'a> {
        let c = channel();
        let on = c.is_object() && get(&c, "hasSubscribers").is_truthy();
        Events {
            hook,
            channel: if on { c } else { JsValue::NULL },
            started: js_sys::Date::now(),
            attempts: 0,
            last_failed: false,
        }
    }

    /// Nobody listens: no event is built (its fields cost calls into JS).
    fn quiet(&self) -> bool {
        self.hook.is_none() && self.channel.is_null()
    }

    /// `refreshStart { forced }`.
    #[inline(never)]
    pub fn start(&self, forced: bool) {
        self.emit("refreshStart", &[("forced", forced.into())]);
    }

    /// `storeRead` / `storeWrite` / `lock` `{ ok, durationMs }` (`ok`: found, written, taken).
    #[inline(never)]
    pub fn store(&self, kind: &'static str, ok: bool, since: f64) {
        if self.quiet() {
            return;
        }
        self.emit(kind, &[("ok", ok.into()), ("durationMs", elapsed(since))]);
    }

    /// `request { attempt, durationMs, ok, status, code }`.
    #[inline(never)]
    pub fn request(&mut self, failure: Option<&Failure>, since: f64) {
        self.attempts += 1;
        self.last_failed = failure.is_some();
        if self.quiet() {
            return;
        }
        let e = match failure {
            Some(Failure::OAuth(e, _)) => Some(e),
            _ => None,
        };
        let status = e.and_then(|e| e.status).map(f64::from);
        let fields = [
            ("attempt", self.attempts.into()),
            ("durationMs", elapsed(since)),
            ("ok", failure.is_none().into()),
            ("status", status.map_or(JsValue::UNDEFINED, JsValue::from)),
            ("code", code(e)),
        ];
        self.emit("request", &fields);
    }

    /// `retryScheduled` after a failed request, else `lockWait`: `{ delayMs, attempt }`.
    #[inline(never)]
    pub fn sleep(&mut self, ms: f64) {
        let kind = if self.last_failed {
            "retryScheduled"
        } else {
            "lockWait"
        };
        self.last_failed = false;
        if self.quiet() {
            return;
        }
        let fields = [("delayMs", ms.into()), ("attempt", self.attempts.into())];
        self.emit(kind, &fields);
    }

    /// `refreshEnd { ok, durationMs, attempts, code }`.
    #[inline(never)]
    pub fn end(&self, outcome: &Outcome) {
        if self.quiet() {
            return;
        }
        let failed = match outcome {
            Outcome::Failed(e) => Some(e),
            _ => None,
        };
        let fields = [
            ("ok", matches!(outcome, Outcome::Token).into()),
            ("durationMs", elapsed(self.started)),
            ("attempts", self.attempts.into()),
            ("code", code(failed)),
        ];
        self.emit("refreshEnd", &fields);
    }

    /// Reports `{ type: kind, …fields }` if anyone listens.
    #[inline(never)]
    pub fn emit(&self, kind: &'static str, fields: &[(&'static str, JsValue)]) {
        if self.quiet() {
            return;
        }
        let event: JsValue = Object::new().into();
        set(&event, "type", &kind.into());
        for (k, v) in fields {
            set(&event, k, v);
        }
        if let Some(h) = self.hook {
            let _ = h.call1(&JsValue::UNDEFINED, &event);
        }
        if let Ok(publish) = get(&self.channel, "publish").dyn_into::<Function>() {
            let _ = publish.call1(&self.channel, &event);
        }
    }
}

fn elapsed(since: f64) -> JsValue {
    (js_sys::Date::now() - since).into()
}

/// A failure's stable code (never its message).
fn code(e: Option<&Error>) -> JsValue {
    e.map_or(JsValue::UNDEFINED, |e| e.code.as_str().into())
}

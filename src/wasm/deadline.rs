//! The time limit and the caller's signal for one request: every awaited step of a
//! request races against them, so a `fetch` or body stream that ignores the abort still
//! cannot hang a call.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal};

use super::fetch::Failure;
use super::js;
use crate::drive::http::Interrupt;

/// `setTimeout` takes a signed 32-bit delay; longer ones fire at once, so they mean "none".
const MAX_TIMER_MS: f64 = 2_147_483_647.0;

/// The time limit and the caller's signal for one request. Every awaited step races
/// against them, so a `fetch` or body stream that ignores the abort still cannot hang us.
/// Dropping it clears the timer, detaches from the caller's signal and aborts the request.
pub struct Deadline {
    /// Aborts the request; its signal goes to `fetch`.
    pub controller: AbortController,
    timeout_ms: f64,
    /// The value the timer rejects with: identity tells a timeout from other failures.
    token: JsValue,
    timer: Option<(Promise, JsValue)>,
    signal: Option<(AbortSignal, Promise, Function)>,
    /// Set once the whole response is in: nothing is left to abort (and in Node an
    /// `abort()` costs a DOMException with a stack, most of a refresh's CPU time).
    pub done: core::cell::Cell<bool>,
}

impl Deadline {
    /// Starts the timer and listens to `signal`.
    pub fn start(timeout_ms: f64, signal: Option<&AbortSignal>) -> Result<Deadline, Failure> {
        let token: JsValue = Object::new().into();
        let controller = AbortController::new().map_err(Failure::Thrown)?;
        let mut deadline = Deadline {
            controller,
            timeout_ms,
            token,
            timer: None,
            signal: None,
            done: core::cell::Cell::new(false),
        };
        if let Some(s) = signal {
            let mut listener = None;
            let p = Promise::new(&mut |_, reject| {
                let _ = s.add_event_listener_with_callback("abort", &reject);
                listener = Some(reject);
            });
            deadline.signal = listener.map(|l| (s.clone(), p, l));
            if s.aborted() {
                return Err(deadline.fail(JsValue::UNDEFINED));
            }
        }
        if timeout_ms <= MAX_TIMER_MS {
            let mut id = JsValue::UNDEFINED;
            let token = &deadline.token;
            let p = Promise::new(&mut |_, reject| id = js::set_timeout(&reject, timeout_ms, token));
            deadline.timer = Some((p, id));
        }
        Ok(deadline)
    }

    /// `step` (a promise, or a value taken as is), unless the timer or the signal fires
    /// first.
    pub async fn race(&self, step: JsValue) -> Result<JsValue, Failure> {
        let racers = Array::of1(&Promise::resolve(&step));
        if let Some((p, _)) = &self.timer {
            racers.push(p);
        }
        if let Some((_, p, _)) = &self.signal {
            racers.push(p);
        }
        JsFuture::from(Promise::race(&racers))
            .await
            .map_err(|reason| self.fail(reason))
    }

    /// The failure of a step that failed with `reason`: the timer's, the caller's signal
    /// (when it has fired), or the step's own.
    pub fn fail(&self, reason: JsValue) -> Failure {
        let aborted = self.signal.as_ref().filter(|(s, _, _)| s.aborted());
        let why = match aborted {
            _ if reason == self.token => Interrupt::Timeout(self.timeout_ms),
            Some((s, _, _)) => Interrupt::Aborted(s.reason()),
            None => Interrupt::Failed(reason),
        };
        why.failure()
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let Some((_, id)) = &self.timer {
            js::clear_timeout(id);
        }
        if let Some((s, _, listener)) = &self.signal {
            let _ = s.remove_event_listener_with_callback("abort", listener);
        }
        if !self.done.get() {
            self.controller.abort();
        }
    }
}

//! Drives one refresh job of [`crate::engine`]: performs each action with the host (store,
//! `fetch`, timers, `onTokens`) and feeds the outcome back. No decision is made here.
//!
//! No `RefCell` borrow lives across an `.await`: the state is borrowed only inside
//! `Job::step` and while the views are synced.

#[allow(unused_imports)]
use crate::prelude::*;

use wasm_bindgen::prelude::*;

use super::events::Events;
use super::fetch::Failure;
use super::inner::{views_token_set, Inner};
use super::js;
use crate::cache::{Stored, Token};
use crate::engine::{Action, Event, Job, Outcome};
use crate::secret::Secret;

/// One refresh job, from start to outcome.
pub async fn run(inner: &Inner, force: bool) -> Result<JsValue, Failure> {
    let o = &inner.opts;
    let mut job = Job::new(force, o.store.is_some(), o.on_tokens.is_some());
    if let Some(l) = o.lock {
        job = job.with_lock(l);
    }
    // Who holds the store's lock: unique per job, not a secret.
    let owner: JsValue = js_sys::Number::from(js_sys::Math::random())
        .to_string_with_radix(36)
        .map_or(JsValue::NULL, JsValue::from);
    let mut event = Event::Start;
    // The first store or hook error, the last request error's cause, the newest response.
    let mut host_error: Option<JsValue> = None;
    let mut cause: Option<JsValue> = None;
    let mut granted: Option<(Secret, JsValue)> = None;
    let mut built: Option<(Secret, JsValue)> = None;
    let mut events = Events::new(o.on_event.as_ref());
    events.start(force);
    loop {
        let action = job.step(&mut inner.state.borrow_mut(), &o.policy, event);
        let t = js_sys::Date::now();
        event = match action {
            Action::ReadStore => match js::settle(inner.store_call("get", &[])).await {
                Ok(v) => {
                    let entry = js::stored(&v)?;
                    events.store("storeRead", entry.is_some(), t);
                    Event::Stored(entry, inner.now()?)
                }
                Err(e) => {
                    events.store("storeRead", false, t);
                    host_failed(&mut host_error, e)
                }
            },
            Action::Send(rt) => {
                let got = send(inner, &rt).await;
                events.request(got.as_ref().err(), t);
                let (result, sent_at) = match got {
                    Ok(g) => {
                        granted = Some((g.fields.access_token.clone(), g.raw));
                        (Ok(g.fields), g.sent_at)
                    }
                    Err(Failure::OAuth(e, c)) => {
                        cause = c;
                        (Err(e), 0.0)
                    }
                    Err(thrown) => return Err(thrown),
                };
                let jitter = js_sys::Math::random();
                Event::Response {
                    result,
                    sent_at,
                    jitter,
                }
            }
            Action::Lock(ttl) => {
                let taken = js::settle(inner.store_call("lock", &[&owner, &ttl.into()])).await;
                events.store("lock", taken.as_ref().is_ok_and(JsValue::is_truthy), t);
                match taken {
                    Ok(v) => Event::Locked {
                        taken: v.is_truthy(),
                        now: inner.now()?,
                        jitter: js_sys::Math::random(),
                    },
                    Err(e) => host_failed(&mut host_error, e),
                }
            }
            Action::Unlock => match js::settle(inner.store_call("unlock", &[&owner])).await {
                Ok(_) => Event::Unlocked,
                Err(_) => Event::HostFailed, // the lock expires by its TTL
            },
            Action::Sleep(ms) => {
                events.sleep(ms);
                js::sleep(ms).await;
                Event::Slept
            }
            Action::WriteStore(entry) => {
                let written = write(inner, &entry, &mut host_error).await;
                events.store("storeWrite", matches!(written, Event::Written), t);
                written
            }
            Action::CallHook(t) => {
                let raw = granted.as_ref().map_or(JsValue::UNDEFINED, |g| g.1.clone());
                let (set, called) = call_hook(inner, &t, &raw);
                built = Some((t.access_token, set));
                match js::settle(called).await {
                    Ok(_) => Event::HookDone,
                    Err(e) => host_failed(&mut host_error, e),
                }
            }
            Action::Done(outcome) => {
                events.end(&outcome);
                inner.sync_views(built, granted);
                return match outcome {
                    Outcome::Token => Ok(views_token_set(inner)),
                    Outcome::Failed(e) => Err(Failure::OAuth(e, cause)),
                    Outcome::HostError => Err(Failure::Thrown(host_error.unwrap_or_default())),
                };
            }
        };
    }
}

/// The refresh request with `rt`, redacting every secret the cache holds or held.
async fn send(inner: &Inner, rt: &Secret) -> Result<super::fetch::Granted, Failure> {
    let held = held(inner)?;
    let held: Vec<&str> = held.iter().map(Secret::expose).collect();
    super::grant::refresh(&inner.opts.refresh, rt, &held).await
}

/// Copies of every secret the cache holds or held (no borrow may live across the send),
/// once there is room for them.
#[inline(never)]
fn held(inner: &Inner) -> Result<Vec<Secret>, crate::error::Error> {
    let state = inner.state.borrow();
    let mut n = 0;
    for s in state.secrets() {
        n += s.len();
    }
    // And room for the request they go into (see `RefreshOptions::parse`).
    super::memory::room(n * 12)?;
    Ok(state.secrets().map(Secret::new).collect())
}

/// Calls `onTokens` with the TokenSet of `t`; returns that set and what the hook returned.
fn call_hook(inner: &Inner, t: &Token, raw: &JsValue) -> (JsValue, Result<JsValue, JsValue>) {
    let rt = inner.state.borrow().refresh_token.clone();
    let set = js::token_set(&t.fields(), raw, Some(&rt));
    let hook = inner.opts.on_tokens.as_ref();
    let called = hook.map_or(Ok(JsValue::UNDEFINED), |h| {
        h.call1(&JsValue::UNDEFINED, &set)
    });
    (set, called)
}

fn host_failed(first: &mut Option<JsValue>, e: JsValue) -> Event {
    first.get_or_insert(e);
    Event::HostFailed
}

async fn write(inner: &Inner, entry: &Stored, host_error: &mut Option<JsValue>) -> Event {
    let value = js::store_value(entry);
    match js::settle(inner.store_call("put", &[&value])).await {
        Ok(_) => Event::Written,
        Err(e) => host_failed(host_error, e),
    }
}

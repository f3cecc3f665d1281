//! Drives one refresh job of [`crate::engine`]: performs each action with the host (store,
//! `fetch`, timers, `onTokens`) and feeds the outcome back. No decision is made here.
//!
//! No `RefCell` borrow lives across an `.await`: the state is borrowed only inside
//! `Job::step` and while the views are synced.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::RefCell;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;

use super::events::Events;
use super::fetch::{self, Failure};
use super::js::{self, get};
use super::options::CacheOptions;
use crate::cache::{Serve, State, Stored, Token};
use crate::engine::{Action, Event, Job, Outcome};
use crate::secret::Secret;

/// A cache's shared insides: options, core state, and what JS is served.
pub struct Inner {
    /// Every option, read once.
    pub opts: CacheOptions,
    /// The core's state.
    pub state: RefCell<State>,
    /// What callers are served: the published token and its JS views.
    pub views: RefCell<Option<Views>>,
    /// The refresh job in flight; resolves to its TokenSet.
    pub inflight: RefCell<Option<Promise>>,
    /// The last failed refresh's rejection, every waiting caller's during the cooldown.
    pub failure: RefCell<Option<JsValue>>,
}

/// The published token, and its JS views made once per refresh so a hit costs no encoding.
/// Hits judge freshness by this copy, never by the core's state, which a job may change
/// before it publishes.
pub struct Views {
    /// The token the views show.
    pub token: Token,
    /// `accessToken`, as a JS string.
    pub access_token: JsValue,
    /// The whole TokenSet.
    pub token_set: JsValue,
    /// Already-resolved promises of the two, handed out on every hit: a settled promise
    /// can be awaited any number of times, and making one per hit was half its cost.
    pub access_token_promise: Promise,
    /// See `access_token_promise`.
    pub token_set_promise: Promise,
}

impl Inner {
    /// The caller's clock.
    pub fn now(&self) -> Result<f64, Failure> {
        fetch::now(self.opts.refresh.now.as_ref())
    }

    /// How the published token serves a caller at `now` (`Stale` when there is none), and
    /// `pick` of its views unless stale: one borrow per cache hit.
    pub fn serve<T>(&self, now: f64, pick: impl FnOnce(&Views) -> T) -> (Serve, Option<T>) {
        let views = self.views.borrow();
        let Some(v) = views.as_ref() else {
            return (Serve::Stale, None);
        };
        let serve = v.token.serve(now, &self.opts.policy);
        (serve, (serve != Serve::Stale).then(|| pick(v)))
    }

    /// The last failure's rejection, while its cooldown lasts.
    pub fn cooling(&self, now: f64) -> Option<JsValue> {
        if !self.state.borrow().cooling(now) {
            return None;
        }
        self.failure.borrow().clone()
    }

    /// Publishes `token_set` (whose token is `token`) to callers.
    pub fn set_views(&self, token: Token, token_set: JsValue) {
        let access_token = get(&token_set, "accessToken");
        self.views.replace(Some(Views {
            token,
            access_token_promise: Promise::resolve(&access_token),
            token_set_promise: Promise::resolve(&token_set),
            access_token,
            token_set,
        }));
    }

    /// Makes the views show the core's token: `built` when it is that token's TokenSet
    /// already (the one `onTokens` saw), else a new one, with `raw` when `granted` says the
    /// token came from that response (a token adopted from the store has `raw: {}`).
    fn sync_views(&self, built: Option<(Secret, JsValue)>, granted: Option<(Secret, JsValue)>) {
        let st = self.state.borrow();
        let Some(t) = st.token.clone() else {
            drop(st);
            self.views.replace(None);
            return;
        };
        let same = self.views.borrow().as_ref().is_some_and(|v| v.token == t);
        if same {
            return;
        }
        let set = match (built, granted) {
            (Some((at, set)), _) if at == t.access_token => set,
            (_, Some((at, raw))) if at == t.access_token => {
                js::token_set(&t.fields(), &raw, Some(&st.refresh_token))
            }
            _ => js::token_set(&t.fields(), &Object::new().into(), Some(&st.refresh_token)),
        };
        drop(st);
        self.set_views(t, set);
    }

    /// Calls `store[name](key, …args)`.
    pub fn store_call(&self, name: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
        let none = JsValue::UNDEFINED;
        let store = self.opts.store.as_ref().unwrap_or(&none);
        let f: Function = get(store, name).unchecked_into();
        let key = JsValue::from_str(&self.opts.store_key);
        match args {
            [] => f.call1(store, &key),
            [v] => f.call2(store, &key, v),
            [a, b, ..] => f.call3(store, &key, a, b),
        }
    }
}

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

/// The published TokenSet (after a job that ended with a token).
pub fn views_token_set(inner: &Inner) -> JsValue {
    inner
        .views
        .borrow()
        .as_ref()
        .map_or(JsValue::UNDEFINED, |v| v.token_set.clone())
}

/// The host's `waitUntil`, when it has one (see `setKeepAlive`).
static KEEP_ALIVE: js::Global<RefCell<Option<Function>>> = js::Global(RefCell::new(None));

/// Sets (or with `None` clears) the host's `waitUntil`.
pub fn set_keep_alive(f: Option<Function>) {
    KEEP_ALIVE.0.replace(f);
}

/// The shared refresh job of `inner`: joins the one in flight, or starts one.
pub fn job(inner: &Rc<Inner>, force: bool) -> Promise {
    if let Some(p) = inner.inflight.borrow().as_ref() {
        return p.clone();
    }
    let me = inner.clone();
    let p = js::promise(async move {
        let result = run(&me, force).await;
        me.inflight.replace(None);
        result.map_err(|f| me.failed(f))
    });
    inner.inflight.replace(Some(p.clone()));
    keep_alive(&p);
    p
}

impl Inner {
    /// Remembers a failed refresh for the cooldown; returns its rejection.
    fn failed(&self, f: Failure) -> JsValue {
        let cool = match (&f, self.now()) {
            (Failure::OAuth(e, _), Ok(now)) => Some((e.clone(), now)),
            _ => None,
        };
        let js = f.into_js();
        if let Some((e, now)) = cool {
            let policy = &self.opts.policy;
            self.state.borrow_mut().cool_down(&e, now, policy);
            self.failure.replace(Some(js.clone()));
        }
        js
    }
}

/// Starts a background refresh of a token still served (none while one runs or while a
/// failure cools down). Its rejection is not left unhandled: the next caller sees it.
pub fn ahead(inner: &Rc<Inner>, now: f64) {
    if inner.inflight.borrow().is_some() || inner.state.borrow().cooling(now) {
        return;
    }
    Events::new(inner.opts.on_event.as_ref()).emit("backgroundRefresh", &[]);
    let _ = js::quiet(&job(inner, false));
}

/// Hands a job to the host's `waitUntil`, as a promise that never rejects (the job's
/// error belongs to its callers, not to the host's log). Outside a request `waitUntil`
/// throws: nothing needs keeping alive there, so that is ignored.
fn keep_alive(job: &Promise) {
    let Some(wait_until) = KEEP_ALIVE.0.borrow().clone() else {
        return;
    };
    let _ = wait_until.call1(&JsValue::UNDEFINED, &js::quiet(job));
}

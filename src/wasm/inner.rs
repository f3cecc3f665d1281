//! A cache's shared insides (options, core state, the published token's views) and how
//! its refresh jobs are shared: one in flight, joined by every caller; one started ahead
//! in the background; each handed to the host's `waitUntil`.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::RefCell;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;

use super::driver::publish;
use super::fetch::{self, Failure};
use super::js::{self, get};
use super::options::CacheOptions;
use crate::cache::{Serve, State, Token};
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
    pub fn sync_views(&self, built: Option<(Secret, JsValue)>, granted: Option<(Secret, JsValue)>) {
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
    pub fn store_call(&self, name: &'static str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
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
        let ended = crate::drive::job::run(&*me, force).await;
        let result = publish(&me, ended);
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
    crate::drive::events::Events::new(&**inner).background();
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

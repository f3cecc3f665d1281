//! A cache's host side ([`crate::drive::job::Cache`]): the store, `onTokens`, timers,
//! promises, listeners and `cache.fetch`'s `Request` of the JS host. What they are used
//! for is decided in [`crate::drive`].

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::RefCell;
use core::future::Future;

use wasm_bindgen::prelude::*;

use js_sys::{Function, Object, Promise};

use super::error::to_js;
use super::events;
use super::fetch;
use super::js::{self, get, Request};
use super::options::{CacheOptions, RefreshOptions};
use crate::cache::{State, Stored};
use crate::drive::events::Field;
use crate::drive::job::{Cache, Task};
use crate::error::Error;
use crate::response::TokenFields;
use crate::secret::Secret;

/// A cache's host side: its options and the core's state.
pub struct Inner {
    /// Every option, read once.
    pub opts: CacheOptions,
    /// The core's state.
    pub state: RefCell<State>,
}

/// The host's `waitUntil`, when it has one (see `setKeepAlive`).
static KEEP_ALIVE: js::Global<RefCell<Option<Function>>> = js::Global(RefCell::new(None));

/// Sets (or with `None` clears) the host's `waitUntil`.
pub fn set_keep_alive(f: Option<Function>) {
    KEEP_ALIVE.0.replace(f);
}

impl Cache for Inner {
    type V = JsValue;

    fn options(&self) -> &CacheOptions {
        &self.opts
    }

    fn state(&self) -> &RefCell<State> {
        &self.state
    }

    fn store(&self, method: &'static str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
        let none = JsValue::UNDEFINED;
        let store = self.opts.store.as_ref().unwrap_or(&none);
        let f: Function = get(store, method).unchecked_into();
        let key = JsValue::from_str(&self.opts.store_key);
        match args {
            [] => f.call1(store, &key),
            [v] => f.call2(store, &key, v),
            [a, b, ..] => f.call3(store, &key, a, b),
        }
    }

    fn settle(
        returned: Result<JsValue, JsValue>,
    ) -> impl Future<Output = Result<JsValue, JsValue>> {
        js::settle(returned)
    }

    fn number(n: f64) -> JsValue {
        n.into()
    }

    fn entry(value: &JsValue) -> Result<Option<Stored>, Error> {
        js::stored(value)
    }

    fn value(entry: &Stored) -> JsValue {
        js::store_value(entry)
    }

    /// A TokenSet's `raw` is always an object: `{}` for a token with no response behind it.
    fn token_set(t: &TokenFields, raw: &JsValue, rt: &Secret) -> JsValue {
        let empty;
        let raw = if raw.is_undefined() {
            empty = Object::new().into();
            &empty
        } else {
            raw
        };
        js::token_set(t, raw, Some(rt))
    }

    fn call_hook(&self, set: &JsValue) -> Result<JsValue, JsValue> {
        let hook = self.opts.on_tokens.as_ref();
        hook.map_or(Ok(JsValue::UNDEFINED), |h| {
            h.call1(&JsValue::UNDEFINED, set)
        })
    }

    fn timer(ms: f64) -> JsValue {
        js::timer(ms).into()
    }

    fn random() -> f64 {
        js_sys::Math::random()
    }

    fn owner() -> JsValue {
        js_sys::Number::from(js_sys::Math::random())
            .to_string_with_radix(36)
            .map_or(JsValue::NULL, JsValue::from)
    }

    fn clock() -> f64 {
        js_sys::Date::now()
    }

    fn listening(&self) -> bool {
        self.opts.on_event.is_some() || events::channel_on()
    }

    fn emit(&self, kind: &'static str, fields: &[(&'static str, Field<'_>)]) {
        events::emit(self.opts.on_event.as_ref(), kind, fields);
    }

    fn spawn(f: Task<JsValue>) -> Result<JsValue, JsValue> {
        js::spawn(f).map(JsValue::from).map_err(JsValue::from)
    }

    fn settled(v: Result<&JsValue, &JsValue>) -> JsValue {
        match v {
            Ok(v) => Promise::resolve(v).into(),
            Err(e) => Promise::reject(e).into(),
        }
    }

    /// As a promise that never rejects (the job's error belongs to its callers, not to the
    /// host's log). Outside a request `waitUntil` throws: nothing needs keeping alive there.
    fn keep_alive(job: &JsValue) {
        let Some(wait_until) = KEEP_ALIVE.0.borrow().clone() else {
            return;
        };
        let _ = wait_until.call1(&JsValue::UNDEFINED, &js::quiet(job.unchecked_ref()));
    }

    fn access_token_of(job: &JsValue) -> JsValue {
        js::access_token_of(job)
    }

    fn request(
        opts: &RefreshOptions,
        input: &JsValue,
        init: &JsValue,
    ) -> Result<(JsValue, JsValue), JsValue> {
        let fetch = fetch::fetch_fn(opts.fetch.as_ref()).map_err(|e| to_js(&e, None))?;
        let request = Request::new(input, init).map_err(|e| {
            let bad = Error::invalid_option("fetch(input, init)", "is not a valid Request");
            to_js(&bad, Some(&e))
        })?;
        Ok((fetch.into(), request.into()))
    }

    fn streams(init: &JsValue) -> bool {
        get(&get(init, "body"), "getReader").is_function()
    }

    fn duplicate(request: &JsValue) -> Result<JsValue, JsValue> {
        request
            .unchecked_ref::<Request>()
            .duplicate()
            .map(JsValue::from)
    }

    fn send(fetch: &JsValue, request: &JsValue, token: &JsValue) -> Result<JsValue, JsValue> {
        let bearer = js_sys::JsString::from("Bearer ").concat(token);
        let req: &Request = request.unchecked_ref();
        req.headers().put("authorization", &bearer)?;
        fetch
            .unchecked_ref::<Function>()
            .call1(&JsValue::UNDEFINED, request)
    }

    fn quiet(p: &JsValue) {
        let _ = js::quiet(p.unchecked_ref());
    }
}

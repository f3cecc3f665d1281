//! A cache's host side ([`crate::drive::job::Cache`]): the store, `onTokens`, timers and
//! listeners of the JS host. The job itself is driven by [`crate::drive::job`].

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::RefCell;
use core::future::Future;

use wasm_bindgen::prelude::*;

use super::events;
use super::fetch::Failure;
use super::inner::{views_token_set, Inner};
use super::js;
use super::options::CacheOptions;
use crate::cache::{State, Stored};
use crate::drive::events::Field;
use crate::drive::job::{Cache, Ended};
use crate::error::Error;
use crate::response::TokenFields;
use crate::secret::Secret;

/// After a job: publishes what it left in the state; its TokenSet, or its rejection.
pub fn publish(inner: &Inner, ended: Result<Ended<JsValue>, Failure>) -> Result<JsValue, Failure> {
    let ended = ended?;
    inner.sync_views(ended.built, ended.granted);
    ended.result.map(|()| views_token_set(inner))
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
        self.store_call(method, args)
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

    fn token_set(t: &TokenFields, raw: &JsValue, rt: &Secret) -> JsValue {
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
}

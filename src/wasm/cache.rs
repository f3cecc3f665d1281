//! `TokenCache`: the JS face of the cache. Each method is a few lines: options are read
//! by [`super::options`], decisions made by [`crate::engine`], the job driven by
//! [`super::driver`].
//!
//! Concurrency: every exported method takes `&self` and no `RefCell` borrow lives across an
//! `.await`, so any number of concurrent JS calls are safe. At most one refresh job runs at a
//! time: its promise is kept in `inflight` and every caller that finds the token stale
//! awaits that same promise.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::RefCell;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::error::to_js;
use super::fetch::Failure;
use super::inner::{self, Inner, Views};
use super::js::{self, get};
use super::options::CacheOptions;
use crate::cache::{Serve, State, Token};
use crate::error::Error;
use crate::secret::Secret;

/// Keeps an access token fresh: cached while fresh, one refresh for any number of
/// concurrent callers, a rotated refresh token never lost, an optional KV-style store.
/// `inspectable`: wasm-bindgen derives `toJSON()`, `toString()` and Node's `util.inspect`
/// from the getters (`expiresAt`, `hasToken`, `refreshing`, `storeKey`), none of which is a
/// secret.
#[wasm_bindgen(inspectable)]
pub struct TokenCache {
    pub(super) inner: Rc<Inner>,
}

#[wasm_bindgen]
impl TokenCache {
    /// Validates the options and builds the cache. Throws `invalid_options` / `insecure_url`
    /// synchronously.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<TokenCache, JsValue> {
        let opts = CacheOptions::read(&options, None).map_err(|e| to_js(&e, None))?;
        Ok(Self::with(opts))
    }

    /// A cache seeded with a TokenSet you already have (from `exchangeCode`): no first
    /// refresh. `options.refreshToken` defaults to `tokenSet.refreshToken`. Throws like the
    /// constructor, and `invalid_options` for a TokenSet without an `accessToken` string.
    #[wasm_bindgen(js_name = fromTokenSet)]
    pub fn from_token_set(token_set: JsValue, options: JsValue) -> Result<TokenCache, JsValue> {
        Self::seeded(&token_set, &options).map_err(Failure::into_js)
    }

    /// The access token: from memory while fresh, else from one (shared) refresh.
    #[wasm_bindgen(js_name = getAccessToken)]
    pub fn get_access_token(&self) -> Promise {
        self.get(|v| v.access_token_promise.clone(), "accessToken")
    }

    /// The whole TokenSet, by the same rules as `getAccessToken`.
    #[wasm_bindgen(js_name = getToken)]
    pub fn get_token(&self) -> Promise {
        self.get(|v| v.token_set_promise.clone(), "")
    }

    /// Joins a refresh in flight, or sends one now (even if the store holds a fresh token).
    pub fn refresh(&self) -> Promise {
        inner::job(&self.inner, true)
    }

    /// Forgets the access token (after a 401); keeps the refresh token. With an
    /// `accessToken`, only if that is the held one (see `minTokenAgeMs`);
    /// returns whether it was dropped. The token is never taken back from the store. A
    /// non-string argument is ignored, as JS ignores extra arguments.
    pub fn invalidate(&self, access_token: JsValue) -> bool {
        let dropped = match access_token.as_string() {
            None => {
                self.inner.state.borrow_mut().invalidate();
                true
            }
            Some(at) => {
                let Ok(now) = self.inner.now() else {
                    return false;
                };
                let min_age = self.inner.opts.policy.min_token_age_ms;
                let at = Secret::new(at);
                self.inner
                    .state
                    .borrow_mut()
                    .invalidate_token(&at, now, min_age)
            }
        };
        if dropped || self.inner.state.borrow().token.is_none() {
            self.inner.views.replace(None);
        }
        dropped
    }

    /// The access token if it is fresh now, else `undefined`. Synchronous. If the caller's
    /// `now` throws, freshness is unknown: `undefined` (the next `getAccessToken` rejects
    /// with that error). Never shows a token before `store.put` and `onTokens` have seen it.
    ///
    /// Returns the value itself, not a `Result`: a fallible return costs a result array and
    /// a second call into the module on every peek. Never `throw_val` here instead: a JS
    /// exception unwinding through wasm skips restoring the shadow stack pointer, and a
    /// thousand of them corrupt memory (tests/js/leak.test.mjs checks 300,000 throws).
    pub fn peek(&self) -> JsValue {
        let Ok(now) = self.inner.now() else {
            return JsValue::UNDEFINED;
        };
        match self.inner.serve(now, |v| v.access_token.clone()) {
            (Serve::Fresh, Some(at)) => at,
            _ => JsValue::UNDEFINED,
        }
    }

    /// When the held access token expires (epoch ms), if one is held.
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> JsValue {
        // A JsValue, not Option<f64>: the optional number costs a multivalue shim.
        let views = self.inner.views.borrow();
        views
            .as_ref()
            .map_or(JsValue::UNDEFINED, |v| v.token.expires_at.into())
    }

    /// `fetch` with `Authorization: Bearer …`; on a 401, invalidates that token, refreshes
    /// once (joining any refresh in flight) and retries once, unless the body is a stream.
    pub fn fetch(&self, input: JsValue, init: JsValue) -> Promise {
        let this = TokenCache {
            inner: self.inner.clone(),
        };
        js::promise(async move { super::bearer::fetch(&this, &input, &init).await })
    }

    /// Revokes the refresh token at `revocationUrl` (RFC 7009), then forgets the tokens: in
    /// memory, and in the store (an entry without tokens, which reads as absent). Rejects
    /// with `invalid_options` without a `revocationUrl`; if the server refuses, nothing is
    /// forgotten.
    pub fn revoke(&self) -> Promise {
        let inner = self.inner.clone();
        js::promise(async move { revoke(&inner).await.map_err(Failure::into_js) })
    }

    /// Whether an access token is held (fresh or not).
    #[wasm_bindgen(getter, js_name = hasToken)]
    pub fn has_token(&self) -> bool {
        self.inner.views.borrow().is_some()
    }

    /// Whether a refresh job is in flight.
    #[wasm_bindgen(getter)]
    pub fn refreshing(&self) -> bool {
        self.inner.inflight.borrow().is_some()
    }

    /// The store key in use (never a secret: a hash when not set). Two caches with the same
    /// key refresh the same grant.
    #[wasm_bindgen(getter, js_name = storeKey)]
    pub fn store_key(&self) -> String {
        self.inner.opts.store_key.clone()
    }
}

impl TokenCache {
    fn with(opts: CacheOptions) -> TokenCache {
        let state = State::new(opts.refresh.refresh_token.clone());
        TokenCache {
            inner: Rc::new(Inner {
                opts,
                state: RefCell::new(state),
                views: RefCell::new(None),
                inflight: RefCell::new(None),
                failure: RefCell::new(None),
            }),
        }
    }

    /// What the caller's `now` throws passes through unchanged, as everywhere else.
    fn seeded(token_set: &JsValue, options: &JsValue) -> Result<TokenCache, Failure> {
        let seed = Some(token_set).filter(|s| s.is_object());
        let cache = Self::with(CacheOptions::read(options, seed)?);
        let fields = js::token_fields(token_set)?
            .ok_or_else(|| Error::invalid_option("tokenSet", "has no accessToken"))?;
        let now = cache.inner.now()?;
        let inner = &cache.inner;
        let token = Token::from_fields(&fields, now, &inner.opts.policy);
        let raw = get(token_set, "raw");
        let raw = if raw.is_object() {
            raw
        } else {
            Object::new().into()
        };
        let set = js::token_set(
            &token.fields(),
            &raw,
            Some(&inner.state.borrow().refresh_token),
        );
        inner.state.borrow_mut().publish(token.clone());
        inner.set_views(token, set);
        Ok(cache)
    }

    /// A hit resolves at once from the cached JS value — also within the skew, where it
    /// starts a background refresh; a miss shares the last failure during its cooldown, or
    /// awaits the shared job.
    fn get(&self, pick: fn(&Views) -> Promise, field: &'static str) -> Promise {
        let now = match self.inner.now() {
            Ok(now) => now,
            Err(f) => return Promise::reject(&f.into_js()),
        };
        if let (serve, Some(hit)) = self.inner.serve(now, pick) {
            if serve == Serve::Ahead {
                inner::ahead(&self.inner, now);
            }
            return hit;
        }
        if let Some(e) = self.inner.cooling(now) {
            return Promise::reject(&e);
        }
        let job = inner::job(&self.inner, false);
        if field.is_empty() {
            return job;
        }
        js::promise(async move {
            let set = JsFuture::from(job).await?;
            Ok(get(&set, field))
        })
    }
}

/// Hosts whose I/O belongs to the request that started it (workerd) pass their
/// `waitUntil` here; the `workerd` entry does it for you. Every refresh job is then handed
/// to it, so a refresh that other requests wait on is not cancelled when the request that
/// started it responds first. `undefined` turns it off.
#[wasm_bindgen(js_name = setKeepAlive)]
pub fn set_keep_alive(wait_until: JsValue) -> Result<(), JsValue> {
    if wait_until.is_undefined() {
        inner::set_keep_alive(None);
        return Ok(());
    }
    let f = wait_until.dyn_into::<Function>().map_err(|_| {
        to_js(
            &Error::invalid_option("setKeepAlive", "must be a function or undefined"),
            None,
        )
    })?;
    inner::set_keep_alive(Some(f));
    Ok(())
}

async fn revoke(inner: &Inner) -> Result<JsValue, Failure> {
    let o = &inner.opts;
    let url = o
        .revocation_url
        .as_deref()
        .ok_or_else(|| Error::invalid_option("revocationUrl", "is required for revoke()"))?;
    let rt = inner.state.borrow().refresh_token.clone();
    crate::drive::revoke(&o.refresh, url, &rt, Some("refresh_token")).await?;
    inner.state.borrow_mut().revoked();
    inner.views.replace(None);
    if o.store.is_some() {
        let empty = js::store_value(&crate::cache::Stored::default());
        js::settle(inner.store_call("put", &[&empty]))
            .await
            .map_err(Failure::Thrown)?;
    }
    Ok(JsValue::UNDEFINED)
}

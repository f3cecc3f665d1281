//! `TokenCache`: the JS face of [`crate::drive::shared::Shared`], where a cache's insides
//! live (what is served, the one job in flight, the cooldown). Each method is a line or
//! two: options are read by [`super::options`], the host's side is [`super::driver`].

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::RefCell;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use super::driver::{self, Inner};
use super::error::to_js;
use super::options::CacheOptions;
use crate::cache::State;
use crate::drive::shared::Shared;
use crate::error::Error;

/// Keeps an access token fresh: cached while fresh, one refresh for any number of
/// concurrent callers, a rotated refresh token never lost, an optional KV-style store.
/// `inspectable`: wasm-bindgen derives `toJSON()`, `toString()` and Node's `util.inspect`
/// from the getters (`expiresAt`, `hasToken`, `refreshing`, `storeKey`), none of which is a
/// secret.
#[wasm_bindgen(inspectable)]
pub struct TokenCache {
    pub(super) inner: Rc<Shared<Inner>>,
}

#[wasm_bindgen]
impl TokenCache {
    /// Validates the options and builds the cache. Throws `invalid_options` / `insecure_url`
    /// synchronously.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<TokenCache, JsValue> {
        let opts = CacheOptions::read(&options, None).map_err(|e| to_js(&e, None))?;
        Ok(TokenCache {
            inner: Rc::new(Shared::new(host(opts))),
        })
    }

    /// A cache seeded with a TokenSet you already have (from `exchangeCode`): no first
    /// refresh. `options.refreshToken` defaults to `tokenSet.refreshToken`. Throws like the
    /// constructor, and `invalid_options` for a TokenSet without an `accessToken` string.
    #[wasm_bindgen(js_name = fromTokenSet)]
    pub fn from_token_set(token_set: JsValue, options: JsValue) -> Result<TokenCache, JsValue> {
        let seed = Some(&token_set).filter(|s| s.is_object());
        let opts = CacheOptions::read(&options, seed).map_err(|e| to_js(&e, None))?;
        let shared = Shared::seeded(host(opts), &token_set).map_err(|f| f.into_value())?;
        Ok(TokenCache {
            inner: Rc::new(shared),
        })
    }

    /// The access token: from memory while fresh, else from one (shared) refresh.
    #[wasm_bindgen(js_name = getAccessToken)]
    pub fn get_access_token(&self) -> Promise {
        Shared::get(&self.inner, true).unchecked_into()
    }

    /// The whole TokenSet, by the same rules as `getAccessToken`.
    #[wasm_bindgen(js_name = getToken)]
    pub fn get_token(&self) -> Promise {
        Shared::get(&self.inner, false).unchecked_into()
    }

    /// Joins a refresh in flight, or sends one now (even if the store holds a fresh token).
    pub fn refresh(&self) -> Promise {
        Shared::job(&self.inner, true).unchecked_into()
    }

    /// Forgets the access token (after a 401); keeps the refresh token. With an
    /// `accessToken`, only if that is the held one (see `minTokenAgeMs`);
    /// returns whether it was dropped. The token is never taken back from the store. A
    /// non-string argument is ignored, as JS ignores extra arguments.
    pub fn invalidate(&self, access_token: JsValue) -> bool {
        self.inner.invalidate(access_token.as_string())
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
        self.inner.peek()
    }

    /// When the held access token expires (epoch ms), if one is held.
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> JsValue {
        // A JsValue, not Option<f64>: the optional number costs a multivalue shim.
        self.inner
            .expires_at()
            .map_or(JsValue::UNDEFINED, JsValue::from)
    }

    /// `fetch` with `Authorization: Bearer …`; on a 401, invalidates that token, refreshes
    /// once (joining any refresh in flight) and retries once, unless the body is a stream.
    pub fn fetch(&self, input: JsValue, init: JsValue) -> Promise {
        let fetched = crate::drive::bearer::fetch(self.inner.clone(), input, init);
        super::js::promise(fetched)
    }

    /// Revokes the refresh token at `revocationUrl` (RFC 7009), then forgets the tokens: in
    /// memory, and in the store (an entry without tokens, which reads as absent). Rejects
    /// with `invalid_options` without a `revocationUrl`; if the server refuses, nothing is
    /// forgotten.
    pub fn revoke(&self) -> Promise {
        Shared::revoke(&self.inner).unchecked_into()
    }

    /// Whether an access token is held (fresh or not).
    #[wasm_bindgen(getter, js_name = hasToken)]
    pub fn has_token(&self) -> bool {
        self.inner.has_token()
    }

    /// Whether a refresh job is in flight.
    #[wasm_bindgen(getter)]
    pub fn refreshing(&self) -> bool {
        self.inner.refreshing()
    }

    /// The store key in use (never a secret: a hash when not set). Two caches with the same
    /// key refresh the same grant.
    #[wasm_bindgen(getter, js_name = storeKey)]
    pub fn store_key(&self) -> String {
        self.inner.cache.opts.store_key.clone()
    }
}

fn host(opts: CacheOptions) -> Inner {
    let state = RefCell::new(State::new(opts.refresh.refresh_token.clone()));
    Inner { opts, state }
}

/// Hosts whose I/O belongs to the request that started it (workerd) pass their
/// `waitUntil` here; the `workerd` entry does it for you. Every refresh job is then handed
/// to it, so a refresh that other requests wait on is not cancelled when the request that
/// started it responds first. `undefined` turns it off.
#[wasm_bindgen(js_name = setKeepAlive)]
pub fn set_keep_alive(wait_until: JsValue) -> Result<(), JsValue> {
    if wait_until.is_undefined() {
        driver::set_keep_alive(None);
        return Ok(());
    }
    let f = wait_until.dyn_into::<Function>().map_err(|_| {
        to_js(
            &Error::invalid_option("setKeepAlive", "must be a function or undefined"),
            None,
        )
    })?;
    driver::set_keep_alive(Some(f));
    Ok(())
}

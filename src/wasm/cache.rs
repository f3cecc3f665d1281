//! `TokenCache`: the JS face of [`crate::cache`]. It does the I/O (store, fetch, hooks,
//! timers) and asks the core what to do.
//!
//! Concurrency: every exported method takes `&self` and no `RefCell` borrow lives across an
//! `.await`, so any number of concurrent JS calls are safe. At most one refresh job runs at a
//! time: its promise is kept in `inflight` and every caller that finds the token stale
//! awaits that same promise.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::RefCell;

use js_sys::{Function, Object, Promise, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::error::to_js;
use super::fetch::{self, Failure, Granted};
use super::js::{self, get, set, set_opt, JsObject, Request};
use super::options::{opt_function, opt_string, RefreshOptions};
use crate::cache::{default_store_key, Policy, State, Stored, STORE_FIELDS};
use crate::error::{Code, Error};
use crate::response::{JsonObject, TokenFields};
use crate::secret::Secret;

/// Keeps an access token fresh: cached while fresh, one refresh for any number of
/// concurrent callers, a rotated refresh token never lost, an optional KV-style store.
/// `inspectable`: wasm-bindgen derives `toJSON()`, `toString()` and Node's `util.inspect`
/// from the getters (`expiresAt`, `hasToken`, `refreshing`), none of which is a secret.
#[wasm_bindgen(inspectable)]
pub struct TokenCache {
    inner: Rc<Inner>,
}

struct Inner {
    opts: RefreshOptions,
    policy: Policy,
    store: Option<JsValue>,
    store_key: String,
    on_tokens: Option<Function>,
    state: RefCell<State>,
    /// The JS views of the held token, made once per refresh so a hit costs no encoding.
    views: RefCell<Option<Views>>,
    /// The refresh job in flight; resolves to its TokenSet.
    inflight: RefCell<Option<Promise>>,
}

struct Views {
    access_token: JsValue,
    token_set: JsValue,
    /// Already-resolved promises of the two, handed out on every hit: a settled promise
    /// can be awaited any number of times, and making one per hit was half its cost.
    access_token_promise: Promise,
    token_set_promise: Promise,
}

#[wasm_bindgen]
impl TokenCache {
    /// Validates the options and builds the cache. Throws `invalid_options` / `insecure_url`
    /// synchronously.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<TokenCache, JsValue> {
        Self::build(&options).map_err(|e| to_js(&e, None))
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
        self.get(|v| &v.access_token_promise, "accessToken")
    }

    /// The whole TokenSet, by the same rules as `getAccessToken`.
    #[wasm_bindgen(js_name = getToken)]
    pub fn get_token(&self) -> Promise {
        self.get(|v| &v.token_set_promise, "")
    }

    /// Joins a refresh in flight, or sends one now (even if the store holds a fresh token).
    pub fn refresh(&self) -> Promise {
        self.job(true)
    }

    /// Forgets the access token (after a 401); keeps the refresh token.
    pub fn invalidate(&self) {
        self.inner.state.borrow_mut().invalidate();
        self.inner.views.replace(None);
    }

    /// The access token if it is fresh now, else `undefined`. Synchronous. If the caller's
    /// `now` throws, freshness is unknown: `undefined` (the next `getAccessToken` rejects
    /// with that error).
    ///
    /// Returns the value itself, not a `Result`: a fallible return costs a result array and
    /// a second call into the module on every peek. Never `throw_val` here instead: a JS
    /// exception unwinding through wasm skips restoring the shadow stack pointer, and a
    /// thousand of them corrupt memory (tests/js/leak.test.mjs checks 300,000 throws).
    pub fn peek(&self) -> JsValue {
        let Ok(fresh) = self.inner.is_fresh() else {
            return JsValue::UNDEFINED;
        };
        let views = self.inner.views.borrow();
        match (fresh, views.as_ref()) {
            (true, Some(v)) => v.access_token.clone(),
            _ => JsValue::UNDEFINED,
        }
    }

    /// When the held access token expires (epoch ms), if one is held.
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> JsValue {
        // A JsValue, not Option<f64>: the optional number costs a multivalue shim.
        self.inner
            .state
            .borrow()
            .token
            .as_ref()
            .map_or(JsValue::UNDEFINED, |t| t.expires_at.into())
    }

    /// `fetch` with `Authorization: Bearer …`; on a 401, invalidates that token, refreshes
    /// once (joining any refresh in flight) and retries once, unless the body is a stream.
    pub fn fetch(&self, input: JsValue, init: JsValue) -> Promise {
        let this = TokenCache {
            inner: self.inner.clone(),
        };
        js::promise(async move { authorized_fetch(&this, &input, &init).await })
    }

    /// Whether an access token is held (fresh or not).
    #[wasm_bindgen(getter, js_name = hasToken)]
    pub fn has_token(&self) -> bool {
        self.inner.state.borrow().token.is_some()
    }

    /// Whether a refresh job is in flight.
    #[wasm_bindgen(getter)]
    pub fn refreshing(&self) -> bool {
        self.inner.inflight.borrow().is_some()
    }
}

impl TokenCache {
    fn build(options: &JsValue) -> Result<TokenCache, Error> {
        let opts = RefreshOptions::from_js(options)?;
        // Build the request once now: bad `extraParams` or `headers` throw here, as the
        // constructor promises, not at the first refresh.
        crate::grant::refresh_request(
            &opts.client,
            &opts.refresh_token,
            opts.scope.as_deref(),
            &opts.extras,
        )?;
        let policy = policy(options)?;
        let store = get(options, "store");
        let store = if store.is_undefined() || store.is_null() {
            None
        } else if get(&store, "get").is_function() && get(&store, "put").is_function() {
            Some(store)
        } else {
            return Err(Error::invalid_option(
                "store",
                "must have get(key) and put(key, value)",
            ));
        };
        let store_key = match opt_string(options, "storeKey")? {
            Some(k) if !k.is_empty() => k,
            Some(_) => {
                return Err(Error::invalid_option(
                    "storeKey",
                    "must be a non-empty string",
                ))
            }
            None => default_store_key(
                &opts.token_url,
                &opts.client.id,
                opts.refresh_token.expose(),
            ),
        };
        let state = State::new(opts.refresh_token.clone());
        Ok(TokenCache {
            inner: Rc::new(Inner {
                on_tokens: opt_function(options, "onTokens")?,
                opts,
                policy,
                store,
                store_key,
                state: RefCell::new(state),
                views: RefCell::new(None),
                inflight: RefCell::new(None),
            }),
        })
    }

    /// What the caller's `now` throws passes through unchanged, as everywhere else.
    fn seeded(token_set: &JsValue, options: &JsValue) -> Result<TokenCache, Failure> {
        if !options.is_object() {
            return Err(Error::invalid_option("options", "must be an object").into());
        }
        let merged = js::object_assign(&Object::new().into(), options)
            .map_err(|_| Error::invalid_option("options", "could not be read"))?;
        if get(&merged, "refreshToken").is_undefined() {
            set(&merged, "refreshToken", &get(token_set, "refreshToken"));
        }
        let cache = Self::build(&merged)?;
        let set = JsObject(token_set.clone());
        let fields = TokenFields {
            access_token: Secret::new(
                set.text("accessToken")
                    .ok_or_else(|| Error::invalid_option("tokenSet", "has no accessToken"))?,
            ),
            token_type: set
                .text("tokenType")
                .unwrap_or_else(|| String::from("Bearer")),
            expires_in: set.non_negative("expiresIn"),
            expires_at: set.non_negative("expiresAt"),
            refresh_token: None,
            scope: set.text("scope"),
        };
        let now = cache.inner.now()?;
        let raw = get(token_set, "raw");
        let raw = if raw.is_object() {
            raw
        } else {
            Object::new().into()
        };
        cache.inner.accept(&Granted {
            fields,
            raw,
            sent_at: now,
        });
        Ok(cache)
    }

    /// A hit resolves at once from the cached JS value; a miss awaits the shared job.
    fn get(&self, pick: fn(&Views) -> &Promise, field: &'static str) -> Promise {
        match self.inner.is_fresh() {
            Err(f) => return Promise::reject(&f.into_js()),
            Ok(true) => {
                if let Some(v) = self.inner.views.borrow().as_ref() {
                    return pick(v).clone();
                }
            }
            Ok(false) => {}
        }
        let job = self.job(false);
        if field.is_empty() {
            return job;
        }
        js::promise(async move {
            let set = JsFuture::from(job).await?;
            Ok(get(&set, field))
        })
    }

    /// The shared refresh job: joins the one in flight, or starts one.
    fn job(&self, force: bool) -> Promise {
        if let Some(p) = self.inner.inflight.borrow().as_ref() {
            return p.clone();
        }
        let inner = self.inner.clone();
        let p = js::promise(async move {
            let result = run(&inner, force).await;
            inner.inflight.replace(None);
            result.map_err(Failure::into_js)
        });
        self.inner.inflight.replace(Some(p.clone()));
        keep_alive(&p);
        p
    }
}

impl Inner {
    fn now(&self) -> Result<f64, Failure> {
        fetch::now(self.opts.now.as_ref())
    }

    fn is_fresh(&self) -> Result<bool, Failure> {
        let now = self.now()?;
        Ok(self.state.borrow().fresh(now, &self.policy).is_some())
    }

    /// Makes the JS views of the held token (after a refresh or a store load).
    fn set_views(&self, token_set: JsValue) {
        let access_token = get(&token_set, "accessToken");
        self.views.replace(Some(Views {
            access_token_promise: Promise::resolve(&access_token),
            token_set_promise: Promise::resolve(&token_set),
            access_token,
            token_set,
        }));
    }

    fn store_fn(&self, name: &str) -> Option<(JsValue, Function)> {
        let store = self.store.as_ref()?;
        Some((store.clone(), get(store, name).unchecked_into()))
    }

    /// Reads the store entry; a value that does not parse counts as absent. What `get`
    /// throws stops the refresh and passes through unchanged.
    async fn read_store(&self) -> Result<Option<Stored>, Failure> {
        let Some((store, get_fn)) = self.store_fn("get") else {
            return Ok(None);
        };
        let key = JsValue::from_str(&self.store_key);
        let value = js::settle(get_fn.call1(&store, &key))
            .await
            .map_err(Failure::Thrown)?;
        let Some(text) = value.dyn_ref::<js_sys::JsString>() else {
            return Ok(None);
        };
        Ok(js::json_parse(text)
            .ok()
            .and_then(|v| Stored::from_json(&JsObject(v))))
    }

    /// Adopts what the store holds; true when it gave a fresh access token.
    async fn load_from_store(&self) -> Result<bool, Failure> {
        let Some(stored) = self.read_store().await? else {
            return Ok(false);
        };
        let adopted = self.state.borrow_mut().adopt_stored(&stored);
        if !adopted || !self.is_fresh()? {
            return Ok(false);
        }
        self.set_views(self.stored_token_set(&stored));
        Ok(true)
    }

    fn stored_token_set(&self, stored: &Stored) -> JsValue {
        let st = self.state.borrow();
        let obj: JsValue = Object::new().into();
        if let Some(t) = &st.token {
            set(&obj, "accessToken", &t.access_token.expose().into());
            set(&obj, "expiresAt", &t.expires_at.into());
            set_opt(&obj, "expiresIn", t.expires_in.map(JsValue::from));
        }
        set(
            &obj,
            "tokenType",
            &stored.token_type.as_deref().unwrap_or("Bearer").into(),
        );
        set(&obj, "refreshToken", &st.refresh_token.expose().into());
        set_opt(&obj, "scope", stored.scope.as_deref().map(JsValue::from));
        set(&obj, "raw", &Object::new());
        obj
    }

    /// Takes a successful grant into the state and returns the cache's TokenSet for it.
    fn accept(&self, got: &Granted) -> JsValue {
        let mut st = self.state.borrow_mut();
        st.accept(&got.fields, got.sent_at, &self.policy);
        let mut fields = got.fields.clone();
        fields.expires_at = st.token.as_ref().map(|t| t.expires_at);
        let set = js::token_set(&fields, &got.raw, Some(&st.refresh_token));
        drop(st);
        self.set_views(set.clone());
        set
    }

    /// Writes the new TokenSet to the store, then calls `onTokens`; both awaited before any
    /// caller sees the token. `put`'s error wins over `onTokens`'s; either way the tokens
    /// stay in memory.
    async fn persist(&self, token_set: &JsValue) -> Result<(), Failure> {
        let mut first_error = None;
        if let Some((store, put)) = self.store_fn("put") {
            let value = self.store_value();
            let key = JsValue::from_str(&self.store_key);
            match js::settle(put.call2(&store, &key, &value)).await {
                Ok(_) => {
                    let mut st = self.state.borrow_mut();
                    st.store_seen = Some(st.refresh_token.clone());
                }
                Err(e) => first_error = Some(e),
            }
        }
        if let Some(hook) = &self.on_tokens {
            if let Err(e) = js::settle(hook.call1(&JsValue::UNDEFINED, token_set)).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), |e| Err(Failure::Thrown(e)))
    }

    /// The store value: `{"v":1,"accessToken","expiresAt","expiresIn","refreshToken","tokenType","scope"}`.
    fn store_value(&self) -> JsValue {
        let obj: JsValue = Object::new().into();
        set(&obj, "v", &1.into());
        if let Some(v) = self.views.borrow().as_ref() {
            for key in STORE_FIELDS {
                set_opt(
                    &obj,
                    key,
                    Some(get(&v.token_set, key)).filter(|x| !x.is_undefined()),
                );
            }
        }
        JSON::stringify(&obj)
            .map(JsValue::from)
            .unwrap_or(JsValue::NULL)
    }
}

/// The host's `waitUntil`, when it has one (see [`set_keep_alive`]).
static KEEP_ALIVE: js::Global<RefCell<Option<Function>>> = js::Global(RefCell::new(None));

/// Hosts whose I/O belongs to the request that started it (workerd) pass their
/// `waitUntil` here; the `workerd` entry does it for you. Every refresh job is then handed
/// to it, so a refresh that other requests wait on is not cancelled when the request that
/// started it responds first. `undefined` turns it off.
#[wasm_bindgen(js_name = setKeepAlive)]
pub fn set_keep_alive(wait_until: JsValue) -> Result<(), JsValue> {
    let f = if wait_until.is_undefined() {
        None
    } else {
        let f = wait_until.dyn_into::<Function>().map_err(|_| {
            to_js(
                &Error::invalid_option("setKeepAlive", "must be a function or undefined"),
                None,
            )
        })?;
        Some(f)
    };
    KEEP_ALIVE.0.replace(f);
    Ok(())
}

/// Hands a job to the host's `waitUntil`, as a promise that never rejects (the job's
/// error belongs to its callers, not to the host's log). Outside a request `waitUntil`
/// throws: nothing needs keeping alive there, so that is ignored.
fn keep_alive(job: &Promise) {
    let Some(wait_until) = KEEP_ALIVE.0.borrow().clone() else {
        return;
    };
    let job = job.clone();
    let quiet = js::promise(async move {
        let _ = JsFuture::from(job).await;
        Ok(JsValue::UNDEFINED)
    });
    let _ = wait_until.call1(&JsValue::UNDEFINED, &quiet);
}

/// One refresh job: store first (unless forced), then up to `retries + 1` attempts.
async fn run(inner: &Inner, force: bool) -> Result<JsValue, Failure> {
    if inner.store.is_some() {
        let fresh = inner.load_from_store().await?;
        if fresh && !force {
            return Ok(views_token_set(inner));
        }
    }
    let mut attempt = 0;
    loop {
        let refresh_token: Secret = inner.state.borrow().refresh_token.clone();
        let err = match fetch::refresh(&inner.opts, &refresh_token).await {
            Ok(got) => {
                let set = inner.accept(&got);
                inner.persist(&set).await?;
                return Ok(set);
            }
            Err(Failure::OAuth(e, cause)) => (e, cause),
            Err(thrown) => return Err(thrown),
        };
        if err.0.code == Code::Server(String::from("invalid_grant")) {
            inner.state.borrow_mut().token = None;
            inner.views.replace(None);
            return Err(Failure::OAuth(err.0, err.1));
        }
        let delay = inner.state.borrow().retry_delay(
            &err.0,
            attempt,
            js_sys::Math::random(),
            &inner.policy,
        );
        let Some(delay) = delay else {
            return Err(Failure::OAuth(err.0, err.1));
        };
        js::sleep(delay).await;
        attempt += 1;
        if inner.store.is_some() && inner.load_from_store().await? && !force {
            return Ok(views_token_set(inner));
        }
    }
}

fn views_token_set(inner: &Inner) -> JsValue {
    inner
        .views
        .borrow()
        .as_ref()
        .map_or(JsValue::UNDEFINED, |v| v.token_set.clone())
}

/// `cache.fetch`: the resource response passes through unchanged, whatever its status.
async fn authorized_fetch(
    cache: &TokenCache,
    input: &JsValue,
    init: &JsValue,
) -> Result<JsValue, JsValue> {
    let fetch = fetch::fetch_fn(cache.inner.opts.fetch.as_ref()).map_err(|e| to_js(&e, None))?;
    let request = Request::new(input, init).map_err(|e| {
        let bad = Error::invalid_option("fetch(input, init)", "is not a valid Request");
        to_js(&bad, Some(&e))
    })?;
    let streaming = get(&get(init, "body"), "getReader").is_function();
    let token = JsFuture::from(cache.get_access_token()).await?;
    // A stream body cannot be replayed: send the request itself, once.
    let first = if streaming {
        None
    } else {
        Some(request.duplicate()?)
    };
    let response = send(&fetch, first.as_ref().unwrap_or(&request), &token).await?;
    if get(&response, "status").as_f64() != Some(401.0) {
        return Ok(response);
    }
    // Invalidate only if no one has replaced the token meanwhile; then refresh (or join).
    let current = cache.peek();
    if current == token || current.is_undefined() {
        cache.invalidate();
    }
    if streaming {
        return Ok(response);
    }
    let token = JsFuture::from(cache.get_access_token()).await?;
    send(&fetch, &request, &token).await
}

async fn send(fetch: &Function, request: &Request, token: &JsValue) -> Result<JsValue, JsValue> {
    let bearer = js_sys::JsString::from("Bearer ").concat(token);
    request.headers().put("authorization", &bearer)?;
    js::settle(fetch.call1(&JsValue::UNDEFINED, request)).await
}

/// Reads `refreshSkewMs`, `defaultExpiresInSec` and `retry`.
fn policy(options: &JsValue) -> Result<Policy, Error> {
    let d = Policy::default();
    let retry = get(options, "retry");
    if !(retry.is_undefined() || retry.is_object()) {
        return Err(Error::invalid_option("retry", "must be an object"));
    }
    let retries = number(
        &retry,
        "retry.retries",
        "retries",
        f64::from(d.retries),
        0.0,
    )?;
    if retries > 100.0 || !crate::num::is_whole(retries) {
        return Err(Error::invalid_option(
            "retry.retries",
            "must be a whole number up to 100",
        ));
    }
    let min_delay_ms = number(
        &retry,
        "retry.minDelayMs",
        "minDelayMs",
        d.min_delay_ms,
        0.0,
    )?;
    let max_delay_ms = number(
        &retry,
        "retry.maxDelayMs",
        "maxDelayMs",
        d.max_delay_ms,
        min_delay_ms,
    )?;
    Ok(Policy {
        skew_ms: number(options, "refreshSkewMs", "refreshSkewMs", d.skew_ms, 0.0)?,
        default_expires_in_sec: number(
            options,
            "defaultExpiresInSec",
            "defaultExpiresInSec",
            d.default_expires_in_sec,
            0.0,
        )?,
        retries: retries as u32,
        min_delay_ms,
        max_delay_ms,
    })
}

/// An optional finite number `>= min`.
fn number(obj: &JsValue, name: &str, key: &str, default: f64, min: f64) -> Result<f64, Error> {
    let v = if obj.is_undefined() {
        JsValue::UNDEFINED
    } else {
        get(obj, key)
    };
    if v.is_undefined() {
        return Ok(default);
    }
    v.as_f64()
        .filter(|n| n.is_finite() && *n >= min)
        .ok_or_else(|| Error::invalid_option(name, "must be a finite number in range"))
}

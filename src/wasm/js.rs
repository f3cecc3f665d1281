//! Small helpers over `js_sys::Reflect` and the host globals freshtoken uses.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::boxed::Box;
use core::cell::RefCell;

use js_sys::{Function, JsString, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::cache::Stored;
use crate::response::{Json, JsonObject, TokenFields};
use crate::secret::Secret;

#[wasm_bindgen]
extern "C" {
    /// The host's `setTimeout`, looked up on the global object at each call.
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(handler: &Function, ms: f64, arg: &JsValue) -> JsValue;
    /// The host's `clearTimeout`.
    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(id: &JsValue);
    /// `Object.entries`, catching what a hostile Proxy throws.
    #[wasm_bindgen(js_namespace = Object, js_name = entries, catch)]
    pub fn object_entries(obj: &JsValue) -> Result<js_sys::Array, JsValue>;
    /// `JSON.parse` on a JS string, without copying it through wasm memory.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn json_parse(text: &JsString) -> Result<JsValue, JsValue>;
    /// A promise, for `catch` and `then` with any function (js-sys's want a `Closure`).
    type Caught;
    /// `promise.catch(onRejected)`.
    #[wasm_bindgen(method, js_name = catch)]
    fn catch_with(this: &Caught, on_rejected: &JsValue) -> js_sys::Promise;
    /// `promise.then(onFulfilled)`.
    #[wasm_bindgen(method, js_name = then)]
    fn then_with(this: &Caught, on_fulfilled: &JsValue) -> js_sys::Promise;
    /// `Reflect.set` without a try/catch wrapper in the glue: only for objects freshtoken
    /// made itself, where it cannot throw.
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    fn reflect_set(target: &JsValue, key: &JsValue, value: &JsValue) -> bool;
}

/// A global for this single-threaded build: wasm32 without atomics has one thread, and
/// `thread_local!` is std-only (the shipped build is no_std).
pub struct Global<T>(pub T);

// SAFETY: without the `atomics` target feature a wasm instance runs on exactly one thread,
// so a `Global` is never touched from two threads.
#[cfg(not(target_feature = "atomics"))]
unsafe impl<T> Sync for Global<T> {}

/// Property names made into JS strings once: decoding a key from wasm memory on every
/// access was a large share of a refresh's CPU time. Keyed by the literal's address: a
/// `&'static str` never moves and no other text shares it, so no bytes are compared (that
/// compare was a visible share too).
static KEYS: Global<RefCell<Vec<(&'static str, JsValue)>>> = Global(RefCell::new(Vec::new()));

/// `key` as a JS string, from the table when it is there.
fn key(key: &'static str) -> JsValue {
    let Ok(mut keys) = KEYS.0.try_borrow_mut() else {
        return JsValue::from_str(key);
    };
    // `ptr::eq` on a `str` compares the address and the length ("a" and "ab" may start at
    // the same byte).
    if let Some((_, v)) = keys.iter().find(|(k, _)| core::ptr::eq(*k, key)) {
        return v.clone();
    }
    // Unbounded: it holds at most one entry per key literal in this module.
    let v = JsValue::from_str(key);
    keys.push((key, v.clone()));
    v
}

/// `obj[key]`, or `undefined` when reading throws (a hostile getter or Proxy). Not for
/// options: those go through `options::read`, where a throw is an error.
pub fn get(obj: &JsValue, k: &'static str) -> JsValue {
    try_get(obj, k).unwrap_or(JsValue::UNDEFINED)
}

/// `obj[key]`, or what reading it threw.
pub fn try_get(obj: &JsValue, k: &'static str) -> Result<JsValue, JsValue> {
    Reflect::get(obj, &key(k))
}

/// `obj[key] = value` on an object freshtoken created itself.
pub fn set(obj: &JsValue, k: &'static str, value: &JsValue) {
    reflect_set(obj, &key(k), value);
}

/// `obj[name] = value` for a name made at run time (a header name), on an object
/// freshtoken created itself.
pub fn set_named(obj: &JsValue, name: &str, value: &JsValue) {
    reflect_set(obj, &JsValue::from_str(name), value);
}

/// Sets `key` only when `value` is present.
pub fn set_opt(obj: &JsValue, key: &'static str, value: Option<JsValue>) {
    if let Some(v) = value {
        set(obj, key, &v);
    }
}

/// A parsed JSON object, read field by field.
impl JsonObject for JsValue {
    fn field(&self, key: &'static str) -> Json {
        let v = get(self, key);
        if v.is_undefined() {
            Json::Missing
        } else if v.is_null() {
            Json::Null
        } else if let Some(s) = v.as_string() {
            Json::Str(s)
        } else if let Some(n) = v.as_f64() {
            Json::Num(n)
        } else {
            Json::Other
        }
    }
}

/// The TokenSet object JS receives: the one converter from the core's fields to JS.
/// `refresh_token` is the one to show: the rotated one for `refreshAccessToken`, the one
/// in use for a cache.
pub fn token_set(t: &TokenFields, raw: &JsValue, refresh_token: Option<&Secret>) -> JsValue {
    let obj: JsValue = Object::new().into();
    set(&obj, "accessToken", &t.access_token.expose().into());
    set(&obj, "tokenType", &t.token_type.as_str().into());
    set_opt(&obj, "expiresIn", t.expires_in.map(JsValue::from));
    set_opt(&obj, "expiresAt", t.expires_at.map(JsValue::from));
    set_opt(
        &obj,
        "refreshToken",
        // A client_credentials cache holds none (an empty one): no field at all.
        refresh_token
            .filter(|r| !r.expose().is_empty())
            .map(|r| r.expose().into()),
    );
    set_opt(&obj, "scope", t.scope.as_deref().map(JsValue::from));
    set(&obj, "raw", raw);
    obj
}

/// A store entry as the value `store.put` receives: the JSON text
/// `{"accessToken","tokenType","expiresIn","expiresAt","refreshToken","scope","v":1}`, a
/// TokenSet's fields (its `raw` left undefined, which JSON leaves out).
pub fn store_value(entry: &Stored) -> JsValue {
    let rt = entry.refresh_token.as_ref();
    let obj = match &entry.token {
        Some(t) => token_set(&t.fields(), &JsValue::UNDEFINED, rt),
        None => {
            let o: JsValue = Object::new().into();
            set_opt(&o, "refreshToken", rt.map(|r| r.expose().into()));
            o
        }
    };
    set(&obj, "v", &1.into());
    js_sys::JSON::stringify(&obj).map_or(JsValue::NULL, JsValue::from)
}

/// The other way: what `store.get` gave, `None` when it is not a valid entry (also one past
/// the 1 MiB cap of a token response: no server sent that); `out_of_memory` when there is
/// no room to copy its fields in (adopting nothing then could replay a rotated token).
pub fn stored(value: &JsValue) -> Result<Option<Stored>, crate::error::Error> {
    let Some(text) = value.dyn_ref::<JsString>() else {
        return Ok(None);
    };
    if text.length() as usize > crate::response::MAX_BODY_BYTES {
        return Ok(None);
    }
    crate::options::room_for_text::<JsValue>(text.length())?;
    let Ok(parsed) = json_parse(text) else {
        return Ok(None);
    };
    Ok(Stored::from_json(&parsed))
}

#[wasm_bindgen]
extern "C" {
    /// A WHATWG `TextDecoder` (UTF-8); present in every supported host.
    pub type TextDecoder;
    /// `new TextDecoder()`.
    #[wasm_bindgen(constructor, catch)]
    pub fn new() -> Result<TextDecoder, JsValue>;
    /// `decoder.decode(chunk, options)`.
    #[wasm_bindgen(method, catch)]
    pub fn decode(
        this: &TextDecoder,
        chunk: &JsValue,
        options: &JsValue,
    ) -> Result<JsString, JsValue>;

    /// The host's `Request`, for `cache.fetch`.
    pub type Request;
    /// `new Request(input, init)`.
    #[wasm_bindgen(constructor, catch)]
    pub fn new(input: &JsValue, init: &JsValue) -> Result<Request, JsValue>;
    /// `request.clone()`: a replay copy (tees the body).
    #[wasm_bindgen(method, catch, js_name = clone)]
    pub fn duplicate(this: &Request) -> Result<Request, JsValue>;
    /// `request.headers`.
    #[wasm_bindgen(method, getter)]
    pub fn headers(this: &Request) -> HeaderMap;
    /// `headers.set(name, value)`.
    #[wasm_bindgen(method, catch, js_name = set)]
    pub fn put(this: &HeaderMap, name: &str, value: &JsValue) -> Result<(), JsValue>;

    /// Anything with a `get(name)` method, like `Headers`.
    pub type HeaderMap;
    /// `headers.get(name)`.
    #[wasm_bindgen(method, catch)]
    pub fn get(this: &HeaderMap, name: &str) -> Result<Option<String>, JsValue>;
}

/// Awaits `v` if it is a promise (or thenable), else takes it as is. A throw or rejection
/// comes back as `Err` with the thrown value unchanged. The host's future itself, not one
/// wrapping it: every waiting caller holds one.
pub fn settle(v: Result<JsValue, JsValue>) -> wasm_bindgen_futures::JsFuture {
    let p = match v {
        Ok(v) => js_sys::Promise::resolve(&v),
        Err(e) => js_sys::Promise::reject(&e),
    };
    wasm_bindgen_futures::JsFuture::from(p)
}

/// Runs `f` as a JS promise. Every call site shares one instantiation of the executor's
/// generic glue (the future is boxed): each monomorphised copy cost 0.3–4.6 KB of wasm.
pub fn promise(
    f: impl core::future::Future<Output = Result<JsValue, JsValue>> + 'static,
) -> js_sys::Promise {
    spawn(Box::pin(f)).unwrap_or_else(|refused| refused)
}

/// Starts a boxed future as a JS promise; `Err`: refused with `out_of_memory`, not started.
pub fn spawn(
    f: core::pin::Pin<Box<dyn core::future::Future<Output = Result<JsValue, JsValue>>>>,
) -> Result<js_sys::Promise, js_sys::Promise> {
    if let Some(refused) = no_room() {
        return Err(refused);
    }
    Ok(wasm_bindgen_futures::future_to_promise(f))
}

/// A promise rejected with `out_of_memory` when there is no room to start an async call:
/// refused before its future is boxed, as a failed allocation would trap (`super::memory`).
/// Out of line: `promise` is instantiated once per caller.
#[inline(never)]
fn no_room() -> Option<js_sys::Promise> {
    let e = crate::memory::room(0).err()?;
    Some(js_sys::Promise::reject(&super::error::to_js(&e, None)))
}

/// `p` as a promise that never rejects: `p.catch(Boolean)`. A host callback, not a future:
/// a built-in that ignores what it is given costs no closure and no task (a future here
/// cost 0.4 KB of wasm for each of its two users).
pub fn quiet(p: &js_sys::Promise) -> js_sys::Promise {
    p.unchecked_ref::<Caught>()
        .catch_with(&get(&js_sys::global(), "Boolean"))
}

/// A promise that fulfils after `ms`.
pub fn timer(ms: f64) -> js_sys::Promise {
    js_sys::Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms, &JsValue::UNDEFINED);
    })
}

/// The function `set => set.accessToken`, made once.
static PICK_ACCESS_TOKEN: Global<core::cell::OnceCell<JsValue>> =
    Global(core::cell::OnceCell::new());

/// `job.then(set => set.accessToken)`: a waiting caller is a host callback, not a future.
pub fn access_token_of(job: &JsValue) -> JsValue {
    let pick = PICK_ACCESS_TOKEN.0.get_or_init(|| {
        let f = Closure::<dyn Fn(JsValue) -> JsValue>::new(|set: JsValue| get(&set, "accessToken"));
        f.into_js_value()
    });
    job.unchecked_ref::<Caught>().then_with(pick).into()
}

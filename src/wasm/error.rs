//! `OAuthError`: a real JS `Error` (stack, `instanceof Error`) that is also
//! `instanceof OAuthError`, the class this module exports.

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::OnceCell;

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use super::js::{get, set, set_opt};
use crate::error::Error;

/// The class of every error freshtoken rejects with. Instances are made by freshtoken,
/// not by `new`; test with `instanceof OAuthError` or `err.name === 'OAuthError'`.
#[wasm_bindgen]
pub struct OAuthError {
    _private: (),
}

static PROTOTYPE: super::js::Global<OnceCell<JsValue>> = super::js::Global(OnceCell::new());

/// `OAuthError.prototype`, set up once (at module start) to inherit from `Error.prototype`,
/// so that errors built with `new Error()` and given this prototype pass both `instanceof`
/// checks.
/// wasm-bindgen classes cannot `extends Error`; this is the smallest way there.
fn prototype() -> JsValue {
    PROTOTYPE
        .0
        .get_or_init(|| {
            let proto: JsValue =
                Object::get_prototype_of(&OAuthError { _private: () }.into()).into();
            let error_proto = Object::get_prototype_of(&js_sys::Error::new("").into());
            Object::set_prototype_of(proto.unchecked_ref::<Object>(), &error_proto);
            // Errors are plain JS objects with no Rust side: nothing to free.
            let _ = Reflect::delete_property(proto.unchecked_ref::<Object>(), &"free".into());
            set(&proto, "name", &"OAuthError".into());
            brand_check(&get(&proto, "constructor"));
            proto
        })
        .clone()
}

/// Sets up the class when the module loads, so `instanceof OAuthError` works before any
/// error was made here.
#[wasm_bindgen(start, private)]
fn start() {
    let _ = prototype();
}

/// Makes `instanceof OAuthError` a brand check: any `Error` named `OAuthError` with a
/// string `code`. So errors rebuilt from plain data (the Durable Object client, which
/// loads no wasm) or made by another copy of the package pass it too.
fn brand_check(class: &JsValue) {
    // Returns a JsValue, not a bool: the same closure type as `js::access_token_of`'s, so
    // the two share one shim.
    let check = Closure::<dyn Fn(JsValue) -> JsValue>::new(|v: JsValue| {
        let branded = v.is_instance_of::<js_sys::Error>()
            && get(&v, "name").as_string().as_deref() == Some("OAuthError")
            && get(&v, "code").is_string();
        JsValue::from(branded)
    });
    let desc = Object::new();
    set(&desc, "value", &check.into_js_value());
    let _ = Reflect::define_property(
        class.unchecked_ref::<Object>(),
        &js_sys::Symbol::has_instance(),
        &desc,
    );
}

/// Converts a core error to the `OAuthError` JS sees, with `cause` when there is one.
pub fn to_js(e: &Error, cause: Option<&JsValue>) -> JsValue {
    let err: JsValue = js_sys::Error::new(&e.message).into();
    Object::set_prototype_of(err.unchecked_ref::<Object>(), prototype().unchecked_ref());
    set(&err, "name", &"OAuthError".into());
    set(&err, "code", &e.code.as_str().into());
    set_opt(&err, "status", e.status.map(JsValue::from));
    set_opt(
        &err,
        "description",
        e.description.as_deref().map(JsValue::from),
    );
    set_opt(&err, "uri", e.uri.as_deref().map(JsValue::from));
    set(&err, "retryable", &e.retryable().into());
    set_opt(&err, "retryAfterMs", e.retry_after_ms.map(JsValue::from));
    if let Some(cause) = cause {
        // Not enumerable, like the standard `cause`: JSON.stringify(err) shows only our fields.
        let desc = Object::new();
        set(&desc, "value", cause);
        set(&desc, "configurable", &true.into());
        set(&desc, "writable", &true.into());
        let _ = Reflect::define_property(err.unchecked_ref::<Object>(), &"cause".into(), &desc);
    }
    err
}

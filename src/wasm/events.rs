//! Where a cache's events go ([`crate::drive::events`] builds them): the `onEvent` option
//! and, in Node, the `freshtoken` diagnostics channel (the convention undici uses:
//! subscribe with `diagnostics_channel.subscribe('freshtoken', fn)`).

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::RefCell;

use js_sys::{Function, Object};
use wasm_bindgen::prelude::*;

use super::js::{get, set, Global};
use crate::drive::events::Field;

/// The `freshtoken` channel once looked up: `null` where the host has none (browsers,
/// Workers), so the lookup happens once per instance.
static CHANNEL: Global<RefCell<Option<JsValue>>> = Global(RefCell::new(None));

/// `process.getBuiltinModule('node:diagnostics_channel').channel('freshtoken')`, or null.
fn channel() -> JsValue {
    if let Some(c) = CHANNEL.0.borrow().as_ref() {
        return c.clone();
    }
    let c = lookup().unwrap_or(JsValue::NULL);
    CHANNEL.0.replace(Some(c.clone()));
    c
}

fn lookup() -> Option<JsValue> {
    let process = get(&js_sys::global(), "process");
    let load = get(&process, "getBuiltinModule")
        .dyn_into::<Function>()
        .ok()?;
    let dc = load
        .call1(&process, &"node:diagnostics_channel".into())
        .ok()?;
    let make = get(&dc, "channel").dyn_into::<Function>().ok()?;
    make.call1(&dc, &"freshtoken".into()).ok()
}

/// Whether the channel has subscribers now.
pub fn channel_on() -> bool {
    let c = channel();
    c.is_object() && get(&c, "hasSubscribers").is_truthy()
}

/// Sends `{ type: kind, …fields }` to `hook` and to the channel's subscribers; what a
/// listener throws is ignored.
#[inline(never)]
pub fn emit(hook: Option<&Function>, kind: &'static str, fields: &[(&'static str, Field<'_>)]) {
    let event: JsValue = Object::new().into();
    set(&event, "type", &kind.into());
    for (k, v) in fields {
        let v = match *v {
            Field::Bool(b) => b.into(),
            Field::Num(n) => n.into(),
            Field::Text(s) => s.into(),
            Field::Absent => JsValue::UNDEFINED,
        };
        set(&event, k, &v);
    }
    if let Some(h) = hook {
        let _ = h.call1(&JsValue::UNDEFINED, &event);
    }
    let c = channel();
    if let Ok(publish) = get(&c, "publish").dyn_into::<Function>() {
        let _ = publish.call1(&c, &event);
    }
}

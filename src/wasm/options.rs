//! The JS side of [`crate::options`], where every option rule lives: a JS value as a
//! [`Source`], read through `Reflect` and the host's WHATWG `URL`.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::{Array, Function, JsString, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Url;

use super::js::{get, object_entries};
use crate::error::Error;
use crate::options::{object, Kind, ParsedUrl, Source, Text, Threw};

/// The options of one request, read from JS.
pub type RefreshOptions = crate::options::RefreshOptions<JsValue>;
/// The options of a `TokenCache`, read from JS.
pub type CacheOptions = crate::options::CacheOptions<JsValue>;

/// Reads the options of a request whose endpoint option is `url` (`tokenUrl`,
/// `revocationUrl`), with `refreshToken` or without.
pub fn request(v: &JsValue, url: &'static str, refresh: bool) -> Result<RefreshOptions, Error> {
    RefreshOptions::read(object(v)?, url, refresh, None)
}

impl Source for JsValue {
    type Func = Function;
    type Text = JsString;

    /// The common case first: most options are absent.
    fn kind(&self) -> Kind {
        if self.is_undefined() {
            Kind::Undefined
        } else if self.is_null() {
            Kind::Null
        } else if self.is_string() {
            Kind::Text
        } else if self.as_f64().is_some() {
            Kind::Number
        } else if self.as_bool().is_some() {
            Kind::Bool
        } else if self.is_function() {
            Kind::Func
        } else if Array::is_array(self) {
            Kind::Array
        } else if self.is_object() {
            Kind::Object
        } else {
            Kind::Other
        }
    }

    fn number(&self) -> f64 {
        self.as_f64().unwrap_or(f64::NAN)
    }

    fn boolean(&self) -> bool {
        self.is_truthy()
    }

    fn field(&self, name: &'static str) -> Result<JsValue, Threw> {
        // Not through `js::get`'s key table: read once per option, they would only lengthen
        // the table that every hot-path read searches.
        Reflect::get(self, &JsValue::from_str(name)).map_err(|_| Threw)
    }

    fn entries(&self) -> Result<JsValue, Threw> {
        object_entries(self).map(JsValue::from).map_err(|_| Threw)
    }

    fn length(&self) -> u32 {
        self.unchecked_ref::<Array>().length()
    }

    fn at(&self, i: u32) -> JsValue {
        self.unchecked_ref::<Array>().get(i)
    }

    fn into_text(self) -> JsString {
        self.unchecked_into()
    }

    fn into_func(self) -> Function {
        self.unchecked_into()
    }

    fn parse_url(raw: &str) -> Option<ParsedUrl> {
        let url: JsValue = Url::new(raw).ok()?.into();
        // Through Reflect (already imported) rather than one glue import per getter.
        let part = |key| get(&url, key).as_string().unwrap_or_default();
        Some(ParsedUrl {
            has_credentials: !part("username").is_empty() || !part("password").is_empty(),
            href: part("href"),
            protocol: part("protocol"),
            hostname: part("hostname"),
        })
    }

    fn room(bytes: usize) -> Result<(), Error> {
        crate::memory::room(bytes)
    }
}

impl Text for JsString {
    fn units(&self) -> u32 {
        self.length()
    }
    fn well_formed(&self) -> bool {
        self.is_valid_utf16()
    }
    fn into_string(self) -> String {
        JsValue::from(self).as_string().unwrap_or_default()
    }
}

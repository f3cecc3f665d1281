//! Reading and validating the options objects: every option rule in this one place, over
//! any host's values ([`Source`]). The wasm layer reads JS objects through it; the native
//! tests read tables. Every problem is `invalid_options` (or `insecure_url`) naming the
//! option, never quoting its value; an option whose getter throws is `invalid_options` too,
//! never "absent" (a throwing `clientSecret` getter must not turn the client public).

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::response::{JsonObject, TokenFields};
use crate::secret::Secret;
use crate::url::{check_url, UrlParts};

mod cache;
mod refresh;
#[cfg(test)]
mod tests;

pub use cache::CacheOptions;
pub use refresh::{authorize_url, token_type_hint, RefreshOptions};

/// Longest string option taken, in UTF-16 units. No token endpoint takes megabyte ids,
/// secrets or tokens; refusing them up front keeps a mistake from becoming a huge request
/// (and the length is read before anything is copied in).
pub const MAX_OPTION_CHARS: u32 = 65_536;

/// A value of the host's: the options object, and every value read from it.
pub trait Source: Sized {
    /// A host function (`fetch`, `now`, the hooks).
    type Func;
    /// A host string, not yet copied in: its length and form are checked first.
    type Text: Text;
    /// Its JS type.
    fn kind(&self) -> Kind;
    /// A value of kind [`Kind::Number`] as one.
    fn number(&self) -> f64;
    /// A value of kind [`Kind::Bool`] as one.
    fn boolean(&self) -> bool;
    /// `self[name]`; `Err` when reading it threw (a getter or a Proxy).
    fn field(&self, name: &'static str) -> Result<Self, Threw>;
    /// Its own enumerable `[key, value]` pairs in order (`Object.entries`), an array of
    /// arrays; `Err` when listing them threw.
    fn entries(&self) -> Result<Self, Threw>;
    /// An array's length.
    fn length(&self) -> u32;
    /// An array's item `i`.
    fn at(&self, i: u32) -> Self;
    /// A value of kind [`Kind::Text`] as one.
    fn into_text(self) -> Self::Text;
    /// A value of kind [`Kind::Func`] as one.
    fn into_func(self) -> Self::Func;
    /// The host's WHATWG parse of `raw` (what its `fetch` will use); `None` when it is no
    /// absolute URL.
    fn parse_url(raw: &str) -> Option<ParsedUrl>;
    /// `Ok` when `bytes` can be allocated now (the wasm build checks; see `wasm::memory`).
    fn room(bytes: usize) -> Result<(), Error>;
}

/// A host string before it is copied in.
pub trait Text {
    /// Its length in UTF-16 units.
    fn units(&self) -> u32;
    /// No lone surrogate (one would be sent as U+FFFD: a different token, silently).
    fn well_formed(&self) -> bool;
    /// The copy.
    fn into_string(self) -> String;
}

/// A value's JS type.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// `undefined`, or not there.
    Undefined,
    /// `null`.
    Null,
    /// A boolean.
    Bool,
    /// A number.
    Number,
    /// A string.
    Text,
    /// A function.
    Func,
    /// An array.
    Array,
    /// Any other object.
    Object,
    /// A symbol or a bigint.
    Other,
}

/// Reading a field threw.
#[derive(Debug)]
pub struct Threw;

/// The parts of a host-parsed URL the rules look at.
pub struct ParsedUrl {
    /// `URL.href`, normalised.
    pub href: String,
    /// `URL.protocol`.
    pub protocol: String,
    /// `URL.hostname`.
    pub hostname: String,
    /// `URL.username` or `URL.password` is non-empty.
    pub has_credentials: bool,
}

/// `v` as the options object: any object (arrays too, as `typeof` says), not a function.
pub fn object<S: Source>(v: &S) -> Result<&S, Error> {
    match v.kind() {
        Kind::Object | Kind::Array => Ok(v),
        _ => Err(Error::invalid_option("options", "must be an object")),
    }
}

/// `v[name]`; a getter or Proxy that throws makes the option `invalid_options`.
pub fn read<S: Source>(v: &S, name: &'static str) -> Result<S, Error> {
    v.field(name)
        .map_err(|_| Error::invalid_option(name, "could not be read (its getter threw)"))
}

/// A required non-empty string.
pub fn req_string<S: Source>(v: &S, name: &'static str) -> Result<String, Error> {
    opt_string(v, name)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::invalid_option(name, "must be a non-empty string"))
}

/// An optional string; `undefined` and `null` mean absent.
pub fn opt_string<S: Source>(v: &S, name: &'static str) -> Result<Option<String>, Error> {
    let x = read(v, name)?;
    match x.kind() {
        Kind::Undefined | Kind::Null => Ok(None),
        Kind::Text => text::<S>(x.into_text(), name).map(Some),
        _ => Err(Error::invalid_option(name, "must be a string")),
    }
}

/// A string option's text, once its length and form pass.
fn text<S: Source>(t: S::Text, name: &str) -> Result<String, Error> {
    if t.units() > MAX_OPTION_CHARS {
        return Err(Error::invalid_option(
            name,
            "is longer than 65536 characters",
        ));
    }
    if !t.well_formed() {
        return Err(Error::invalid_option(
            name,
            "is not well-formed Unicode (lone surrogate)",
        ));
    }
    room_for_text::<S>(t.units())?;
    Ok(t.into_string())
}

/// Room for copying a host string of `units` UTF-16 units in (up to 3 UTF-8 bytes each)
/// and for what parsing and redacting it copies again: 8 bytes per unit.
pub fn room_for_text<S: Source>(units: u32) -> Result<(), Error> {
    S::room((units as usize).saturating_mul(8))
}

/// An optional boolean.
pub fn opt_bool<S: Source>(v: &S, name: &'static str) -> Result<Option<bool>, Error> {
    let x = read(v, name)?;
    match x.kind() {
        Kind::Undefined => Ok(None),
        Kind::Bool => Ok(Some(x.boolean())),
        _ => Err(Error::invalid_option(name, "must be a boolean")),
    }
}

/// An optional function.
pub fn opt_function<S: Source>(v: &S, name: &'static str) -> Result<Option<S::Func>, Error> {
    let x = read(v, name)?;
    match x.kind() {
        Kind::Undefined => Ok(None),
        Kind::Func => Ok(Some(x.into_func())),
        _ => Err(Error::invalid_option(name, "must be a function")),
    }
}

/// An optional `Record<string, string>`, as its own enumerable entries in order.
pub fn opt_record<S: Source>(v: &S, name: &'static str) -> Result<Vec<(String, String)>, Error> {
    let not_strings = || Error::invalid_option(name, "must be an object of strings");
    let obj = read(v, name)?;
    match obj.kind() {
        Kind::Undefined | Kind::Null => return Ok(Vec::new()),
        Kind::Object => {}
        _ => return Err(not_strings()),
    }
    let entries = obj
        .entries()
        .map_err(|_| Error::invalid_option(name, "could not be read"))?;
    let mut out = Vec::new();
    for i in 0..entries.length() {
        let pair = entries.at(i);
        let (k, v) = (pair.at(0), pair.at(1));
        if !matches!((k.kind(), v.kind()), (Kind::Text, Kind::Text)) {
            return Err(not_strings());
        }
        let (k, v) = (k.into_text(), v.into_text());
        let units = k.units().saturating_add(v.units());
        if units > MAX_OPTION_CHARS || !k.well_formed() || !v.well_formed() {
            return Err(not_strings());
        }
        room_for_text::<S>(units)?;
        out.push((k.into_string(), v.into_string()));
    }
    Ok(out)
}

/// An optional finite number `>= min` of `obj` (absent when `obj` is); `name` is what an
/// error calls it (`retry.retries` for the key `retries` of `retry`).
fn number<S: Source>(
    obj: Option<&S>,
    name: &'static str,
    key: &'static str,
    default: f64,
    min: f64,
) -> Result<f64, Error> {
    let Some(obj) = obj else {
        return Ok(default);
    };
    let v = obj
        .field(key)
        .map_err(|_| Error::invalid_option(name, "could not be read"))?;
    match (v.kind(), v.number()) {
        (Kind::Undefined, _) => Ok(default),
        (Kind::Number, n) if n.is_finite() && n >= min => Ok(n),
        _ => Err(Error::invalid_option(
            name,
            "must be a finite number in range",
        )),
    }
}

/// Parses with the host's WHATWG `URL` (what `fetch` itself will use), then applies the
/// scheme and loopback rules to the option `name`. Returns the normalised `href`.
pub fn checked_url<S: Source>(
    raw: &str,
    allow_insecure: bool,
    name: &str,
) -> Result<String, Error> {
    let url =
        S::parse_url(raw).ok_or_else(|| Error::invalid_option(name, "must be an absolute URL"))?;
    let parts = UrlParts {
        protocol: &url.protocol,
        hostname: &url.hostname,
        href: &url.href,
        has_credentials: url.has_credentials,
    };
    check_url(&parts, allow_insecure, name)?;
    Ok(url.href)
}

/// The token fields of a caller's TokenSet (`TokenCache.fromTokenSet`), `None` without an `accessToken` string;
/// `out_of_memory` when its strings do not fit.
pub fn token_set_fields<V: Source + JsonObject + Default>(
    set: &V,
) -> Result<Option<TokenFields>, Error> {
    let at = Source::field(set, "accessToken").unwrap_or_default();
    let units = match at.kind() {
        Kind::Text => at.into_text().units(),
        _ => 0,
    };
    room_for_text::<V>(units)?;
    let Some(access_token) = set.text("accessToken") else {
        return Ok(None);
    };
    Ok(Some(TokenFields {
        access_token: Secret::new(access_token),
        token_type: set
            .text("tokenType")
            .unwrap_or_else(|| String::from("Bearer")),
        expires_in: set.non_negative("expiresIn"),
        expires_at: set.non_negative("expiresAt"),
        refresh_token: None,
        scope: set.text("scope"),
    }))
}

//! Reading and validating the JS options objects, every option in this one place. Every
//! problem is `invalid_options` (or `insecure_url`) naming the option, never quoting its
//! value; an option whose getter throws is `invalid_options` too, never "absent" (a
//! throwing `clientSecret` getter must not turn the client public).

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::{Array, Function};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortSignal, Url};

use super::js::get;
use crate::error::Error;
use crate::grant::{BasicEncoding, Client, ClientAuth, Extras};
use crate::secret::Secret;
use crate::url::{check_url, UrlParts};

mod cache;
pub use cache::CacheOptions;

/// `timeoutMs` when not given.
const DEFAULT_TIMEOUT_MS: f64 = 10_000.0;

/// Validated options of one refresh.
pub struct RefreshOptions {
    /// The token URL, as the WHATWG parser normalised it.
    pub token_url: String,
    /// Who is asking and how it authenticates.
    pub client: Client,
    /// The refresh token from the options.
    pub refresh_token: Secret,
    /// `scope`.
    pub scope: Option<String>,
    /// `extraParams` and `headers`.
    pub extras: Extras,
    /// `timeoutMs`; infinite means no timer.
    pub timeout_ms: f64,
    /// The caller's abort signal.
    pub signal: Option<AbortSignal>,
    /// An injected `fetch`.
    pub fetch: Option<Function>,
    /// An injected clock.
    pub now: Option<Function>,
    /// `grant: 'client_credentials'`: no refresh token; each refresh is a new grant.
    pub client_credentials: bool,
}

impl RefreshOptions {
    /// Reads every option of `refreshAccessToken` from `v`.
    pub fn from_js(v: &JsValue) -> Result<RefreshOptions, Error> {
        Self::parse(v, "tokenUrl", true)
    }

    /// The same options for another grant (`exchangeCode`): no `refreshToken`.
    pub fn from_js_without_refresh_token(v: &JsValue) -> Result<RefreshOptions, Error> {
        Self::parse(v, "tokenUrl", false)
    }

    /// The options of `revokeToken`: `revocationUrl` (kept as `token_url`), no
    /// `refreshToken`.
    pub fn for_revocation(v: &JsValue) -> Result<RefreshOptions, Error> {
        Self::parse(v, "revocationUrl", false)
    }

    fn parse(v: &JsValue, url: &str, needs_refresh_token: bool) -> Result<RefreshOptions, Error> {
        if !v.is_object() {
            return Err(Error::invalid_option("options", "must be an object"));
        }
        let secret = opt_string(v, "clientSecret")?.map(Secret::new);
        let client_auth = match opt_string(v, "clientAuth")? {
            None => None,
            Some(s) => Some(ClientAuth::parse(&s).ok_or_else(|| bad("clientAuth"))?),
        };
        let basic_encoding = match opt_string(v, "basicAuthEncoding")?.as_deref() {
            None => None,
            Some("form") => Some(BasicEncoding::Form),
            Some("raw") => Some(BasicEncoding::Raw),
            Some(_) => return Err(bad("basicAuthEncoding")),
        };
        let client = Client::new(
            req_string(v, "clientId")?,
            secret,
            client_auth,
            basic_encoding,
        )?;
        let allow_insecure = opt_bool(v, "allowInsecureHttp")?.unwrap_or(false);
        let client_credentials = match opt_string(v, "grant")?.as_deref() {
            None | Some("refresh_token") => false,
            Some("client_credentials") if client.secret().is_empty() => {
                return Err(Error::invalid_option(
                    "clientSecret",
                    "is required for grant 'client_credentials'",
                ))
            }
            Some("client_credentials") => true,
            Some(_) => return Err(bad("grant")),
        };
        let refresh_token = Secret::new(if needs_refresh_token && !client_credentials {
            req_string(v, "refreshToken")?
        } else {
            String::new()
        });
        let opts = RefreshOptions {
            token_url: checked_url(&req_string(v, url)?, allow_insecure, url)?,
            client,
            refresh_token,
            scope: opt_string(v, "scope")?,
            extras: Extras {
                params: opt_record(v, "extraParams")?,
                headers: opt_record(v, "headers")?,
            },
            timeout_ms: timeout(v)?,
            signal: opt_signal(v)?,
            fetch: opt_function(v, "fetch")?,
            now: opt_function(v, "now")?,
            client_credentials,
        };
        super::memory::room(opts.request_bytes().saturating_mul(12))?;
        Ok(opts)
    }

    /// The bytes of every string a request carries: a byte becomes up to three when
    /// percent-encoded, and the body, the header and their copies coexist, hence the room
    /// for twelve times this that `parse` checks for.
    fn request_bytes(&self) -> usize {
        let mut n = self.client.id.len() + self.client.secret().len() + self.token_url.len();
        n += self.refresh_token.expose().len() + self.scope.as_ref().map_or(0, String::len);
        for (k, v) in self.extras.params.iter().chain(&self.extras.headers) {
            n += k.len() + v.len();
        }
        n
    }
}

fn bad(name: &str) -> Error {
    Error::invalid_option(name, "has an unsupported value")
}

/// Parses with the host's WHATWG `URL` (what `fetch` itself will use), then applies the
/// scheme and loopback rules to the option `name`.
pub fn checked_url(raw: &str, allow_insecure: bool, name: &str) -> Result<String, Error> {
    let url: JsValue = Url::new(raw)
        .map_err(|_| Error::invalid_option(name, "must be an absolute URL"))?
        .into();
    // Read through Reflect (already imported) rather than one glue import per getter.
    let part = |key| get(&url, key).as_string().unwrap_or_default();
    let href = part("href");
    let parts = UrlParts {
        protocol: &part("protocol"),
        hostname: &part("hostname"),
        href: &href,
        has_credentials: !part("username").is_empty() || !part("password").is_empty(),
    };
    check_url(&parts, allow_insecure, name)?;
    Ok(href)
}

fn timeout(v: &JsValue) -> Result<f64, Error> {
    let t = read(v, "timeoutMs")?;
    if t.is_undefined() {
        return Ok(DEFAULT_TIMEOUT_MS);
    }
    match t.as_f64() {
        Some(ms) if ms > 0.0 => Ok(ms), // Infinity: no timer
        _ => Err(Error::invalid_option(
            "timeoutMs",
            "must be a positive number",
        )),
    }
}

/// A required non-empty string.
pub fn req_string(v: &JsValue, name: &str) -> Result<String, Error> {
    opt_string(v, name)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::invalid_option(name, "must be a non-empty string"))
}

/// Longest string option taken, in UTF-16 units. No token endpoint takes megabyte ids,
/// secrets or tokens; refusing them up front keeps a mistake from becoming a huge request
/// (and the length is read before anything is copied into wasm memory).
const MAX_OPTION_CHARS: u32 = 65_536;

/// An optional string; `undefined` and `null` mean absent.
pub fn opt_string(v: &JsValue, name: &str) -> Result<Option<String>, Error> {
    let x = read(v, name)?;
    if x.is_undefined() || x.is_null() {
        return Ok(None);
    }
    if !x.is_string() {
        return Err(Error::invalid_option(name, "must be a string"));
    }
    let js = x.unchecked_ref::<js_sys::JsString>();
    if js.length() > MAX_OPTION_CHARS {
        return Err(Error::invalid_option(
            name,
            "is longer than 65536 characters",
        ));
    }
    // A lone surrogate would go out as U+FFFD: a different token, silently.
    if !js.is_valid_utf16() {
        return Err(Error::invalid_option(
            name,
            "is not well-formed Unicode (lone surrogate)",
        ));
    }
    super::memory::room_for_text(js.length())?;
    Ok(x.as_string())
}

/// An optional boolean.
pub fn opt_bool(v: &JsValue, name: &str) -> Result<Option<bool>, Error> {
    let x = read(v, name)?;
    if x.is_undefined() {
        return Ok(None);
    }
    x.as_bool()
        .map(Some)
        .ok_or_else(|| Error::invalid_option(name, "must be a boolean"))
}

/// An optional function.
pub fn opt_function(v: &JsValue, name: &str) -> Result<Option<Function>, Error> {
    let x = read(v, name)?;
    if x.is_undefined() {
        return Ok(None);
    }
    x.dyn_into::<Function>()
        .map(Some)
        .map_err(|_| Error::invalid_option(name, "must be a function"))
}

/// An optional `AbortSignal` (anything with a boolean `aborted` and `addEventListener`).
fn opt_signal(v: &JsValue) -> Result<Option<AbortSignal>, Error> {
    let x = read(v, "signal")?;
    if x.is_undefined() {
        return Ok(None);
    }
    let looks_right =
        get(&x, "aborted").as_bool().is_some() && get(&x, "addEventListener").is_function();
    if !looks_right {
        return Err(Error::invalid_option("signal", "must be an AbortSignal"));
    }
    Ok(Some(x.unchecked_into()))
}

/// An optional `Record<string, string>`, as its own enumerable entries in order.
pub fn opt_record(v: &JsValue, name: &str) -> Result<Vec<(String, String)>, Error> {
    let x = read(v, name)?;
    if x.is_undefined() || x.is_null() {
        return Ok(Vec::new());
    }
    if !x.is_object() || Array::is_array(&x) {
        return Err(Error::invalid_option(name, "must be an object of strings"));
    }
    let mut out = Vec::new();
    let entries = super::js::object_entries(&x)
        .map_err(|_| Error::invalid_option(name, "could not be read"))?;
    for entry in entries.iter() {
        let (key, value) = (get(&entry, "0"), get(&entry, "1"));
        let (Some(k), Some(v)) = (
            key.dyn_ref::<js_sys::JsString>(),
            value.dyn_ref::<js_sys::JsString>(),
        ) else {
            return Err(Error::invalid_option(name, "must be an object of strings"));
        };
        let units = k.length().saturating_add(v.length());
        if units > MAX_OPTION_CHARS || !k.is_valid_utf16() || !v.is_valid_utf16() {
            return Err(Error::invalid_option(name, "must be an object of strings"));
        }
        super::memory::room_for_text(units)?;
        out.push((String::from(k), String::from(v)));
    }
    Ok(out)
}

/// `v[name]`; a getter or Proxy that throws makes the option `invalid_options`.
pub fn read(v: &JsValue, name: &str) -> Result<JsValue, Error> {
    js_sys::Reflect::get(v, &JsValue::from_str(name))
        .map_err(|_| Error::invalid_option(name, "could not be read (its getter threw)"))
}

//! The options a `TokenCache` reads beyond those of one refresh.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::Function;
use wasm_bindgen::JsValue;

use super::{opt_function, opt_string, read, RefreshOptions};
use crate::cache::{client_credentials_key, default_store_key, Policy};
use crate::error::Error;
use crate::lock::LockPolicy;
use crate::wasm::js::object_assign;

/// The options of a `TokenCache` beyond those of one refresh.
pub struct CacheOptions {
    /// The refresh options.
    pub refresh: RefreshOptions,
    /// Lifetimes, skew and retries.
    pub policy: Policy,
    /// `store`, checked to have `get` and `put`.
    pub store: Option<JsValue>,
    /// `storeKey`, or the default one.
    pub store_key: String,
    /// `onTokens`.
    pub on_tokens: Option<Function>,
    /// `onEvent`.
    pub on_event: Option<Function>,
    /// `revocationUrl`, for `revoke()`.
    pub revocation_url: Option<String>,
    /// The store's lock timings, when it has `lock` and `unlock`.
    pub lock: Option<LockPolicy>,
}

impl CacheOptions {
    /// Reads every option of `new TokenCache(options)`.
    pub fn from_js(v: &JsValue) -> Result<CacheOptions, Error> {
        let refresh = RefreshOptions::from_js(v)?;
        // Build the request once now: bad `extraParams` or `headers` throw here, as the
        // constructor promises, not at the first refresh.
        let scope = refresh.scope.as_deref();
        if refresh.client_credentials {
            crate::grant::client_credentials_request(&refresh.client, scope, &refresh.extras)?;
        } else {
            crate::grant::refresh_request(
                &refresh.client,
                &refresh.refresh_token,
                scope,
                &refresh.extras,
            )?;
        }
        let store_key = match opt_string(v, "storeKey")? {
            Some(k) if !k.is_empty() => k,
            Some(_) => {
                return Err(Error::invalid_option(
                    "storeKey",
                    "must be a non-empty string",
                ))
            }
            None if refresh.client_credentials => default_store_key(
                &refresh.token_url,
                &refresh.client.id,
                &client_credentials_key(refresh.scope.as_deref(), &refresh.extras.params),
            ),
            None => default_store_key(
                &refresh.token_url,
                &refresh.client.id,
                refresh.refresh_token.expose(),
            ),
        };
        let policy = policy(v)?;
        let store = store(v)?;
        let lock = lock(v, store.as_ref(), &refresh, &policy)?;
        Ok(CacheOptions {
            policy,
            store,
            lock,
            store_key,
            on_tokens: opt_function(v, "onTokens")?,
            on_event: opt_function(v, "onEvent")?,
            revocation_url: revocation_url(v)?,
            refresh,
        })
    }

    /// The options of `TokenCache.fromTokenSet(tokenSet, options)`: `refreshToken`
    /// defaults to the TokenSet's.
    pub fn seeded(token_set: &JsValue, v: &JsValue) -> Result<CacheOptions, Error> {
        if !v.is_object() {
            return Err(Error::invalid_option("options", "must be an object"));
        }
        let merged = object_assign(&js_sys::Object::new().into(), v)
            .map_err(|_| Error::invalid_option("options", "could not be read"))?;
        if read(&merged, "refreshToken")?.is_undefined() {
            let rt = read(token_set, "refreshToken")?;
            crate::wasm::js::set(&merged, "refreshToken", &rt);
        }
        Self::from_js(&merged)
    }
}

fn store(v: &JsValue) -> Result<Option<JsValue>, Error> {
    let store = read(v, "store")?;
    if store.is_undefined() || store.is_null() {
        return Ok(None);
    }
    if read(&store, "get")?.is_function() && read(&store, "put")?.is_function() {
        return Ok(Some(store));
    }
    Err(Error::invalid_option(
        "store",
        "must have get(key) and put(key, value)",
    ))
}

fn revocation_url(v: &JsValue) -> Result<Option<String>, Error> {
    let Some(url) = opt_string(v, "revocationUrl")? else {
        return Ok(None);
    };
    let insecure = super::opt_bool(v, "allowInsecureHttp")?.unwrap_or(false);
    super::checked_url(&url, insecure, "revocationUrl").map(Some)
}

/// A store with `lock(key, owner, ttlMs)` and `unlock(key, owner)` shares one refresh
/// among processes; the TTL is `lockTtlMs`, or one covering the worst-case refresh.
fn lock(
    v: &JsValue,
    store: Option<&JsValue>,
    refresh: &RefreshOptions,
    policy: &Policy,
) -> Result<Option<LockPolicy>, Error> {
    let ttl = read(v, "lockTtlMs")?;
    let Some(store) = store else {
        if ttl.is_undefined() {
            return Ok(None);
        }
        return Err(Error::invalid_option(
            "lockTtlMs",
            "needs a store with lock",
        ));
    };
    match (read(store, "lock")?, read(store, "unlock")?) {
        (l, u) if l.is_function() && u.is_function() => {}
        (l, u) if l.is_undefined() && u.is_undefined() && ttl.is_undefined() => return Ok(None),
        _ => {
            return Err(Error::invalid_option(
                "store",
                "must have both lock(key, owner, ttlMs) and unlock(key, owner), or neither",
            ))
        }
    }
    if ttl.is_undefined() {
        let tries = if refresh.client.auto { 3 } else { 1 };
        return Ok(Some(LockPolicy::covering(
            refresh.timeout_ms,
            tries,
            policy,
        )));
    }
    let ms = number(v, "lockTtlMs", "lockTtlMs", 0.0, 1.0)?;
    Ok(Some(LockPolicy::with_ttl(ms)))
}

/// Reads `refreshSkewMs`, `defaultExpiresInSec`, `minTokenAgeMs` and `retry`.
fn policy(options: &JsValue) -> Result<Policy, Error> {
    let d = Policy::default();
    let retry = read(options, "retry")?;
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
    let n = |key: &str, default: f64| number(options, key, key, default, 0.0);
    Ok(Policy {
        skew_ms: n("refreshSkewMs", d.skew_ms)?,
        default_expires_in_sec: n("defaultExpiresInSec", d.default_expires_in_sec)?,
        min_token_age_ms: n("minTokenAgeMs", d.min_token_age_ms)?,
        margin_ms: n("expiryMarginMs", d.margin_ms)?,
        cooldown_ms: n("failureCooldownMs", d.cooldown_ms)?,
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
        read(obj, key).map_err(|_| Error::invalid_option(name, "could not be read"))?
    };
    if v.is_undefined() {
        return Ok(default);
    }
    v.as_f64()
        .filter(|n| n.is_finite() && *n >= min)
        .ok_or_else(|| Error::invalid_option(name, "must be a finite number in range"))
}

//! The options a `TokenCache` reads beyond those of one refresh.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{checked_url, number, opt_function, opt_string, read, Kind, RefreshOptions, Source};
use crate::cache::{client_credentials_key, default_store_key, Policy};
use crate::error::Error;
use crate::lock::LockPolicy;

/// The options of a `TokenCache`.
pub struct CacheOptions<S: Source> {
    /// The refresh options.
    pub refresh: RefreshOptions<S>,
    /// Lifetimes, skew and retries.
    pub policy: Policy,
    /// `store`, checked to have `get` and `put`.
    pub store: Option<S>,
    /// `storeKey`, or the default one.
    pub store_key: String,
    /// `onTokens`.
    pub on_tokens: Option<S::Func>,
    /// `onEvent`.
    pub on_event: Option<S::Func>,
    /// `revocationUrl`, for `revoke()`.
    pub revocation_url: Option<String>,
    /// The store's lock timings, when it has `lock` and `unlock`.
    pub lock: Option<LockPolicy>,
}

impl<S: Source> CacheOptions<S> {
    /// Every option of `new TokenCache(options)`; with `seed` (a TokenSet, for
    /// `TokenCache.fromTokenSet`), `refreshToken` defaults to the seed's.
    pub fn read(v: &S, seed: Option<&S>) -> Result<CacheOptions<S>, Error> {
        let v = super::object(v)?;
        let refresh = RefreshOptions::read(v, "tokenUrl", true, seed)?;
        // Build the request once now: bad `extraParams` or `headers` throw here, as the
        // constructor promises, not at the first refresh.
        let scope = refresh.scope.as_deref();
        let extras = &refresh.extras;
        if refresh.client_credentials {
            crate::grant::client_credentials_request(&refresh.client, scope, extras)?;
        } else {
            crate::grant::refresh_request(&refresh.client, &refresh.refresh_token, scope, extras)?;
        }
        let store_key = store_key(v, &refresh)?;
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
            revocation_url: revocation_url(v, &refresh)?,
            refresh,
        })
    }
}

/// `storeKey`, or one derived from the endpoint, the client and the grant (a hash: never a
/// secret).
fn store_key<S: Source>(v: &S, refresh: &RefreshOptions<S>) -> Result<String, Error> {
    let (url, id) = (&refresh.token_url, &refresh.client.id);
    match opt_string(v, "storeKey")? {
        Some(k) if !k.is_empty() => Ok(k),
        Some(_) => Err(Error::invalid_option(
            "storeKey",
            "must be a non-empty string",
        )),
        None if refresh.client_credentials => {
            let scope = refresh.scope.as_deref();
            let grant = client_credentials_key(scope, &refresh.extras.params);
            Ok(default_store_key(url, id, &grant))
        }
        None => Ok(default_store_key(url, id, refresh.refresh_token.expose())),
    }
}

/// `revocationUrl`, by the rules of `tokenUrl`.
fn revocation_url<S: Source>(v: &S, r: &RefreshOptions<S>) -> Result<Option<String>, Error> {
    let Some(raw) = opt_string(v, "revocationUrl")? else {
        return Ok(None);
    };
    checked_url::<S>(&raw, r.allow_insecure_http, "revocationUrl").map(Some)
}

fn store<S: Source>(v: &S) -> Result<Option<S>, Error> {
    let store = read(v, "store")?;
    match store.kind() {
        Kind::Undefined | Kind::Null => return Ok(None),
        // A function too: a class whose static methods are the store.
        Kind::Object | Kind::Array | Kind::Func => {}
        _ => return Err(not_a_store()),
    }
    let has = |name| Ok::<_, Error>(matches!(read(&store, name)?.kind(), Kind::Func));
    if has("get")? && has("put")? {
        return Ok(Some(store));
    }
    Err(not_a_store())
}

fn not_a_store() -> Error {
    Error::invalid_option("store", "must have get(key) and put(key, value)")
}

/// A store with `lock(key, owner, ttlMs)` and `unlock(key, owner)` shares one refresh
/// among processes; the TTL is `lockTtlMs`, or one covering the worst-case refresh.
fn lock<S: Source>(
    v: &S,
    store: Option<&S>,
    refresh: &RefreshOptions<S>,
    policy: &Policy,
) -> Result<Option<LockPolicy>, Error> {
    let no_ttl = matches!(read(v, "lockTtlMs")?.kind(), Kind::Undefined);
    let Some(store) = store else {
        if no_ttl {
            return Ok(None);
        }
        return Err(Error::invalid_option(
            "lockTtlMs",
            "needs a store with lock",
        ));
    };
    match (read(store, "lock")?.kind(), read(store, "unlock")?.kind()) {
        (Kind::Func, Kind::Func) => {}
        (Kind::Undefined, Kind::Undefined) if no_ttl => return Ok(None),
        _ => {
            return Err(Error::invalid_option(
                "store",
                "must have both lock(key, owner, ttlMs) and unlock(key, owner), or neither",
            ))
        }
    }
    if no_ttl {
        let tries = if refresh.client.auto { 3 } else { 1 };
        return Ok(Some(LockPolicy::covering(
            refresh.timeout_ms,
            tries,
            policy,
        )));
    }
    let ms = number(Some(v), "lockTtlMs", "lockTtlMs", 0.0, 1.0)?;
    Ok(Some(LockPolicy::with_ttl(ms)))
}

/// Reads `refreshSkewMs`, `defaultExpiresInSec`, `minTokenAgeMs`, `expiryMarginMs`,
/// `failureCooldownMs` and `retry`.
fn policy<S: Source>(v: &S) -> Result<Policy, Error> {
    let d = Policy::default();
    let retry = read(v, "retry")?;
    let retry = match retry.kind() {
        Kind::Undefined => None,
        Kind::Object | Kind::Array => Some(retry),
        _ => return Err(Error::invalid_option("retry", "must be an object")),
    };
    let retry = retry.as_ref();
    let retries = number(retry, "retry.retries", "retries", f64::from(d.retries), 0.0)?;
    if retries > 100.0 || !crate::num::is_whole(retries) {
        return Err(Error::invalid_option(
            "retry.retries",
            "must be a whole number up to 100",
        ));
    }
    let min_delay_ms = number(retry, "retry.minDelayMs", "minDelayMs", d.min_delay_ms, 0.0)?;
    let max = number(
        retry,
        "retry.maxDelayMs",
        "maxDelayMs",
        d.max_delay_ms,
        min_delay_ms,
    );
    let n = |key: &'static str, default: f64| number(Some(v), key, key, default, 0.0);
    Ok(Policy {
        skew_ms: n("refreshSkewMs", d.skew_ms)?,
        default_expires_in_sec: n("defaultExpiresInSec", d.default_expires_in_sec)?,
        min_token_age_ms: n("minTokenAgeMs", d.min_token_age_ms)?,
        margin_ms: n("expiryMarginMs", d.margin_ms)?,
        cooldown_ms: n("failureCooldownMs", d.cooldown_ms)?,
        retries: retries as u32,
        min_delay_ms,
        max_delay_ms: max?,
    })
}

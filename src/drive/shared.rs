//! A cache's shared insides, for any host (the wasm `TokenCache` is a face over [`Shared`]):
//! its views, the one job every caller joins (in `inflight` before its first step runs), the
//! one started ahead, the cooldown after a failure. No borrow lives across an `.await`.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::boxed::Box;
use alloc::rc::Rc;
use core::cell::RefCell;
use core::future::Future;

use super::events::Events;
use super::job::{run, Cache, Ended};
use super::{Failure, Host};
use crate::cache::{Serve, Stored, Token};
use crate::error::Error;
use crate::options::{Kind, Source};
use crate::secret::Secret;

/// A cache: the host's side of it, and what its callers share.
pub struct Shared<C: Cache> {
    /// The host's side: options, core state, store, hook, listeners.
    pub cache: C,
    views: RefCell<Option<Views<C::V>>>,
    /// The job in flight: a host promise of its TokenSet.
    inflight: RefCell<Option<C::V>>,
    /// The last failed refresh's rejection, every waiting caller's during the cooldown.
    failure: RefCell<Option<C::V>>,
}

/// The published token and its host views, made once per refresh (a hit encodes nothing),
/// with settled promises of the two (one made per hit was half a hit's cost). Hits judge
/// freshness by it, never by the core's state, which a job changes first.
struct Views<V> {
    token: Token,
    access_token: V,
    token_set: V,
    access_token_promise: V,
    token_set_promise: V,
}

impl<C: Cache + 'static> Shared<C> {
    /// A cache with no token yet.
    pub fn new(cache: C) -> Self {
        Shared {
            cache,
            views: RefCell::new(None),
            inflight: RefCell::new(None),
            failure: RefCell::new(None),
        }
    }

    /// A cache holding `token_set` already (`fromTokenSet`): `invalid_options` without an
    /// `accessToken` string; what the caller's `now` throws passes through.
    pub fn seeded(cache: C, token_set: &C::V) -> Result<Self, Failure<C::V>> {
        let fields = crate::options::token_set_fields(token_set)?
            .ok_or_else(|| Error::invalid_option("tokenSet", "has no accessToken"))?;
        let me = Self::new(cache);
        let now = me.now()?;
        let token = Token::from_fields(&fields, now, &me.cache.options().policy);
        let raw = Source::field(token_set, "raw").unwrap_or_default();
        let raw = match raw.kind() {
            Kind::Object | Kind::Array | Kind::Func => raw,
            _ => C::V::default(),
        };
        let rt = me.cache.state().borrow().refresh_token.clone();
        me.set_views(token.clone(), C::token_set(&token.fields(), &raw, &rt));
        me.cache.state().borrow_mut().publish(token);
        Ok(me)
    }

    /// The caller's clock.
    pub fn now(&self) -> Result<f64, Failure<C::V>> {
        C::V::now(&self.cache.options().refresh)
    }

    /// A promise of the access token (`token_only`) or TokenSet: a hit settles at once (in
    /// the skew, with a refresh behind it); a miss shares a cooling failure, or the job.
    pub fn get(me: &Rc<Self>, token_only: bool) -> C::V {
        let now = match me.now() {
            Ok(now) => now,
            Err(f) => return C::settled(Err(&f.into_value())),
        };
        let (serve, hit) = me.serve(now, |v| match token_only {
            true => v.access_token_promise.clone(),
            false => v.token_set_promise.clone(),
        });
        if let Some(hit) = hit {
            if serve == Serve::Ahead {
                Self::ahead(me, now);
            }
            return hit;
        }
        if let Some(e) = me.cooling(now) {
            return C::settled(Err(&e));
        }
        let job = Self::job(me, false);
        if !token_only {
            return job;
        }
        C::access_token_of(&job)
    }

    /// The access token if fresh now, else "nothing" (also when the caller's `now` throws).
    pub fn peek(&self) -> C::V {
        let Ok(now) = self.now() else {
            return C::V::default();
        };
        match self.serve(now, |v| v.access_token.clone()) {
            (Serve::Fresh, Some(at)) => at,
            _ => C::V::default(),
        }
    }

    /// Forgets the access token (after a 401), never to take it back from the store; with
    /// `access_token`, only that one, and only past `minTokenAgeMs`. Whether it was dropped.
    pub fn invalidate(&self, access_token: Option<String>) -> bool {
        let state = self.cache.state();
        let dropped = match access_token {
            None => {
                state.borrow_mut().invalidate();
                true
            }
            Some(at) => {
                let Ok(now) = self.now() else {
                    return false;
                };
                let min_age = self.cache.options().policy.min_token_age_ms;
                let at = Secret::new(at);
                state.borrow_mut().invalidate_token(&at, now, min_age)
            }
        };
        if dropped || state.borrow().token.is_none() {
            self.views.replace(None);
        }
        dropped
    }

    /// Joins the job in flight, or starts one (`force`: even past a fresh stored token).
    pub fn job(me: &Rc<Self>, force: bool) -> C::V {
        if let Some(p) = me.inflight.borrow().as_ref() {
            return p.clone();
        }
        let it = me.clone();
        let started = C::spawn(Box::pin(async move {
            let ended = run(&it.cache, force).await;
            let result = it.publish(ended);
            it.inflight.replace(None);
            result.map_err(|f| it.failed(f))
        }));
        // A job that could not start (no memory) is not joined: the next caller tries again.
        let Ok(p) = started else {
            return started.unwrap_or_else(|refused| refused);
        };
        me.inflight.replace(Some(p.clone()));
        C::keep_alive(&p);
        p
    }

    /// Revokes the refresh token (RFC 7009), then forgets the tokens in memory and in the
    /// store (an entry without tokens); if the server refuses, nothing is forgotten.
    pub fn revoke(me: &Rc<Self>) -> C::V {
        let me = me.clone();
        promise::<C>(async move { me.revoked().await.map_err(Failure::into_value) })
    }

    /// When the published token expires (epoch ms), if one is published.
    pub fn expires_at(&self) -> Option<f64> {
        self.views.borrow().as_ref().map(|v| v.token.expires_at)
    }

    /// Whether a token is published (fresh or not).
    pub fn has_token(&self) -> bool {
        self.views.borrow().is_some()
    }

    /// Whether a refresh job is in flight.
    pub fn refreshing(&self) -> bool {
        self.inflight.borrow().is_some()
    }

    /// How the published token serves at `now` (none: `Stale`), and `pick` of its views
    /// unless stale: one borrow per hit.
    fn serve<T>(&self, now: f64, pick: impl FnOnce(&Views<C::V>) -> T) -> (Serve, Option<T>) {
        let views = self.views.borrow();
        let Some(v) = views.as_ref() else {
            return (Serve::Stale, None);
        };
        let serve = v.token.serve(now, &self.cache.options().policy);
        (serve, (serve != Serve::Stale).then(|| pick(v)))
    }

    /// The last failure's rejection, while its cooldown lasts.
    fn cooling(&self, now: f64) -> Option<C::V> {
        if !self.cache.state().borrow().cooling(now) {
            return None;
        }
        self.failure.borrow().clone()
    }

    /// Starts a background refresh of a token still served (none while one runs or a
    /// failure cools down); its rejection is left handled: the next caller sees it.
    fn ahead(me: &Rc<Self>, now: f64) {
        if me.inflight.borrow().is_some() || me.cache.state().borrow().cooling(now) {
            return;
        }
        Events::new(&me.cache).background();
        C::quiet(&Self::job(me, false));
    }

    /// After a job: publishes what it left in the state; its TokenSet, or its rejection.
    fn publish(&self, ended: Result<Ended<C::V>, Failure<C::V>>) -> Result<C::V, Failure<C::V>> {
        let ended = ended?;
        self.sync_views(ended.built, ended.granted);
        ended.result?;
        let views = self.views.borrow();
        Ok(views
            .as_ref()
            .map(|v| v.token_set.clone())
            .unwrap_or_default())
    }

    /// Remembers a failed refresh for the cooldown; returns its rejection.
    fn failed(&self, f: Failure<C::V>) -> C::V {
        let cool = match (&f, self.now()) {
            (Failure::OAuth(e, _), Ok(now)) => Some((e.clone(), now)),
            _ => None,
        };
        let rejection = f.into_value();
        if let Some((e, now)) = cool {
            let policy = &self.cache.options().policy;
            self.cache.state().borrow_mut().cool_down(&e, now, policy);
            self.failure.replace(Some(rejection.clone()));
        }
        rejection
    }

    /// Publishes `token_set` (whose token is `token`) to callers.
    fn set_views(&self, token: Token, token_set: C::V) {
        let access_token = Source::field(&token_set, "accessToken").unwrap_or_default();
        self.views.replace(Some(Views {
            token,
            access_token_promise: C::settled(Ok(&access_token)),
            token_set_promise: C::settled(Ok(&token_set)),
            access_token,
            token_set,
        }));
    }

    /// Makes the views show the core's token: `built` if it is its TokenSet (`onTokens` saw
    /// it), else a new one, with `raw` if `granted` is its response (an adopted one has none).
    fn sync_views(&self, built: Option<(Secret, C::V)>, granted: Option<(Secret, C::V)>) {
        let st = self.cache.state().borrow();
        let Some(t) = st.token.clone() else {
            drop(st);
            self.views.replace(None);
            return;
        };
        if self.views.borrow().as_ref().is_some_and(|v| v.token == t) {
            return;
        }
        let set = match (built, granted) {
            (Some((at, set)), _) if at == t.access_token => set,
            (_, Some((at, raw))) if at == t.access_token => {
                C::token_set(&t.fields(), &raw, &st.refresh_token)
            }
            _ => C::token_set(&t.fields(), &C::V::default(), &st.refresh_token),
        };
        drop(st);
        self.set_views(t, set);
    }

    async fn revoked(&self) -> Result<C::V, Failure<C::V>> {
        let o = self.cache.options();
        let url = o
            .revocation_url
            .as_deref()
            .ok_or_else(|| Error::invalid_option("revocationUrl", "is required for revoke()"))?;
        let rt = self.cache.state().borrow().refresh_token.clone();
        super::revoke(&o.refresh, url, &rt, Some("refresh_token")).await?;
        self.cache.state().borrow_mut().revoked();
        self.views.replace(None);
        if o.store.is_some() {
            let empty = C::value(&Stored::default());
            C::settle(self.cache.store("put", &[&empty]))
                .await
                .map_err(Failure::Thrown)?;
        }
        Ok(C::V::default())
    }
}

/// `f` as a host promise (one refused for want of memory if it cannot start).
fn promise<C: Cache>(f: impl Future<Output = Result<C::V, C::V>> + 'static) -> C::V {
    C::spawn(Box::pin(f)).unwrap_or_else(|refused| refused)
}

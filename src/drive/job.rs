//! One refresh job of a cache, driven to its end: each [`Action`] of [`crate::engine::Job`]
//! performed with the host, its outcome fed back, every step reported. No decision is made
//! here; what is decided is in the engine, what is done is in the host.
//!
//! No `RefCell` borrow lives across an `.await`: the state is borrowed only inside
//! `Job::step` and while the secrets to redact are copied.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::boxed::Box;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;

use super::events::{Events, Field};
use super::{refresh, Failure, Granted, Host};
use crate::cache::{State, Stored};
use crate::engine::{Action, Event, Job, Outcome};
use crate::error::Error;
use crate::options::{CacheOptions, RefreshOptions, Source};
use crate::response::TokenFields;
use crate::secret::Secret;

/// A cache as its jobs need it: options, state, and the host's store, hook, timers and
/// listeners.
#[allow(async_fn_in_trait)]
pub trait Cache {
    /// The host's values.
    type V: Host;
    /// Every option, read once.
    fn options(&self) -> &CacheOptions<Self::V>;
    /// The core's state.
    fn state(&self) -> &RefCell<State>;
    /// Calls `store[method](key, …args)`: what it returned, or what it threw. The methods:
    /// `get()`, `put(value)`, `lock(owner, ttlMs)`, `unlock(owner)`.
    fn store(&self, method: &'static str, args: &[&Self::V]) -> Result<Self::V, Self::V>;
    /// Awaits what a store method or the hook returned (a promise or not); a rejection is
    /// `Err`, unchanged.
    async fn settle(returned: Result<Self::V, Self::V>) -> Result<Self::V, Self::V>;
    /// A number as a host value (the lock's TTL).
    fn number(n: f64) -> Self::V;
    /// What `store.get` gave, as an entry (`None`: absent or invalid); `out_of_memory`
    /// when it cannot be copied in.
    fn entry(value: &Self::V) -> Result<Option<Stored>, Error>;
    /// The value `store.put` is given for `entry`.
    fn value(entry: &Stored) -> Self::V;
    /// The TokenSet of `t`, with `raw` and the refresh token `rt`.
    fn token_set(t: &TokenFields, raw: &Self::V, rt: &Secret) -> Self::V;
    /// Calls `onTokens(set)`: what it returned, or what it threw.
    fn call_hook(&self, set: &Self::V) -> Result<Self::V, Self::V>;
    /// A promise that fulfils after `ms` (awaited by [`Cache::settle`]).
    fn timer(ms: f64) -> Self::V;
    /// Uniform in [0, 1): backoff jitter, and the lock owner.
    fn random() -> f64;
    /// A lock owner unique to this job (not a secret).
    fn owner() -> Self::V;
    /// The host's wall clock in ms, for event durations (not the caller's `now`).
    fn clock() -> f64;
    /// Whether anyone listens to events (else none is built).
    fn listening(&self) -> bool;
    /// Reports `{ type: kind, …fields }`; a throwing listener is ignored.
    fn emit(&self, kind: &'static str, fields: &[(&'static str, Field<'_>)]);
    /// Starts `f` as a host promise, its first step deferred (a microtask): `Err` is a
    /// promise rejected with `out_of_memory` when there was no room to start it.
    fn spawn(f: Task<Self::V>) -> Result<Self::V, Self::V>;
    /// A settled promise: fulfilled with `Ok`'s value, rejected with `Err`'s.
    fn settled(v: Result<&Self::V, &Self::V>) -> Self::V;
    /// Hands a job's promise to the host's `waitUntil`, if one is set (see `setKeepAlive`).
    fn keep_alive(job: &Self::V);
    /// Marks a promise nobody awaits as handled: its rejection is no host error.
    fn quiet(p: &Self::V);
    /// A promise of the `accessToken` of the TokenSet `job` fulfils with (its rejection
    /// passed on): a waiting caller holds no future of ours.
    fn access_token_of(job: &Self::V) -> Self::V;
    /// `cache.fetch`'s request: the `fetch` to send it with (see `options.fetch`) and
    /// `new Request(input, init)`; `Err`: the rejection (`invalid_options`).
    fn request(
        opts: &RefreshOptions<Self::V>,
        input: &Self::V,
        init: &Self::V,
    ) -> Result<(Self::V, Self::V), Self::V>;
    /// Whether `init` has a body that is a stream (it cannot be replayed).
    fn streams(init: &Self::V) -> bool;
    /// A copy of `request` to send while it is kept for a retry (tees its body).
    fn duplicate(request: &Self::V) -> Result<Self::V, Self::V>;
    /// Sends `request` through `fetch` with `Authorization: Bearer {token}`: what `fetch`
    /// returned (awaited by [`Cache::settle`]), or what threw.
    fn send(fetch: &Self::V, request: &Self::V, token: &Self::V) -> Result<Self::V, Self::V>;
}

/// A host task: a boxed future of a promise's outcome.
pub type Task<V> = Pin<Box<dyn Future<Output = Result<V, V>>>>;

/// How a job ended, with what the cache publishes from it.
pub struct Ended<V> {
    /// `Ok`: the state holds the job's token. Else the rejection of every waiter.
    pub result: Result<(), Failure<V>>,
    /// The TokenSet `onTokens` saw, by its access token: callers get the same object.
    pub built: Option<(Secret, V)>,
    /// The newest response's JSON, by its access token: the TokenSet's `raw`.
    pub granted: Option<(Secret, V)>,
}

/// What one job holds between steps.
struct Run<V> {
    /// The first store or hook error.
    host_error: Option<V>,
    /// The last request error's cause.
    cause: Option<V>,
    granted: Option<(Secret, V)>,
    built: Option<(Secret, V)>,
}

/// One refresh job, from start to end. `Err`: the caller's clock threw, or a value could
/// not be copied in; nothing is published then.
pub async fn run<C: Cache>(c: &C, force: bool) -> Result<Ended<C::V>, Failure<C::V>> {
    let o = c.options();
    let mut job = Job::new(force, o.store.is_some(), o.on_tokens.is_some());
    if let Some(l) = o.lock {
        job = job.with_lock(l);
    }
    let owner = C::owner();
    let mut r = Run {
        host_error: None,
        cause: None,
        granted: None,
        built: None,
    };
    let mut events = Events::new(c);
    events.start(force);
    let mut event = Event::Start;
    loop {
        let action = job.step(&mut c.state().borrow_mut(), &o.policy, event);
        let t = C::clock();
        // Store and hook calls and timers are made here and awaited in one place below.
        let (call, returned) = match action {
            Action::Send(rt) => {
                let got = send(c, &rt).await;
                events.request(got.as_ref().err(), t);
                event = response::<C>(&mut r, got)?;
                continue;
            }
            Action::Done(outcome) => {
                events.end(&outcome);
                return Ok(r.end(outcome));
            }
            Action::Sleep(ms) => {
                events.sleep(ms);
                (Call::Sleep, Ok(C::timer(ms)))
            }
            Action::ReadStore => (Call::Read, c.store("get", &[])),
            Action::Lock(ttl) => (Call::Lock, c.store("lock", &[&owner, &C::number(ttl)])),
            Action::Unlock => (Call::Unlock, c.store("unlock", &[&owner])),
            Action::WriteStore(entry) => (Call::Write, c.store("put", &[&C::value(&entry)])),
            Action::CallHook(token) => {
                let raw = r.granted.as_ref().map(|g| g.1.clone()).unwrap_or_default();
                let rt = c.state().borrow().refresh_token.clone();
                let set = C::token_set(&token.fields(), &raw, &rt);
                let called = c.call_hook(&set);
                r.built = Some((token.access_token, set));
                (Call::Hook, called)
            }
        };
        let settled = C::settle(returned).await;
        event = match (call, settled) {
            (Call::Read, Ok(v)) => {
                let entry = C::entry(&v)?;
                events.store("storeRead", entry.is_some(), t);
                Event::Stored(entry, C::V::now(&o.refresh)?)
            }
            (Call::Lock, Ok(v)) => {
                let taken = v.boolean();
                events.store("lock", taken, t);
                let (now, jitter) = (C::V::now(&o.refresh)?, C::random());
                Event::Locked { taken, now, jitter }
            }
            (Call::Write, Ok(_)) => {
                events.store("storeWrite", true, t);
                Event::Written
            }
            (Call::Hook, Ok(_)) => Event::HookDone,
            (Call::Sleep, _) => Event::Slept,
            (Call::Unlock, Ok(_)) => Event::Unlocked,
            // An unreleased lock expires by its TTL: nothing to keep.
            (Call::Unlock, Err(_)) => Event::HostFailed,
            (call, Err(e)) => {
                if let Some(kind) = call.reported() {
                    events.store(kind, false, t);
                }
                r.host_failed(e)
            }
        };
    }
}

/// The store or hook call awaited.
#[derive(Clone, Copy)]
enum Call {
    Read,
    Lock,
    Unlock,
    Write,
    Hook,
    Sleep,
}

impl Call {
    /// The event it is reported as.
    fn reported(self) -> Option<&'static str> {
        match self {
            Call::Read => Some("storeRead"),
            Call::Lock => Some("lock"),
            Call::Write => Some("storeWrite"),
            Call::Unlock | Call::Hook | Call::Sleep => None,
        }
    }
}

impl<V: Default> Run<V> {
    fn end(self, outcome: Outcome) -> Ended<V> {
        let result = match outcome {
            Outcome::Token => Ok(()),
            Outcome::Failed(e) => Err(Failure::OAuth(e, self.cause)),
            Outcome::HostError => Err(Failure::Thrown(self.host_error.unwrap_or_default())),
        };
        Ended {
            result,
            built: self.built,
            granted: self.granted,
        }
    }

    fn host_failed(&mut self, e: V) -> Event {
        self.host_error.get_or_insert(e);
        Event::HostFailed
    }
}

/// The engine's event for a request's outcome; what the caller's code threw ends the job.
fn response<C: Cache>(
    r: &mut Run<C::V>,
    got: Result<Granted<C::V>, Failure<C::V>>,
) -> Result<Event, Failure<C::V>> {
    let (result, sent_at) = match got {
        Ok(g) => {
            r.granted = Some((g.fields.access_token.clone(), g.raw));
            (Ok(g.fields), g.sent_at)
        }
        Err(Failure::OAuth(e, cause)) => {
            r.cause = cause;
            (Err(e), 0.0)
        }
        Err(thrown) => return Err(thrown),
    };
    Ok(Event::Response {
        result,
        sent_at,
        jitter: C::random(),
    })
}

/// The refresh request with `rt`, redacting every secret the cache holds or held.
async fn send<C: Cache>(c: &C, rt: &Secret) -> Result<Granted<C::V>, Failure<C::V>> {
    let held = held::<C>(&c.state().borrow())?;
    let held: Vec<&str> = held.iter().map(Secret::expose).collect();
    refresh(&c.options().refresh, rt, &held).await
}

/// Copies of every secret the cache holds or held (no borrow may live across the send),
/// once there is room for them and for the request they go into (see `RefreshOptions`).
#[inline(never)]
fn held<C: Cache>(state: &State) -> Result<Vec<Secret>, Error> {
    let mut n = 0;
    for s in state.secrets() {
        n += s.len();
    }
    <C::V as crate::options::Source>::room(n * 12)?;
    Ok(state.secrets().map(Secret::new).collect())
}

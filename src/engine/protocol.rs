//! What a job and its driver say to each other: the actions the driver performs, the events
//! it feeds back, and how a job ends.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::cache::{Stored, Token};
use crate::error::Error;
use crate::response::TokenFields;
use crate::secret::Secret;

/// What the driver must do next.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Call `store.get(key)`; answer with [`Event::Stored`] or [`Event::HostFailed`].
    ReadStore,
    /// Send the refresh-token grant with this refresh token; answer [`Event::Response`].
    Send(Secret),
    /// Wait this many milliseconds; answer [`Event::Slept`].
    Sleep(f64),
    /// Call `store.put(key, entry)`; answer [`Event::Written`].
    WriteStore(Stored),
    /// Call `onTokens(tokenSet)` with the token about to be published; answer
    /// [`Event::HookDone`].
    CallHook(Token),
    /// Call `store.lock(key, owner, ttlMs)` with this TTL; answer [`Event::Locked`] or
    /// [`Event::HostFailed`].
    Lock(f64),
    /// Call `store.unlock(key, owner)`; answer [`Event::Unlocked`] or [`Event::HostFailed`]
    /// (either way the job goes on: an unreleased lock expires by its TTL).
    Unlock,
    /// The job is over.
    Done(Outcome),
}

/// How a job ended.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// `state.token` is the job's token: resolve every waiter with it.
    Token,
    /// Reject every waiter with this error.
    Failed(Error),
    /// Reject with the error the host's store or hook threw (the driver holds it; the
    /// first one, `put`'s before `onTokens`'s). Any new token is published all the same.
    HostError,
}

/// What happened, as the driver saw it.
#[derive(Debug)]
pub enum Event {
    /// The job begins.
    Start,
    /// The store answered (`None`: absent or not a valid entry), read at `now` (epoch ms,
    /// the caller's clock: it judges whether the entry's token is fresh).
    Stored(Option<Stored>, f64),
    /// `store.get`, `store.put` or the hook threw or rejected.
    HostFailed,
    /// The token endpoint answered, or the request failed. `jitter` is uniform in [0, 1).
    Response {
        /// The parsed outcome.
        result: Result<TokenFields, Error>,
        /// When the request was sent, epoch ms.
        sent_at: f64,
        /// Backoff jitter for a retry.
        jitter: f64,
    },
    /// The sleep is over.
    Slept,
    /// `store.put` succeeded.
    Written,
    /// The hook returned (or its promise fulfilled).
    HookDone,
    /// `store.lock` answered: `taken` when this job now holds the lock. `now` (epoch ms)
    /// times the wait; `jitter` in [0, 1) spreads the next look.
    Locked {
        /// This job holds the lock.
        taken: bool,
        /// When it answered.
        now: f64,
        /// Poll jitter.
        jitter: f64,
    },
    /// `store.unlock` returned.
    Unlocked,
}

//! One refresh job of a `TokenCache` as a sans-IO state machine: the driver (the wasm
//! layer) performs each [`Action`] with the host and feeds the outcome back as an
//! [`Event`]; every decision — read the store, adopt or refuse what it holds, send, retry
//! or not and after how long, rotate, persist, publish, clear on `invalid_grant` — is made
//! here, where native table tests reach it.
//!
//! The order of a job: read the store (unless there is none); if it holds a fresh token
//! this cache may adopt, done (unless forced). Else send with the newest refresh token; on
//! success take a rotated refresh token at once, write the store, call `onTokens`, and only
//! then publish the token to callers. On failure: `invalid_grant` drops the access token;
//! a retryable failure sleeps, re-reads the store and sends again.
//!
//! With a store lock (see [`crate::lock`]), many processes share one refresh: a job that
//! finds the store stale takes the lock, re-reads the store (the holder before it may have
//! refreshed meanwhile), and only then sends; it writes the store and releases the lock
//! before calling `onTokens`, so no user code runs under it. A job that finds the lock
//! busy sleeps briefly and re-reads the store, adopting the holder's token once it is
//! written, until the wait bound (`lock_timeout`). The lock is held across retries: a
//! retry after the holder's own failure must not race another process's first try.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::cache::{Policy, State, Stored, Token};
use crate::error::{Code, Error};
use crate::lock::LockPolicy;
use crate::response::TokenFields;

mod protocol;
pub use protocol::{Action, Event, Outcome};

#[derive(Debug, PartialEq)]
enum Phase {
    Idle,
    Reading,
    Sending,
    Sleeping,
    Writing,
    Hooking,
    Locking,
    Unlocking,
    Finished,
}

/// What a job does once it has released its lock.
#[derive(Debug)]
enum Then {
    HookOrPublish,
    Finish(Outcome),
}

/// One refresh job.
#[derive(Debug)]
pub struct Job {
    /// `refresh()`: send even when the store holds a fresh token.
    force: bool,
    has_store: bool,
    has_hook: bool,
    phase: Phase,
    attempt: u32,
    /// The new token, held back from callers until the store and the hook have seen it.
    pending: Option<Token>,
    /// A store or hook call failed: the job ends with [`Outcome::HostError`].
    host_failed: bool,
    /// The store's lock, when it has one.
    lock: Option<LockPolicy>,
    /// This job holds the lock.
    locked: bool,
    /// When this job first found the lock busy.
    waiting_since: Option<f64>,
    /// What to do after the release in flight.
    then: Option<Then>,
}

impl Job {
    /// A job for a cache with or without a store and an `onTokens` hook.
    pub fn new(force: bool, has_store: bool, has_hook: bool) -> Job {
        Job {
            force,
            has_store,
            has_hook,
            phase: Phase::Idle,
            attempt: 0,
            pending: None,
            host_failed: false,
            lock: None,
            locked: false,
            waiting_since: None,
            then: None,
        }
    }

    /// The same job, for a store that also has `lock` and `unlock`.
    pub fn with_lock(mut self, lock: LockPolicy) -> Job {
        self.has_store = true;
        self.lock = Some(lock);
        self
    }

    /// Takes `event`, updates `st`, and says what to do next.
    pub fn step(&mut self, st: &mut State, policy: &Policy, event: Event) -> Action {
        match (&self.phase, event) {
            (Phase::Idle, Event::Start) | (Phase::Sleeping, Event::Slept) => self.read_or_send(st),
            (Phase::Reading, Event::Stored(entry, now)) => {
                let adopted = entry.is_some_and(|e| st.adopt_stored(&e));
                if adopted && !self.force && st.fresh(now, policy).is_some() {
                    return self.finish(Outcome::Token);
                }
                match self.lock {
                    Some(l) if !self.locked => {
                        self.phase = Phase::Locking;
                        Action::Lock(l.ttl_ms)
                    }
                    _ => self.send(st),
                }
            }
            (Phase::Locking, Event::Locked { taken, now, jitter }) => {
                self.locked_or_wait(st, taken, now, jitter)
            }
            // The lock service is down: fail closed. Refreshing without it risks two
            // processes redeeming one single-use refresh token, and a store that cannot
            // lock most likely cannot keep the rotated token either.
            (Phase::Locking, Event::HostFailed) => self.finish(Outcome::HostError),
            (Phase::Unlocking, Event::Unlocked | Event::HostFailed) => match self.then.take() {
                Some(Then::HookOrPublish) => self.hook_or_publish(st),
                Some(Then::Finish(o)) => self.finish(o),
                None => self.out_of_order(),
            },
            (
                Phase::Sending,
                Event::Response {
                    result,
                    sent_at,
                    jitter,
                },
            ) => match result {
                Ok(fields) => self.granted(st, policy, &fields, sent_at),
                Err(e) => self.failed(st, policy, e, jitter),
            },
            (Phase::Writing, Event::Written) => {
                st.store_seen = Some(st.refresh_token.clone());
                self.release_then_publish(st)
            }
            (Phase::Writing, Event::HostFailed) => {
                self.host_failed = true;
                self.release_then_publish(st)
            }
            (Phase::Hooking, Event::HookDone) => self.publish(st),
            (Phase::Hooking, Event::HostFailed) => {
                self.host_failed = true;
                self.publish(st)
            }
            // A throwing `store.get` stops the job: refreshing with a possibly stale rotated
            // token is worse than failing.
            (Phase::Reading, Event::HostFailed) => self.finish(Outcome::HostError),
            _ => self.out_of_order(),
        }
    }

    fn out_of_order(&mut self) -> Action {
        self.finish(Outcome::Failed(Error::new(
            Code::InvalidOptions,
            "refresh job driven out of order",
        )))
    }

    fn read_or_send(&mut self, st: &State) -> Action {
        if self.has_store {
            self.phase = Phase::Reading;
            return Action::ReadStore;
        }
        self.send(st)
    }

    fn send(&mut self, st: &State) -> Action {
        self.phase = Phase::Sending;
        Action::Send(st.refresh_token.clone())
    }

    fn granted(&mut self, st: &mut State, p: &Policy, t: &TokenFields, sent_at: f64) -> Action {
        st.rotate(t.refresh_token.as_ref());
        let token = Token::from_fields(t, sent_at, p);
        self.pending = Some(token.clone());
        if self.has_store {
            self.phase = Phase::Writing;
            return Action::WriteStore(Stored {
                token: Some(token),
                refresh_token: Some(st.refresh_token.clone()),
            });
        }
        self.hook_or_publish(st)
    }

    fn failed(&mut self, st: &mut State, p: &Policy, e: Error, jitter: f64) -> Action {
        if matches!(&e.code, Code::Server(c) if c == "invalid_grant") {
            st.invalidate();
            return self.finish(Outcome::Failed(e));
        }
        match st.retry_delay(&e, self.attempt, jitter, p) {
            Some(delay) => {
                self.attempt += 1;
                self.phase = Phase::Sleeping;
                Action::Sleep(delay)
            }
            None => self.finish(Outcome::Failed(e)),
        }
    }

    fn hook_or_publish(&mut self, st: &mut State) -> Action {
        match (&self.pending, self.has_hook) {
            (Some(t), true) => {
                self.phase = Phase::Hooking;
                Action::CallHook(t.clone())
            }
            _ => self.publish(st),
        }
    }

    fn publish(&mut self, st: &mut State) -> Action {
        if let Some(t) = self.pending.take() {
            st.publish(t);
        }
        let outcome = if self.host_failed {
            Outcome::HostError
        } else {
            Outcome::Token
        };
        self.finish(outcome)
    }

    fn finish(&mut self, outcome: Outcome) -> Action {
        if self.locked {
            return self.release(Then::Finish(outcome));
        }
        self.phase = Phase::Finished;
        Action::Done(outcome)
    }
}

#[cfg(test)]
mod tests;

mod lock;

#[cfg(test)]
mod lock_tests;

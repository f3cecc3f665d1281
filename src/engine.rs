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

#[allow(unused_imports)]
use crate::prelude::*;

use crate::cache::{Policy, State, Stored, Token};
use crate::error::{Code, Error};
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
}

#[derive(Debug, PartialEq)]
enum Phase {
    Idle,
    Reading,
    Sending,
    Sleeping,
    Writing,
    Hooking,
    Finished,
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
        }
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
                self.send(st)
            }
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
                self.hook_or_publish(st)
            }
            (Phase::Writing, Event::HostFailed) => {
                self.host_failed = true;
                self.hook_or_publish(st)
            }
            (Phase::Hooking, Event::HookDone) => self.publish(st),
            (Phase::Hooking, Event::HostFailed) => {
                self.host_failed = true;
                self.publish(st)
            }
            // A throwing `store.get` stops the job: refreshing with a possibly stale rotated
            // token is worse than failing.
            (Phase::Reading, Event::HostFailed) => self.finish(Outcome::HostError),
            _ => self.finish(Outcome::Failed(Error::new(
                Code::InvalidOptions,
                "refresh job driven out of order",
            ))),
        }
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
        if e.code == Code::Server(String::from("invalid_grant")) {
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
        self.phase = Phase::Finished;
        Action::Done(outcome)
    }
}

#[cfg(test)]
mod tests;

//! The time limit and the caller's signal of one request, for any host: every awaited step
//! races against both, so a `fetch` or body stream that ignores the abort still cannot hang
//! a call. Which of the three a failure was (timeout, the caller's abort, the step's own),
//! what a delay too long for a timer means, and what is undone at the end are decided here;
//! the host performs single calls ([`Abort`]).

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::Cell;
use core::future::Future;

use super::http::Interrupt;
use super::Failure;

/// `setTimeout` takes a signed 32-bit delay; longer ones fire at once, so they mean "none".
pub const MAX_TIMER_MS: f64 = 2_147_483_647.0;

/// The host's timers, abort signals and promise race.
pub trait Abort: Sized + PartialEq + Clone + Default {
    /// A new `AbortController` and its signal; `Err`: what constructing it threw.
    fn controller() -> Result<(Self, Self), Self>;
    /// `controller.abort()`.
    fn abort(controller: &Self);
    /// A promise that rejects when `signal` fires, and the listener to detach later.
    fn listen(signal: &Self) -> (Self, Self);
    /// Detaches `listen`'s listener.
    fn unlisten(signal: &Self, listener: &Self);
    /// Whether `signal` has fired.
    fn aborted(signal: &Self) -> bool;
    /// The reason `signal` fired with.
    fn reason(signal: &Self) -> Self;
    /// A value equal to nothing but itself.
    fn token() -> Self;
    /// A promise that rejects with `token` after `ms`, and the timer's id.
    fn alarm(ms: f64, token: &Self) -> (Self, Self);
    /// Clears `alarm`'s timer.
    fn disarm(id: &Self);
    /// `step` (a promise, or a value taken as is), unless one of `rivals` rejects first;
    /// `Err`: the rejection. An array, not a slice of what is there: no `Vec` per step.
    fn race(step: Self, rivals: [Option<&Self>; 2]) -> impl Future<Output = Result<Self, Self>>;
}

/// One request's time limit and the caller's signal. Dropping it clears the timer,
/// detaches from the caller's signal and aborts the request unless it is complete.
pub struct Deadline<A: Abort> {
    controller: A,
    /// The controller's signal: what `fetch` is given.
    pub signal: A,
    timeout_ms: f64,
    /// What the timer rejects with: identity tells a timeout from other failures.
    token: A,
    /// The timer's promise and id.
    timer: Option<(A, A)>,
    /// The caller's signal, the promise that rejects when it fires, and its listener.
    caller: Option<(A, A, A)>,
    /// Set once the whole response is in: nothing is left to abort (and in Node an
    /// `abort()` costs a DOMException with a stack, most of a refresh's CPU time).
    done: Cell<bool>,
}

impl<A: Abort> Deadline<A> {
    /// Starts the timer (none past [`MAX_TIMER_MS`]) and listens to the caller's `signal`;
    /// one that has already fired fails at once.
    pub fn start(timeout_ms: f64, signal: Option<&A>) -> Result<Self, Failure<A>> {
        let (controller, own) = A::controller().map_err(Failure::Thrown)?;
        let mut deadline = Deadline {
            controller,
            signal: own,
            timeout_ms,
            token: A::token(),
            timer: None,
            caller: None,
            done: Cell::new(false),
        };
        if let Some(s) = signal {
            let (p, listener) = A::listen(s);
            deadline.caller = Some((s.clone(), p, listener));
            if A::aborted(s) {
                return Err(deadline.fail(A::default()));
            }
        }
        if timeout_ms <= MAX_TIMER_MS {
            deadline.timer = Some(A::alarm(timeout_ms, &deadline.token));
        }
        Ok(deadline)
    }

    /// `step`, unless the timer or the caller's signal fires first.
    pub async fn race(&self, step: A) -> Result<A, Failure<A>> {
        let timer = self.timer.as_ref().map(|(p, _)| p);
        let caller = self.caller.as_ref().map(|(_, p, _)| p);
        A::race(step, [timer, caller])
            .await
            .map_err(|r| self.fail(r))
    }

    /// The failure of a step that failed with `reason`: the timer's, the caller's signal
    /// (when it has fired: a `fetch` rejects with its own error then), or the step's own.
    /// Out of line: every step of a request maps its failure here.
    #[inline(never)]
    pub fn fail(&self, reason: A) -> Failure<A> {
        let fired = self.caller.as_ref().filter(|(s, _, _)| A::aborted(s));
        let why = match fired {
            _ if reason == self.token => Interrupt::Timeout(self.timeout_ms),
            Some((s, _, _)) => Interrupt::Aborted(A::reason(s)),
            None => Interrupt::Failed(reason),
        };
        why.failure()
    }

    /// The whole response is in: nothing is left to abort.
    pub fn complete(&self) {
        self.done.set(true);
    }
}

impl<A: Abort> Drop for Deadline<A> {
    fn drop(&mut self) {
        if let Some((_, id)) = &self.timer {
            A::disarm(id);
        }
        if let Some((s, _, listener)) = &self.caller {
            A::unlisten(s, listener);
        }
        if !self.done.get() {
            A::abort(&self.controller);
        }
    }
}

#[cfg(test)]
#[path = "deadline_tests.rs"]
mod tests;

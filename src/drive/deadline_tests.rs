//! A deadline over simulated timers and signals that record every call: which failure is
//! which, a signal that fired before the request, a delay too long for a timer, and what
//! is undone when the deadline ends.

#![allow(clippy::panic)]

use core::cell::RefCell;
use core::future::Future;
use core::task::{Context, Poll, Waker};

use super::*;
use crate::error::Code;

/// A value of the simulated host.
#[derive(Clone, Debug, Default, PartialEq)]
enum A {
    #[default]
    Undef,
    Controller,
    /// The controller's signal, or the caller's.
    Signal(&'static str),
    /// The promise of a timer or a listener.
    Rival(&'static str),
    Listener,
    Token,
    TimerId,
    /// A step that fulfils with, or a value.
    Val(&'static str),
    /// A step that rejects with this.
    Rejects(&'static str),
    /// A step that never settles by itself.
    Pending,
}

#[derive(Default)]
struct World {
    calls: Vec<String>,
    aborted: bool,
    timer_fired: bool,
    controller_throws: bool,
}

std::thread_local! {
    static WORLD: RefCell<World> = RefCell::new(World::default());
}

fn world<T>(f: impl FnOnce(&mut World) -> T) -> T {
    WORLD.with(|w| f(&mut w.borrow_mut()))
}

fn note(call: String) {
    world(|w| w.calls.push(call));
}

impl Abort for A {
    fn controller() -> Result<(A, A), A> {
        if world(|w| w.controller_throws) {
            return Err(A::Val("no AbortController"));
        }
        Ok((A::Controller, A::Signal("own")))
    }
    fn abort(c: &A) {
        note(format!("abort {c:?}"));
    }
    fn listen(s: &A) -> (A, A) {
        note(format!("listen {s:?}"));
        (A::Rival("abort"), A::Listener)
    }
    fn unlisten(s: &A, l: &A) {
        note(format!("unlisten {s:?} {l:?}"));
    }
    fn aborted(_: &A) -> bool {
        world(|w| w.aborted)
    }
    fn reason(_: &A) -> A {
        A::Val("the caller's reason")
    }
    fn token() -> A {
        A::Token
    }
    fn alarm(ms: f64, token: &A) -> (A, A) {
        note(format!("alarm {ms} {token:?}"));
        (A::Rival("timer"), A::TimerId)
    }
    fn disarm(id: &A) {
        note(format!("disarm {id:?}"));
    }
    /// Array order, as `Promise.race` takes it: a settled step wins over a rival that has
    /// fired too.
    async fn race(step: A, rivals: [Option<&A>; 2]) -> Result<A, A> {
        fn fired(r: &A) -> Option<A> {
            match r {
                A::Rival("timer") => world(|w| w.timer_fired).then_some(A::Token),
                A::Rival("abort") => world(|w| w.aborted).then_some(A::Val("abort event")),
                _ => None,
            }
        }
        match step {
            A::Rejects(e) => Err(A::Val(e)),
            A::Pending => match rivals.into_iter().flatten().find_map(fired) {
                Some(e) => Err(e),
                None => panic!("a pending step with no rival fired would hang"),
            },
            v => Ok(v),
        }
    }
}

fn ready<T>(f: impl Future<Output = T>) -> T {
    let mut f = core::pin::pin!(f);
    let Poll::Ready(got) = f.as_mut().poll(&mut Context::from_waker(Waker::noop())) else {
        panic!("the simulated host settles every step at once");
    };
    got
}

/// A fresh world; `setup` changes it before the deadline starts.
fn fresh(setup: impl FnOnce(&mut World)) {
    world(|w| {
        *w = World::default();
        setup(w);
    });
}

fn calls() -> Vec<String> {
    world(|w| core::mem::take(&mut w.calls))
}

fn oauth(f: Failure<A>) -> (Code, String, Option<A>) {
    match f {
        Failure::OAuth(e, cause) => (e.code, e.message, cause),
        Failure::Thrown(v) => panic!("not an OAuthError: thrown {v:?}"),
    }
}

#[test]
fn a_settled_step_wins_and_the_end_clears_the_timer_and_aborts_unless_complete() {
    fresh(|_| {});
    let d = Deadline::start(1000.0, None).unwrap_or_else(|_| panic!("start"));
    assert_eq!(d.signal, A::Signal("own"));
    assert!(matches!(
        ready(d.race(A::Val("response"))),
        Ok(A::Val("response"))
    ));
    drop(d);
    assert_eq!(
        calls(),
        ["alarm 1000 Token", "disarm TimerId", "abort Controller"]
    );

    let d = Deadline::start(1000.0, Some(&A::Signal("caller"))).unwrap_or_else(|_| panic!("start"));
    d.complete();
    drop(d);
    assert_eq!(
        calls(),
        [
            "listen Signal(\"caller\")",
            "alarm 1000 Token",
            "disarm TimerId",
            "unlisten Signal(\"caller\") Listener",
        ],
        "complete: nothing left to abort"
    );
}

#[test]
fn the_timer_firing_is_a_timeout_that_names_the_limit() {
    fresh(|w| w.timer_fired = true);
    let d = Deadline::start(2500.0, Some(&A::Signal("caller"))).unwrap_or_else(|_| panic!("start"));
    let Err(f) = ready(d.race(A::Pending)) else {
        panic!("the timer fired");
    };
    let (code, message, cause) = oauth(f);
    assert_eq!(code, Code::Timeout);
    assert_eq!(message, "no complete response within timeoutMs (2500 ms)");
    assert_eq!(cause, None);
}

#[test]
fn the_callers_signal_is_aborted_with_its_reason_whatever_the_step_rejected_with() {
    fresh(|_| {});
    let d = Deadline::start(1000.0, Some(&A::Signal("caller"))).unwrap_or_else(|_| panic!("start"));
    world(|w| w.aborted = true);
    for step in [A::Pending, A::Rejects("fetch's own AbortError")] {
        let Err(f) = ready(d.race(step)) else {
            panic!("the signal fired");
        };
        let (code, _, cause) = oauth(f);
        assert_eq!(code, Code::Aborted);
        assert_eq!(cause, Some(A::Val("the caller's reason")));
    }
}

#[test]
fn a_step_failing_by_itself_is_a_network_error_with_its_cause() {
    fresh(|_| {});
    let d = Deadline::start(1000.0, Some(&A::Signal("caller"))).unwrap_or_else(|_| panic!("start"));
    let Err(f) = ready(d.race(A::Rejects("ECONNREFUSED"))) else {
        panic!("the step rejected");
    };
    let (code, message, cause) = oauth(f);
    assert_eq!(code, Code::NetworkError);
    assert_eq!(message, "the token endpoint could not be reached");
    assert_eq!(cause, Some(A::Val("ECONNREFUSED")));
}

#[test]
fn a_signal_fired_before_the_request_fails_at_once_and_leaves_nothing_behind() {
    fresh(|w| w.aborted = true);
    let Err(f) = Deadline::start(1000.0, Some(&A::Signal("caller"))) else {
        panic!("the signal had fired");
    };
    assert_eq!(oauth(f).0, Code::Aborted);
    assert_eq!(
        calls(),
        [
            "listen Signal(\"caller\")",
            "unlisten Signal(\"caller\") Listener",
            "abort Controller",
        ],
        "no timer started, the listener detached"
    );
}

#[test]
fn a_delay_too_long_for_a_timer_means_no_timer() {
    fresh(|_| {});
    drop(Deadline::<A>::start(MAX_TIMER_MS + 1.0, None));
    assert_eq!(calls(), ["abort Controller"]);
    drop(Deadline::<A>::start(MAX_TIMER_MS, None));
    assert_eq!(calls()[0], "alarm 2147483647 Token");
}

#[test]
fn a_controller_that_cannot_be_made_passes_its_throw_through() {
    fresh(|w| w.controller_throws = true);
    let Err(Failure::Thrown(v)) = Deadline::<A>::start(1000.0, None) else {
        panic!("constructing the controller threw");
    };
    assert_eq!(v, A::Val("no AbortController"));
}

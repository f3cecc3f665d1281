//! The engine's decisions, table-tested against a simulated host: a store that can lag
//! (what Workers KV does), a token server with scripted answers, hooks that can throw.

#![allow(clippy::panic)]

use super::*;
use crate::secret::Secret;

pub(super) const P: Policy = Policy {
    skew_ms: 60_000.0,
    default_expires_in_sec: 3600.0,
    retries: 2,
    min_delay_ms: 200.0,
    max_delay_ms: 5000.0,
    min_token_age_ms: 0.0,
    margin_ms: 5000.0,
    cooldown_ms: 1000.0,
};

/// One scripted server answer: a rotating success, a plain success, or an error.
#[derive(Clone)]
enum Answer {
    Rotate(&'static str, &'static str),
    Plain(&'static str),
    Fail(Code, Option<u16>),
}

/// The host as the driver sees it.
#[derive(Default)]
struct World {
    now: f64,
    /// Every value `put` wrote, oldest first.
    puts: Vec<Stored>,
    /// `get` returns the value this many puts behind the newest (0: consistent).
    lag: usize,
    /// The value a `get` returns before any put.
    initial: Option<Stored>,
    answers: Vec<Answer>,
    sent: Vec<String>,
    log: Vec<String>,
    get_throws: bool,
    put_throws: bool,
    hook_throws: bool,
    /// What `st.token` held when each hook ran: must not be the hook's token yet.
    served_during_hook: Vec<Option<String>>,
}

impl World {
    fn get(&self) -> Option<Stored> {
        match self.puts.len().checked_sub(1 + self.lag) {
            Some(i) => Some(self.puts[i].clone()),
            None => self.initial.clone(),
        }
    }

    /// Runs one job to its end; returns the outcome.
    fn run(&mut self, st: &mut State, force: bool, has_store: bool, has_hook: bool) -> Outcome {
        let mut job = Job::new(force, has_store, has_hook);
        let mut event = Event::Start;
        for _ in 0..50 {
            let action = job.step(st, &P, event);
            event = match action {
                Action::Done(o) => return o,
                Action::ReadStore if self.get_throws => Event::HostFailed,
                Action::ReadStore => Event::Stored(self.get(), self.now),
                Action::Send(rt) => {
                    self.sent.push(rt.expose().to_string());
                    let result = match self.answers.remove(0) {
                        Answer::Rotate(at, rt) => Ok(fields(at, Some(rt), self.now)),
                        Answer::Plain(at) => Ok(fields(at, None, self.now)),
                        Answer::Fail(code, status) => Err(Error {
                            status,
                            ..Error::new(code, "x")
                        }),
                    };
                    Event::Response {
                        result,
                        sent_at: self.now,
                        jitter: 0.5,
                    }
                }
                Action::Sleep(ms) => {
                    self.log.push(format!("sleep {ms}"));
                    self.now += ms;
                    Event::Slept
                }
                Action::WriteStore(entry) => {
                    self.log.push("put".into());
                    if self.put_throws {
                        Event::HostFailed
                    } else {
                        self.puts.push(entry);
                        Event::Written
                    }
                }
                Action::Lock(_) | Action::Unlock => panic!("no lock in these tests"),
                Action::CallHook(t) => {
                    self.log.push(format!("hook {}", t.access_token.expose()));
                    let served = st
                        .token
                        .as_ref()
                        .map(|t| t.access_token.expose().to_string());
                    self.served_during_hook.push(served);
                    if self.hook_throws {
                        Event::HostFailed
                    } else {
                        Event::HookDone
                    }
                }
            };
        }
        panic!("job did not finish in 50 steps");
    }
}

fn fields(at: &str, rt: Option<&str>, sent_at: f64) -> TokenFields {
    TokenFields {
        access_token: Secret::new(at),
        token_type: "Bearer".into(),
        expires_in: Some(7200.0),
        expires_at: Some(sent_at + 7_200_000.0),
        refresh_token: rt.map(Secret::new),
        scope: None,
    }
}

fn held(st: &State) -> Option<&str> {
    st.token.as_ref().map(|t| t.access_token.expose())
}

fn entry(at: &str, rt: &str, expires_at: f64) -> Stored {
    Stored {
        token: Some(Token {
            access_token: Secret::new(at),
            token_type: "Bearer".into(),
            expires_at,
            expires_in: Some(7200.0),
            scope: None,
        }),
        refresh_token: Some(Secret::new(rt)),
    }
}

#[test]
fn without_a_store_one_send_then_published() {
    let mut w = World {
        now: 1000.0,
        answers: vec![Answer::Rotate("AT1", "RT1")],
        ..Default::default()
    };
    let mut st = State::new(Secret::new("RT0"));
    assert_eq!(w.run(&mut st, false, false, false), Outcome::Token);
    assert_eq!((held(&st), st.refresh_token.expose()), (Some("AT1"), "RT1"));
    assert_eq!(w.sent, ["RT0"]);
    assert_eq!(st.history, [Secret::new("RT0")]);
}

/// Defect 2: a store whose `get` returns the value before the last `put` (Workers KV for
/// up to 60 s). The cache must send RT0, RT1, RT2, RT3 — never adopt back a refresh token
/// it rotated away itself.
#[test]
fn a_lagging_store_never_brings_back_a_rotated_refresh_token() {
    let mut w = World {
        now: 1000.0,
        lag: 1,
        answers: vec![
            Answer::Rotate("AT1", "RT1"),
            Answer::Rotate("AT2", "RT2"),
            Answer::Rotate("AT3", "RT3"),
            Answer::Rotate("AT4", "RT4"),
        ],
        ..Default::default()
    };
    let mut st = State::new(Secret::new("RT0"));
    for _ in 0..4 {
        assert_eq!(w.run(&mut st, true, true, false), Outcome::Token);
    }
    assert_eq!(w.sent, ["RT0", "RT1", "RT2", "RT3"]);
    assert_eq!(held(&st), Some("AT4"));
}

/// Defect 3: after `invalid_grant` (or `invalidate()`), the access token the store still
/// holds is not served again.
#[test]
fn a_dropped_access_token_is_not_taken_back_from_the_store() {
    let mut w = World {
        now: 1000.0,
        answers: vec![
            Answer::Plain("AT1"),
            Answer::Fail(Code::Server("invalid_grant".into()), Some(400)),
            Answer::Fail(Code::Server("invalid_grant".into()), Some(400)),
        ],
        ..Default::default()
    };
    let mut st = State::new(Secret::new("RT0"));
    w.run(&mut st, false, true, false);
    assert_eq!(held(&st), Some("AT1"));
    // refresh() gets invalid_grant: the token is gone, and the store's copy is refused.
    assert!(matches!(
        w.run(&mut st, true, true, false),
        Outcome::Failed(_)
    ));
    assert_eq!(held(&st), None);
    assert!(matches!(
        w.run(&mut st, false, true, false),
        Outcome::Failed(_)
    ));
    assert_eq!(
        held(&st),
        None,
        "the cleared token came back from the store"
    );
    assert_eq!(
        w.sent,
        ["RT0", "RT0", "RT0"],
        "each call tried the server again"
    );

    let mut st = State::new(Secret::new("RT0"));
    let mut w = World {
        now: 1000.0,
        initial: Some(entry("AT-old", "RT0", 9e12)),
        answers: vec![Answer::Plain("AT-new")],
        ..Default::default()
    };
    assert_eq!(w.run(&mut st, false, true, false), Outcome::Token);
    assert_eq!((held(&st), w.sent.len()), (Some("AT-old"), 0));
    st.invalidate();
    assert_eq!(w.run(&mut st, false, true, false), Outcome::Token);
    assert_eq!((held(&st), w.sent.len()), (Some("AT-new"), 1));
}

/// Defect 5: store.put and onTokens run before any caller (peek included) sees the token;
/// the refresh token is taken at once, so a throwing hook loses nothing.
#[test]
fn the_token_is_published_only_after_store_and_hook() {
    let mut w = World {
        now: 1000.0,
        answers: vec![Answer::Rotate("AT1", "RT1"), Answer::Rotate("AT2", "RT2")],
        ..Default::default()
    };
    let mut st = State::new(Secret::new("RT0"));
    w.run(&mut st, false, true, true);
    w.run(&mut st, true, true, true);
    assert_eq!(w.log, ["put", "hook AT1", "put", "hook AT2"]);
    assert_eq!(w.served_during_hook, [None, Some("AT1".into())]);
    assert_eq!(held(&st), Some("AT2"));

    for (put_throws, hook_throws) in [(true, false), (false, true), (true, true)] {
        let mut w = World {
            now: 1000.0,
            answers: vec![Answer::Rotate("AT1", "RT1")],
            put_throws,
            hook_throws,
            ..Default::default()
        };
        let mut st = State::new(Secret::new("RT0"));
        assert_eq!(w.run(&mut st, false, true, true), Outcome::HostError);
        assert_eq!(
            w.log,
            ["put", "hook AT1"],
            "the hook runs even when put threw"
        );
        assert_eq!((held(&st), st.refresh_token.expose()), (Some("AT1"), "RT1"));
    }
}

#[test]
fn a_throwing_store_get_stops_the_job_before_any_request() {
    let mut w = World {
        get_throws: true,
        ..Default::default()
    };
    let mut st = State::new(Secret::new("RT0"));
    assert_eq!(w.run(&mut st, false, true, false), Outcome::HostError);
    assert!(w.sent.is_empty());
}

#[test]
fn a_fresh_store_entry_ends_the_job_unless_forced() {
    let fresh = entry("AT-store", "RT-store", 1000.0 + 7_200_000.0);
    let mut w = World {
        now: 1000.0,
        initial: Some(fresh),
        answers: vec![Answer::Plain("AT-sent")],
        ..Default::default()
    };
    let mut st = State::new(Secret::new("RT0"));
    assert_eq!(w.run(&mut st, false, true, false), Outcome::Token);
    assert_eq!(
        (held(&st), st.refresh_token.expose()),
        (Some("AT-store"), "RT-store")
    );
    assert_eq!(w.run(&mut st, true, true, false), Outcome::Token);
    assert_eq!(
        w.sent,
        ["RT-store"],
        "refresh() sends, with the store's refresh token"
    );
    assert_eq!(held(&st), Some("AT-sent"));
    // An expired entry is not served; the refresh token in it is still taken.
    let mut w = World {
        now: 1000.0,
        initial: Some(entry("AT-old", "RT-other", 500.0)),
        answers: vec![Answer::Plain("AT-new")],
        ..Default::default()
    };
    let mut st = State::new(Secret::new("RT0"));
    assert_eq!(w.run(&mut st, false, true, false), Outcome::Token);
    assert_eq!(
        (w.sent.as_slice(), held(&st)),
        (&["RT-other".to_string()][..], Some("AT-new"))
    );
}

#[test]
fn retries_sleep_reread_the_store_and_stop_where_the_rule_says() {
    // 503, 503, then 200: two sleeps with backoff, the store re-read before each send.
    let mut w = World {
        now: 0.0,
        answers: vec![
            Answer::Fail(Code::HttpError, Some(503)),
            Answer::Fail(Code::HttpError, Some(503)),
            Answer::Plain("AT"),
        ],
        ..Default::default()
    };
    let mut st = State::new(Secret::new("RT0"));
    assert_eq!(w.run(&mut st, false, true, false), Outcome::Token);
    assert_eq!(w.log, ["sleep 150", "sleep 300", "put"]);
    // Three failures: retries exhausted, the last error rejects.
    let mut w = World {
        answers: vec![Answer::Fail(Code::HttpError, Some(503)); 3],
        ..Default::default()
    };
    let mut st = State::new(Secret::new("RT0"));
    match w.run(&mut st, false, false, false) {
        Outcome::Failed(e) => assert_eq!(e.status, Some(503)),
        o => panic!("{o:?}"),
    }
    assert_eq!(w.sent.len(), 3);
    // Once the server rotates, a 500 may have consumed the token: no retry.
    let mut w = World {
        answers: vec![
            Answer::Rotate("AT1", "RT1"),
            Answer::Fail(Code::HttpError, Some(500)),
        ],
        ..Default::default()
    };
    let mut st = State::new(Secret::new("RT0"));
    w.run(&mut st, false, false, false);
    assert!(matches!(
        w.run(&mut st, true, false, false),
        Outcome::Failed(_)
    ));
    assert_eq!(w.sent, ["RT0", "RT1"]);
    // Another instance refreshed while we slept: its fresh token ends a non-forced job.
    let mut w = World {
        now: 0.0,
        answers: vec![Answer::Fail(Code::HttpError, Some(503))],
        ..Default::default()
    };
    let mut st = State::new(Secret::new("RT0"));
    let mut job = Job::new(false, true, false);
    assert_eq!(job.step(&mut st, &P, Event::Start), Action::ReadStore);
    assert_eq!(
        job.step(&mut st, &P, Event::Stored(None, 0.0)),
        Action::Send(Secret::new("RT0"))
    );
    let fail = Event::Response {
        result: Err(Error {
            status: Some(503),
            ..Error::new(Code::HttpError, "x")
        }),
        sent_at: 0.0,
        jitter: 0.0,
    };
    assert_eq!(job.step(&mut st, &P, fail), Action::Sleep(100.0));
    assert_eq!(job.step(&mut st, &P, Event::Slept), Action::ReadStore);
    let other = Event::Stored(Some(entry("AT-other", "RT-other", 7_200_000.0)), 100.0);
    assert_eq!(job.step(&mut st, &P, other), Action::Done(Outcome::Token));
    assert_eq!(
        (held(&st), st.refresh_token.expose()),
        (Some("AT-other"), "RT-other")
    );
    w.answers.clear();
}

#[test]
fn out_of_order_events_end_the_job_instead_of_panicking() {
    let mut st = State::new(Secret::new("RT0"));
    let mut job = Job::new(false, false, false);
    assert!(matches!(
        job.step(&mut st, &P, Event::Written),
        Action::Done(Outcome::Failed(_))
    ));
}

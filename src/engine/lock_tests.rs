//! The lock protocol, simulated: several processes (each a `State` and one job at a time)
//! share a store with a lock and a rotating token server that detects reuse (a rotated-away
//! refresh token revokes the grant). A discrete-event loop interleaves them.

#![allow(clippy::panic)]

use super::*;
use crate::secret::Secret;

use super::tests::P;
const LIFETIME_MS: f64 = 7_200_000.0;
const SEND_MS: f64 = 200.0;

#[derive(Default)]
struct Server {
    current: String,
    issued: usize,
    requests: usize,
    reuses: usize,
}

impl Server {
    fn grant(&mut self, rt: &str, now: f64) -> Result<TokenFields, Error> {
        self.requests += 1;
        if rt != self.current {
            self.reuses += 1;
            return Err(Error::new(Code::Server("invalid_grant".into()), "reuse"));
        }
        self.issued += 1;
        self.current = format!("rt{}", self.issued);
        Ok(TokenFields {
            access_token: Secret::new(format!("at{}", self.issued)),
            token_type: "Bearer".into(),
            expires_in: Some(LIFETIME_MS / 1000.0),
            expires_at: Some(now + LIFETIME_MS),
            refresh_token: Some(Secret::new(self.current.clone())),
            scope: None,
        })
    }
}

struct Proc {
    st: State,
    job: Option<Job>,
    /// The event this process gets next, and when.
    next: Option<(f64, Event)>,
    dead: bool,
    outcomes: Vec<Outcome>,
}

#[derive(Default)]
struct World {
    now: f64,
    store: Option<Stored>,
    /// Owner and expiry.
    lock: Option<(usize, f64)>,
    server: Server,
    lock_down: bool,
    /// Kill this process right after it sends its first request (the server never answers).
    kill_after_send: Option<usize>,
}

fn procs(n: usize) -> Vec<Proc> {
    (0..n)
        .map(|_| Proc {
            st: State::new(Secret::new("rt0")),
            job: None,
            next: None,
            dead: false,
            outcomes: Vec::new(),
        })
        .collect()
}

impl World {
    fn new() -> World {
        World {
            server: Server {
                current: "rt0".into(),
                ..Server::default()
            },
            ..World::default()
        }
    }

    /// Starts a job in every live process at `now`, then runs them all to the end.
    fn round(&mut self, ps: &mut [Proc], lock: LockPolicy) {
        for p in ps.iter_mut().filter(|p| !p.dead) {
            if p.st.fresh(self.now, &P).is_none() {
                p.job = Some(Job::new(false, true, false).with_lock(lock));
                p.next = Some((self.now, Event::Start));
            }
        }
        for _ in 0..100_000 {
            let Some(i) = (0..ps.len())
                .filter(|&i| !ps[i].dead && ps[i].next.is_some())
                .min_by(|&a, &b| {
                    let ta = ps[a].next.as_ref().map_or(0.0, |n| n.0);
                    let tb = ps[b].next.as_ref().map_or(0.0, |n| n.0);
                    ta.total_cmp(&tb)
                })
            else {
                return;
            };
            let (at, event) = ps[i].next.take().unwrap();
            self.now = self.now.max(at);
            self.step(i, &mut ps[i], event);
        }
        panic!("simulation did not settle");
    }

    fn step(&mut self, i: usize, p: &mut Proc, event: Event) {
        let job = p.job.as_mut().unwrap();
        let action = job.step(&mut p.st, &P, event);
        let now = self.now;
        let ev = match action {
            Action::Done(o) => {
                p.outcomes.push(o);
                p.job = None;
                return;
            }
            Action::ReadStore => (now + 1.0, Event::Stored(self.store.clone(), now + 1.0)),
            Action::Lock(ttl) if self.lock_down => {
                let _ = ttl;
                (now + 1.0, Event::HostFailed)
            }
            Action::Lock(ttl) => {
                let free = self.lock.is_none_or(|(_, exp)| exp <= now);
                if free {
                    self.lock = Some((i, now + ttl));
                }
                let taken = free;
                (
                    now + 1.0,
                    Event::Locked {
                        taken,
                        now: now + 1.0,
                        jitter: 0.5,
                    },
                )
            }
            Action::Unlock => {
                if self.lock.is_some_and(|(o, _)| o == i) {
                    self.lock = None;
                }
                (now + 1.0, Event::Unlocked)
            }
            Action::Send(rt) => {
                if self.kill_after_send == Some(i) {
                    p.dead = true;
                    return;
                }
                let result = self.server.grant(rt.expose(), now);
                let jitter = 0.5;
                (
                    now + SEND_MS,
                    Event::Response {
                        result,
                        sent_at: now,
                        jitter,
                    },
                )
            }
            Action::Sleep(ms) => (now + ms, Event::Slept),
            Action::WriteStore(entry) => {
                self.store = Some(entry);
                (now + 1.0, Event::Written)
            }
            Action::CallHook(_) => (now + 1.0, Event::HookDone),
        };
        p.next = Some(ev);
    }
}

#[test]
fn many_processes_one_request_per_expiry_and_no_reuse() {
    let mut w = World::new();
    let mut ps = procs(8);
    let lock = LockPolicy::with_ttl(5_000.0);
    for expiry in 0..5 {
        w.round(&mut ps, lock);
        assert_eq!(w.server.requests, expiry + 1, "one request per expiry");
        for p in &ps {
            assert_eq!(p.outcomes.last(), Some(&Outcome::Token));
            assert_eq!(p.st.refresh_token.expose(), w.server.current);
        }
        assert!(w.lock.is_none(), "released");
        w.now += LIFETIME_MS;
    }
    assert_eq!(w.server.reuses, 0);
}

#[test]
fn a_dead_holder_is_taken_over_after_the_ttl() {
    let mut w = World::new();
    let mut ps = procs(4);
    let lock = LockPolicy::with_ttl(3_000.0);
    w.kill_after_send = Some(0); // dies before the server saw the request
    let t0 = w.now;
    w.round(&mut ps, lock);
    assert!(ps[0].dead);
    assert_eq!(
        w.server.requests, 1,
        "only the survivor that took over sent"
    );
    assert_eq!(w.server.reuses, 0);
    for p in &ps[1..] {
        assert_eq!(p.outcomes, vec![Outcome::Token]);
    }
    assert!(w.now - t0 >= 3_000.0, "waited for the TTL");
}

#[test]
fn a_lock_held_past_the_wait_bound_is_a_lock_timeout() {
    let mut w = World::new();
    let mut ps = procs(1);
    w.lock = Some((99, f64::INFINITY)); // a live holder that never releases
    w.round(&mut ps, LockPolicy::with_ttl(1_000.0));
    assert_eq!(w.server.requests, 0);
    match &ps[0].outcomes[..] {
        [Outcome::Failed(e)] => assert_eq!(e.code, Code::LockTimeout),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_lock_service_that_is_down_fails_closed_before_any_request() {
    let mut w = World::new();
    w.lock_down = true;
    let mut ps = procs(2);
    w.round(&mut ps, LockPolicy::with_ttl(1_000.0));
    assert_eq!(w.server.requests, 0);
    assert!(ps.iter().all(|p| p.outcomes == vec![Outcome::HostError]));
    // The service is back: the next round refreshes once.
    w.lock_down = false;
    w.round(&mut ps, LockPolicy::with_ttl(1_000.0));
    assert_eq!(w.server.requests, 1);
}

#[test]
fn a_failed_refresh_releases_the_lock_and_the_hook_runs_after_release() {
    let mut st = State::new(Secret::new("rt0"));
    let mut job = Job::new(false, true, true).with_lock(LockPolicy::with_ttl(1_000.0));
    assert_eq!(job.step(&mut st, &P, Event::Start), Action::ReadStore);
    assert_eq!(
        job.step(&mut st, &P, Event::Stored(None, 0.0)),
        Action::Lock(1_000.0)
    );
    let locked = Event::Locked {
        taken: true,
        now: 1.0,
        jitter: 0.0,
    };
    assert_eq!(
        job.step(&mut st, &P, locked),
        Action::ReadStore,
        "re-read under the lock"
    );
    let a = job.step(&mut st, &P, Event::Stored(None, 2.0));
    assert!(matches!(a, Action::Send(_)));
    let ok = Server {
        current: "rt0".into(),
        ..Server::default()
    }
    .grant("rt0", 2.0);
    let resp = Event::Response {
        result: ok,
        sent_at: 2.0,
        jitter: 0.0,
    };
    assert!(matches!(job.step(&mut st, &P, resp), Action::WriteStore(_)));
    assert_eq!(job.step(&mut st, &P, Event::Written), Action::Unlock);
    assert!(st.token.is_none(), "not published before the hook");
    assert!(matches!(
        job.step(&mut st, &P, Event::HostFailed),
        Action::CallHook(_)
    ));
    assert_eq!(
        job.step(&mut st, &P, Event::HookDone),
        Action::Done(Outcome::Token)
    );

    // invalid_grant under the lock: released, then failed.
    let mut job = Job::new(false, true, false).with_lock(LockPolicy::with_ttl(1_000.0));
    job.step(&mut st, &P, Event::Start);
    let stale = Event::Stored(None, 8_000_000.0);
    assert_eq!(job.step(&mut st, &P, stale), Action::Lock(1_000.0));
    let locked = Event::Locked {
        taken: true,
        now: 8_000_000.0,
        jitter: 0.0,
    };
    job.step(&mut st, &P, locked);
    job.step(&mut st, &P, Event::Stored(None, 8_000_000.0));
    let bad = Err(Error::new(Code::Server("invalid_grant".into()), "x"));
    let resp = Event::Response {
        result: bad,
        sent_at: 0.0,
        jitter: 0.0,
    };
    assert_eq!(job.step(&mut st, &P, resp), Action::Unlock);
    let done = job.step(&mut st, &P, Event::Unlocked);
    assert!(matches!(done, Action::Done(Outcome::Failed(e)) if e.code.as_str() == "invalid_grant"));
}

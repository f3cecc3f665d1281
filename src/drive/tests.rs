//! The flows, run natively against a simulated host: a token server with scripted answers
//! that records every request, a store, a hook, and listeners. What they pin is the
//! sequencing the wasm layer used to hold: the client-authentication fallbacks and what is
//! remembered, what is redacted, which events a job reports and in what order, and what a
//! job hands back to be published.

#![allow(clippy::panic)]

use core::cell::RefCell;
use core::future::Future;
use core::task::{Context, Poll, Waker};
use std::collections::VecDeque;

use super::events::Field;
use super::job::{self, Cache};
use super::*;
use crate::cache::{Policy, State, Stored};
use crate::error::Code;
use crate::grant::{Client, Extras};
use crate::lock::LockPolicy;
use crate::options::{CacheOptions, Kind, ParsedUrl, Text, Threw};
use crate::response::Json;
use crate::secret::Secret;

/// A host value: nothing, a JSON object, a store entry, a boolean, a thrown string.
#[derive(Clone, Debug, Default, PartialEq)]
enum W {
    #[default]
    Undef,
    Obj(Vec<(&'static str, Json)>),
    Entry(Stored),
    B(bool),
    N(f64),
    Str(String),
    Thrown(&'static str),
    /// A host error (an `OAuthError` to be): its code.
    Err(String),
    /// A promise: its result is in `TASKS` once it settles.
    P(usize),
}

/// A simulated host's text: only its length in UTF-16 units.
pub(super) struct Units(pub(super) u32);
impl Text for Units {
    fn units(&self) -> u32 {
        self.0
    }
    fn well_formed(&self) -> bool {
        true
    }
    fn into_string(self) -> String {
        String::new()
    }
}

/// Only what the flows use of a `Source`: the truth of a lock's answer, and the fields of
/// a TokenSet.
impl Source for W {
    type Func = ();
    type Text = Units;
    fn kind(&self) -> Kind {
        match self {
            W::Obj(_) => Kind::Object,
            W::Str(_) => Kind::Text,
            _ => Kind::Other,
        }
    }
    fn number(&self) -> f64 {
        match self {
            W::N(n) => *n,
            _ => f64::NAN,
        }
    }
    fn boolean(&self) -> bool {
        *self == W::B(true)
    }
    fn field(&self, key: &'static str) -> Result<W, Threw> {
        Ok(match JsonObject::field(self, key) {
            Json::Str(s) => W::Str(s),
            Json::Num(n) => W::N(n),
            Json::Other if key == "raw" => W::Obj(Vec::new()),
            _ => W::Undef,
        })
    }
    fn entries(&self) -> Result<W, Threw> {
        Err(Threw)
    }
    fn length(&self) -> u32 {
        0
    }
    fn at(&self, _: u32) -> W {
        W::Undef
    }
    fn into_text(self) -> Units {
        Units(0)
    }
    fn into_func(self) {}
    fn parse_url(_: &str) -> Option<ParsedUrl> {
        None
    }
    fn room(_: usize) -> Result<(), Error> {
        Ok(())
    }
}

impl JsonObject for W {
    fn field(&self, key: &'static str) -> Json {
        let W::Obj(o) = self else {
            return Json::Missing;
        };
        o.iter()
            .find(|(k, _)| *k == key)
            .map_or(Json::Missing, |(_, v)| v.clone())
    }
}

/// The token server and the clock of this test's thread.
#[derive(Default)]
struct Server {
    /// Scripted answers: status and JSON body (`None`: no JSON object), or a network error.
    answers: VecDeque<Result<(u16, Option<W>), &'static str>>,
    /// Every request: its headers and form body.
    sent: Vec<HttpRequest>,
    now: f64,
    clock_throws: bool,
    /// The resource server of `cache.fetch`: the status of each answer, in order.
    resource: VecDeque<f64>,
    /// Every resource request: `{request} {token}`.
    resource_sent: Vec<String>,
}

std::thread_local! {
    static SERVER: RefCell<Server> = RefCell::new(Server::default());
    static MEMORY: &'static RefCell<crate::auth::Memory> =
        Box::leak(Box::new(RefCell::new(crate::auth::Memory::default())));
}

fn server<T>(f: impl FnOnce(&mut Server) -> T) -> T {
    SERVER.with(|s| f(&mut s.borrow_mut()))
}

impl Host for W {
    async fn post(
        _: &RefreshOptions<W>,
        _: &str,
        req: &HttpRequest,
    ) -> Result<Response<W>, Failure<W>> {
        let answer = server(|s| {
            s.sent.push(req.clone());
            s.now += 10.0;
            s.answers.pop_front()
        });
        match answer.expect("a scripted answer for every request") {
            Ok((status, body)) => Ok(Response {
                status,
                retry_after: None,
                body: body.ok_or(BodyError::NotJsonObject),
            }),
            Err(cause) => Err(Failure::OAuth(
                Error::new(Code::NetworkError, "unreachable"),
                Some(W::Thrown(cause)),
            )),
        }
    }
    fn now(_: &RefreshOptions<W>) -> Result<f64, Failure<W>> {
        match server(|s| (s.clock_throws, s.now)) {
            (true, _) => Err(Failure::Thrown(W::Thrown("clock"))),
            (false, now) => Ok(now),
        }
    }
    fn auth_memory() -> &'static RefCell<crate::auth::Memory> {
        MEMORY.with(|m| *m)
    }
    fn error(e: &Error, _: Option<&W>) -> W {
        W::Err(String::from(e.code.as_str()))
    }
}

type Task = job::Task<W>;

/// The simulated host's promises: tasks not yet done, and what each promise settled to.
#[derive(Default)]
struct Tasks {
    pending: Vec<(usize, Task)>,
    settled: std::collections::HashMap<usize, Result<W, W>>,
    next: usize,
    /// Whether a task may start now (else `spawn` refuses, as for want of memory).
    refuse: bool,
}

std::thread_local! {
    static TASKS: RefCell<Tasks> = RefCell::new(Tasks::default());
}

fn tasks<T>(f: impl FnOnce(&mut Tasks) -> T) -> T {
    TASKS.with(|t| f(&mut t.borrow_mut()))
}

/// A settled promise of `v`.
fn settled_promise(v: Result<W, W>) -> W {
    tasks(|t| {
        t.next += 1;
        t.settled.insert(t.next, v);
        W::P(t.next)
    })
}

/// What promise `p` settled to, if it has.
fn outcome(p: &W) -> Option<Result<W, W>> {
    let W::P(id) = p else {
        panic!("{p:?} is no promise");
    };
    tasks(|t| t.settled.get(id).cloned())
}

/// Runs every task until none is left, as a host's microtask queue would (bounded: every
/// task of these tests ends within a few rounds).
fn run_tasks() {
    for _ in 0..100 {
        let batch = tasks(|t| core::mem::take(&mut t.pending));
        if batch.is_empty() {
            return;
        }
        for (id, mut task) in batch {
            match task.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Ready(v) => tasks(|t| t.settled.insert(id, v)),
                Poll::Pending => {
                    tasks(|t| t.pending.push((id, task)));
                    None
                }
            };
        }
    }
    panic!("tasks still pending after 100 rounds");
}

/// Polls a future of the simulated host to its end: none of its steps ever waits.
fn done<F: Future>(f: F) -> F::Output {
    let mut f = core::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the simulated host never waits"),
    }
}

fn json(fields: &[(&'static str, &str)]) -> Option<W> {
    let o = fields
        .iter()
        .map(|(k, v)| (*k, Json::Str(String::from(*v))));
    Some(W::Obj(o.collect()))
}

fn token(at: &str, rt: Option<&str>) -> Result<(u16, Option<W>), &'static str> {
    let mut o = vec![
        ("access_token", Json::Str(String::from(at))),
        ("expires_in", Json::Num(7200.0)),
    ];
    if let Some(rt) = rt {
        o.push(("refresh_token", Json::Str(String::from(rt))));
    }
    Ok((200, Some(W::Obj(o))))
}

fn refused() -> Result<(u16, Option<W>), &'static str> {
    Ok((401, json(&[("error", "invalid_client")])))
}

fn options(client: Client) -> RefreshOptions<W> {
    RefreshOptions {
        token_url: String::from("https://auth.example/token"),
        client,
        refresh_token: Secret::new("RT0"),
        scope: None,
        extras: Extras::default(),
        timeout_ms: 10_000.0,
        signal: None,
        fetch: None,
        now: None,
        client_credentials: false,
        allow_insecure_http: false,
    }
}

/// A client in auto mode whose Basic credential differs when form-encoded (`+` and `/`).
fn auto_client() -> Client {
    Client::new(String::from("app"), Some(Secret::new("s+c/r")), None, None).unwrap()
}

fn auth_header(r: &HttpRequest) -> Option<&str> {
    let mut h = r.headers.iter().filter(|(n, _)| n == "authorization");
    h.next().map(|(_, v)| v.as_str())
}

#[test]
fn auto_mode_falls_back_per_refusal_and_remembers_what_worked() {
    let opts = options(auto_client());
    server(|s| s.answers.extend([refused(), refused(), token("AT1", None)]));
    let got = done(refresh(&opts, &Secret::new("RT0"), &[])).ok().unwrap();
    assert_eq!(got.fields.access_token.expose(), "AT1");
    let sent = server(|s| core::mem::take(&mut s.sent));
    assert_eq!(sent.len(), 3);
    let (form, raw) = (
        auth_header(&sent[0]).unwrap(),
        auth_header(&sent[1]).unwrap(),
    );
    assert_ne!(form, raw, "the second try spells the credential unencoded");
    assert_eq!(
        auth_header(&sent[2]),
        None,
        "the third sends it in the body"
    );
    assert!(sent[2].body.contains("client_secret="));
    // The next request starts where the last one succeeded.
    server(|s| s.answers.push_back(token("AT2", None)));
    done(refresh(&opts, &Secret::new("RT0"), &[])).ok().unwrap();
    let sent = server(|s| core::mem::take(&mut s.sent));
    assert_eq!(sent.len(), 1);
    assert_eq!(auth_header(&sent[0]), None);
    // Refused there too: forgotten, and the error is the server's, after one request.
    server(|s| s.answers.push_back(refused()));
    let e = match done(refresh(&opts, &Secret::new("RT0"), &[])) {
        Err(Failure::OAuth(e, _)) => e,
        _ => panic!("expected an OAuthError"),
    };
    assert_eq!(e.code.as_str(), "invalid_client");
    assert_eq!(server(|s| core::mem::take(&mut s.sent)).len(), 1);
    server(|s| s.answers.push_back(token("AT3", None)));
    done(refresh(&opts, &Secret::new("RT0"), &[])).ok().unwrap();
    let sent = server(|s| core::mem::take(&mut s.sent));
    assert_eq!(auth_header(&sent[0]), Some(form), "back to the first way");
}

#[test]
fn a_configured_client_never_falls_back_and_a_grant_refusal_is_final() {
    let basic = Some(crate::grant::ClientAuth::Basic);
    let opts =
        options(Client::new(String::from("app"), Some(Secret::new("s")), basic, None).unwrap());
    server(|s| s.answers.push_back(refused()));
    assert!(done(refresh(&opts, &Secret::new("RT0"), &[])).is_err());
    assert_eq!(server(|s| s.sent.len()), 1);
    // Auto mode: invalid_grant is no authentication refusal, so one request only.
    let opts = options(auto_client());
    server(|s| {
        s.answers
            .push_back(Ok((400, json(&[("error", "invalid_grant")]))))
    });
    assert!(done(refresh(&opts, &Secret::new("RT0"), &[])).is_err());
    assert_eq!(server(|s| s.sent.len()), 2);
}

#[test]
fn every_secret_and_the_echoed_credential_are_redacted() {
    let opts = options(auto_client());
    // The server echoes the request's Authorization value and its base64 credential.
    server(|s| s.answers.push_back(refused()));
    let header = {
        let req =
            crate::grant::refresh_request(&opts.client, &Secret::new("RT0"), None, &opts.extras);
        String::from(auth_header(&req.unwrap()).unwrap())
    };
    let credential = header.strip_prefix("Basic ").unwrap().to_string();
    let echo = format!("got {header} / {credential} / RT0 / HELD-AT / s+c/r");
    let body = W::Obj(vec![
        ("error", Json::Str(String::from("invalid_request"))),
        ("error_description", Json::Str(echo)),
    ]);
    server(|s| {
        s.answers.clear();
        s.answers.push_back(Ok((400, Some(body))));
    });
    let e = match done(refresh(&opts, &Secret::new("RT0"), &["HELD-AT"])) {
        Err(Failure::OAuth(e, _)) => e,
        _ => panic!("expected an OAuthError"),
    };
    let d = e.description.unwrap();
    for secret in [credential.as_str(), "RT0", "HELD-AT", "s+c/r"] {
        assert!(!d.contains(secret), "{secret} survived in {d}");
    }
    assert!(d.starts_with("got "), "the rest of the text is kept: {d}");
}

#[test]
fn revocation_is_any_2xx_and_keeps_the_body_unread() {
    let opts = options(auto_client());
    server(|s| s.answers.push_back(Ok((200, None))));
    assert!(done(revoke(
        &opts,
        "https://auth.example/revoke",
        &Secret::new("RT0"),
        Some("refresh_token")
    ))
    .is_ok());
    let sent = server(|s| core::mem::take(&mut s.sent));
    assert!(sent[0].body.contains("token_type_hint=refresh_token"));
    server(|s| s.answers.push_back(Ok((503, None))));
    let e = done(revoke(
        &opts,
        "https://auth.example/revoke",
        &Secret::new("RT0"),
        None,
    ));
    assert!(matches!(e, Err(Failure::OAuth(e, _)) if e.status == Some(503)));
}

/// A cache of the simulated host: a store (one entry), a hook, listeners, all recorded.
struct TestCache {
    opts: CacheOptions<W>,
    state: RefCell<State>,
    store: RefCell<Option<Stored>>,
    /// Every store call, hook call and event, in order.
    log: RefCell<Vec<String>>,
    put_throws: bool,
    hook_throws: bool,
    /// `lock` answers, in order (then taken).
    lock_answers: RefCell<VecDeque<bool>>,
    listening: bool,
}

fn cache(store: bool, hook: bool) -> TestCache {
    TestCache {
        opts: CacheOptions {
            refresh: options(auto_client()),
            policy: Policy::default(),
            store: store.then_some(W::Undef),
            store_key: String::from("k"),
            on_tokens: hook.then_some(()),
            on_event: None,
            revocation_url: None,
            lock: None,
        },
        state: RefCell::new(State::new(Secret::new("RT0"))),
        store: RefCell::new(None),
        log: RefCell::new(Vec::new()),
        put_throws: false,
        hook_throws: false,
        lock_answers: RefCell::new(VecDeque::new()),
        listening: true,
    }
}

impl TestCache {
    fn note(&self, s: String) {
        self.log.borrow_mut().push(s);
    }
    fn log(&self) -> Vec<String> {
        core::mem::take(&mut self.log.borrow_mut())
    }
}

impl Cache for TestCache {
    type V = W;
    fn options(&self) -> &CacheOptions<W> {
        &self.opts
    }
    fn state(&self) -> &RefCell<State> {
        &self.state
    }
    async fn settle(returned: Result<W, W>) -> Result<W, W> {
        let Ok(p @ W::P(_)) = returned else {
            return returned;
        };
        core::future::poll_fn(|_| outcome(&p).map_or(Poll::Pending, Poll::Ready)).await
    }
    fn store(&self, method: &'static str, args: &[&W]) -> Result<W, W> {
        match (method, args) {
            ("get", []) => {
                self.note(String::from("get"));
                Ok(self.store.borrow().clone().map_or(W::Undef, W::Entry))
            }
            ("put", [W::Entry(e)]) => {
                self.note(String::from("put"));
                if self.put_throws {
                    return Err(W::Thrown("put"));
                }
                self.store.replace(Some(e.clone()));
                Ok(W::Undef)
            }
            ("lock", [owner, W::N(ttl)]) => {
                self.note(format!("lock {owner:?} {ttl}"));
                Ok(W::B(
                    self.lock_answers.borrow_mut().pop_front().unwrap_or(true),
                ))
            }
            ("unlock", [owner]) => {
                self.note(format!("unlock {owner:?}"));
                Ok(W::Undef)
            }
            _ => panic!("store.{method} called with {args:?}"),
        }
    }
    fn number(n: f64) -> W {
        W::N(n)
    }
    fn entry(value: &W) -> Result<Option<Stored>, Error> {
        Ok(match value {
            W::Entry(e) => Some(e.clone()),
            _ => None,
        })
    }
    fn value(entry: &Stored) -> W {
        W::Entry(entry.clone())
    }
    fn token_set(t: &TokenFields, raw: &W, rt: &Secret) -> W {
        let mut o = vec![
            (
                "accessToken",
                Json::Str(t.access_token.expose().to_string()),
            ),
            ("refreshToken", Json::Str(rt.expose().to_string())),
        ];
        if let W::Obj(raw) = raw {
            o.push(("rawFields", Json::Num(raw.len() as f64)));
        }
        W::Obj(o)
    }
    fn call_hook(&self, set: &W) -> Result<W, W> {
        let at = JsonObject::text(set, "accessToken").unwrap();
        let served = self
            .state
            .borrow()
            .token
            .as_ref()
            .map(|t| t.access_token.expose().to_string());
        self.note(format!("hook {at} (serving {served:?})"));
        match self.hook_throws {
            true => Err(W::Thrown("hook")),
            false => Ok(W::Undef),
        }
    }
    fn timer(ms: f64) -> W {
        server(|s| s.now += ms);
        W::Undef
    }
    fn random() -> f64 {
        0.5
    }
    fn owner() -> W {
        W::Thrown("owner-1")
    }
    fn clock() -> f64 {
        server(|s| s.now)
    }
    fn listening(&self) -> bool {
        self.listening
    }
    fn emit(&self, kind: &'static str, fields: &[(&'static str, Field<'_>)]) {
        let mut s = String::from(kind);
        for (k, v) in fields {
            let v = match v {
                Field::Bool(b) => b.to_string(),
                Field::Num(n) => n.to_string(),
                Field::Text(t) => t.to_string(),
                Field::Absent => String::from("-"),
            };
            s += &format!(" {k}={v}");
        }
        self.note(s);
    }
    fn spawn(f: Task) -> Result<W, W> {
        tasks(|t| {
            if t.refuse {
                return Err(W::Err(String::from("out_of_memory")));
            }
            t.next += 1;
            t.pending.push((t.next, f));
            Ok(W::P(t.next))
        })
    }
    fn settled(v: Result<&W, &W>) -> W {
        settled_promise(v.cloned().map_err(Clone::clone))
    }
    fn keep_alive(job: &W) {
        KEPT.with(|k| k.borrow_mut().push(job.clone()));
    }
    fn quiet(_: &W) {}
    fn request(_: &RefreshOptions<W>, input: &W, _: &W) -> Result<(W, W), W> {
        match input {
            W::Str(url) => Ok((W::Undef, W::Str(url.clone()))),
            _ => Err(W::Err(String::from("invalid_options"))),
        }
    }
    fn streams(init: &W) -> bool {
        *init == W::Thrown("stream")
    }
    fn duplicate(request: &W) -> Result<W, W> {
        let W::Str(url) = request else {
            panic!("not a request: {request:?}");
        };
        Ok(W::Str(format!("{url} (copy)")))
    }
    fn send(_: &W, request: &W, token: &W) -> Result<W, W> {
        let status = server(|s| {
            s.resource_sent.push(format!("{request:?} {token:?}"));
            s.resource.pop_front().expect("a scripted resource answer")
        });
        // Answered later, as a host's fetch is: other tasks run meanwhile.
        let response = W::Obj(vec![("status", Json::Num(status))]);
        Self::spawn(Box::pin(async move { Ok(response) }))
    }
    fn access_token_of(job: &W) -> W {
        let job = job.clone();
        let picked = Self::spawn(Box::pin(async move {
            let set = Self::settle(Ok(job)).await?;
            Ok(Source::field(&set, "accessToken").unwrap_or_default())
        }));
        picked.unwrap_or_else(|refused| refused)
    }
}

std::thread_local! {
    /// Every job promise handed to `keep_alive`.
    static KEPT: RefCell<Vec<W>> = const { RefCell::new(Vec::new()) };
}

fn kinds(log: &[String]) -> Vec<&str> {
    log.iter().map(|l| l.split(' ').next().unwrap()).collect()
}

#[test]
fn a_job_reports_each_step_in_order_with_its_figures() {
    let c = cache(true, true);
    server(|s| {
        s.answers
            .extend([Ok((503, None)), token("AT1", Some("RT1"))])
    });
    let ended = done(job::run(&c, false)).ok().unwrap();
    assert!(ended.result.is_ok());
    let log = c.log();
    assert_eq!(
        kinds(&log).join(" "),
        "refreshStart get storeRead request retryScheduled get storeRead request put storeWrite hook refreshEnd"
    );
    assert_eq!(log[0], "refreshStart forced=false");
    assert_eq!(log[2], "storeRead ok=false durationMs=0");
    assert_eq!(
        log[3],
        "request attempt=1 durationMs=10 ok=false status=503 code=http_error"
    );
    assert!(log[4].starts_with("retryScheduled delayMs="), "{}", log[4]);
    assert!(log[4].ends_with(" attempt=1"), "{}", log[4]);
    assert_eq!(
        log[7],
        "request attempt=2 durationMs=10 ok=true status=- code=-"
    );
    assert_eq!(log[9], "storeWrite ok=true durationMs=0");
    assert_eq!(
        log[10], "hook AT1 (serving None)",
        "the hook runs before callers see it"
    );
    assert!(
        log[11].starts_with("refreshEnd ok=true durationMs="),
        "{}",
        log[11]
    );
    assert!(log[11].ends_with(" attempts=2 code=-"), "{}", log[11]);
    // What the cache publishes: the hook's very TokenSet, and the response's JSON as raw.
    let (at, set) = ended.built.unwrap();
    assert_eq!(at.expose(), "AT1");
    assert_eq!(
        JsonObject::text(&set, "refreshToken").as_deref(),
        Some("RT1")
    );
    let (at, raw) = ended.granted.unwrap();
    assert_eq!(at.expose(), "AT1");
    assert_eq!(
        JsonObject::text(&raw, "refresh_token").as_deref(),
        Some("RT1")
    );
    assert_eq!(
        c.state
            .borrow()
            .token
            .as_ref()
            .unwrap()
            .access_token
            .expose(),
        "AT1"
    );
}

#[test]
fn nothing_is_built_when_nobody_listens() {
    let mut c = cache(false, false);
    c.listening = false;
    server(|s| s.answers.push_back(token("AT1", None)));
    assert!(done(job::run(&c, true)).ok().unwrap().result.is_ok());
    assert!(c.log().is_empty());
}

#[test]
fn a_lock_wait_is_reported_as_such_and_the_lock_is_released_before_the_hook() {
    let mut c = cache(true, true);
    c.opts.lock = Some(LockPolicy::with_ttl(30_000.0));
    c.lock_answers.borrow_mut().extend([false, true]);
    server(|s| s.answers.push_back(token("AT1", None)));
    assert!(done(job::run(&c, false)).ok().unwrap().result.is_ok());
    let log = c.log();
    assert_eq!(
        kinds(&log).join(" "),
        "refreshStart get storeRead lock lock lockWait get storeRead lock lock get storeRead request put storeWrite unlock hook refreshEnd"
    );
    assert_eq!(
        log[3], "lock Thrown(\"owner-1\") 30000",
        "the job's owner and the TTL"
    );
    assert!(log[4].starts_with("lock ok=false"));
    assert!(log[5].ends_with(" attempt=0"), "{}", log[5]);
    assert!(log[9].starts_with("lock ok=true"));
}

#[test]
fn a_failed_request_keeps_its_cause_and_a_host_error_passes_through() {
    let c = cache(false, false);
    server(|s| {
        s.answers
            .extend([Err("ECONNRESET"), Err("ECONNRESET"), Err("ECONNRESET")])
    });
    let ended = done(job::run(&c, false)).ok().unwrap();
    match ended.result {
        Err(Failure::OAuth(e, Some(W::Thrown("ECONNRESET")))) => {
            assert_eq!(e.code.as_str(), "network_error")
        }
        _ => panic!("expected the network error with its cause"),
    }
    assert!(c
        .log()
        .last()
        .unwrap()
        .ends_with(" attempts=3 code=network_error"));
    // A throwing put: the job rejects with what it threw, the token is kept all the same.
    let mut c = cache(true, true);
    c.put_throws = true;
    c.hook_throws = true;
    server(|s| s.answers.push_back(token("AT1", Some("RT1"))));
    let ended = done(job::run(&c, false)).ok().unwrap();
    assert!(
        matches!(ended.result, Err(Failure::Thrown(W::Thrown("put")))),
        "put's, the first"
    );
    assert_eq!(c.state.borrow().refresh_token.expose(), "RT1");
    assert!(c.state.borrow().token.is_some());
}

#[test]
fn a_throwing_clock_ends_the_job_with_nothing_to_publish() {
    let c = cache(true, false);
    server(|s| s.clock_throws = true);
    assert!(matches!(
        done(job::run(&c, false)),
        Err(Failure::Thrown(W::Thrown("clock")))
    ));
    assert!(c.state.borrow().token.is_none());
}

#[path = "shared_tests.rs"]
mod shared_tests;

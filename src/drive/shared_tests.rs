//! A cache's shared insides over the simulated host, with its promises run as a host's
//! task queue would: single flight, the cooldown, the background refresh within the skew,
//! publishing only after the hook, invalidation, revocation, and a job that cannot start.

use std::rc::Rc;

use super::*;
use crate::drive::shared::Shared;

fn shared(store: bool, hook: bool) -> Rc<Shared<TestCache>> {
    Rc::new(Shared::new(cache(store, hook)))
}

fn at(v: &W) -> Option<String> {
    match v {
        W::Str(s) => Some(s.clone()),
        _ => None,
    }
}

fn ok_text(p: &W) -> Option<String> {
    outcome(p)?.ok().as_ref().and_then(at)
}

fn sent() -> usize {
    server(|s| core::mem::take(&mut s.sent)).len()
}

#[test]
fn concurrent_callers_share_one_job_and_see_its_token_only_after_the_hook() {
    let s = shared(true, true);
    server(|sv| sv.answers.push_back(token("AT1", Some("RT1"))));
    let calls: Vec<W> = (0..3).map(|_| Shared::get(&s, true)).collect();
    let set = Shared::get(&s, false);
    let forced = Shared::job(&s, true);
    assert!(s.refreshing());
    assert_eq!(set, forced, "a forced refresh joins the job in flight");
    assert_eq!(
        s.peek(),
        W::Undef,
        "nothing is published before the job ends"
    );
    run_tasks();
    assert_eq!(sent(), 1, "one request for five callers");
    for c in &calls {
        assert_eq!(ok_text(c).as_deref(), Some("AT1"));
    }
    let set = outcome(&set).unwrap().unwrap();
    assert_eq!(
        JsonObject::text(&set, "refreshToken").as_deref(),
        Some("RT1")
    );
    assert_eq!(at(&s.peek()).as_deref(), Some("AT1"));
    assert!(!s.refreshing() && s.has_token());
    assert!(
        KEPT.with(|k| k.borrow().contains(&forced)),
        "the job is kept alive"
    );
    let log = s.cache.log();
    assert!(
        log.contains(&String::from("hook AT1 (serving None)")),
        "{log:?}"
    );
    // A hit settles at once, with no job.
    let hit = Shared::get(&s, true);
    assert_eq!(ok_text(&hit).as_deref(), Some("AT1"));
    assert!(!s.refreshing());
}

#[test]
fn a_failure_is_every_callers_through_its_cooldown_then_a_new_job_runs() {
    let s = shared(false, false);
    server(|sv| {
        sv.answers
            .extend([Err("ECONNRESET"), Err("ECONNRESET"), Err("ECONNRESET")])
    });
    let first = Shared::get(&s, true);
    run_tasks();
    let rejection = outcome(&first).unwrap().unwrap_err();
    assert_eq!(rejection, W::Err(String::from("network_error")));
    assert_eq!(sent(), 3);
    // Within the cooldown: the same rejection, at once, and no request.
    let again = Shared::get(&s, false);
    assert!(!s.refreshing());
    assert_eq!(outcome(&again), Some(Err(rejection)));
    // Once it has passed, a new job.
    server(|sv| {
        sv.now += 1_000.0;
        sv.answers.push_back(token("AT1", None));
    });
    let later = Shared::get(&s, true);
    run_tasks();
    assert_eq!(ok_text(&later).as_deref(), Some("AT1"));
    assert_eq!(sent(), 1);
}

/// A cache seeded at the simulated clock's now with a token of `lifetime_s`.
fn seeded(lifetime_s: f64) -> Rc<Shared<TestCache>> {
    let set = W::Obj(vec![
        ("accessToken", Json::Str(String::from("AT0"))),
        ("expiresIn", Json::Num(lifetime_s)),
    ]);
    Rc::new(Shared::seeded(cache(false, false), &set).ok().unwrap())
}

#[test]
fn within_the_skew_the_token_is_served_while_a_background_job_replaces_it() {
    let s = seeded(7200.0);
    assert_eq!(sent(), 0, "a seeded cache sends nothing");
    assert_eq!(at(&s.peek()).as_deref(), Some("AT0"));
    // 30 s left: inside the 60 s skew, outside the 5 s margin.
    server(|sv| {
        sv.now += 7_170_000.0;
        sv.answers.push_back(token("AT1", None));
    });
    let hit = Shared::get(&s, true);
    assert_eq!(ok_text(&hit).as_deref(), Some("AT0"), "served at once");
    assert!(s.refreshing(), "and refreshed behind it");
    let second = Shared::get(&s, true);
    assert_eq!(
        ok_text(&second).as_deref(),
        Some("AT0"),
        "one background job only"
    );
    run_tasks();
    assert_eq!(sent(), 1);
    assert_eq!(at(&s.peek()).as_deref(), Some("AT1"));
    let log = s.cache.log();
    assert_eq!(log[0], "backgroundRefresh", "{log:?}");
}

#[test]
fn invalidation_drops_only_the_held_token_and_the_next_caller_refreshes() {
    let s = seeded(7200.0);
    assert!(
        !s.invalidate(Some(String::from("other"))),
        "not the held token"
    );
    assert!(s.has_token());
    assert!(s.invalidate(Some(String::from("AT0"))));
    assert!(!s.has_token() && s.peek() == W::Undef && s.expires_at().is_none());
    server(|sv| sv.answers.push_back(token("AT1", None)));
    let next = Shared::get(&s, true);
    run_tasks();
    assert_eq!(ok_text(&next).as_deref(), Some("AT1"));
    assert_eq!(sent(), 1);
    assert!(s.invalidate(None));
    assert!(!s.has_token());
}

#[test]
fn a_job_that_cannot_start_is_refused_and_not_joined() {
    let s = shared(false, false);
    tasks(|t| t.refuse = true);
    let refused = Shared::get(&s, false);
    tasks(|t| t.refuse = false);
    assert_eq!(refused, W::Err(String::from("out_of_memory")));
    assert!(!s.refreshing(), "nothing in flight to join");
    server(|sv| sv.answers.push_back(token("AT1", None)));
    let next = Shared::get(&s, true);
    run_tasks();
    assert_eq!(ok_text(&next).as_deref(), Some("AT1"));
}

#[test]
fn revocation_forgets_the_tokens_in_memory_and_in_the_store_only_once_accepted() {
    let s = shared(true, false);
    let refused = Shared::revoke(&s);
    run_tasks();
    let e = outcome(&refused).unwrap().unwrap_err();
    assert_eq!(
        e,
        W::Err(String::from("invalid_options")),
        "no revocationUrl"
    );
    let mut c = cache(true, false);
    c.opts.revocation_url = Some(String::from("https://auth.example/revoke"));
    let s = Rc::new(Shared::new(c));
    server(|sv| {
        sv.answers
            .extend([token("AT1", Some("RT1")), Ok((503, None))])
    });
    Shared::get(&s, true);
    run_tasks();
    let failed = Shared::revoke(&s);
    run_tasks();
    assert!(outcome(&failed).unwrap().is_err());
    assert!(s.has_token(), "a refused revocation forgets nothing");
    server(|sv| sv.answers.push_back(Ok((200, None))));
    let done = Shared::revoke(&s);
    run_tasks();
    assert_eq!(outcome(&done), Some(Ok(W::Undef)));
    assert!(!s.has_token() && s.cache.state.borrow().token.is_none());
    let stored = s.cache.store.borrow().clone().unwrap();
    assert!(stored.token.is_none() && stored.refresh_token.is_none());
    let bodies: Vec<String> = server(|sv| core::mem::take(&mut sv.sent))
        .into_iter()
        .map(|r| r.body)
        .collect();
    assert!(
        bodies[2].contains("token=RT1"),
        "the rotated refresh token: {bodies:?}"
    );
}

/// `cache.fetch(url, init)` run to its end: the response's status, or the rejection.
fn fetch_through(s: &Rc<Shared<TestCache>>, url: &str, init: W) -> Result<f64, W> {
    let fetched = crate::drive::bearer::fetch(s.clone(), W::Str(String::from(url)), init);
    let p = TestCache::spawn(Box::pin(fetched)).ok().unwrap();
    run_tasks();
    outcome(&p)
        .unwrap()
        .map(|r| Source::number(&Source::field(&r, "status").unwrap()))
}

fn resource_sent() -> Vec<String> {
    server(|sv| core::mem::take(&mut sv.resource_sent))
}

#[test]
fn cache_fetch_retries_a_401_once_with_a_new_token_unless_the_body_is_a_stream() {
    let s = seeded(7200.0);
    server(|sv| {
        sv.resource.extend([200.0, 401.0, 200.0]);
        sv.answers.push_back(token("AT1", None));
    });
    assert_eq!(fetch_through(&s, "/a", W::Undef), Ok(200.0));
    assert_eq!(resource_sent(), ["Str(\"/a (copy)\") Str(\"AT0\")"]);
    assert_eq!(sent(), 0, "no refresh for a 200");
    // A 401: invalidated, refreshed, retried once with the kept request.
    assert_eq!(fetch_through(&s, "/b", W::Undef), Ok(200.0));
    assert_eq!(
        resource_sent(),
        [
            "Str(\"/b (copy)\") Str(\"AT0\")",
            "Str(\"/b\") Str(\"AT1\")"
        ]
    );
    assert_eq!(sent(), 1);
    // A 401 again: passed through after one retry, not a loop.
    server(|sv| {
        sv.resource.extend([401.0, 401.0]);
        sv.answers.push_back(token("AT2", None));
    });
    assert_eq!(fetch_through(&s, "/c", W::Undef), Ok(401.0));
    assert_eq!(resource_sent().len(), 2);
    // A stream body: sent once, itself; its 401 still drops the token.
    server(|sv| sv.resource.push_back(401.0));
    assert_eq!(fetch_through(&s, "/d", W::Thrown("stream")), Ok(401.0));
    assert_eq!(resource_sent(), ["Str(\"/d\") Str(\"AT2\")"]);
    assert!(!s.has_token());
    // A request the host refuses: the rejection, nothing sent.
    let p = TestCache::spawn(Box::pin(crate::drive::bearer::fetch(
        s.clone(),
        W::Undef,
        W::Undef,
    )));
    run_tasks();
    assert_eq!(
        outcome(&p.ok().unwrap()),
        Some(Err(W::Err(String::from("invalid_options"))))
    );
    assert!(resource_sent().is_empty());
}

#[test]
fn cache_fetch_keeps_a_token_another_caller_already_replaced() {
    let s = seeded(7200.0);
    server(|sv| {
        sv.resource.extend([401.0, 200.0]);
        sv.answers.push_back(token("AT1", None));
    });
    // The token is replaced (a refresh elsewhere) while the request is out.
    let fetched = crate::drive::bearer::fetch(s.clone(), W::Str(String::from("/a")), W::Undef);
    let p = TestCache::spawn(Box::pin(fetched)).ok().unwrap();
    Shared::job(&s, true);
    run_tasks();
    assert_eq!(
        outcome(&p).unwrap(),
        Ok(W::Obj(vec![("status", Json::Num(200.0))]))
    );
    assert_eq!(
        sent(),
        1,
        "one refresh: the 401 did not drop the newer token"
    );
    assert_eq!(
        resource_sent(),
        [
            "Str(\"/a (copy)\") Str(\"AT0\")",
            "Str(\"/a\") Str(\"AT1\")"
        ]
    );
    assert_eq!(at(&s.peek()).as_deref(), Some("AT1"));
}

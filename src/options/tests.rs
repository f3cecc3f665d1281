//! The option rules, table-tested over a simulated host: objects whose fields can be any
//! JS type, getters that throw, strings with lone surrogates, a URL parser, an allocator
//! that can run out.

#![allow(clippy::panic)]

use core::cell::Cell;

use super::*;
use crate::error::Code;
use crate::grant::ClientAuth;

/// A JS value.
#[derive(Clone, Debug)]
enum V {
    Undef,
    Null,
    B(bool),
    N(f64),
    S(String),
    /// A string holding a lone surrogate.
    Lone,
    F,
    O(Obj),
    A(Obj),
    Sym,
    /// A getter that throws.
    Throws,
}

/// A JS object: its own fields in order.
#[derive(Clone, Debug, Default)]
struct Obj(Vec<(&'static str, V)>);

struct T(String, bool);

impl Text for T {
    fn units(&self) -> u32 {
        self.0.encode_utf16().count() as u32
    }
    fn well_formed(&self) -> bool {
        self.1
    }
    fn into_string(self) -> String {
        self.0
    }
}

std::thread_local! {
    /// What `room` grants (the allocator of this test's host).
    static ROOM: Cell<usize> = const { Cell::new(usize::MAX) };
}

impl Source for V {
    type Func = ();
    type Text = T;
    fn kind(&self) -> Kind {
        match self {
            V::Undef | V::Throws => Kind::Undefined,
            V::Null => Kind::Null,
            V::B(_) => Kind::Bool,
            V::N(_) => Kind::Number,
            V::S(_) | V::Lone => Kind::Text,
            V::F => Kind::Func,
            V::O(_) => Kind::Object,
            V::A(_) => Kind::Array,
            V::Sym => Kind::Other,
        }
    }
    fn number(&self) -> f64 {
        match self {
            V::N(n) => *n,
            _ => f64::NAN,
        }
    }
    fn boolean(&self) -> bool {
        matches!(self, V::B(true))
    }
    fn field(&self, name: &'static str) -> Result<V, Threw> {
        let (V::O(o) | V::A(o)) = self else {
            return Ok(V::Undef);
        };
        match o.0.iter().rev().find(|(k, _)| *k == name) {
            Some((_, V::Throws)) => Err(Threw),
            Some((_, v)) => Ok(v.clone()),
            None => Ok(V::Undef),
        }
    }
    fn entries(&self) -> Result<V, Threw> {
        let V::O(o) = self else {
            return Ok(V::A(Obj::default()));
        };
        let mut pairs = Obj::default();
        for (k, v) in &o.0 {
            if matches!(v, V::Throws) {
                return Err(Threw);
            }
            pairs
                .0
                .push(("", V::A(Obj(vec![("0", s(k)), ("1", v.clone())]))));
        }
        Ok(V::A(pairs))
    }
    fn length(&self) -> u32 {
        match self {
            V::A(o) => o.0.len() as u32,
            _ => 0,
        }
    }
    fn at(&self, i: u32) -> V {
        match self {
            V::A(o) => o.0.get(i as usize).map_or(V::Undef, |(_, v)| v.clone()),
            _ => V::Undef,
        }
    }
    fn into_text(self) -> T {
        match self {
            V::S(s) => T(s, true),
            _ => T(String::from("\u{FFFD}"), false),
        }
    }
    fn into_func(self) {}
    /// A stand-in for WHATWG: `scheme://[user@]host[/path]`, lower-cased, `/` added.
    fn parse_url(raw: &str) -> Option<ParsedUrl> {
        let (scheme, rest) = raw.split_once("://")?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let (userinfo, host) = authority.rsplit_once('@').unwrap_or(("", authority));
        let host = host.to_ascii_lowercase();
        let path = if path.starts_with('/') { path } else { "/" };
        let hostname = host.split(':').next().unwrap_or_default();
        Some(ParsedUrl {
            href: scheme.to_ascii_lowercase() + "://" + &host + path,
            protocol: scheme.to_ascii_lowercase() + ":",
            hostname: String::from(hostname),
            has_credentials: !userinfo.is_empty(),
        })
    }
    fn room(bytes: usize) -> Result<(), Error> {
        let free = ROOM.with(Cell::get);
        match bytes <= free {
            true => Ok(()),
            false => Err(Error::new(Code::OutOfMemory, "out of memory")),
        }
    }
}

fn s(x: &str) -> V {
    V::S(String::from(x))
}

/// The options of the EdgeTag refresh, with `changes` applied on top.
fn opts(changes: &[(&'static str, V)]) -> Obj {
    let mut o = Obj(vec![
        (
            "tokenUrl",
            s("https://api.edgetag.io/v1/oauth-app/client/token"),
        ),
        ("clientId", s("app")),
        ("clientSecret", s("sec")),
        ("refreshToken", s("RT0")),
    ]);
    o.0.extend(changes.iter().cloned());
    o
}

fn refresh(o: &Obj) -> Result<RefreshOptions<V>, Error> {
    RefreshOptions::read(&V::O(o.clone()), "tokenUrl", true, None)
}

fn cache(o: &Obj) -> Result<CacheOptions<V>, Error> {
    CacheOptions::read(&V::O(o.clone()), None)
}

/// `r` failed with `code` and a message that starts with `name`.
fn fails<T>(r: Result<T, Error>, code: Code, name: &str) {
    let Err(e) = r else {
        panic!("{name}: accepted");
    };
    assert_eq!(e.code, code, "{name}: {}", e.message);
    assert!(e.message.starts_with(name), "{name}: {}", e.message);
}

#[test]
fn the_edgetag_options_get_their_defaults() {
    let o = refresh(&opts(&[])).unwrap();
    assert_eq!(
        o.token_url,
        "https://api.edgetag.io/v1/oauth-app/client/token"
    );
    assert_eq!((o.client.auth, o.client.auto), (ClientAuth::Basic, true));
    assert_eq!(o.refresh_token.expose(), "RT0");
    assert_eq!(o.timeout_ms, refresh::DEFAULT_TIMEOUT_MS);
    assert!(o.signal.is_none() && o.fetch.is_none() && o.now.is_none());
    assert!(!o.client_credentials && o.scope.is_none());
    let c = cache(&opts(&[])).unwrap();
    assert_eq!(c.policy, crate::cache::Policy::default());
    assert!(c.store.is_none() && c.lock.is_none() && c.revocation_url.is_none());
    assert!(!c.store_key.contains("RT0"), "the default key is a hash");
}

#[test]
fn a_getter_that_throws_is_invalid_options_never_absent() {
    for name in [
        "clientSecret",
        "clientId",
        "refreshToken",
        "tokenUrl",
        "timeoutMs",
        "fetch",
    ] {
        fails(
            refresh(&opts(&[(name, V::Throws)])),
            Code::InvalidOptions,
            name,
        );
    }
    for name in [
        "store",
        "retry",
        "onTokens",
        "storeKey",
        "lockTtlMs",
        "revocationUrl",
    ] {
        fails(
            cache(&opts(&[(name, V::Throws)])),
            Code::InvalidOptions,
            name,
        );
    }
    let retry = V::O(Obj(vec![("retries", V::Throws)]));
    fails(
        cache(&opts(&[("retry", retry)])),
        Code::InvalidOptions,
        "retry.retries",
    );
}

#[test]
fn each_option_refuses_a_value_of_the_wrong_type() {
    let table: &[(&'static str, V)] = &[
        ("clientSecret", V::N(1.0)),
        ("clientId", V::Null),
        ("clientId", s("")),
        ("refreshToken", V::B(true)),
        ("tokenUrl", s("/relative")),
        ("tokenUrl", s("ftp://example.com/")),
        ("clientAuth", s("private_key_jwt")),
        ("basicAuthEncoding", s("latin1")),
        ("grant", s("password")),
        ("scope", V::F),
        ("extraParams", V::A(Obj::default())),
        ("extraParams", V::O(Obj(vec![("audience", V::N(1.0))]))),
        ("headers", s("x-a: b")),
        ("timeoutMs", V::N(0.0)),
        ("timeoutMs", s("1000")),
        ("signal", V::O(Obj(vec![("aborted", s("no"))]))),
        ("fetch", V::O(Obj::default())),
        ("now", V::Sym),
        ("allowInsecureHttp", s("yes")),
    ];
    for (name, bad) in table {
        fails(
            refresh(&opts(&[(name, bad.clone())])),
            Code::InvalidOptions,
            name,
        );
    }
}

#[test]
fn the_cache_options_refuse_what_is_out_of_range() {
    let retry = |k, v| ("retry", V::O(Obj(vec![(k, v)])));
    let store = |fields: &[&'static str]| V::O(Obj(fields.iter().map(|f| (*f, V::F)).collect()));
    let table: &[((&'static str, V), &str)] = &[
        (retry("retries", V::N(101.0)), "retry.retries"),
        (retry("retries", V::N(1.5)), "retry.retries"),
        (retry("minDelayMs", V::N(-1.0)), "retry.minDelayMs"),
        (retry("maxDelayMs", V::N(100.0)), "retry.maxDelayMs"), // below minDelayMs
        (("retry", V::N(3.0)), "retry"),
        (("refreshSkewMs", V::N(f64::INFINITY)), "refreshSkewMs"),
        (("defaultExpiresInSec", V::N(-1.0)), "defaultExpiresInSec"),
        (("failureCooldownMs", V::N(f64::NAN)), "failureCooldownMs"),
        (("storeKey", s("")), "storeKey"),
        (("store", store(&["get"])), "store"),
        (("store", s("kv")), "store"),
        (("store", store(&["get", "put", "lock"])), "store"),
        (("lockTtlMs", V::N(1000.0)), "lockTtlMs"),
        (("onEvent", s("log")), "onEvent"),
        (
            ("revocationUrl", s("http://example.com/revoke")),
            "revocationUrl",
        ),
    ];
    for ((name, value), reported) in table {
        let r = cache(&opts(&[(name, value.clone())]));
        let code = match *name {
            "revocationUrl" => Code::InsecureUrl,
            _ => Code::InvalidOptions,
        };
        fails(r, code, reported);
    }
}

#[test]
fn strings_are_checked_before_they_are_copied() {
    let long = V::S("x".repeat(65_537));
    fails(
        refresh(&opts(&[("refreshToken", long)])),
        Code::InvalidOptions,
        "refreshToken",
    );
    let exactly = V::S("x".repeat(65_536));
    assert!(refresh(&opts(&[("refreshToken", exactly)])).is_ok());
    fails(
        refresh(&opts(&[("refreshToken", V::Lone)])),
        Code::InvalidOptions,
        "refreshToken",
    );
    let lone_header = V::O(Obj(vec![("x-a", V::Lone)]));
    fails(
        refresh(&opts(&[("headers", lone_header)])),
        Code::InvalidOptions,
        "headers",
    );
}

#[test]
fn no_room_is_out_of_memory_before_anything_is_copied() {
    ROOM.with(|r| r.set(1000));
    let r = refresh(&opts(&[("refreshToken", V::S("x".repeat(200)))]));
    ROOM.with(|r| r.set(usize::MAX));
    fails(r, Code::OutOfMemory, "out of memory");
    // Twelve times the request's bytes: 12 × (3 + 3 + 49 + 80) = 1,620 > 1,000 + 8 × 80.
    ROOM.with(|r| r.set(1_600));
    let r = refresh(&opts(&[("refreshToken", V::S("x".repeat(80)))]));
    ROOM.with(|r| r.set(usize::MAX));
    fails(r, Code::OutOfMemory, "out of memory");
}

#[test]
fn urls_follow_the_scheme_and_loopback_rules() {
    let url = |u: &str, insecure: bool| {
        refresh(&opts(&[
            ("tokenUrl", s(u)),
            ("allowInsecureHttp", V::B(insecure)),
        ]))
    };
    assert_eq!(
        url("HTTPS://API.example.com", false).unwrap().token_url,
        "https://api.example.com/"
    );
    assert!(url("http://127.0.0.1:8080/token", false).is_ok());
    assert!(url("http://localhost/token", false).is_ok());
    fails(
        url("http://api.example.com/token", false),
        Code::InsecureUrl,
        "tokenUrl",
    );
    assert!(url("http://api.example.com/token", true).is_ok());
    fails(
        url("https://u:p@api.example.com/", false),
        Code::InvalidOptions,
        "tokenUrl",
    );
    fails(
        url("https://api.example.com/#x", false),
        Code::InvalidOptions,
        "tokenUrl",
    );
}

#[test]
fn client_auth_and_grant_are_resolved() {
    let public = refresh(&opts(&[("clientSecret", V::Undef)])).unwrap();
    assert_eq!(
        (public.client.auth, public.client.auto),
        (ClientAuth::None, false)
    );
    let post = refresh(&opts(&[("clientAuth", s("client_secret_post"))])).unwrap();
    assert_eq!(
        (post.client.auth, post.client.auto),
        (ClientAuth::Post, false)
    );
    let no_secret = opts(&[
        ("clientSecret", V::Null),
        ("clientAuth", s("client_secret_basic")),
    ]);
    fails(refresh(&no_secret), Code::InvalidOptions, "clientSecret");
    let cc = opts(&[
        ("grant", s("client_credentials")),
        ("refreshToken", V::Undef),
    ]);
    let cc = refresh(&cc).unwrap();
    assert!(cc.client_credentials && cc.refresh_token.expose().is_empty());
    let public_cc = opts(&[
        ("grant", s("client_credentials")),
        ("clientSecret", V::Undef),
    ]);
    fails(refresh(&public_cc), Code::InvalidOptions, "clientSecret");
}

#[test]
fn records_keep_their_order_and_a_seed_gives_the_refresh_token() {
    let params = V::O(Obj(vec![("b", s("2")), ("a", s("1"))]));
    let o = refresh(&opts(&[("extraParams", params)])).unwrap();
    assert_eq!(
        o.extras.params,
        vec![("b".into(), "2".into()), ("a".into(), "1".into())]
    );
    let seed = V::O(Obj(vec![
        ("accessToken", s("AT")),
        ("refreshToken", s("RT-seed")),
    ]));
    let without = opts(&[("refreshToken", V::Undef)]);
    let c = CacheOptions::read(&V::O(without.clone()), Some(&seed)).unwrap();
    assert_eq!(c.refresh.refresh_token.expose(), "RT-seed");
    let given = opts(&[("refreshToken", s("RT-given"))]);
    let c = CacheOptions::read(&V::O(given), Some(&seed)).unwrap();
    assert_eq!(c.refresh.refresh_token.expose(), "RT-given");
    fails(cache(&without), Code::InvalidOptions, "refreshToken");
    fails(
        CacheOptions::read(&V::Null, None),
        Code::InvalidOptions,
        "options",
    );
}

#[test]
fn store_keys_differ_by_grant_and_locks_cover_the_worst_refresh() {
    let key = |changes: &[(&'static str, V)]| cache(&opts(changes)).unwrap().store_key;
    assert_ne!(key(&[]), key(&[("refreshToken", s("RT9"))]));
    assert_eq!(key(&[("storeKey", s("edgetag"))]), "edgetag");
    let cc = |scope: &str| {
        let o = [("grant", s("client_credentials")), ("scope", s(scope))];
        key(&o)
    };
    assert_ne!(cc("read"), cc("write"));
    let store = |lock: bool| {
        let mut f = vec![("get", V::F), ("put", V::F)];
        if lock {
            f.extend([("lock", V::F), ("unlock", V::F)]);
        }
        V::O(Obj(f))
    };
    assert!(cache(&opts(&[("store", store(false))]))
        .unwrap()
        .lock
        .is_none());
    let auto = cache(&opts(&[("store", store(true))]))
        .unwrap()
        .lock
        .unwrap();
    // Three auth methods × three attempts × 10 s, two 5 s backoffs, 5 s of store calls.
    assert_eq!(auto.ttl_ms, 3.0 * 3.0 * 10_000.0 + 2.0 * 5_000.0 + 5_000.0);
    let set = opts(&[("store", store(true)), ("lockTtlMs", V::N(1500.4))]);
    assert_eq!(cache(&set).unwrap().lock.unwrap().ttl_ms, 1501.0);
}

/// An S256 challenge: 43 characters.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[test]
fn authorize_urls_and_revocation_hints() {
    let base = |url: &str| {
        Obj(vec![
            ("authorizeUrl", s(url)),
            ("clientId", s("app")),
            ("codeChallenge", s(CHALLENGE)),
            ("state", s("s 1")),
        ])
    };
    let url = |u: &str| authorize_url(&V::O(base(u))).unwrap();
    let q = String::from("response_type=code&client_id=app&state=s+1&code_challenge=") + CHALLENGE;
    assert!(url("https://id.example.com/authorize")
        .starts_with(&(String::from("https://id.example.com/authorize?") + &q)));
    fails(
        authorize_url(&V::O(base("http://id.example.com/"))),
        Code::InsecureUrl,
        "authorizeUrl",
    );
    fails(authorize_url(&V::B(true)), Code::InvalidOptions, "options");
    let hint = |v: V| token_type_hint(&V::O(Obj(vec![("tokenTypeHint", v)])));
    assert_eq!(
        hint(s("access_token")).unwrap().as_deref(),
        Some("access_token")
    );
    assert_eq!(hint(V::Undef).unwrap(), None);
    fails(hint(s("id_token")), Code::InvalidOptions, "tokenTypeHint");
}

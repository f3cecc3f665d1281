//! The wasm layer against the local token server (`tests/server/serve.mjs`), in Node and in
//! headless Chromium: `wasm-pack test --node` / `--headless --chrome`.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use freshtoken::wasm::refresh_access_token;
use js_sys::{Function, Object, Reflect, JSON};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

const ORIGIN: &str = match option_env!("FRESHTOKEN_TEST_ORIGIN") {
    Some(o) => o,
    None => "http://127.0.0.1:47811",
};
const CLIENT_ID: &str = "3f2b8c1e-9d4a-4e7b-8f6c-2a1d0e9b7c55";
const CLIENT_SECRET: &str = "edgetag-demo-secret";

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct TokenSet {
    access_token: String,
    token_type: String,
    expires_in: Option<f64>,
    expires_at: Option<f64>,
    refresh_token: Option<String>,
    raw: serde_json::Value,
}

fn url(path: &str) -> String {
    String::from(ORIGIN) + path
}

/// Options for the EdgeTag-shaped endpoint at `path`, plus `extra` as JS object literal source.
fn options(path: &str, extra: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    let set = |k: &str, v: JsValue| Reflect::set(&o, &k.into(), &v).unwrap();
    set("tokenUrl", url(path).into());
    set("clientId", CLIENT_ID.into());
    set("clientSecret", CLIENT_SECRET.into());
    set("refreshToken", "rt-initial".into());
    for (k, v) in extra {
        set(k, v.clone());
    }
    o.into()
}

async fn ok(opts: JsValue) -> TokenSet {
    let v = JsFuture::from(refresh_access_token(opts))
        .await
        .expect("refresh should succeed");
    serde_wasm_bindgen::from_value(v).unwrap()
}

async fn fail(opts: JsValue) -> JsValue {
    JsFuture::from(refresh_access_token(opts))
        .await
        .expect_err("refresh should fail")
}

fn field(err: &JsValue, name: &str) -> JsValue {
    Reflect::get(err, &name.into()).unwrap()
}

fn code(err: &JsValue) -> String {
    field(err, "code").as_string().unwrap_or_default()
}

fn js_fn(body: &str) -> JsValue {
    Function::new_no_args(body)
        .call0(&JsValue::UNDEFINED)
        .unwrap()
}

#[wasm_bindgen_test]
async fn edgetag_refresh_succeeds() {
    let clock = js_fn("return () => 1000000");
    let t = ok(options("/v1/oauth-app/client/token", &[("now", clock)])).await;
    assert!(t.access_token.starts_with("at-"));
    assert_eq!(t.token_type, "Bearer");
    assert_eq!(t.expires_in, Some(7200.0));
    assert_eq!(t.expires_at, Some(1_000_000.0 + 7_200_000.0));
    assert_eq!(t.refresh_token, None);
    assert_eq!(t.raw["expires_in"], 7200);
}

#[wasm_bindgen_test]
async fn request_is_exact() {
    let extra = js_fn("return { audience: 'a&b' }");
    let headers = js_fn("return { 'X-Tenant': 't 1' }");
    let opts = options(
        "/echo",
        &[
            ("clientAuth", "client_secret_post".into()),
            ("scope", "read write".into()),
            ("extraParams", extra),
            ("headers", headers),
        ],
    );
    let t = ok(opts).await;
    let echo = &t.raw["echo"];
    assert_eq!(echo["method"], "POST");
    assert_eq!(
        echo["body"],
        "grant_type=refresh_token&refresh_token=rt-initial&scope=read+write&audience=a%26b&client_id=3f2b8c1e-9d4a-4e7b-8f6c-2a1d0e9b7c55&client_secret=edgetag-demo-secret"
    );
    assert_eq!(
        echo["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(echo["headers"]["accept"], "application/json");
    assert_eq!(echo["headers"]["x-tenant"], "t 1");
    assert!(echo["headers"].get("authorization").is_none());
}

#[wasm_bindgen_test]
async fn basic_header_is_exact() {
    let t = ok(options("/echo", &[("clientSecret", "p:w/ü +".into())])).await;
    // base64("3f2b…55:p%3Aw%2F%C3%BC%20%2B"): a space as %20 (#13)
    let want = String::from("Basic ")
        + "M2YyYjhjMWUtOWQ0YS00ZTdiLThmNmMtMmExZDBlOWI3YzU1OnAlM0F3JTJGJUMzJUJDJTIwJTJC";
    assert_eq!(t.raw["echo"]["headers"]["authorization"], want.as_str());
    assert_eq!(
        t.raw["echo"]["body"],
        "grant_type=refresh_token&refresh_token=rt-initial"
    );
    let raw = ok(options(
        "/echo",
        &[
            ("clientSecret", "p:w".into()),
            ("basicAuthEncoding", "raw".into()),
        ],
    ))
    .await;
    let want = "Basic M2YyYjhjMWUtOWQ0YS00ZTdiLThmNmMtMmExZDBlOWI3YzU1OnA6dw==";
    assert_eq!(raw.raw["echo"]["headers"]["authorization"], want);
}

#[wasm_bindgen_test]
async fn server_errors_map_to_codes() {
    let cases: &[(&str, &str, Option<f64>, bool)] = &[
        ("/f/invalid_grant", "invalid_grant", Some(400.0), false),
        ("/f/invalid_client", "invalid_client", Some(401.0), false),
        ("/f/error-200", "invalid_grant", Some(200.0), false),
        ("/f/status:503", "http_error", Some(503.0), true),
        ("/f/status:500:json", "server_error", Some(500.0), true),
        ("/f/status:408:empty", "http_error", Some(408.0), true),
        ("/f/status:404:html", "http_error", Some(404.0), false),
        ("/f/html", "invalid_response", Some(200.0), false),
        ("/f/not-json", "invalid_response", Some(200.0), false),
        ("/f/truncated", "invalid_response", Some(200.0), false),
        ("/f/empty", "invalid_response", Some(200.0), false),
        ("/f/big", "invalid_response", Some(200.0), false),
        ("/f/big:chunked", "invalid_response", Some(200.0), false),
    ];
    for &(path, want_code, status, retryable) in cases {
        let err = fail(options(path, &[])).await;
        assert_eq!(code(&err), want_code, "{path}");
        assert_eq!(field(&err, "status").as_f64(), status, "{path}");
        assert_eq!(
            field(&err, "retryable").as_bool(),
            Some(retryable),
            "{path}"
        );
    }
}

#[wasm_bindgen_test]
async fn expires_in_variants() {
    assert_eq!(
        ok(options("/f/expires-string", &[])).await.expires_in,
        Some(7200.0)
    );
    let zero = ok(options("/f/expires-zero", &[])).await;
    assert_eq!(zero.expires_in, Some(0.0));
    let none = ok(options("/f/no-expires", &[])).await;
    assert_eq!((none.expires_in, none.expires_at), (None, None));
}

#[wasm_bindgen_test]
async fn retry_after_both_forms() {
    let err = fail(options("/f/retry-after:7", &[])).await;
    assert_eq!(
        (code(&err).as_str(), field(&err, "status").as_f64()),
        ("http_error", Some(429.0))
    );
    assert_eq!(field(&err, "retryAfterMs").as_f64(), Some(7000.0));
    // An HTTP date 30 s ahead (whole seconds, so 29–30 s remain).
    let err = fail(options("/f/retry-after:+30:503", &[])).await;
    let ms = field(&err, "retryAfterMs").as_f64().unwrap();
    assert!((28_000.0..=30_000.0).contains(&ms), "{ms}");
}

#[wasm_bindgen_test]
async fn redirects_are_not_followed() {
    let err = fail(options("/f/redirect", &[])).await;
    assert_eq!(code(&err), "http_error");
}

#[wasm_bindgen_test]
async fn timeouts_cover_headers_and_body() {
    for path in ["/f/hang", "/f/stall"] {
        let err = fail(options(path, &[("timeoutMs", 300.into())])).await;
        assert_eq!(code(&err), "timeout", "{path}");
        assert_eq!(field(&err, "retryable").as_bool(), Some(true));
    }
}

#[wasm_bindgen_test]
async fn timeout_holds_when_fetch_ignores_the_signal() {
    let never = js_fn("return () => new Promise(() => {})");
    let err = fail(options(
        "/v1/oauth-app/client/token",
        &[("fetch", never), ("timeoutMs", 100.into())],
    ))
    .await;
    assert_eq!(code(&err), "timeout");
}

#[wasm_bindgen_test]
async fn abort_signal() {
    let controller = web_sys::AbortController::new().unwrap();
    let signal: JsValue = controller.signal().into();
    let abort_soon = js_fn("return (c) => setTimeout(() => c.abort(), 50)");
    abort_soon
        .unchecked_ref::<Function>()
        .call1(&JsValue::UNDEFINED, &controller)
        .unwrap();
    let err = fail(options("/f/hang", &[("signal", signal.clone())])).await;
    assert_eq!(code(&err), "aborted");
    // Already aborted: no request at all.
    let err = fail(options("/f/hang", &[("signal", signal)])).await;
    assert_eq!(code(&err), "aborted");
}

#[wasm_bindgen_test]
async fn network_errors() {
    let err = fail(options("/f/reset", &[])).await;
    assert_eq!(code(&err), "network_error");
    assert_eq!(field(&err, "retryable").as_bool(), Some(true));
    let err = fail(options("/f/reset-mid", &[])).await;
    assert_eq!(code(&err), "network_error");
    let mut o = options("/", &[]);
    Reflect::set(&o, &"tokenUrl".into(), &"http://127.0.0.1:9/token".into()).unwrap();
    o = o.clone();
    assert_eq!(code(&fail(o).await), "network_error");
}

#[wasm_bindgen_test]
async fn injected_fetch_is_used() {
    let calls = js_fn(
        "const f = (url, init) => { f.calls.push([url, init.method, init.redirect, init.body]); \
         return Promise.resolve(new Response('{\"access_token\":\"inj\",\"expires_in\":5}', {status: 200})) }; \
         f.calls = []; return f",
    );
    let t = ok(options(
        "/v1/oauth-app/client/token",
        &[("fetch", calls.clone())],
    ))
    .await;
    assert_eq!(t.access_token, "inj");
    let log = JSON::stringify(&field(&calls, "calls"))
        .unwrap()
        .as_string()
        .unwrap();
    let want = String::from("[[\"") + ORIGIN + "/v1/oauth-app/client/token\",\"POST\",\"manual\",\"grant_type=refresh_token&refresh_token=rt-initial\"]]";
    assert_eq!(log, want);
}

#[wasm_bindgen_test]
async fn invalid_options_and_urls() {
    let cases: &[(&[(&str, JsValue)], &str)] = &[
        (&[("tokenUrl", JsValue::UNDEFINED)], "invalid_options"),
        (&[("tokenUrl", 5.into())], "invalid_options"),
        (&[("tokenUrl", "not a url".into())], "invalid_options"),
        (
            &[("tokenUrl", "https://a.example/t#frag".into())],
            "invalid_options",
        ),
        (
            &[("tokenUrl", "https://u:p@a.example/t".into())],
            "invalid_options",
        ),
        (
            &[("tokenUrl", "ftp://a.example/t".into())],
            "invalid_options",
        ),
        (&[("tokenUrl", "http://a.example/t".into())], "insecure_url"),
        (
            &[("tokenUrl", "http://localhost.example.com/t".into())],
            "insecure_url",
        ),
        (
            &[("tokenUrl", "http://127.0.0.1@evil.example/t".into())],
            "invalid_options",
        ),
        (
            &[("tokenUrl", "http://evil.example\\@127.0.0.1/t".into())],
            "insecure_url",
        ),
        (
            &[("tokenUrl", "http://127.0.0.1.evil.example/t".into())],
            "insecure_url",
        ),
        (&[("clientId", JsValue::NULL)], "invalid_options"),
        (&[("clientId", "".into())], "invalid_options"),
        (&[("refreshToken", 42.into())], "invalid_options"),
        (
            &[
                ("clientSecret", JsValue::UNDEFINED),
                ("clientAuth", "client_secret_basic".into()),
            ],
            "invalid_options",
        ),
        (
            &[("clientAuth", "private_key_jwt".into())],
            "invalid_options",
        ),
        (&[("basicAuthEncoding", "latin1".into())], "invalid_options"),
        (&[("timeoutMs", (-1).into())], "invalid_options"),
        (&[("timeoutMs", "10".into())], "invalid_options"),
        (&[("fetch", "fetch".into())], "invalid_options"),
        (&[("signal", true.into())], "invalid_options"),
        (&[("allowInsecureHttp", "yes".into())], "invalid_options"),
        (&[("extraParams", 1.into())], "invalid_options"),
        (
            &[("headers", JSON::parse("{\"x\":1}").unwrap())],
            "invalid_options",
        ),
        (
            &[("headers", JSON::parse("{\"Authorization\":\"x\"}").unwrap())],
            "invalid_options",
        ),
        (
            &[(
                "extraParams",
                JSON::parse("{\"grant_type\":\"x\"}").unwrap(),
            )],
            "invalid_options",
        ),
        (&[("now", js_fn("return () => 'soon'"))], "invalid_options"),
    ];
    for (extra, want) in cases {
        let err = fail(options("/v1/oauth-app/client/token", extra)).await;
        assert_eq!(
            code(&err),
            *want,
            "{:?}",
            extra.iter().map(|(k, _)| *k).collect::<Vec<_>>()
        );
    }
    for not_object in [JsValue::UNDEFINED, JsValue::NULL, "x".into(), 3.into()] {
        assert_eq!(code(&fail(not_object).await), "invalid_options");
    }
    // Loopback http is fine without the flag; other http with the flag passes the check.
    let insecure = options(
        "/v1/oauth-app/client/token",
        &[("allowInsecureHttp", true.into())],
    );
    assert!(ok(insecure).await.access_token.starts_with("at-"));
}

#[wasm_bindgen_test]
async fn errors_are_real_errors_without_secrets() {
    let err = fail(options(
        "/f/echo-secret",
        &[("refreshToken", "RT-SECRET-xyz".into())],
    ))
    .await;
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(field(&err, "name"), "OAuthError");
    let proto = Object::get_prototype_of(&err);
    assert_eq!(
        Reflect::get(&proto.constructor(), &"name".into()).unwrap(),
        "OAuthError"
    );
    assert!(field(&err, "stack")
        .as_string()
        .is_some_and(|s| !s.is_empty()));
    let desc = field(&err, "description").as_string().unwrap();
    assert_eq!(desc, "bad token [redacted] for secret [redacted]");
    let views = [
        JSON::stringify(&err).unwrap().as_string().unwrap(),
        String::from(err.unchecked_ref::<Object>().to_string()),
        field(&err, "stack").as_string().unwrap(),
        field(&err, "message").as_string().unwrap(),
        field(&err, "uri").as_string().unwrap(),
    ];
    for v in views {
        assert!(
            !v.contains("RT-SECRET-xyz") && !v.contains(CLIENT_SECRET),
            "{v}"
        );
    }
}

#[wasm_bindgen_test]
async fn now_that_throws_passes_through() {
    let boom = js_fn("return () => { throw new RangeError('clock broke') }");
    let err = fail(options("/v1/oauth-app/client/token", &[("now", boom)])).await;
    assert!(err.is_instance_of::<js_sys::RangeError>());
}

#[wasm_bindgen_test]
async fn concurrent_refreshes_do_not_interfere() {
    let all = js_sys::Array::new();
    for i in 0..20 {
        let path = if i % 2 == 0 {
            "/v1/oauth-app/client/token"
        } else {
            "/f/invalid_grant"
        };
        all.push(&refresh_access_token(options(path, &[])));
    }
    let settled = JsFuture::from(js_sys::Promise::all_settled(&all))
        .await
        .unwrap();
    let settled: js_sys::Array = settled.unchecked_into();
    for (i, s) in settled.iter().enumerate() {
        let status = Reflect::get(&s, &"status".into()).unwrap();
        assert_eq!(status, if i % 2 == 0 { "fulfilled" } else { "rejected" });
    }
}

mod cache {
    use super::*;
    use freshtoken::wasm::TokenCache;

    /// A fetch that counts its calls and answers like a rotating token server, slowly.
    fn counting_fetch() -> JsValue {
        js_fn(
            "let n = 0; const f = async (url, init) => { n++; f.calls = n; \
             await new Promise((r) => setTimeout(r, 30)); \
             return new Response(JSON.stringify({ access_token: 'at-' + n, expires_in: 60, refresh_token: 'rt-' + n }), { status: 200 }) }; \
             f.calls = 0; return f",
        )
    }

    fn cache_with(fetch: &JsValue, clock: &JsValue) -> TokenCache {
        TokenCache::new(options(
            "/unused",
            &[("fetch", fetch.clone()), ("now", clock.clone())],
        ))
        .unwrap()
    }

    #[wasm_bindgen_test]
    async fn single_flight_rotation_and_expiry() {
        let fetch = counting_fetch();
        let clock = js_fn("const c = () => c.t; c.t = 1e12; return c");
        let cache = cache_with(&fetch, &clock);
        let all = js_sys::Array::new();
        for _ in 0..100 {
            all.push(&cache.get_access_token());
        }
        all.push(&cache.refresh()); // joins the refresh in flight
        let got: js_sys::Array = JsFuture::from(js_sys::Promise::all(&all))
            .await
            .unwrap()
            .unchecked_into();
        assert_eq!(field(&fetch, "calls").as_f64(), Some(1.0));
        assert!(got.iter().take(100).all(|t| t == "at-1"));
        assert_eq!(cache.peek(), "at-1");
        assert_eq!(cache.expires_at().as_f64(), Some(1e12 + 60_000.0));
        // 60 s token: skew capped at 30 s. Fresh with exactly 30 s left, stale after.
        Reflect::set(&clock, &"t".into(), &(1e12 + 30_000.0).into()).unwrap();
        assert_eq!(
            JsFuture::from(cache.get_access_token()).await.unwrap(),
            "at-1"
        );
        Reflect::set(&clock, &"t".into(), &(1e12 + 30_001.0).into()).unwrap();
        assert!(cache.peek().is_undefined());
        // Within the skew, outside the 5 s margin: still served, one background refresh.
        let served = cache.get_access_token();
        assert!(cache.refreshing());
        assert_eq!(JsFuture::from(served).await.unwrap(), "at-1");
        let set = JsFuture::from(cache.refresh()).await.unwrap(); // joins it
        assert_eq!(field(&set, "accessToken"), "at-2");
        assert_eq!(field(&set, "refreshToken"), "rt-2");
        assert_eq!(field(&fetch, "calls").as_f64(), Some(2.0));
    }

    #[wasm_bindgen_test]
    async fn invalidate_and_errors_keep_the_cache_usable() {
        let fetch = counting_fetch();
        let clock = js_fn("return () => 1e12");
        let cache = cache_with(&fetch, &clock);
        JsFuture::from(cache.get_access_token()).await.unwrap();
        cache.invalidate(JsValue::UNDEFINED);
        assert!(!cache.has_token());
        assert_eq!(
            JsFuture::from(cache.get_access_token()).await.unwrap(),
            "at-2"
        );
        // Against the real server: invalid_grant rejects, then a good call works again.
        let bad = TokenCache::new(options("/f/invalid_grant", &[])).unwrap();
        let err = JsFuture::from(bad.get_access_token()).await.unwrap_err();
        assert_eq!(code(&err), "invalid_grant");
        assert!(!bad.refreshing());
        let good = TokenCache::new(options("/v1/oauth-app/client/token", &[])).unwrap();
        let t = JsFuture::from(good.get_access_token())
            .await
            .unwrap()
            .as_string()
            .unwrap();
        assert!(t.starts_with("at-"));
    }

    #[wasm_bindgen_test]
    fn constructor_rejects_bad_options() {
        let err = TokenCache::new(JsValue::NULL).err().unwrap();
        assert_eq!(code(&err), "invalid_options");
        let err = TokenCache::new(options("/t", &[("refreshSkewMs", (-5).into())]))
            .err()
            .unwrap();
        assert_eq!(code(&err), "invalid_options");
    }
}

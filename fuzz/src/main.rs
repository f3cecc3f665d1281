//! Property fuzzing of freshtoken's parsers on stable Rust. See README.md.
//!
//!   freshtoken-fuzz [--execs N | --seconds S] [--seed X] [target ...]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use base64::Engine as _;
use freshtoken::cache::Stored;
use freshtoken::response::{parse_token_response, BodyError, Json, JsonObject, Received};
use freshtoken::retry_after::parse_retry_after;
use freshtoken::url::{check_token_url, is_loopback, UrlParts};

/// xorshift64*: fast, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    /// A string from a mixed alphabet: ASCII, reserved characters, controls, multi-byte.
    fn text(&mut self, max: usize) -> String {
        const POOL: &[&str] = &[
            "a", "Z", "0", "9", " ", "\t", "\n", "\r", ":", "/", "?", "#", "@", "&", "=", "+", "%",
            ",", ";", "-", ".", "_", "~", "!", "'", "(", ")", "*", "\"", "\\", "[", "]", "{", "}",
            "ü", "€", "漢", "😀", "\u{0}", "\u{7f}", "\u{feff}", "GMT", "Nov", "%2", "%C3",
        ];
        let len = self.below(max + 1);
        (0..len).map(|_| *self.pick(POOL)).collect()
    }
    /// A secret unlikely to occur by chance: 12–40 characters of the mixed alphabet.
    fn secret(&mut self) -> String {
        const POOL: &[char] = &[
            'a', 'b', 'q', 'X', 'Y', '3', '7', ' ', '!', '*', '%', '+', '/', ':', '&', '=', '~',
            '(', 'ü', '€', '漢', '😀',
        ];
        let len = 12 + self.below(29);
        (0..len).map(|_| *self.pick(POOL)).collect()
    }
    /// Flips, inserts, deletes or duplicates bytes, then keeps what is valid UTF-8.
    fn mutate(&mut self, s: &str) -> String {
        let mut b = s.as_bytes().to_vec();
        for _ in 0..1 + self.below(4) {
            let i = self.below(b.len() + 1);
            match self.below(5) {
                0 if i < b.len() => b[i] ^= 1 << self.below(8),
                1 => b.insert(i, *self.pick(b" ,:-0123456789GMTabc\t\x00\xff")),
                2 if i < b.len() => {
                    b.remove(i);
                }
                3 if i < b.len() => {
                    let j = i + self.below(b.len() - i);
                    let chunk = b[i..=j].to_vec();
                    b.splice(i..i, chunk);
                }
                _ => b.truncate(i),
            }
        }
        String::from_utf8_lossy(&b).into_owned()
    }
}

/// A JSON object as the parser sees it, field by field.
struct Obj(Vec<(String, Json)>);

impl JsonObject for Obj {
    fn field(&self, key: &str) -> Json {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or(Json::Missing, |(_, v)| v.clone())
    }
}

fn random_json(r: &mut Rng, secrets: &[String]) -> Json {
    match r.below(9) {
        0 => Json::Null,
        1 => Json::Other,
        2 => Json::Num(*r.pick(&[
            0.0,
            -1.0,
            7200.0,
            1e308,
            f64::INFINITY,
            f64::NAN,
            0.5,
            3599.9,
        ])),
        3 => Json::Num(f64::from_bits(r.next())),
        4 if !secrets.is_empty() => Json::Str(format!("see {} here", r.pick(secrets))),
        5 => Json::Str(
            r.pick(&[
                "7200",
                "0",
                "1e3",
                " 7",
                "7200.5",
                "-1",
                "",
                "Bearer",
                "invalid_grant",
            ])
            .to_string(),
        ),
        _ => Json::Str(r.text(20)),
    }
}

// ---------------------------------------------------------------------------------------
// Targets: each generates one input from `r` and checks its properties.

fn token_response(r: &mut Rng) -> Result<(), String> {
    let secrets: Vec<String> = (0..r.below(3)).map(|_| r.secret()).collect();
    let keys = [
        "access_token",
        "refresh_token",
        "expires_in",
        "token_type",
        "scope",
        "error",
        "error_description",
        "error_uri",
        "id_token",
        "x",
    ];
    let mut fields = Vec::new();
    for k in keys {
        if r.chance(2) {
            fields.push((k.to_string(), random_json(r, &secrets)));
        }
    }
    if r.chance(3) {
        fields.push((
            "access_token".into(),
            Json::Str(format!("at-{}", r.secret())),
        ));
    }
    if r.chance(4) {
        fields.push((
            "error".into(),
            Json::Str(r.pick(&["invalid_grant", "server_error", ""]).to_string()),
        ));
        if !secrets.is_empty() {
            let s = r.pick(&secrets).clone();
            let spelled = match r.below(3) {
                0 => s,
                1 => freshtoken::form::urlencode(&s),
                _ => freshtoken::form::percent_encode(&s),
            };
            fields.push((
                "error_description".into(),
                Json::Str(format!("bad {spelled}!")),
            ));
        }
    }
    let body = Obj(fields);
    let retry = match r.below(4) {
        0 => None,
        1 => {
            let form = r.below(3);
            Some(http_date(r, form).0)
        }
        2 => Some(r.mutate("Sun, 06 Nov 1994 08:49:37 GMT")),
        _ => Some(r.text(12)),
    };
    let got = Received {
        status: *r.pick(&[
            0u16, 200, 201, 204, 299, 301, 400, 401, 408, 429, 500, 503, 599, 999,
        ]),
        retry_after: retry.as_deref(),
        sent_at: *r.pick(&[0.0, 1.7e12, -5.0, 8.64e15]),
        now: 1.7e12,
    };
    let body = match r.below(8) {
        0 => Err(BodyError::TooLarge),
        1 => Err(BodyError::NotJsonObject),
        _ => Ok(&body),
    };
    let secret_refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    // Tokens the body itself carries are secrets too.
    let mut all: Vec<String> = secrets.clone();
    if let Ok(b) = body {
        for k in ["access_token", "refresh_token"] {
            if let Some(t) = b.text(k) {
                all.push(t);
            }
        }
    }
    match parse_token_response(&got, body, &secret_refs) {
        Ok(t) => {
            if t.access_token.expose().is_empty() {
                return Err("empty access token accepted".into());
            }
            if t.expires_at.is_some_and(|x| !x.is_finite())
                || t.expires_in.is_some_and(|x| !x.is_finite() || x < 0.0)
            {
                return Err(format!("bad expiry {:?} {:?}", t.expires_in, t.expires_at));
            }
        }
        Err(e) => {
            if e.retry_after_ms.is_some_and(|x| !x.is_finite() || x < 0.0) {
                return Err(format!("bad retry_after_ms {:?}", e.retry_after_ms));
            }
            // The five codes the crate acts on are kept as sent, by design: protocol words,
            // not echoes (a body whose refresh_token is "invalid_grant" may say so).
            const KEPT: [&str; 5] = [
                "invalid_grant",
                "invalid_scope",
                "unauthorized_client",
                "unsupported_grant_type",
                "invalid_client",
            ];
            let code = e.code.as_str().to_string();
            let kept = KEPT.contains(&code.as_str());
            let message = match (kept, e.message.strip_prefix(code.as_str())) {
                (true, Some(rest)) => rest.to_string(),
                _ => e.message.clone(),
            };
            let texts = [
                Some(message),
                e.description.clone(),
                e.uri.clone(),
                (!kept).then_some(code),
            ];
            for t in texts.iter().flatten() {
                for s in all.iter().filter(|s| s.chars().count() >= 12) {
                    for spelled in [
                        s.clone(),
                        freshtoken::form::urlencode(s),
                        freshtoken::form::percent_encode(s),
                    ] {
                        if t.contains(&spelled) {
                            return Err(format!("secret {spelled:?} in error text {t:?}"));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// (value, epoch ms) of a random instant in one of the three HTTP-date forms.
fn http_date(r: &mut Rng, form: usize) -> (String, f64) {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const LONG: [&str; 7] = [
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
    ];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // 2000-01-01 .. 2049-12-31, so the two-digit year of RFC 850 is unambiguous.
    let secs = 946_684_800 + (r.next() % (50 * 365 * 86_400)) as i64;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let wd = days.rem_euclid(7) as usize;
    let (hh, mm, ss) = (sod / 3600, sod / 60 % 60, sod % 60);
    let mon = MONTHS[(m - 1) as usize];
    let v = match form {
        0 => format!("{}, {d:02} {mon} {y} {hh:02}:{mm:02}:{ss:02} GMT", DAYS[wd]),
        1 => format!(
            "{}, {d:02}-{mon}-{:02} {hh:02}:{mm:02}:{ss:02} GMT",
            LONG[wd],
            y % 100
        ),
        _ => format!("{} {mon} {d:>2} {hh:02}:{mm:02}:{ss:02} {y}", DAYS[wd]),
    };
    (v, secs as f64 * 1000.0)
}

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's inverse (an oracle written
/// apart from the crate's forward conversion).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn retry_after(r: &mut Rng) -> Result<(), String> {
    let now = 1.7e12;
    let (value, exact) = match r.below(5) {
        0..=1 => {
            let form = r.below(3);
            let (v, at) = http_date(r, form);
            (v, Some((at - now).max(0.0)))
        }
        2 => {
            let form = r.below(3);
            let (v, _) = http_date(r, form);
            (r.mutate(&v), None)
        }
        3 => {
            let n = r.next() % 100_000;
            (
                format!("{}{n}{}", r.pick(&["", " ", "\t"]), r.pick(&["", " "])),
                Some(n as f64 * 1000.0),
            )
        }
        _ => (r.text(32), None),
    };
    let got = parse_retry_after(&value, now);
    if got.is_some_and(|x| !x.is_finite() || x < 0.0) {
        return Err(format!("{value:?} → {got:?}"));
    }
    if let Some(want) = exact {
        if got != Some(want) {
            return Err(format!("{value:?} → {got:?}, want {want}"));
        }
    }
    Ok(())
}

fn loopback_oracle(h: &str) -> bool {
    if h == "localhost" || h == "[::1]" {
        return true;
    }
    let parts: Vec<&str> = h.split('.').collect();
    parts.len() == 4
        && parts[0] == "127"
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u16>().is_ok_and(|v| v <= 255)
        })
}

fn url(r: &mut Rng) -> Result<(), String> {
    let host = match r.below(5) {
        0 => format!("127.{}.{}.{}", r.below(300), r.below(300), r.below(1000)),
        1 => r
            .pick(&[
                "localhost",
                "[::1]",
                "localhost.example.com",
                "127.0.0.1.nip.io",
                "0x7f.0.0.1",
                "[::ffff:127.0.0.1]",
                "127.1",
                "",
                ".",
            ])
            .to_string(),
        2 => r.mutate("127.0.0.1"),
        3 => r.mutate("localhost"),
        _ => r.text(16),
    };
    let loop_ = is_loopback(&host);
    if loop_ != loopback_oracle(&host) {
        return Err(format!("is_loopback({host:?}) = {loop_}"));
    }
    let protocol = *r.pick(&["https:", "http:", "ftp:", "", "HTTPS:"]);
    let href = format!(
        "{protocol}//{host}/token{}",
        if r.chance(5) { "#f" } else { "" }
    );
    let parts = UrlParts {
        protocol,
        hostname: &host,
        href: &href,
        has_credentials: r.chance(6),
    };
    let allow = r.chance(3);
    let ok = check_token_url(&parts, allow).is_ok();
    let want = !parts.has_credentials
        && !href.contains('#')
        && (protocol == "https:" || (protocol == "http:" && (allow || loopback_oracle(&host))));
    if ok != want {
        return Err(format!(
            "check_token_url({href:?}, allow={allow}, creds={}) = {ok}",
            parts.has_credentials
        ));
    }
    Ok(())
}

fn percent_decode(s: &str, plus: bool) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn form(r: &mut Rng) -> Result<(), String> {
    let s = r.text(40);
    let f = freshtoken::form::urlencode(&s);
    let p = freshtoken::form::percent_encode(&s);
    if !f
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"*-._+%".contains(&b))
    {
        return Err(format!("form alphabet: {f:?}"));
    }
    if !p
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~!'()*%".contains(&b))
    {
        return Err(format!("percent alphabet: {p:?}"));
    }
    if percent_decode(&f, true).as_deref() != Some(s.as_str())
        || percent_decode(&p, false).as_deref() != Some(s.as_str())
    {
        return Err(format!("round trip of {s:?}: {f:?} / {p:?}"));
    }
    Ok(())
}

fn store_value(r: &mut Rng) -> Result<(), String> {
    let mut fields = Vec::new();
    let names = [
        "v",
        "accessToken",
        "expiresAt",
        "expiresIn",
        "refreshToken",
        "tokenType",
        "scope",
    ];
    for k in names {
        if r.chance(4) {
            continue;
        }
        let v = if k == "v" && r.chance(2) {
            Json::Num(1.0)
        } else {
            random_json(r, &[])
        };
        fields.push((k.to_string(), v));
    }
    let obj = Obj(fields);
    let v_is_one = obj.field("v") == Json::Num(1.0);
    match Stored::from_json(&obj) {
        Some(s) if !v_is_one => Err(format!(
            "took a value without v:1: {:?}",
            s.token.map(|t| t.expires_at)
        )),
        Some(s) => match s.token {
            Some(t) if !t.expires_at.is_finite() || t.expires_at < 0.0 => {
                Err(format!("expiresAt {}", t.expires_at))
            }
            _ => Ok(()),
        },
        None => Ok(()),
    }
}

fn redact(r: &mut Rng) -> Result<(), String> {
    let secrets: Vec<String> = (0..1 + r.below(3)).map(|_| r.secret()).collect();
    let mut text = r.text(10);
    for _ in 0..r.below(5) {
        let s = r.pick(&secrets);
        let spelled = match r.below(5) {
            0 => s.clone(),
            1 => freshtoken::form::urlencode(s),
            2 => freshtoken::form::percent_encode(s).to_lowercase(),
            3 => base64::engine::general_purpose::STANDARD.encode(s),
            _ => freshtoken::form::percent_encode(s),
        };
        text.push_str(&spelled);
        text.push_str(&r.text(6));
    }
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let out = freshtoken::secret::redact(&text, &refs);
    for s in &secrets {
        for spelled in [
            s.clone(),
            freshtoken::form::urlencode(s),
            freshtoken::form::percent_encode(s),
            freshtoken::form::percent_encode(s).to_lowercase(),
            base64::engine::general_purpose::STANDARD.encode(s),
        ] {
            if out.contains(&spelled) {
                return Err(format!("{spelled:?} survived in {out:?}"));
            }
        }
    }
    Ok(())
}

fn base64(r: &mut Rng) -> Result<(), String> {
    let bytes: Vec<u8> = (0..r.below(200)).map(|_| r.next() as u8).collect();
    let std = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
    if freshtoken::b64::standard(&bytes) != std || freshtoken::b64::url_safe(&bytes) != url {
        return Err(format!("{bytes:?}"));
    }
    Ok(())
}

fn decimal(r: &mut Rng) -> Result<(), String> {
    let digits = |r: &mut Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + r.below(10) as u8))
            .collect()
    };
    let s = match r.below(4) {
        0 => {
            let n = 1 + r.below(25);
            digits(r, n)
        }
        1 => {
            let (a, b) = (1 + r.below(20), 1 + r.below(25));
            format!("{}.{}", digits(r, a), digits(r, b))
        }
        2 => r.mutate("7200.5"),
        _ => r.text(10),
    };
    let got = freshtoken::num::parse_decimal(&s);
    let grammar = {
        let (i, f) = s
            .split_once('.')
            .map_or((s.as_str(), None), |(i, f)| (i, Some(f)));
        let all = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        all(i) && f.is_none_or(all)
    };
    match (got, grammar) {
        (Some(_), false) => Err(format!("{s:?} accepted")),
        (None, true) if s.parse::<f64>().is_ok_and(f64::is_finite) => Err(format!("{s:?} refused")),
        (Some(v), true) => {
            let want: f64 = s.parse().map_err(|_| format!("{s:?}"))?;
            if (v - want).abs() > want.abs() * 4.0 * f64::EPSILON {
                return Err(format!("{s:?}: {v} vs {want}"));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn split(r: &mut Rng) -> Result<(), String> {
    let s = r.text(20);
    let sep = *r.pick(&[b'.', b':', b' ', b',', b'-']);
    let seps = [sep];
    let ours: Vec<&str> = freshtoken::text::split(&s, &seps).collect();
    let std: Vec<&str> = s.split(char::from(sep)).collect();
    if ours != std || freshtoken::text::split_once(&s, sep) != s.split_once(char::from(sep)) {
        return Err(format!("{s:?} on {:?}", char::from(sep)));
    }
    let needle = r.text(3);
    if !needle.is_empty() && freshtoken::text::contains(&s, &needle) != s.contains(needle.as_str())
    {
        return Err(format!("contains({s:?}, {needle:?})"));
    }
    Ok(())
}

type Target = fn(&mut Rng) -> Result<(), String>;

const TARGETS: &[(&str, Target)] = &[
    ("token_response", token_response),
    ("retry_after", retry_after),
    ("url", url),
    ("form", form),
    ("store_value", store_value),
    ("redact", redact),
    ("base64", base64),
    ("decimal", decimal),
    ("split", split),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    };
    let execs: Option<u64> = flag("--execs").map(|v| v.parse().expect("--execs N"));
    let seconds: f64 = flag("--seconds").map_or(5.0, |v| v.parse().expect("--seconds S"));
    let seed: u64 = flag("--seed").map_or_else(
        || Instant::now().elapsed().as_nanos() as u64 ^ std::process::id() as u64 ^ 0x9e37_79b9,
        |v| v.parse().expect("--seed X"),
    );
    let named: Vec<&str> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || !args[i - 1].starts_with("--")))
        .map(|(_, a)| a.as_str())
        .collect();
    let chosen: Vec<&(&str, Target)> = TARGETS
        .iter()
        .filter(|(n, _)| named.is_empty() || named.contains(n))
        .collect();
    if chosen.is_empty() {
        eprintln!(
            "unknown target; targets: {}",
            TARGETS.iter().map(|t| t.0).collect::<Vec<_>>().join(", ")
        );
        std::process::exit(2);
    }
    std::panic::set_hook(Box::new(|_| {})); // reported below, with the seed
    let per_target = Duration::from_secs_f64(seconds / chosen.len() as f64);
    let mut failed = false;
    for (name, target) in chosen {
        let mut rng = Rng(seed | 1);
        let started = Instant::now();
        let mut n = 0u64;
        loop {
            if let Some(max) = execs {
                if n >= max {
                    break;
                }
            } else if n % 1024 == 0 && started.elapsed() >= per_target {
                break;
            }
            let state = rng.0;
            match catch_unwind(AssertUnwindSafe(|| target(&mut rng))) {
                Ok(Ok(())) => {}
                Ok(Err(why)) => {
                    println!("FAIL {name} seed {seed} exec {n} (rng state {state}): {why}");
                    failed = true;
                    break;
                }
                Err(_) => {
                    println!("CRASH {name} seed {seed} exec {n} (rng state {state}): panicked");
                    failed = true;
                    break;
                }
            }
            n += 1;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{name:<15} {n:>11} execs  {secs:>6.1} s  {:>10.0}/s  seed {seed}",
            n as f64 / secs.max(1e-9)
        );
    }
    std::process::exit(i32::from(failed));
}

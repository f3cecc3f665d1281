//! How long a cross-process refresh lock lives and how long a waiter waits for it.
//!
//! A store with `lock` and `unlock` (Redis: `SET key owner NX PX ttl`, a compare-and-delete
//! release; browser tabs: Web Locks) lets many processes share one refresh. The lock must
//! outlive the worst-case refresh, or a slow holder loses it mid-refresh and a second
//! process redeems the same (single-use) refresh token; it must not outlive it by much, or a
//! holder that died keeps every other process waiting. Sans-IO: the engine asks this module.

use crate::cache::Policy;

/// Store reads and writes inside the lock, on top of the token requests.
const STORE_MARGIN_MS: f64 = 5_000.0;

/// The longest lock: an infinite `timeoutMs` would otherwise hold it forever.
pub const MAX_TTL_MS: f64 = 600_000.0;

/// Between two looks at a busy lock, before jitter (the delay is this × [0.5, 1.5)).
const POLL_MS: f64 = 100.0;

/// The lock's timings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LockPolicy {
    /// The TTL the lock is taken with: it expires by itself after this if its holder dies.
    pub ttl_ms: f64,
    /// A waiter gives up (`lock_timeout`) after waiting this long: two TTLs, which cover a
    /// holder that died (its lock expires) followed by a successor's whole refresh, so only
    /// holders that overran their TTL get a waiter here.
    pub wait_ms: f64,
}

impl LockPolicy {
    /// The TTL covering the worst-case refresh: every attempt (`retries` + 1) running into
    /// `timeout_ms` for each client-authentication method tried (`auth_tries`), the longest
    /// backoff between attempts, and the store calls. Capped at [`MAX_TTL_MS`].
    pub fn covering(timeout_ms: f64, auth_tries: u32, policy: &Policy) -> LockPolicy {
        let attempts = f64::from(policy.retries) + 1.0;
        let requests = timeout_ms * f64::from(auth_tries.max(1)) * attempts;
        let backoff = f64::from(policy.retries) * policy.max_delay_ms;
        Self::with_ttl(requests + backoff + STORE_MARGIN_MS)
    }

    /// A given TTL (`lockTtlMs`), capped at [`MAX_TTL_MS`].
    pub fn with_ttl(ttl_ms: f64) -> LockPolicy {
        let ttl_ms = if ttl_ms.is_nan() {
            MAX_TTL_MS
        } else {
            ceil(ttl_ms.clamp(1.0, MAX_TTL_MS))
        };
        LockPolicy {
            ttl_ms,
            wait_ms: 2.0 * ttl_ms + 3.0 * POLL_MS,
        }
    }

    /// How long to sleep before looking at a busy lock again; `jitter` in [0, 1) spreads
    /// the waiters of many processes apart.
    pub fn poll_delay(&self, jitter: f64) -> f64 {
        POLL_MS * (0.5 + jitter.clamp(0.0, 1.0))
    }
}

/// `f64::ceil` for a positive number, which `core` lacks (Redis wants a whole PX).
fn ceil(x: f64) -> f64 {
    let whole = x as u64 as f64;
    if whole < x {
        whole + 1.0
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_covers_every_attempt_backoff_and_store_calls() {
        let p = Policy::default(); // 2 retries, 5 s max backoff
        let l = LockPolicy::covering(10_000.0, 1, &p);
        assert_eq!(l.ttl_ms, 3.0 * 10_000.0 + 2.0 * 5_000.0 + 5_000.0);
        // Auto client auth may try three methods per attempt.
        let auto = LockPolicy::covering(10_000.0, 3, &p);
        assert_eq!(auto.ttl_ms, 9.0 * 10_000.0 + 2.0 * 5_000.0 + 5_000.0);
        assert!(l.wait_ms > l.ttl_ms);
    }

    #[test]
    fn ttl_is_capped_and_whole() {
        let p = Policy::default();
        assert_eq!(
            LockPolicy::covering(f64::INFINITY, 1, &p).ttl_ms,
            MAX_TTL_MS
        );
        assert_eq!(LockPolicy::with_ttl(0.2).ttl_ms, 1.0);
        assert_eq!(LockPolicy::with_ttl(1500.5).ttl_ms, 1501.0);
        assert_eq!(LockPolicy::with_ttl(f64::NAN).ttl_ms, MAX_TTL_MS);
    }

    #[test]
    fn poll_delay_is_jittered_around_the_poll() {
        let l = LockPolicy::with_ttl(1000.0);
        assert_eq!(l.poll_delay(0.0), 50.0);
        assert!(l.poll_delay(0.999) < 150.0);
        assert_eq!(l.poll_delay(7.0), 150.0);
    }
}

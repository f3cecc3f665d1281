// The fault matrix, as one module every host runs (Node imports it; the Worker bundles it):
// each fault of API.md against refreshAccessToken and against one long-lived TokenCache,
// which must then serve the next call. Results are plain data; the test compares them.
export const CASES = [
  // [fault path, expected code, status, retryable, extra check]
  ['status:500', 'http_error', 500, true],
  ['status:502', 'http_error', 502, true],
  ['status:503', 'http_error', 503, true],
  ['status:504', 'http_error', 504, true],
  ['status:500:json', 'server_error', 500, true],
  ['status:408:empty', 'http_error', 408, true],
  ['retry-after:7', 'http_error', 429, true, 'retryAfter7s'],
  ['retry-after:+30:429', 'http_error', 429, true, 'retryAfterDate'],
  ['status:500:html', 'http_error', 500, true],
  ['html', 'invalid_response', 200, false],
  ['not-json', 'invalid_response', 200, false],
  ['truncated', 'invalid_response', 200, false],
  ['empty', 'invalid_response', 200, false],
  ['big', 'invalid_response', 200, false],
  ['big:chunked', 'invalid_response', 200, false],
  ['redirect', 'http_error', 302, false],
  ['hang', 'timeout', undefined, true],
  ['stall', 'timeout', undefined, true],
  ['reset', 'network_error', undefined, true],
  ['reset-mid', 'network_error', undefined, true],
  ['refused', 'network_error', undefined, true],
  ['abort', 'aborted', undefined, false, 'directOnly'],
  ['invalid_grant', 'invalid_grant', 400, false],
  ['invalid_client', 'invalid_client', 401, false],
  ['error-200', 'invalid_grant', 200, false],
]

const CLIENT = { clientId: '3f2b8c1e-9d4a-4e7b-8f6c-2a1d0e9b7c55', clientSecret: 'edgetag-demo-secret', refreshToken: 'rt-initial' }
const TIMEOUT_MS = 400

const fields = (e) => e && typeof e === 'object'
  ? { name: e.name, code: e.code, status: e.status, retryable: e.retryable, retryAfterMs: e.retryAfterMs,
      isOAuthError: e.name === 'OAuthError' && e instanceof Error }
  : { thrown: String(e) }

/** Runs every case; `refusedUrl` is a loopback URL nothing listens on. */
export async function runFaults({ refreshAccessToken, TokenCache }, origin, refusedUrl) {
  const tokenUrl = origin + '/v1/oauth-app/client/token'
  const urlFor = (fault) => fault === 'refused' ? refusedUrl : `${origin}/f/${encodeURIComponent(fault)}`
  // One cache for the whole matrix; its fetch is pointed at the fault for one request.
  let detour = null
  const cache = new TokenCache({
    // No failure cooldown: the matrix checks that the very next call recovers.
    ...CLIENT, tokenUrl, timeoutMs: TIMEOUT_MS, retry: { retries: 0 }, failureCooldownMs: 0,
    fetch: (url, init) => { const to = detour ?? url; detour = null; return fetch(to, init) },
  })
  const results = []
  for (const [fault, , , , extra] of CASES) {
    const r = { fault }
    const signal = fault === 'abort' ? AbortSignal.timeout(50) : undefined
    try {
      await refreshAccessToken({ ...CLIENT, tokenUrl: urlFor(fault === 'abort' ? 'slow:2000' : fault), timeoutMs: TIMEOUT_MS, signal })
      r.direct = 'resolved'
    } catch (e) {
      r.direct = fields(e)
    }
    if (extra !== 'directOnly') {
      detour = urlFor(fault)
      try {
        await cache.refresh()
        r.cache = 'resolved'
      } catch (e) {
        r.cache = fields(e)
      }
      try {
        const token = await cache.getAccessToken()
        r.after = typeof token === 'string' && token.startsWith('at-') ? 'token' : String(token)
      } catch (e) {
        r.after = fields(e)
      }
    }
    results.push(r)
  }
  return results
}

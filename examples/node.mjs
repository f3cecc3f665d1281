// freshtoken in a terminal, against the bundled EdgeTag-shaped token server: a refresh,
// cache hits, a forced expiry, faults with retries, typed errors.
//   node examples/node.mjs [tokenUrl]     (make demo starts the server and runs this first)
// Imports the built package (build/pkg), exactly as a user's `import 'freshtoken'` would.
import { TokenCache, refreshAccessToken, OAuthError } from '../build/pkg/node.mjs'

const tokenUrl = process.argv[2] || 'http://127.0.0.1:47901/v1/oauth-app/client/token'
const origin = new URL(tokenUrl).origin
const client = { clientId: '3f2b8c1e-9d4a-4e7b-8f6c-2a1d0e9b7c55', clientSecret: 'edgetag-demo-secret' }
const mask = (t) => t.slice(0, 3) + '•'.repeat(8) + t.slice(-4)
const log = (...a) => console.log(new Date().toISOString().slice(11, 23), ...a)
const fault = (f) => fetch(origin + '/control/fault', { method: 'POST', body: JSON.stringify({ fault: f }) })

// A clock we can move, to force an expiry without waiting.
let offset = 0
let requests = 0
const cache = new TokenCache({
  tokenUrl, ...client, refreshToken: 'rt-initial',
  now: () => Date.now() + offset,
  retry: { retries: 2, minDelayMs: 200, maxDelayMs: 3000 },
  fetch: async (url, init) => {
    requests++
    const res = await fetch(url, init)
    log(`  POST token → ${res.status}`)
    return res
  },
})

const token = await cache.getAccessToken()
log(`getAccessToken(): ${mask(token)}, expires ${new Date(cache.expiresAt).toISOString()} (${requests} request)`)

const started = performance.now()
for (let i = 0; i < 10_000; i++) await cache.getAccessToken()
log(`10,000 more getAccessToken(): ${((performance.now() - started) * 100).toFixed(0)} ns each, still ${requests} request`)

await Promise.all(Array.from({ length: 100 }, () => cache.getAccessToken()))
offset += (cache.expiresAt - Date.now()) // the token is now expired by this clock
const [a, b] = await Promise.all([cache.getAccessToken(), cache.getAccessToken()])
log(`forced expiry, 2 concurrent callers → one refresh: ${a === b ? 'same token' : 'different tokens?!'}, ${requests} requests in all`)

await fault('status:503')
const before = requests
await cache.refresh()
log(`refresh() meeting a 503: retried, ${requests - before} requests, token ok`)

await fault('invalid_grant')
try {
  await cache.refresh()
} catch (e) {
  if (!(e instanceof OAuthError)) throw e
  log(`refresh() meeting invalid_grant: OAuthError ${e.code} ${e.status} — "${e.description}" (not retried, token cleared: hasToken=${cache.hasToken})`)
}
const shared = await cache.getAccessToken().then(() => 'a token', (e) => `the same ${e.code}`)
log(`a caller within the 1 s failure cooldown gets ${shared}, and no request is sent`)
await new Promise((r) => setTimeout(r, 1000))
log(`after the cooldown the same cache works: ${mask(await cache.getAccessToken())}`)

try {
  await refreshAccessToken({ tokenUrl: origin + '/f/hang', ...client, refreshToken: 'rt-initial', timeoutMs: 500 })
} catch (e) {
  log(`refreshAccessToken() against a hanging server: ${e.code} after 500 ms, retryable=${e.retryable}`)
}

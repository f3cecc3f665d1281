// Callers never wait (#15): within refreshSkewMs a TokenCache keeps serving the still-valid
// token while one background refresh runs; only within expiryMarginMs do callers wait. A
// failed refresh is every caller's outcome for failureCooldownMs (or Retry-After) instead
// of a request each. Against the bundled token server (rotating, reuse detection, 200 ms).
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { startTokenServer } from '../server/token-server.mjs'
import { CLIENT_ID, CLIENT_SECRET, project } from './helpers.mjs'

let app, ft
before(async () => {
  app = await project('ahead', { 'package.json': '{"name":"app","private":true,"type":"module"}' })
  ft = await import(pathToFileURL(createRequire(join(app.dir, 'package.json')).resolve('freshtoken')))
})
after(() => app?.cleanup())

const PENDING = Symbol('pending')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
/** A hit is settled before the next macrotask; a wait for a 200 ms request cannot be. */
const waited = async (p) => (await Promise.race([p, new Promise((r) => setImmediate(() => r(PENDING)))])) === PENDING
const options = (server, extra) => ({ tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, clientAuth: 'client_secret_basic', refreshToken: 'rt-initial', ...extra })
const pct = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]

test('ahead: over several expiries of a 3 s token from a 200 ms server, only the first call waits', async () => {
  const server = await startTokenServer({ rotate: true, lifetimeSec: 3, grantDelayMs: 200 })
  try {
    const cache = new ft.TokenCache(options(server, { refreshSkewMs: 1500, expiryMarginMs: 500 }))
    const lat = []
    let waits = 0
    let calls = 0
    const tokens = new Set()
    const end = Date.now() + 8000
    for (; calls < 20_000 && Date.now() < end; calls++) {
      const t = performance.now()
      const p = cache.getAccessToken()
      if (await waited(p)) waits++
      tokens.add(await p)
      lat.push(performance.now() - t)
      await sleep(2)
    }
    const first = lat.shift()
    lat.sort((a, b) => a - b)
    const stats = server.stats()
    console.log(`ahead: ${calls} calls over 8 s, ${tokens.size} tokens, ${stats.tokenRequests} requests, ${waits} waited; first ${first.toFixed(1)} ms, then p50 ${pct(lat, 0.5).toFixed(3)} / p99 ${pct(lat, 0.99).toFixed(3)} / max ${lat.at(-1).toFixed(3)} ms`)
    assert.equal(waits, 1, 'only the very first call waited for a refresh')
    assert.ok(tokens.size >= 4, `refreshed ahead across expiries (${tokens.size} tokens)`)
    assert.equal(stats.tokenRequests, tokens.size, 'one request per token: single flight in the background')
    assert.equal(stats.reuseDetected, 0)
  } finally {
    await server.close()
  }
})

test('ahead: a failing background refresh keeps serving the valid token and is retried once per cooldown, not per caller', async () => {
  const server = await startTokenServer({ lifetimeSec: 4 })
  try {
    const cache = new ft.TokenCache(options(server, { refreshSkewMs: 2000, expiryMarginMs: 500, retry: { retries: 0 } }))
    const first = await cache.getAccessToken()
    server.queueFault('status:503', 100)
    const before = server.stats().tokenRequests
    await sleep(Math.max(0, cache.expiresAt - 2000 - Date.now() + 10))
    let served = 0
    for (let i = 0; i < 2000 && Date.now() < cache.expiresAt - 600; i++) {
      assert.equal(await cache.getAccessToken(), first)
      served++
      await sleep(1)
    }
    const sent = server.stats().tokenRequests - before
    console.log(`ahead: ${served} callers served the valid token while the server failed; ${sent} background requests in ~1.4 s (cooldown 1 s)`)
    assert.ok(served > 100)
    assert.ok(sent >= 1 && sent <= 2, `${sent} requests`)
    // Within the margin now: callers wait, and share the failure.
    await sleep(Math.max(0, cache.expiresAt - 500 - Date.now() + 10))
    const errs = await Promise.all(Array.from({ length: 50 }, () => cache.getAccessToken().then(() => null, (e) => e)))
    assert.ok(errs.every((e) => e instanceof ft.OAuthError && e.status === 503))
  } finally {
    await server.close()
  }
})

test('cooldown: 1,000 callers in one second against a failing server → a bounded number of token requests', async () => {
  const server = await startTokenServer({})
  try {
    server.queueFault('status:503', 100)
    const cache = new ft.TokenCache(options(server, {}))
    const errs = []
    const t = Date.now()
    for (let i = 0; i < 1000; i++) {
      errs.push(cache.getAccessToken().then(() => null, (e) => e))
      if (i % 10 === 9) await sleep(10)
    }
    const all = await Promise.all(errs)
    const sent = server.stats().tokenRequests
    console.log(`cooldown: 1,000 callers over ${Date.now() - t} ms against a 503 server → ${sent} token requests (2 retries per refresh, 1 s cooldown), ${new Set(all).size} distinct rejections`)
    assert.ok(all.every((e) => e instanceof ft.OAuthError && e.status === 503))
    assert.ok(sent >= 3 && sent <= 6, `${sent} requests`)
    assert.ok(new Set(all).size <= 2, 'callers share the failed refresh')
    // refresh() is an explicit request: it is not held back by the cooldown.
    server.reset()
    assert.ok((await cache.refresh()).accessToken)
    assert.equal(server.stats().tokenRequests, 1)
  } finally {
    await server.close()
  }
})

test('cooldown: Retry-After sets its length', async () => {
  const server = await startTokenServer({})
  try {
    server.queueFault('retry-after:2:503', 100)
    const cache = new ft.TokenCache(options(server, { retry: { retries: 0 } }))
    const e1 = await cache.getAccessToken().then(() => null, (e) => e)
    assert.equal(e1.retryAfterMs, 2000)
    await sleep(1200) // past the default cooldown, within Retry-After
    const e2 = await cache.getAccessToken().then(() => null, (e) => e)
    assert.equal(e2, e1, 'the same rejection, no new request')
    assert.equal(server.stats().tokenRequests, 1)
  } finally {
    await server.close()
  }
})

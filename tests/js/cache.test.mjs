// TokenCache from the packed tarball in Node: single flight, rotation, retries, store,
// hooks, cache.fetch — against oidc-provider and the fault-injecting token server.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { after, before, test } from 'node:test'
import { startTokenServer } from '../server/token-server.mjs'
import { OIDC_CLIENT, startOidc } from './oidc.mjs'
import { CLIENT_ID, CLIENT_SECRET, project } from './helpers.mjs'

let oidc, p, ft
before(async () => {
  oidc = await startOidc({ ttlSec: 3600 })
  p = await project('cache', { 'package.json': '{"name":"app","private":true}' })
  ft = createRequire(join(p.dir, 'index.js'))('freshtoken')
})
after(async () => {
  await oidc.close()
  p.cleanup()
})

/** A clock tests can move forward. */
const clock = () => { const c = { t: Date.now(), now: () => c.t }; return c }
const fastRetry = { retries: 2, minDelayMs: 5, maxDelayMs: 2000 }

/** A fresh token server for one test, closed when the test ends. */
async function edgetag(t, options = {}) {
  const server = await startTokenServer(options)
  t.after(() => server.close())
  const base = { tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: 'rt-initial', retry: fastRetry }
  return { server, base }
}

test('oidc-provider with rotation: 50 concurrent callers → 1 request; hooks see the rotated token first; expiry → 1 more', async (t) => {
  const first = await oidc.mintRefreshToken()
  const c = clock()
  const seen = []
  const map = new Map()
  const store = { get: async (k) => map.get(k) ?? null, put: async (k, v) => { seen.push(['put', JSON.parse(v).refreshToken]); map.set(k, v) } }
  const cache = new ft.TokenCache({
    tokenUrl: oidc.tokenUrl, clientId: OIDC_CLIENT.id, clientSecret: OIDC_CLIENT.secret, refreshToken: first,
    now: c.now, store, onTokens: async (t) => { await new Promise((r) => setTimeout(r, 20)); seen.push(['onTokens', t.refreshToken]) },
  })
  const before = oidc.counts.token
  const tokens = await Promise.all(Array.from({ length: 50 }, () => cache.getAccessToken().then((t) => { seen.push(['resolved']); return t })))
  assert.equal(oidc.counts.token - before, 1, 'exactly one token request')
  assert.equal(new Set(tokens).size, 1)
  const rotated = seen[0][1]
  assert.ok(rotated && rotated !== first)
  assert.deepEqual(seen.slice(0, 2), [['put', rotated], ['onTokens', rotated]], 'store.put and onTokens before any caller resolved')
  assert.equal((await cache.getToken()).refreshToken, rotated)

  c.t += 3600 * 1000 // force expiry through `now`
  const next = await cache.getAccessToken()
  assert.notEqual(next, tokens[0])
  assert.equal(oidc.counts.token - before, 2, 'one more request, with the rotated token (the old one would revoke the grant)')
  assert.notEqual((await cache.getToken()).refreshToken, rotated)
})

test('10,000 concurrent getAccessToken on a cold cache → exactly 1 request', async (t) => {
  const e = await edgetag(t, {})
  const cache = new ft.TokenCache(e.base)
  const t0 = performance.now()
  const all = await Promise.all(Array.from({ length: 10_000 }, () => cache.getAccessToken()))
  const ms = performance.now() - t0
  assert.equal(e.server.stats().tokenRequests, 1)
  assert.equal(new Set(all).size, 1)
  console.log(`# 10,000 concurrent callers: 1 request, ${ms.toFixed(1)} ms wall`)
})

test('503 then 200 is retried', async (t) => {
  const e = await edgetag(t, {})
  e.server.queueFault('status:503')
  const cache = new ft.TokenCache(e.base)
  assert.match(await cache.getAccessToken(), /^at-/)
  assert.equal(e.server.stats().tokenRequests, 2)
})

test('a reset then 200 is retried on a server that does not rotate', async (t) => {
  const e = await edgetag(t, {})
  e.server.queueFault('reset')
  const cache = new ft.TokenCache(e.base)
  assert.match(await cache.getAccessToken(), /^at-/)
  assert.equal(e.server.stats().tokenRequests, 2)
})

test('after rotation is seen, a 500 is not retried (the token may be consumed); 503 still is', async (t) => {
  const e = await edgetag(t, { rotate: true })
  const c = clock()
  const cache = new ft.TokenCache({ ...e.base, now: c.now })
  await cache.getAccessToken()
  c.t += 7200 * 1000
  e.server.queueFault('status:500')
  await assert.rejects(cache.getAccessToken(), { code: 'http_error', status: 500 })
  assert.equal(e.server.stats().tokenRequests, 2)
  c.t += 1000 // past the failure's cooldown
  e.server.queueFault('status:503')
  assert.match(await cache.getAccessToken(), /^at-/)
  assert.equal(e.server.stats().tokenRequests, 4)
  assert.equal(e.server.stats().reuseDetected, 0)
})

test('429 with Retry-After is waited for; one longer than maxDelayMs is not', async (t) => {
  const e = await edgetag(t, {})
  e.server.queueFault('retry-after:1')
  const cache = new ft.TokenCache(e.base)
  const t0 = Date.now()
  assert.match(await cache.getAccessToken(), /^at-/)
  assert.ok(Date.now() - t0 >= 950, 'waited about a second')
  const slow = new ft.TokenCache({ ...e.base, retry: { retries: 2, minDelayMs: 5, maxDelayMs: 500 } })
  e.server.queueFault('retry-after:30')
  await assert.rejects(slow.getAccessToken(), { code: 'http_error', status: 429, retryAfterMs: 30_000 })
})

test('invalid_grant rejects every waiter, clears the token, and the cache works again', async (t) => {
  const e = await edgetag(t, {})
  const c = clock()
  const cache = new ft.TokenCache({ ...e.base, now: c.now })
  await cache.getAccessToken()
  c.t += 7200 * 1000
  e.server.queueFault('invalid_grant')
  const results = await Promise.allSettled(Array.from({ length: 5 }, () => cache.getAccessToken()))
  assert.deepEqual(results.map((r) => r.reason?.code), Array(5).fill('invalid_grant'))
  assert.equal(cache.hasToken, false)
  assert.equal(cache.peek(), undefined)
  // For the cooldown (1 s), callers share that outcome; no request is sent.
  const again = await cache.getAccessToken().then(() => null, (err) => err)
  assert.equal(again, results[0].reason, 'the same rejection')
  assert.equal(e.server.stats().tokenRequests, 2)
  c.t += 999
  await assert.rejects(cache.getAccessToken(), { code: 'invalid_grant' })
  c.t += 1
  assert.match(await cache.getAccessToken(), /^at-/)
  assert.equal(e.server.stats().tokenRequests, 3)
})

test('peek, expiresAt, invalidate, refresh; views never show a secret', async (t) => {
  const e = await edgetag(t, {})
  const c = clock()
  const cache = new ft.TokenCache({ ...e.base, now: c.now })
  assert.equal(cache.peek(), undefined)
  const at = await cache.getAccessToken()
  assert.equal(cache.peek(), at)
  assert.equal(cache.expiresAt, c.t + 7200 * 1000)
  const views = [JSON.stringify(cache), String(cache), inspect(cache)]
  for (const v of views) for (const s of [at, CLIENT_SECRET, 'rt-initial']) assert.ok(!v.includes(s), v)
  const { storeKey, ...json } = cache.toJSON()
  assert.match(storeKey, /^freshtoken:[A-Za-z0-9_-]{43}$/, 'the store key, a hash, is shown')
  assert.deepEqual(json, { expiresAt: c.t + 7200 * 1000, hasToken: true, refreshing: false })
  cache.invalidate()
  assert.equal(cache.peek(), undefined)
  const again = await cache.getAccessToken()
  assert.notEqual(again, at)
  const forced = await cache.refresh()
  assert.notEqual(forced.accessToken, again)
  assert.equal(forced.refreshToken, 'rt-initial', 'the refresh token in use is kept when the server does not rotate')
  assert.equal(e.server.stats().tokenRequests, 3)
  cache.free()
})

test('store: a second cache gets the token with 0 requests; value format; throwing get/put', async (t) => {
  const e = await edgetag(t, {})
  const map = new Map()
  const store = { get: (k) => map.get(k) ?? null, put: (k, v) => { map.set(k, v) } }
  const a = new ft.TokenCache({ ...e.base, store })
  const at = await a.getAccessToken()
  const [[key, value]] = [...map]
  assert.match(key, /^freshtoken:[A-Za-z0-9_-]{43}$/)
  assert.ok(!key.includes('rt-initial'))
  const v = JSON.parse(value)
  assert.deepEqual(Object.keys(v).sort(), ['accessToken', 'expiresAt', 'expiresIn', 'refreshToken', 'tokenType', 'v'])
  assert.equal(v.v, 1)
  const b = new ft.TokenCache({ ...e.base, store })
  assert.equal(await b.getAccessToken(), at)
  assert.equal(e.server.stats().tokenRequests, 1)

  const boom = new Error('kv down')
  const badGet = new ft.TokenCache({ ...e.base, store: { get: () => { throw boom }, put: () => {} } })
  await assert.rejects(badGet.getAccessToken(), (err) => err === boom)
  const putErr = new TypeError('kv full')
  let hooked = 0
  const badPut = new ft.TokenCache({ ...e.base, store: { get: () => null, put: async () => { throw putErr } }, onTokens: () => { hooked++ } })
  await assert.rejects(badPut.getAccessToken(), (err) => err === putErr)
  assert.equal(hooked, 1, 'onTokens is still called when put throws')
  assert.match(await badPut.getAccessToken(), /^at-/, 'later calls are served from memory')
  assert.equal(e.server.stats().tokenRequests, 2)
})

test('cache.fetch: Bearer header, 401 → refresh once and retry once', async (t) => {
  const e = await edgetag(t, {})
  const cache = new ft.TokenCache(e.base)
  const res = await cache.fetch(e.server.origin + '/v1/resource')
  assert.equal(res.status, 200)
  await fetch(e.server.origin + '/control/revoke', { method: 'POST' })
  const res2 = await cache.fetch(e.server.origin + '/v1/resource', { method: 'GET' })
  assert.equal(res2.status, 200)
  assert.equal(e.server.stats().tokenRequests, 2, 'one refresh after the 401')
  assert.equal(e.server.stats().resourceRequests, 3)
})

test('constructor throws invalid_options synchronously; methods keep working after errors', async (t) => {
  assert.throws(() => new ft.TokenCache({ tokenUrl: 'https://a/t' }), (e) => e instanceof ft.OAuthError && e.code === 'invalid_options')
  assert.throws(() => new ft.TokenCache({ tokenUrl: 'http://a.example/t', clientId: 'x', refreshToken: 'y' }), { code: 'insecure_url' })
  assert.throws(() => new ft.TokenCache({ tokenUrl: 'https://a/t', clientId: 'x', refreshToken: 'y', store: {} }), { code: 'invalid_options' })
  assert.throws(() => new ft.TokenCache({ tokenUrl: 'https://a/t', clientId: 'x', refreshToken: 'y', retry: { retries: -1 } }), { code: 'invalid_options' })
  const e = await edgetag(t, {})
  const cache = new ft.TokenCache({ ...e.base, retry: { retries: 0 }, failureCooldownMs: 0 })
  e.server.queueFault('status:503')
  await assert.rejects(cache.getAccessToken(), { code: 'http_error' })
  assert.match(await cache.getAccessToken(), /^at-/)
})

test('cache.fetch: concurrent 401s cause one refresh; a stream body is not replayed', async (t) => {
  const e = await edgetag(t, {})
  const cache = new ft.TokenCache(e.base)
  await cache.getAccessToken()
  await fetch(e.server.origin + '/control/revoke', { method: 'POST' }) // the held token now gets 401
  const all = await Promise.all(Array.from({ length: 5 }, () => cache.fetch(e.server.origin + '/v1/resource')))
  assert.deepEqual(all.map((r) => r.status), Array(5).fill(200))
  assert.equal(e.server.stats().tokenRequests, 2, 'one refresh for five concurrent 401s')

  await fetch(e.server.origin + '/control/revoke', { method: 'POST' })
  const body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('x')); c.close() } })
  const res = await cache.fetch(e.server.origin + '/v1/resource', { method: 'POST', body, duplex: 'half' })
  assert.equal(res.status, 401, 'the 401 passes through: a stream cannot be replayed')
  assert.equal(cache.peek(), undefined, 'but the token was invalidated')
  assert.equal(e.server.stats().tokenRequests, 2)
})

test('a class whose static methods are the store works as one (a function is an object too)', async (t) => {
  const e = await edgetag(t, {})
  class Store {
    static m = new Map()
    static async get(k) { return Store.m.get(k) ?? null }
    static async put(k, v) { Store.m.set(k, v) }
  }
  const cache = new ft.TokenCache({ ...e.base, store: Store })
  const at = await cache.getAccessToken()
  assert.match(at, /^at-/)
  assert.equal(Store.m.size, 1)
  assert.equal(JSON.parse([...Store.m.values()][0]).accessToken, at)
  // A second cache on the same store adopts the stored token: no second request.
  assert.equal(await new ft.TokenCache({ ...e.base, store: Store }).getAccessToken(), at)
  assert.equal(e.server.stats().tokenRequests, 1)
  // A function without get and put is still refused, with the stable code.
  assert.throws(() => new ft.TokenCache({ ...e.base, store: () => {} }), (err) => err.code === 'invalid_options' && /^store /.test(err.message))
})

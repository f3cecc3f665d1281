// Cloudflare Workers, from the packed tarball, in real workerd (miniflare): a module-scope
// TokenCache under concurrent requests, Workers KV as the store, the TokenBroker Durable
// Object shared by two Worker scripts.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { Miniflare } from 'miniflare'
import { startTokenServer } from '../server/token-server.mjs'
import { CLIENT_ID, CLIENT_SECRET, project } from './helpers.mjs'
import { CROSS_REQUEST_WARNING, bundleFiles, bundleWorker, startWorker, workerOptions } from './workerd.mjs'

const CLIENT = `{ clientId: ${JSON.stringify(CLIENT_ID)}, clientSecret: ${JSON.stringify(CLIENT_SECRET)}, refreshToken: 'rt-initial' }`

// A module-scope cache shared by every request of the isolate. `?leave` starts the refresh
// and responds before it finishes (workerd then ends that request's I/O); `?keepAlive=off`
// switches off what the workerd entry wires in, to show what it prevents.
const CACHE_WORKER = `
import { TokenCache } from 'freshtoken'
import { setKeepAlive } from 'freshtoken/web'
let cache
export default {
  async fetch(req, env) {
    const u = new URL(req.url)
    if (u.searchParams.get('keepAlive') === 'off') setKeepAlive(undefined)
    cache ??= new TokenCache({ ...${CLIENT}, tokenUrl: u.searchParams.get('tokenUrl'), store: env.KV })
    if (u.searchParams.has('leave')) {
      cache.getAccessToken().catch(() => {})
      return new Response('left before the refresh finished', { status: 202 })
    }
    try {
      return Response.json({ token: await cache.getAccessToken() })
    } catch (e) {
      return Response.json({ code: e.code, message: e.message }, { status: 500 })
    }
  },
}`

// The Durable Object and a Worker that asks it. The clock offset lets a test force expiry:
// the object runs in this script's isolate.
const BROKER_WORKER = `
import { TokenBroker, brokerAccessToken, brokerToken, brokerInvalidate } from 'freshtoken/workers'
import { OAuthError } from 'freshtoken'
let offset = 0
export class Tokens extends TokenBroker {
  static async options(env, name) {
    return { tokenUrl: name === 'bad' ? env.BAD_URL : env.TOKEN_URL, clientId: env.CLIENT_ID,
             clientSecret: env.CLIENT_SECRET, refreshToken: env.REFRESH_TOKEN, now: () => Date.now() + offset }
  }
}
export default {
  async fetch(req, env) {
    const u = new URL(req.url)
    try {
      switch (u.pathname) {
        case '/advance': offset += Number(u.searchParams.get('ms')); return Response.json({ offset })
        case '/token': return Response.json({ token: await brokerAccessToken(env.TOKENS, 'edgetag') })
        case '/set': return Response.json(await brokerToken(env.TOKENS, 'edgetag'))
        case '/invalidate': await brokerInvalidate(env.TOKENS, 'edgetag', u.searchParams.get('token')); return Response.json({})
        case '/bad': await brokerAccessToken(env.TOKENS, 'bad'); return Response.json({})
        case '/names': { // one object, three names its options ignore (#12, defect 8b)
          const stub = env.TOKENS.get(env.TOKENS.idFromName('edgetag'))
          const replies = await Promise.all(['edgetag', 'edgetag ', 'EdgeTag'].map((n) => stub.token(n)))
          return Response.json(replies.map((r) => r.value?.accessToken ?? r.error))
        }
        case '/loop': { // a caller looping token/invalidate (#12, defect 8d)
          for (let i = 0; i < 20; i++) await brokerInvalidate(env.TOKENS, 'edgetag', await brokerAccessToken(env.TOKENS, 'edgetag'))
          return Response.json({ token: await brokerAccessToken(env.TOKENS, 'edgetag') })
        }
      }
    } catch (e) {
      return Response.json({ name: e.name, message: e.message, code: e.code, status: e.status, description: e.description,
        retryable: e.retryable, isError: e instanceof Error, isOAuthError: e instanceof OAuthError, json: JSON.stringify(e) }, { status: 500 })
    }
  },
}`

// Only asks the broker: loads no wasm.
const CLIENT_WORKER = `
import { brokerAccessToken } from 'freshtoken/workers'
export default {
  async fetch(req, env) {
    try {
      return Response.json({ token: await brokerAccessToken(env.TOKENS, 'edgetag') })
    } catch (e) {
      return Response.json({ code: e.code, message: e.message }, { status: 500 })
    }
  },
}`

let p, scripts
before(async () => {
  p = await project('workers', {
    'package.json': JSON.stringify({ name: 'worker', private: true, type: 'module' }),
    'cache.js': CACHE_WORKER,
    'broker.js': BROKER_WORKER,
    'client.js': CLIENT_WORKER,
  })
  scripts = {}
  for (const name of ['cache', 'broker', 'client']) scripts[name] = await bundleWorker(p.dir, name + '.js')
})
after(() => p.cleanup())

/** A fresh token server, closed when the test ends. */
async function tokenServer(t, options) {
  const server = await startTokenServer(options)
  t.after(() => server.close())
  return server
}

/** Real workerd, disposed when the test ends. */
function workerd(t, ...args) {
  const mf = startWorker(...args)
  t.after(() => mf.dispose())
  return mf
}

/** One request through workerd, bounded; resolves to `{ status, body }` or `{ error }`. */
async function ask(fetcher, url, { ms = 15_000, signal } = {}) {
  try {
    const init = { signal: anySignal(ms, signal) }
    const res = await (fetcher instanceof Miniflare ? fetcher.dispatchFetch(url, init) : fetcher.fetch(url, init))
    const text = await res.text()
    let body
    try { body = JSON.parse(text) } catch { body = text }
    return { status: res.status, body }
  } catch (e) {
    return { error: e.name === 'TimeoutError' ? e.name : `${e.name}: ${e.message}` }
  }
}
const anySignal = (ms, signal) => signal ? AbortSignal.any([AbortSignal.timeout(ms), signal]) : AbortSignal.timeout(ms)

/** Tallies results by outcome, for readable assertion failures. */
const tally = (results) => results.reduce((m, r) => {
  const k = r.error ?? `${r.status} ${r.body?.token ? 'token' : JSON.stringify(r.body)}`
  m[k] = (m[k] || 0) + 1
  return m
}, {})

const cacheUrl = (server, extra = '') => `http://worker.local/?tokenUrl=${encodeURIComponent(server.origin + '/f/slow:300')}${extra}`

test('module-scope cache: 200 concurrent requests, cold, 300 ms token server → all get one valid token, 1 request, no warning', async (t) => {
  const server = await tokenServer(t)
  const mf = workerd(t, scripts.cache)
  await mf.ready
  const started = Date.now()
  const results = await Promise.all(Array.from({ length: 200 }, () => ask(mf, cacheUrl(server))))
  const wall = Date.now() - started
  assert.deepEqual(tally(results), { '200 token': 200 })
  const tokens = new Set(results.map((r) => r.body.token))
  assert.equal(tokens.size, 1)
  const [token] = tokens
  const resource = await fetch(server.origin + '/v1/resource', { headers: { authorization: `Bearer ${token}` } })
  assert.equal(resource.status, 200, 'the token works at the resource server')
  assert.equal(server.stats().tokenRequests, 1)
  assert.doesNotMatch(mf.output.join(''), CROSS_REQUEST_WARNING)
  t.diagnostic(`200 requests: ${server.stats().tokenRequests} token request, ${wall} ms wall`)
})

for (const [name, firstRequest] of [
  ['aborted by its client (after 100 ms)', () => ({ signal: AbortSignal.timeout(100), outcome: 'TimeoutError' })],
  ['ended by the Worker before the refresh finished', () => ({ extra: '&leave', outcome: '202 "left before the refresh finished"' })],
]) {
  test(`module-scope cache: 20 concurrent, the first ${name} → the other 19 complete`, async (t) => {
    const server = await tokenServer(t)
    const mf = workerd(t, scripts.cache)
    await mf.ready
    const first = firstRequest()
    const head = ask(mf, cacheUrl(server, first.extra), { signal: first.signal })
    await new Promise((r) => setTimeout(r, 30)) // the first one starts the refresh
    const rest = await Promise.all(Array.from({ length: 19 }, () => ask(mf, cacheUrl(server))))
    assert.deepEqual(tally([await head]), { [first.outcome]: 1 })
    assert.deepEqual(tally(rest), { '200 token': 19 })
    assert.equal(server.stats().tokenRequests, 1)
    assert.doesNotMatch(mf.output.join(''), CROSS_REQUEST_WARNING)
  })
}

test('control: without the keep-alive the workerd entry wires in, waiters on a refresh whose request ended hang', async (t) => {
  const server = await tokenServer(t)
  const mf = workerd(t, scripts.cache)
  await mf.ready
  await ask(mf, cacheUrl(server, '&keepAlive=off&leave'))
  const rest = await Promise.all(Array.from({ length: 3 }, () => ask(mf, cacheUrl(server), { ms: 2000 })))
  assert.deepEqual(tally(rest), { TimeoutError: 3 })
})

test('Workers KV store: a second Worker script sharing the namespace gets the token with 0 token requests', async (t) => {
  const server = await tokenServer(t)
  const kv = { kvNamespaces: { KV: 'shared-kv' } }
  const mf = workerd(t, null, {
    workers: [
      workerOptions(scripts.cache, { name: 'first', ...kv }),
      workerOptions(scripts.cache, { name: 'second', ...kv }),
    ],
  })
  const url = `http://worker.local/?tokenUrl=${encodeURIComponent(server.tokenUrl)}`
  const a = await ask(await mf.getWorker('first'), url)
  assert.equal(a.status, 200)
  assert.equal(server.stats().tokenRequests, 1)
  const b = await ask(await mf.getWorker('second'), url)
  assert.equal(b.status, 200)
  assert.equal(b.body.token, a.body.token)
  assert.equal(server.stats().tokenRequests, 1, 'the second script made no token request')
  const ns = await mf.getKVNamespace('KV', 'second')
  const { keys } = await ns.list()
  assert.equal(keys.length, 1)
  assert.match(keys[0].name, /^freshtoken:[A-Za-z0-9_-]{43}$/)
  const stored = JSON.parse(await ns.get(keys[0].name))
  assert.equal(stored.v, 1)
  assert.equal(stored.accessToken, a.body.token)
  assert.equal(keys[0].expiration, undefined, 'no TTL: it would drop the refresh token')
})

test('Durable Object broker, rotating server with reuse detection: 2 scripts × 100 concurrent → 1 request per expiry', async (t) => {
  const server = await tokenServer(t, { rotate: true })
  const bindings = {
    TOKEN_URL: server.tokenUrl, BAD_URL: server.origin + '/f/invalid_grant',
    CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN: 'rt-initial',
  }
  const mf = workerd(t, null, {
    workers: [
      workerOptions(scripts.broker, { name: 'broker', bindings, durableObjects: { TOKENS: { className: 'Tokens', useSQLite: true } } }),
      workerOptions(scripts.client, { name: 'client', durableObjects: { TOKENS: { className: 'Tokens', scriptName: 'broker', useSQLite: true } } }),
    ],
  })
  const [broker, client] = [await mf.getWorker('broker'), await mf.getWorker('client')]
  const round = async () => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      ask(i % 2 ? client : broker, 'http://worker.local/token')))
    assert.deepEqual(tally(results), { '200 token': 200 })
    const tokens = new Set(results.map((r) => r.body.token))
    assert.equal(tokens.size, 1)
    return [...tokens][0]
  }

  const first = await round()
  assert.deepEqual(server.stats().tokenRequests, 1)
  const set = await ask(broker, 'http://worker.local/set')
  assert.deepEqual(Object.keys(set.body).sort(), ['accessToken', 'expiresAt', 'tokenType'], 'no refresh token leaves the object')
  assert.equal(set.body.accessToken, first)

  await ask(broker, 'http://worker.local/advance?ms=' + 7200_000) // forced expiry
  const second = await round()
  assert.notEqual(second, first)
  assert.equal(server.stats().tokenRequests, 2, 'exactly one more after expiry')

  await ask(broker, 'http://worker.local/invalidate?token=' + first) // stale: ignored
  assert.equal((await ask(client, 'http://worker.local/token')).body.token, second)
  assert.equal(server.stats().tokenRequests, 2)
  // A token younger than minTokenAgeMs (10 s in the broker) is dropped at most once per
  // 10 s: a caller looping token/invalidate forces one request, not one per loop.
  const loop = await ask(broker, 'http://worker.local/loop')
  const third = loop.body.token
  assert.notEqual(third, second)
  assert.equal(server.stats().tokenRequests, 3, '20 × (token, invalidate): 1 request')
  await ask(broker, 'http://worker.local/advance?ms=' + 11_000)
  await ask(broker, 'http://worker.local/invalidate?token=' + third)
  const fourth = (await ask(client, 'http://worker.local/token')).body.token
  assert.notEqual(fourth, third)
  assert.equal(server.stats().tokenRequests, 4)
  assert.equal(server.stats().reuseDetected, 0, 'the rotated refresh token was never replayed')

  const bad = await ask(broker, 'http://worker.local/bad')
  assert.equal(bad.status, 500)
  assert.deepEqual({ ...bad.body, json: undefined, message: undefined }, {
    name: 'OAuthError', code: 'invalid_grant', status: 400, description: 'injected invalid_grant', retryable: false,
    isError: true, isOAuthError: true, json: undefined, message: undefined,
  })
  assert.deepEqual(JSON.parse(bad.body.json), { name: 'OAuthError', code: 'invalid_grant', status: 400, description: 'injected invalid_grant', retryable: false })
  assert.doesNotMatch(JSON.stringify(bad.body), /edgetag-demo-secret|rt-/)
  assert.doesNotMatch(mf.output.join(''), CROSS_REQUEST_WARNING)
  t.diagnostic(`broker: 4 token requests for 4 × (expiry or invalidation), 20 looped invalidations, 400+ asks, reuse detected 0`)
})

test('broker: one object asked under three names that map to one credential sends one request', async (t) => {
  const server = await tokenServer(t, { rotate: true })
  const bindings = { TOKEN_URL: server.tokenUrl, BAD_URL: server.origin, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN: 'rt-initial' }
  const mf = workerd(t, null, {
    workers: [workerOptions(scripts.broker, { name: 'broker', bindings, durableObjects: { TOKENS: { className: 'Tokens', useSQLite: true } } })],
  })
  const r = await ask(await mf.getWorker('broker'), 'http://worker.local/names')
  assert.equal(r.status, 200, JSON.stringify(r.body))
  assert.equal(new Set(r.body).size, 1, 'all three names got the same token')
  assert.match(r.body[0], /^at-/)
  assert.deepEqual([server.stats().tokenRequests, server.stats().reuseDetected], [1, 0])
})

test('a Worker that only asks the broker bundles no wasm', () => {
  assert.deepEqual(bundleFiles(scripts.client), ['client.js'])
  assert.doesNotMatch(readFileSync(scripts.client, 'utf8'), /initSync|WebAssembly|\.wasm/)
  assert.ok(bundleFiles(scripts.broker).some((f) => f.endsWith('.wasm')))
})

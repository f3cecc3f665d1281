// Events without secrets (#15): onEvent and Node's `freshtoken` diagnostics channel report a
// cache's work (refresh start/end, each request, retries, store reads/writes, the lock, a
// background refresh), and no event ever carries a secret.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { startTokenServer } from '../server/token-server.mjs'
import { CLIENT_ID, project } from './helpers.mjs'

let app, ft
before(async () => {
  app = await project('events', { 'package.json': '{"name":"app","private":true,"type":"module"}' })
  ft = await import(pathToFileURL(createRequire(join(app.dir, 'package.json')).resolve('freshtoken')))
})
after(() => app?.cleanup())

const mapStore = () => { const m = new Map(); return { get: (k) => m.get(k) ?? null, put: (k, v) => { m.set(k, v) } } }

test('events: the story of a refresh with a store and one retry, on onEvent and the diagnostics channel alike', async () => {
  const server = await startTokenServer({ clientSecret: 'edgetag-demo-secret' })
  const seen = []
  const published = []
  const listener = (e) => published.push(e)
  subscribe('freshtoken', listener)
  try {
    server.queueFault('status:503')
    const cache = new ft.TokenCache({ tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: 'edgetag-demo-secret', clientAuth: 'client_secret_basic', refreshToken: 'rt-initial', store: mapStore(), onEvent: (e) => seen.push(e), retry: { minDelayMs: 5 } })
    await cache.getAccessToken()
    assert.deepEqual(seen.map((e) => e.type), ['refreshStart', 'storeRead', 'request', 'retryScheduled', 'storeRead', 'request', 'storeWrite', 'refreshEnd'])
    assert.deepEqual(published, seen, 'the channel gets the very same events')
    const [start, read, failed, retry, , ok, write, end] = seen
    assert.equal(start.forced, false)
    assert.equal(read.ok, false, 'nothing stored yet')
    assert.deepEqual([failed.attempt, failed.ok, failed.status, failed.code], [1, false, 503, 'http_error'])
    assert.deepEqual([retry.attempt, typeof retry.delayMs], [1, 'number'])
    assert.deepEqual([ok.attempt, ok.ok, ok.status, ok.code], [2, true, undefined, undefined])
    assert.equal(write.ok, true)
    assert.deepEqual([end.ok, end.attempts], [true, 2])
    for (const e of seen.filter((e) => 'durationMs' in e)) assert.ok(e.durationMs >= 0)
  } finally {
    unsubscribe('freshtoken', listener)
    await server.close()
  }
})

test('events: a background refresh is reported, and a throwing onEvent changes nothing', async () => {
  const server = await startTokenServer({ lifetimeSec: 4 })
  try {
    const seen = []
    let t = 1e12
    const cache = new ft.TokenCache({ tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: 'edgetag-demo-secret', refreshToken: 'rt-initial', now: () => t, refreshSkewMs: 2000, expiryMarginMs: 500, onEvent: (e) => { seen.push(e.type); throw new Error('listener bug') } })
    const first = await cache.getAccessToken()
    t += 2500
    assert.equal(await cache.getAccessToken(), first, 'served ahead')
    const second = await cache.refresh() // joins the background refresh
    assert.notEqual(second.accessToken, first)
    assert.equal(server.stats().tokenRequests, 2)
    assert.deepEqual(seen, ['refreshStart', 'request', 'refreshEnd', 'backgroundRefresh', 'refreshStart', 'request', 'refreshEnd'])
  } finally {
    await server.close()
  }
})

test('events: property — 40 random runs (random secrets; 503s, invalid_grant, servers echoing every secret, rotation, a store, a lock): no event carries a secret', async () => {
  const faults = ['status:503', 'invalid_grant', 'echo-all', 'echo-secret', 'status:500', 'retry-after:0:503', 'not-json', null, null]
  let events = 0
  for (let run = 0; run < 40; run++) {
    const clientSecret = 'cs-' + randomBytes(9).toString('base64url')
    const refreshToken = 'rt-' + randomBytes(9).toString('base64url')
    const server = await startTokenServer({ clientSecret, refreshToken, rotate: run % 2 === 0, lifetimeSec: 60 })
    const secrets = new Set([clientSecret, refreshToken])
    const all = []
    const listener = (e) => all.push(e)
    subscribe('freshtoken', listener)
    try {
      const store = mapStore()
      const lockStore = { ...store, lock: () => true, unlock: () => {} }
      const cache = new ft.TokenCache({ tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret, refreshToken, store: run % 3 ? store : lockStore, onEvent: (e) => all.push(e), retry: { minDelayMs: 1, maxDelayMs: 5 }, failureCooldownMs: 0 })
      for (let i = 0; i < 4; i++) {
        const f = faults[(run * 7 + i * 3) % faults.length]
        if (f) server.queueFault(f)
        const set = await cache.refresh().catch(() => null)
        if (set) { secrets.add(set.accessToken); secrets.add(set.refreshToken) }
      }
    } finally {
      unsubscribe('freshtoken', listener)
      await server.close()
    }
    const text = JSON.stringify(all)
    events += all.length
    for (const s of secrets) assert.ok(!text.includes(s), `run ${run}: an event carries a secret`)
    for (const e of all) {
      for (const [k, v] of Object.entries(e)) assert.ok(['string', 'number', 'boolean', 'undefined'].includes(typeof v), `${e.type}.${k} is a ${typeof v}`)
      if (typeof e.code === 'string') assert.match(e.code, /^[a-z_]+$/, 'a code, never a message')
    }
  }
  console.log(`events: 40 runs, ${events} events, none carrying a secret`)
  assert.ok(events > 200)
})

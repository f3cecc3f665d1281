// Single flight across processes (#14): TokenCaches in separate Node processes share one
// refresh per expiry through freshtoken/redis on a real redis-server (started here, on
// 127.0.0.1), against the bundled token server rotating with reuse detection. Half the
// processes use ioredis, half node-redis.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, test } from 'node:test'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { startTokenServer } from '../server/token-server.mjs'
import { freePort } from './webdriver.mjs'
import { CLIENT_ID, CLIENT_SECRET, project } from './helpers.mjs'

const TESTS = join(dirname(fileURLToPath(import.meta.url)), '..')
const WORKER = join(TESTS, 'js', 'redis-worker.mjs')
const fromTests = createRequire(join(TESTS, 'package.json'))

let app, redis, redisPort
before(async () => {
  app = await project('redis', { 'package.json': '{"name":"app","private":true,"type":"module"}' })
  redisPort = await freePort()
  redis = await startRedis(redisPort)
})
after(async () => {
  await stopRedis(redis)
  app?.cleanup()
})

/** redis-server on 127.0.0.1 only, nothing persisted; resolves once it accepts connections. */
async function startRedis(port) {
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: p.stdout })
  const ready = new Promise((resolve, reject) => {
    lines.on('line', (l) => l.includes('Ready to accept connections') && resolve())
    p.once('exit', (c) => reject(new Error(`redis-server exited ${c}`)))
  })
  await withTimeout(ready, 15_000, 'redis-server start')
  return p
}

async function stopRedis(p) {
  if (!p || p.exitCode !== null) return
  p.kill('SIGKILL')
  await once(p, 'exit')
}

function withTimeout(promise, ms, what) {
  let t
  const timer = new Promise((_, reject) => { t = setTimeout(() => reject(new Error(`${what}: over ${ms} ms`)), ms) })
  return Promise.race([promise, timer]).finally(() => clearTimeout(t))
}

/** A worker process; `lines` yields its JSON messages. */
function worker(cfg) {
  const p = spawn(process.execPath, [WORKER, JSON.stringify({ appDir: app.dir, testsDir: TESTS, redisPort, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: 'rt-initial', ...cfg })], { stdio: ['pipe', 'pipe', 'inherit'] })
  const messages = []
  const waiters = []
  createInterface({ input: p.stdout }).on('line', (l) => {
    messages.push(JSON.parse(l))
    waiters.splice(0).forEach((w) => w())
  })
  const next = async (key, ms) => {
    for (let i = 0; i < 1000; i++) {
      const m = messages.find((x) => x[key])
      if (m) return m
      if (p.exitCode !== null) throw new Error(`worker exited ${p.exitCode} before ${key}`)
      await withTimeout(new Promise((r) => { waiters.push(r); p.once('exit', r) }), ms, `worker ${key}`)
    }
    throw new Error(`worker: no ${key}`)
  }
  return { p, next, go: () => p.stdin.write('go\n') }
}

test('redis: 8 processes × 200 concurrent callers, rotating server with reuse detection → 1 token request per expiry, 0 reuses, 0 Redis commands per hit', async () => {
  const server = await startTokenServer({ rotate: true, lifetimeSec: 3, grantDelayMs: 200 })
  try {
    const rounds = 4
    const cfg = { tokenUrl: server.tokenUrl, storeKey: 'many', rounds, callers: 200, skewMs: 1500 }
    const ws = Array.from({ length: 8 }, (_, i) => worker({ ...cfg, client: i % 2 ? 'node-redis' : 'ioredis' }))
    await Promise.all(ws.map((w) => w.next('ready', 60_000)))
    ws.forEach((w) => w.go())
    const done = await Promise.all(ws.map((w) => w.next('done', 120_000)))
    const all = new Set()
    for (const d of done) {
      assert.equal(d.rounds.length, rounds)
      for (const r of d.rounds) {
        assert.deepEqual(r.errors, [])
        assert.equal(r.tokens.length, 1, 'one token for all 200 callers of a process')
        assert.equal(r.hitCommands, 0, 'hits never touch Redis')
        all.add(r.tokens[0])
      }
    }
    const stats = server.stats()
    console.log(`redis: 8 processes × ${rounds} expiries × 200 callers: ${stats.tokenRequests} token requests, ${all.size} distinct tokens, ${stats.reuseDetected} reuses`)
    assert.equal(stats.reuseDetected, 0)
    assert.equal(stats.tokenRequests, rounds, 'exactly one token request per expiry')
    assert.equal(all.size, rounds)
    await Promise.all(ws.map((w) => w.p.exitCode ?? once(w.p, 'exit')))
  } finally {
    await server.close()
  }
})

test('redis: kill -9 of the lock holder mid-refresh → another process takes over after the TTL, no invalid_grant', async () => {
  const server = await startTokenServer({ rotate: true, lifetimeSec: 60, grantDelayMs: 1500 })
  try {
    const cfg = { tokenUrl: server.tokenUrl, storeKey: 'kill', rounds: 1, callers: 50, skewMs: 1000, lockTtlMs: 2500 }
    const [holder, ...rest] = Array.from({ length: 3 }, (_, i) => worker({ ...cfg, client: i % 2 ? 'node-redis' : 'ioredis' }))
    await Promise.all([holder, ...rest].map((w) => w.next('ready', 60_000)))
    holder.go()
    for (let i = 0; i < 200 && !server.stats().pending; i++) await new Promise((r) => setTimeout(r, 20))
    assert.equal(server.stats().pending, 1, 'the holder is mid-refresh')
    const killedAt = Date.now()
    holder.p.kill('SIGKILL')
    rest.forEach((w) => w.go())
    const done = await Promise.all(rest.map((w) => w.next('done', 60_000)))
    const took = Date.now() - killedAt
    for (const d of done) assert.deepEqual(d.rounds[0].errors, [])
    assert.equal(new Set(done.map((d) => d.rounds[0].tokens[0])).size, 1, 'both survivors got the one new token')
    const stats = server.stats()
    console.log(`redis: holder killed mid-refresh; the survivors had a token ${took} ms later (TTL 2,500 ms, server 1,500 ms); ${stats.tokenRequests} requests, ${stats.abandoned} abandoned, ${stats.reuseDetected} reuses`)
    assert.equal(stats.abandoned, 1)
    assert.equal(stats.tokenRequests, 2, "the dead holder's request and one takeover")
    assert.equal(stats.reuseDetected, 0)
  } finally {
    await server.close()
  }
})

test('redis: restarted mid-run → hits keep being served, a refresh fails at once with the client\'s error and sends nothing, then recovery', async () => {
  const server = await startTokenServer({ rotate: true, lifetimeSec: 60 })
  const { TokenCache } = await import(pathToFileURL(createRequire(join(app.dir, 'package.json')).resolve('freshtoken')))
  const { redisStore } = await import(pathToFileURL(createRequire(join(app.dir, 'package.json')).resolve('freshtoken/redis')))
  const { Redis } = fromTests('ioredis')
  const { createClient } = fromTests('redis')
  const io = new Redis({ host: '127.0.0.1', port: redisPort, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => 100 })
  await io.connect()
  const nr = createClient({ socket: { host: '127.0.0.1', port: redisPort, reconnectStrategy: () => 100 }, disableOfflineQueue: true })
  nr.on('error', () => {}) // reconnect attempts while it is down
  io.on('error', () => {})
  await nr.connect()
  try {
    const opts = { tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, clientAuth: 'client_secret_basic', refreshToken: 'rt-initial' }
    const caches = [new TokenCache({ ...opts, store: redisStore(io), storeKey: 'restart' }), new TokenCache({ ...opts, store: redisStore(nr), storeKey: 'restart' })]
    const first = await caches[0].getAccessToken()
    assert.equal(await caches[1].getAccessToken(), first, 'adopted from Redis')
    assert.equal(server.stats().tokenRequests, 1)

    await stopRedis(redis)
    for (const c of caches) for (let i = 0; i < 1000; i++) assert.equal(await c.getAccessToken(), first)
    for (const c of caches) {
      const err = await c.refresh().then(() => null, (e) => e)
      assert.ok(err instanceof Error, 'rejects')
      assert.ok(!/rt-|at-|edgetag-demo-secret/.test(String(err) + JSON.stringify(err)), 'no secret in the error')
      console.log(`redis: down → refresh() rejects with ${err.constructor.name}: ${err.message}`)
    }
    assert.equal(server.stats().tokenRequests, 1, 'fail closed: nothing sent while the lock service is down')

    redis = await startRedis(redisPort)
    for (let i = 0; i < 100 && !(io.status === 'ready' && nr.isReady); i++) await new Promise((r) => setTimeout(r, 50))
    const second = await caches[0].refresh()
    assert.notEqual(second.accessToken, first)
    assert.equal((await caches[1].refresh()).accessToken !== undefined, true)
    const stats = server.stats()
    assert.equal(stats.tokenRequests, 3)
    assert.equal(stats.reuseDetected, 0, 'the second cache took the rotated token from Redis before sending')
    assert.ok(await io.get('restart'), 'the store holds the entry again')
  } finally {
    io.disconnect()
    await nr.quit().catch(() => {})
    await server.close()
  }
})

test('redis: lock overhead, measured (not asserted): refresh() with redisStore with and without its lock', async () => {
  const server = await startTokenServer({ rotate: true, lifetimeSec: 60 })
  const req = createRequire(join(app.dir, 'package.json'))
  const { TokenCache } = await import(pathToFileURL(req.resolve('freshtoken')))
  const { redisStore } = await import(pathToFileURL(req.resolve('freshtoken/redis')))
  const { Redis } = fromTests('ioredis')
  const io = new Redis({ host: '127.0.0.1', port: redisPort, lazyConnect: true })
  await io.connect()
  try {
    const opts = { tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, clientAuth: 'client_secret_basic', refreshToken: 'rt-initial' }
    const { get, put } = redisStore(io)
    const locked = new TokenCache({ ...opts, store: redisStore(io), storeKey: 'bench' })
    const plain = new TokenCache({ ...opts, store: { get, put }, storeKey: 'bench' })
    const time = async (c, n) => {
      const t = performance.now()
      for (let i = 0; i < n; i++) await c.refresh()
      return (performance.now() - t) / n
    }
    await time(locked, 20)
    await time(plain, 20)
    const ms = [[], []]
    for (let r = 0; r < 5; r++) {
      ms[0].push(await time(locked, 40))
      ms[1].push(await time(plain, 40))
    }
    const median = (a) => a.sort((x, y) => x - y)[2]
    const [l, p] = ms.map(median)
    console.log(`redis: refresh() with lock ${l.toFixed(2)} ms, without ${p.toFixed(2)} ms: the lock adds ${(l - p).toFixed(2)} ms per refresh (SET NX PX + re-read + EVAL release on a local redis-server)`)
    assert.equal(server.stats().reuseDetected, 0)
  } finally {
    io.disconnect()
    await server.close()
  }
})

test('redis: lock options are checked in the constructor', async () => {
  const { TokenCache, OAuthError } = await import(pathToFileURL(createRequire(join(app.dir, 'package.json')).resolve('freshtoken')))
  const opts = { tokenUrl: 'https://auth.example/token', clientId: 'c', clientSecret: 's3cr3t-value', refreshToken: 'rt-secret-value' }
  const kv = { get: () => null, put: () => {} }
  const bad = [
    [{ store: { ...kv, lock: () => true } }, /store must have both lock/],
    [{ store: { ...kv, unlock: () => {} } }, /store must have both lock/],
    [{ lockTtlMs: 1000 }, /lockTtlMs needs a store with lock/],
    [{ store: { ...kv, lock: () => true, unlock: () => {} }, lockTtlMs: 0 }, /lockTtlMs must be/],
    [{ store: { ...kv, lock: () => true, unlock: () => {} }, lockTtlMs: NaN }, /lockTtlMs must be/],
  ]
  for (const [extra, message] of bad) {
    assert.throws(() => new TokenCache({ ...opts, ...extra }), (e) => e instanceof OAuthError && e.code === 'invalid_options' && message.test(e.message) && !/s3cr3t|rt-secret/.test(e.message))
  }
  assert.ok(new TokenCache({ ...opts, store: { ...kv, lock: () => true, unlock: () => {} }, lockTtlMs: 1500 }))
})

test('redis: a lock held by another owner past two TTLs → lock_timeout, and nothing is sent', async () => {
  const { TokenCache, OAuthError } = await import(pathToFileURL(createRequire(join(app.dir, 'package.json')).resolve('freshtoken')))
  let sent = 0
  const fetch = async () => (sent++, new Response('{"access_token":"x","expires_in":60}', { headers: { 'content-type': 'application/json' } }))
  let looks = 0
  const store = { get: () => null, put: () => {}, lock: () => (looks++, false), unlock: () => {} }
  const cache = new TokenCache({ tokenUrl: 'https://auth.example/token', clientId: 'c', refreshToken: 'rt', fetch, store, lockTtlMs: 300 })
  const err = await cache.getAccessToken().then(() => null, (e) => e)
  assert.ok(err instanceof OAuthError)
  assert.equal(err.code, 'lock_timeout')
  assert.equal(sent, 0)
  assert.ok(looks >= 3 && looks <= 20, `looked ${looks} times`)
})

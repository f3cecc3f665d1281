// Regression tests for the production defects of issue #12 (defect 1, the allocator, is
// soak.test.mjs; defect 8, the Durable Object broker, is in workers.test.mjs). Each failed
// against the packed tarball before the engine moved into the core.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { startTokenServer } from '../server/token-server.mjs'
import { CLIENT_ID, CLIENT_SECRET, project } from './helpers.mjs'

let p, ft
before(async () => {
  p = await project('defects', { 'package.json': '{"name":"app","private":true}' })
  ft = createRequire(join(p.dir, 'index.js'))('freshtoken')
})
after(() => p.cleanup())

const fastRetry = { retries: 2, minDelayMs: 5, maxDelayMs: 200 }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function edgetag(t, options = {}) {
  const server = await startTokenServer(options)
  t.after(() => server.close())
  const sent = []
  // Records the refresh token of every request, then sends it for real.
  const fetch = (url, init) => { sent.push(new URLSearchParams(init.body).get('refresh_token')); return globalThis.fetch(url, init) }
  const base = { tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: 'rt-initial', retry: fastRetry, fetch }
  return { server, base, sent }
}

/** A store whose `get` returns the value before the last `put`, as Workers KV may for 60 s. */
function laggingStore() {
  const puts = []
  return { puts, get: async () => puts.at(-2) ?? null, put: async (_k, v) => { puts.push(v) } }
}

test('defect 2: a lagging store never brings back a refresh token the cache rotated away', async (t) => {
  const e = await edgetag(t, { rotate: true })
  const cache = new ft.TokenCache({ ...e.base, store: laggingStore() })
  for (let i = 0; i < 4; i++) await cache.refresh()
  assert.equal(e.sent[0], 'rt-initial')
  assert.equal(new Set(e.sent).size, 4, `each refresh sent the newest refresh token: ${e.sent.map((s) => s.slice(0, 6))}`)
  assert.equal(e.server.stats().reuseDetected, 0)
  assert.match(await cache.getAccessToken(), /^at-/)
})

test('defect 3: after invalid_grant or invalidate(), the store does not hand the cleared token back', async (t) => {
  const e = await edgetag(t)
  const map = new Map()
  const store = { get: (k) => map.get(k) ?? null, put: (k, v) => { map.set(k, v) } }
  const cache = new ft.TokenCache({ ...e.base, store, failureCooldownMs: 0 })
  const first = await cache.getAccessToken()
  e.server.queueFault('invalid_grant')
  await assert.rejects(cache.refresh(), (err) => err.code === 'invalid_grant')
  assert.equal(cache.peek(), undefined)
  const next = await cache.getAccessToken()
  assert.notEqual(next, first, 'the token invalid_grant cleared came back from the store')

  // A lagging store still holding an older token: invalidate() must not bring either back.
  const lag = laggingStore()
  const c2 = new ft.TokenCache({ ...e.base, store: lag })
  const a = await c2.getAccessToken()
  const b = (await c2.refresh()).accessToken
  c2.invalidate()
  const c = await c2.getAccessToken()
  assert.ok(c !== a && c !== b, 'an invalidated or replaced token was served again')
})

test('defect 3 (broker path): a new instance told to invalidate a token it never held refuses it from the store', async (t) => {
  const e = await edgetag(t)
  const map = new Map()
  const store = { get: (k) => map.get(k) ?? null, put: (k, v) => { map.set(k, v) } }
  const old = await new ft.TokenCache({ ...e.base, store }).getAccessToken()
  const fresh = new ft.TokenCache({ ...e.base, store })
  assert.equal(fresh.invalidate(old), false, 'not held yet, so nothing dropped')
  const got = await fresh.getAccessToken()
  assert.notEqual(got, old)
  assert.equal(e.server.stats().tokenRequests, 2)
})

/** A Response whose body reader misbehaves. */
function hostileResponse(reader) {
  return { status: 200, headers: new Headers(), body: { getReader: () => reader } }
}

test('defect 4: a hostile body reader rejects cleanly, never throws outside the promise', async () => {
  const uncaught = []
  const onUncaught = (e) => uncaught.push(e)
  process.on('uncaughtException', onUncaught)
  process.on('unhandledRejection', onUncaught)
  try {
    const big = new Uint8Array(600 * 1024)
    let reads = 0
    const tooBig = { read: async () => { reads++; return { done: false, value: big } }, cancel: () => undefined }
    const opts = { tokenUrl: 'https://auth.example/token', clientId: 'c', clientSecret: 'client-secret-x', refreshToken: 'refresh-token-x' }
    await assert.rejects(ft.refreshAccessToken({ ...opts, fetch: async () => hostileResponse(tooBig) }),
      (err) => err.code === 'invalid_response' && /1 MiB/.test(err.message))
    assert.equal(reads, 2)
    const many = { read: () => ({ done: false, value: new Uint8Array(0) }), cancel: () => 42 }
    await assert.rejects(ft.refreshAccessToken({ ...opts, fetch: async () => hostileResponse(many) }),
      (err) => err.code === 'invalid_response')
    for (const chunk of [42, null, 'x', { done: false, value: 'not bytes' }]) {
      let n = 0
      const odd = { read: () => { n++; return chunk }, cancel: () => { throw new Error('cancel threw') } }
      await assert.rejects(ft.refreshAccessToken({ ...opts, fetch: async () => hostileResponse(odd) }),
        (err) => err.code === 'invalid_response' && /other than bytes/.test(err.message), `chunk ${JSON.stringify(chunk)}`)
      assert.equal(n, 1, 'failed on the first bad chunk')
    }
    await sleep(20)
    assert.deepEqual(uncaught, [])
  } finally {
    process.off('uncaughtException', onUncaught)
    process.off('unhandledRejection', onUncaught)
  }
})

test('defect 5: peek() never shows a token before store.put and onTokens have finished', async (t) => {
  const e = await edgetag(t, { rotate: true })
  const seen = []
  let cache
  const look = (where) => seen.push([where, cache.peek()])
  const store = { get: () => null, put: async () => { look('put'); await sleep(10); look('put later') } }
  cache = new ft.TokenCache({ ...e.base, store, onTokens: async (set) => { look('hook'); await sleep(10); look('hook later'); seen.push(['new', set.accessToken]) } })
  const first = await cache.getAccessToken()
  assert.deepEqual(seen.slice(0, 4).map((s) => s[1]), [undefined, undefined, undefined, undefined])
  assert.equal(cache.peek(), first)
  seen.length = 0
  const second = (await cache.refresh()).accessToken
  assert.deepEqual(seen.slice(0, 4).map((s) => s[1]), [first, first, first, first], 'the old token until the hooks are done')
  assert.equal(seen[4][1], second)
  assert.equal(cache.peek(), second)
})

test('defect 6: secrets in every echoed spelling, and every secret the cache has held, are redacted', async () => {
  const secret = 'sec/ret +&x'
  // What is sent: §2.3.1 form-encoding with a space as %20 (#13).
  const basic = 'Basic ' + btoa(`c:${encodeURIComponent(secret)}`)
  let n = 0
  let echo = () => ''
  const fetch = async (_url, init) => {
    n++
    if (n === 1) return Response.json({ access_token: 'AT-held-1', refresh_token: 'RT-rotated-1', expires_in: 7200 })
    return Response.json({ error: 'invalid_grant', error_description: echo(init) }, { status: 400 })
  }
  const cache = new ft.TokenCache({ tokenUrl: 'https://auth.example/token', clientId: 'c', clientSecret: secret, refreshToken: 'RT-configured-0', fetch })
  await cache.getAccessToken()
  const spellings = [
    'sec%2fret%20%2b%26x', 'sec&#x2F;ret &#43;&amp;x', 'sec&#47;ret +&x', 'sec\\/ret \\u002b&x', 'sec%2Fret++%26x',
    btoa(secret), Buffer.from(secret).toString('base64url'), basic.slice(6), basic,
    'AT-held-1', 'RT-configured-0', 'RT-rotated-1', 'at%2Dheld%2D1',
  ]
  echo = (init) => spellings.join(' | ') + ' | ' + init.headers.authorization
  const err = await cache.refresh().catch((x) => x)
  assert.equal(err.code, 'invalid_grant')
  const shown = [err.message, err.description, String(err), JSON.stringify(err)].join('\n')
  for (const s of [...spellings, 'sec', 'held', 'rotated', 'configured', 'c2VjL3']) assert.ok(!shown.includes(s), `${s} survived: ${err.description}`)
  assert.equal(err.description.split('[redacted]').length - 1, spellings.length + 1)
})

test('defect 7: an option getter that throws is invalid_options, and nothing is sent', async () => {
  let sent = 0
  const fetch = async () => { sent++; return Response.json({ access_token: 'x' }) }
  const opts = { tokenUrl: 'https://auth.example/token', clientId: 'c', refreshToken: 'r', fetch }
  for (const name of ['clientSecret', 'clientAuth', 'scope', 'headers', 'timeoutMs', 'fetch']) {
    const hostile = Object.defineProperty({ ...opts }, name, { get() { throw new Error('getter threw') }, enumerable: true })
    await assert.rejects(ft.refreshAccessToken(hostile), (e) => e.code === 'invalid_options' && e.message.includes(name), name)
    assert.throws(() => new ft.TokenCache(hostile), (e) => e.code === 'invalid_options', name)
  }
  for (const name of ['store', 'onTokens', 'refreshSkewMs', 'retry']) {
    const hostile = Object.defineProperty({ ...opts }, name, { get() { throw new Error('getter threw') } })
    assert.throws(() => new ft.TokenCache(hostile), (e) => e.code === 'invalid_options' && e.message.includes(name), name)
  }
  assert.equal(sent, 0)
})

test('defect 9: lone surrogates refused, lifetimes capped at a year, exactly refreshSkewMs left is fresh', async () => {
  let sent = 0
  const fetch = async () => { sent++; return Response.json({ access_token: 'AT', expires_in: '99999999999999999999999' }) }
  const opts = { tokenUrl: 'https://auth.example/token', clientId: 'c', refreshToken: 'r', fetch }
  for (const bad of ['\uD800', 'a\uDC00b', 'x\uD83D']) {
    await assert.rejects(ft.refreshAccessToken({ ...opts, refreshToken: bad }), (e) => e.code === 'invalid_options' && /Unicode/.test(e.message))
    assert.throws(() => new ft.TokenCache({ ...opts, clientSecret: bad }), (e) => e.code === 'invalid_options')
    await assert.rejects(ft.refreshAccessToken({ ...opts, extraParams: { audience: bad } }), (e) => e.code === 'invalid_options')
  }
  assert.equal(sent, 0)
  const set = await ft.refreshAccessToken({ ...opts, now: () => 1000 })
  assert.equal(set.expiresIn, 365 * 24 * 3600)
  assert.equal(set.expiresAt, 1000 + 365 * 24 * 3600 * 1000)
  assert.equal(set.raw.expires_in, '99999999999999999999999')

  const c = { t: 0 }
  const cache = new ft.TokenCache({ ...opts, now: () => c.t, refreshSkewMs: 60_000,
    fetch: async () => Response.json({ access_token: 'AT', expires_in: 7200 }) })
  await cache.getAccessToken()
  c.t = 7_200_000 - 60_000
  assert.equal(cache.peek(), 'AT', 'exactly refreshSkewMs left: still fresh')
  c.t += 1
  assert.equal(cache.peek(), undefined, 'less than refreshSkewMs left: not fresh')
})

test('a gzip body is bounded by the 1 MiB cap as decoded, not by its Content-Length', async (t) => {
  // Found as a hostile server would: a 255 KB gzip body with a true Content-Length decoded to
  // 256 MB, and text() read all of it before the cap was checked (Node's RSS +314 MB, 3.4 s).
  const { createServer } = await import('node:http')
  const { gzipSync } = await import('node:zlib')
  const decoded = 64 * 1024 * 1024
  const bomb = gzipSync(Buffer.concat([Buffer.from('{"access_token":"'), Buffer.alloc(decoded, 'a'), Buffer.from('"}')]))
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(bomb.length) })
      res.end(bomb)
    })
  }).listen(0, '127.0.0.1')
  t.after(() => server.close())
  await new Promise((r) => server.on('listening', r))
  // The host's fetch decodes; this wrapper counts the decoded bytes the library pulls.
  let pulled = 0
  const counting = async (url, init) => {
    const res = await globalThis.fetch(url, init)
    const counted = res.body.pipeThrough(new TransformStream({ transform(chunk, c) { pulled += chunk.byteLength; c.enqueue(chunk) } }))
    return new Response(counted, { status: res.status, headers: res.headers })
  }
  const tokenUrl = `http://127.0.0.1:${server.address().port}/token`
  const err = await ft.refreshAccessToken({ tokenUrl, clientId: 'c', clientSecret: 'client-secret', refreshToken: 'refresh-token', fetch: counting }).catch((e) => e)
  assert.equal(err.code, 'invalid_response')
  assert.match(err.message, /body over 1 MiB/)
  assert.ok(pulled < 4 * 1024 * 1024, `read ${pulled} decoded bytes of ${bomb.length} compressed (${decoded} decoded)`)
  console.log(`gzip bomb: ${bomb.length} bytes on the wire (${decoded} decoded); the library read ${pulled} decoded bytes, then refused`)
})

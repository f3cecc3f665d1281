// Every export called with wrong types from the packed tarball: numbers, null, objects
// without the fields, wrong-typed fields, huge strings, throwing getters and Proxies. Each
// gets an OAuthError `invalid_options` (thrown by the constructor, rejected by async calls),
// never a panic: afterwards the same wasm instance still refreshes for real.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { startTokenServer } from '../server/token-server.mjs'
import { CLIENT_ID, CLIENT_SECRET, project } from './helpers.mjs'

let server, p, ft, good
before(async () => {
  server = await startTokenServer()
  p = await project('wrong-types', { 'package.json': '{"name":"app","private":true}' })
  ft = createRequire(join(p.dir, 'index.js'))('freshtoken')
  good = { tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: 'rt-initial' }
})
after(async () => {
  await server.close()
  p.cleanup()
})

const HUGE = 'x'.repeat(10_000_000)
const throwingGetter = Object.defineProperty({}, 'tokenUrl', { get() { throw new Error('getter') }, enumerable: true })
const hostileProxy = new Proxy({}, { get() { throw new Error('proxy get') }, ownKeys() { throw new Error('proxy keys') }, has() { throw new Error('has') } })
const WRONG = [undefined, null, 0, 42, NaN, true, '', 'a string', Symbol('s'), [], {}, () => {}, HUGE, throwingGetter, hostileProxy]

/** Options that are all right except `field`, set to each wrong value. */
function wrongFields() {
  const cases = []
  const fields = {
    tokenUrl: [42, {}, [], '', 'not a url', 'ftp://x/', 'https://x/#frag', 'https://u:p@x/', 'https://' + HUGE],
    clientId: [42, null, {}, '', HUGE],
    clientSecret: [42, {}, [], HUGE],
    refreshToken: [42, undefined, {}, '', HUGE],
    clientAuth: [42, 'magic', {}],
    basicAuthEncoding: [1, 'base32'],
    scope: [42, {}, HUGE],
    extraParams: [42, 'x', [], { a: 1 }, { grant_type: 'password' }, hostileProxy, { big: HUGE }],
    headers: [42, 'x', { 'content-type': 'text/plain' }, { 'x-bad': 'line\nbreak' }, { 'bad name': 'v' }, hostileProxy],
    timeoutMs: ['10', -1, 0, NaN, {}],
    signal: [42, {}, 'signal'],
    allowInsecureHttp: ['yes', 1],
    fetch: [42, 'fetch', {}],
    now: [42, 'now'],
  }
  for (const [field, values] of Object.entries(fields)) for (const v of values) cases.push([field, v])
  return cases
}
const cacheOnly = {
  store: [42, 'kv', {}, { get: () => null }, { put: () => {} }],
  storeKey: [42, '', {}, HUGE],
  onTokens: [42, 'x', {}],
  refreshSkewMs: ['60', -1, NaN, Infinity],
  defaultExpiresInSec: ['x', -5],
  retry: [42, 'x', { retries: -1 }, { retries: 1.5 }, { retries: 1000 }, { minDelayMs: 'x' }, { minDelayMs: 100, maxDelayMs: 10 }],
}

const label = (v) => typeof v === 'string' ? (v.length > 40 ? `string(${v.length})` : JSON.stringify(v)) : typeof v === 'symbol' ? 'symbol' : v === hostileProxy ? 'hostile Proxy' : v === throwingGetter ? 'throwing getter' : (() => { try { return JSON.stringify(v) ?? String(v) } catch { return typeof v } })()

function assertInvalid(e, what, codes = ['invalid_options']) {
  assert.ok(e instanceof ft.OAuthError && e instanceof Error, `${what}: not an OAuthError: ${e}`)
  assert.ok(codes.includes(e.code), `${what}: code ${e.code} (${e.message})`)
  assert.ok(e.message.length < 300, `${what}: message of ${e.message.length} chars`)
}

test('refreshAccessToken and new TokenCache with wrong option values → invalid_options', async () => {
  let n = 0
  for (const v of WRONG) {
    let e
    try { await ft.refreshAccessToken(v) } catch (err) { e = err }
    assertInvalid(e, `refreshAccessToken(${label(v)})`)
    e = undefined
    try { new ft.TokenCache(v) } catch (err) { e = err }
    assertInvalid(e, `new TokenCache(${label(v)})`)
    n += 2
  }
  for (const [field, v] of wrongFields()) {
    const opts = { ...good, [field]: v }
    const what = `${field}: ${label(v)}`
    // An http: URL to a public host is the one case with its own code.
    const codes = field === 'tokenUrl' ? ['invalid_options', 'insecure_url'] : ['invalid_options']
    let e
    try { await ft.refreshAccessToken(opts) } catch (err) { e = err }
    assertInvalid(e, `refreshAccessToken ${what}`, codes)
    e = undefined
    try { new ft.TokenCache(opts) } catch (err) { e = err }
    assertInvalid(e, `new TokenCache ${what}`, codes)
    n += 2
  }
  for (const [field, values] of Object.entries(cacheOnly)) {
    for (const v of values) {
      let e
      try { new ft.TokenCache({ ...good, [field]: v }) } catch (err) { e = err }
      assertInvalid(e, `new TokenCache ${field}: ${label(v)}`)
      n++
    }
  }
  console.log(`# ${n} wrong calls, each an invalid_options OAuthError`)
})

test('TokenCache methods and setKeepAlive with wrong arguments; the instance still works after', async () => {
  const cache = new ft.TokenCache(good)
  for (const v of [42, null, {}, [], Symbol('s'), hostileProxy]) {
    let e
    try { await cache.fetch(v) } catch (err) { e = err }
    assertInvalid(e, `cache.fetch(${label(v)})`)
    e = undefined
    try { await cache.fetch(server.origin + '/v1/resource', v === null ? 42 : v) } catch (err) { e = err }
    if (e) assertInvalid(e, `cache.fetch(url, ${label(v)})`)
    e = undefined
    try { ft.setKeepAlive(v) } catch (err) { e = err }
    assertInvalid(e, `setKeepAlive(${label(v)})`)
  }
  // Extra arguments are ignored, as JS does; these must not throw.
  assert.equal(cache.peek(42), cache.peek())
  cache.invalidate({ any: 'thing' })
  // A method called on the wrong `this`: wasm-bindgen's own check throws an Error (not a
  // trap), and the instance carries on.
  assert.throws(() => ft.TokenCache.prototype.peek.call({}), /null pointer passed to rust/)
  assert.throws(() => ft.TokenCache.prototype.peek.call(42), /null pointer passed to rust/)
  // The class is not for constructing.
  assert.doesNotThrow(() => new ft.OAuthError())

  // The same instance, after all of that: a real refresh and a real cache.
  const t = await ft.refreshAccessToken(good)
  assert.match(t.accessToken, /^at-/)
  assert.match(await cache.getAccessToken(), /^at-/)
  const res = await cache.fetch(server.origin + '/v1/resource')
  assert.equal(res.status, 200)
})

// client_credentials in the cache (#15, RFC 6749 §4.4): machine to machine, no refresh
// token; caching and single flight keyed by client, scope and audience. Against the bundled
// server and oidc-provider with the grant enabled.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { startTokenServer } from '../server/token-server.mjs'
import { CLIENT_ID, CLIENT_SECRET, project } from './helpers.mjs'
import { OIDC_CLIENT, startOidc } from './oidc.mjs'

let app, ft
before(async () => {
  app = await project('cc', { 'package.json': '{"name":"app","private":true,"type":"module"}' })
  ft = await import(pathToFileURL(createRequire(join(app.dir, 'package.json')).resolve('freshtoken')))
})
after(() => app?.cleanup())

test('client_credentials: 500 concurrent callers → 1 request; keyed by scope and audience; a store shares it', async () => {
  const server = await startTokenServer({ lifetimeSec: 3600 })
  try {
    const m = new Map()
    const store = { get: (k) => m.get(k) ?? null, put: (k, v) => { m.set(k, v) } }
    const base = { grant: 'client_credentials', tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, store }
    const a = new ft.TokenCache({ ...base, scope: 'read', extraParams: { audience: 'https://api.example' } })
    const tokens = await Promise.all(Array.from({ length: 500 }, () => a.getAccessToken()))
    assert.equal(new Set(tokens).size, 1)
    assert.match(tokens[0], /^at-cc-/)
    assert.equal(server.stats().tokenRequests, 1)
    const set = await a.getToken()
    assert.deepEqual([set.scope, set.raw.audience, set.refreshToken], ['read', 'https://api.example', undefined])
    assert.deepEqual(Object.keys(JSON.parse([...m.values()][0])).sort(), ['accessToken', 'expiresAt', 'expiresIn', 'scope', 'tokenType', 'v'], 'no refresh token stored')
    // Another process with the same client, scope and audience: the store's token, 0 requests.
    const twin = new ft.TokenCache({ ...base, scope: 'read', extraParams: { audience: 'https://api.example' } })
    assert.equal(twin.storeKey, a.storeKey)
    assert.equal(await twin.getAccessToken(), tokens[0])
    assert.equal(server.stats().tokenRequests, 1)
    // Another scope or audience is another token under another key.
    const other = new ft.TokenCache({ ...base, scope: 'write', extraParams: { audience: 'https://api.example' } })
    const aud = new ft.TokenCache({ ...base, scope: 'read', extraParams: { audience: 'https://other.example' } })
    assert.equal(new Set([a.storeKey, other.storeKey, aud.storeKey]).size, 3)
    assert.notEqual(await other.getAccessToken(), tokens[0])
    assert.notEqual(await aud.getAccessToken(), tokens[0])
    assert.equal(server.stats().tokenRequests, 3)
    for (const c of [a, other, aud]) assert.ok(!c.storeKey.includes(CLIENT_SECRET))
    // One-shot through refreshAccessToken too.
    const one = await ft.refreshAccessToken({ grant: 'client_credentials', tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })
    assert.match(one.accessToken, /^at-cc-/)
    assert.equal(one.refreshToken, undefined)
  } finally {
    await server.close()
  }
})

test('client_credentials: options — no secret, unknown grant', async () => {
  const base = { tokenUrl: 'https://auth.example/token', clientId: 'c' }
  assert.throws(() => new ft.TokenCache({ ...base, grant: 'client_credentials' }), (e) => e.code === 'invalid_options' && /clientSecret/.test(e.message))
  assert.throws(() => new ft.TokenCache({ ...base, clientSecret: 's', grant: 'password' }), (e) => e.code === 'invalid_options' && /grant/.test(e.message))
  assert.throws(() => new ft.TokenCache({ ...base, clientSecret: 's' }), (e) => e.code === 'invalid_options' && /refreshToken/.test(e.message), 'the refresh grant still needs its token')
})

test('client_credentials: oidc-provider issues, the cache keeps it, 100 callers → 1 request; a wrong secret is invalid_client', async () => {
  const op = await startOidc({})
  try {
    const cache = new ft.TokenCache({ grant: 'client_credentials', tokenUrl: op.tokenUrl, clientId: OIDC_CLIENT.id, clientSecret: OIDC_CLIENT.secret, clientAuth: 'client_secret_basic' })
    const before = op.counts.token
    const tokens = await Promise.all(Array.from({ length: 100 }, () => cache.getAccessToken()))
    assert.equal(new Set(tokens).size, 1)
    assert.ok(tokens[0].length > 20)
    assert.equal(op.counts.token - before, 1)
    const set = await cache.getToken()
    assert.equal(set.raw.token_type, 'Bearer')
    assert.ok(set.expiresIn > 0)
    const bad = new ft.TokenCache({ grant: 'client_credentials', tokenUrl: op.tokenUrl, clientId: OIDC_CLIENT.id, clientSecret: 'not-the-secret', clientAuth: 'client_secret_basic' })
    const err = await bad.getAccessToken().then(() => null, (e) => e)
    assert.equal(err?.code, 'invalid_client')
    assert.ok(!JSON.stringify(err).includes('not-the-secret') && !String(err).includes('not-the-secret'))
  } finally {
    await op.close()
  }
})

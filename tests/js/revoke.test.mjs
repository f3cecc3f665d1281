// Token revocation (#15, RFC 7009) against a real server: oidc-provider with revocation
// enabled. revokeToken() and TokenCache.revoke(): the server really forgets the token (a
// refresh with it gets invalid_grant), the cache and its store forget it too.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { OIDC_CLIENT, startOidc } from './oidc.mjs'
import { project } from './helpers.mjs'

let app, ft, op
before(async () => {
  app = await project('revoke', { 'package.json': '{"name":"app","private":true,"type":"module"}' })
  ft = await import(pathToFileURL(createRequire(join(app.dir, 'package.json')).resolve('freshtoken')))
  op = await startOidc({ rotate: true })
})
after(async () => {
  await op?.close()
  app?.cleanup()
})

const client = () => ({ clientId: OIDC_CLIENT.id, clientSecret: OIDC_CLIENT.secret, clientAuth: 'client_secret_basic' })
const noSecret = (e, ...secrets) => {
  const text = String(e) + JSON.stringify(e) + e.message + (e.description ?? '')
  for (const s of [OIDC_CLIENT.secret, ...secrets]) assert.ok(!text.includes(s), 'no secret in the error')
}

test('revoke: cache.revoke() revokes the rotated refresh token at the server and forgets it, in memory and in the store', async () => {
  const m = new Map()
  const store = { get: (k) => m.get(k) ?? null, put: (k, v) => { m.set(k, v) } }
  const cache = new ft.TokenCache({ tokenUrl: op.tokenUrl, revocationUrl: op.revocationUrl, ...client(), refreshToken: await op.mintRefreshToken(), store, storeKey: 'k' })
  const set = await cache.getToken()
  assert.ok(set.accessToken)
  const rotated = set.refreshToken
  await cache.revoke()
  assert.equal(cache.hasToken, false)
  assert.equal(cache.peek(), undefined)
  assert.deepEqual(JSON.parse(m.get('k')), { v: 1 }, 'the store entry holds no token')
  const err = await ft.refreshAccessToken({ tokenUrl: op.tokenUrl, ...client(), refreshToken: rotated }).then(() => null, (e) => e)
  assert.ok(err instanceof ft.OAuthError)
  assert.equal(err.code, 'invalid_grant', 'the server forgot the refresh token')
  const again = await cache.getAccessToken().then(() => null, (e) => e)
  assert.equal(again?.code, 'invalid_grant', 'the cache does not bring a revoked token back')
})

test('revoke: revokeToken() — a refresh token, an unknown token (200), a wrong secret, bad options', async () => {
  const rt = await op.mintRefreshToken()
  assert.equal(await ft.revokeToken({ revocationUrl: op.revocationUrl, ...client(), token: rt, tokenTypeHint: 'refresh_token' }), undefined)
  const err = await ft.refreshAccessToken({ tokenUrl: op.tokenUrl, ...client(), refreshToken: rt }).then(() => null, (e) => e)
  assert.equal(err?.code, 'invalid_grant')
  await ft.revokeToken({ revocationUrl: op.revocationUrl, ...client(), token: 'never-issued' })

  const wrong = await ft.revokeToken({ revocationUrl: op.revocationUrl, ...client(), clientSecret: 'wrong-secret-xyz', token: 'tok-secret-1' }).then(() => null, (e) => e)
  assert.ok(wrong instanceof ft.OAuthError)
  assert.equal(wrong.code, 'invalid_client')
  assert.equal(wrong.status, 401)
  noSecret(wrong, 'wrong-secret-xyz', 'tok-secret-1')

  const bad = [
    [{ ...client(), token: 't' }, /revocationUrl/],
    [{ revocationUrl: op.revocationUrl, ...client() }, /token/],
    [{ revocationUrl: op.revocationUrl, ...client(), token: 't', tokenTypeHint: 'id_token' }, /tokenTypeHint/],
    [{ revocationUrl: 'http://auth.example/revoke', ...client(), token: 't' }, /revocationUrl/],
  ]
  for (const [opts, re] of bad) {
    const e = await ft.revokeToken(opts).then(() => null, (x) => x)
    assert.ok(e instanceof ft.OAuthError && ['invalid_options', 'insecure_url'].includes(e.code) && re.test(e.message), String(e))
  }
  const cache = new ft.TokenCache({ tokenUrl: op.tokenUrl, ...client(), refreshToken: 'r' })
  await assert.rejects(cache.revoke(), (e) => e.code === 'invalid_options' && /revocationUrl/.test(e.message))
  assert.throws(() => new ft.TokenCache({ tokenUrl: op.tokenUrl, ...client(), refreshToken: 'r', revocationUrl: 'not a url' }), { code: 'invalid_options' })
})

test('revoke: a 503 from the revocation endpoint is a retryable http_error, and the cache forgets nothing', async () => {
  const fetch = async () => new Response('', { status: 503, headers: { 'retry-after': '3' } })
  const e = await ft.revokeToken({ revocationUrl: 'https://auth.example/revoke', clientId: 'c', token: 't', fetch }).then(() => null, (x) => x)
  assert.deepEqual([e.code, e.status, e.retryable, e.retryAfterMs], ['http_error', 503, true, 3000])
  let calls = 0
  const mixed = async (url) => (calls++, String(url).endsWith('/revoke')
    ? new Response('', { status: 503 })
    : new Response('{"access_token":"at-1","expires_in":3600}', { headers: { 'content-type': 'application/json' } }))
  const cache = new ft.TokenCache({ tokenUrl: 'https://auth.example/token', revocationUrl: 'https://auth.example/revoke', clientId: 'c', refreshToken: 'r', fetch: mixed })
  assert.equal(await cache.getAccessToken(), 'at-1')
  await assert.rejects(cache.revoke(), { code: 'http_error', status: 503 })
  assert.equal(cache.peek(), 'at-1', 'a refused revocation forgets nothing')
  assert.equal(calls, 2)
})

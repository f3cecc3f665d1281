// The whole flow against oidc-provider (authorization_code + PKCE, rotation on), from the
// packed tarball: createPkce, buildAuthorizeUrl (the provider accepts it), the code exchange
// (the provider checks the verifier), then TokenCache.fromTokenSet keeps the token fresh.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { OIDC_CLIENT, startOidc } from './oidc.mjs'
import { project } from './helpers.mjs'

let oidc, p, ft
before(async () => {
  oidc = await startOidc({ ttlSec: 3600 })
  p = await project('pkce', { 'package.json': '{"name":"app","private":true}' })
  ft = createRequire(join(p.dir, 'index.js'))('freshtoken')
})
after(async () => {
  await oidc.close()
  p.cleanup()
})

const REDIRECT = 'https://app.example/cb'
const client = () => ({ tokenUrl: oidc.tokenUrl, clientId: OIDC_CLIENT.id, clientSecret: OIDC_CLIENT.secret })

test('createPkce: a 43-character verifier, its S256 challenge, never the same twice', () => {
  const seen = new Set()
  for (let i = 0; i < 200; i++) {
    const pk = ft.createPkce()
    assert.match(pk.codeVerifier, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(pk.codeChallenge, createHash('sha256').update(pk.codeVerifier).digest('base64url'))
    assert.equal(pk.codeChallengeMethod, 'S256')
    seen.add(pk.codeVerifier)
  }
  assert.equal(seen.size, 200)
})

test('buildAuthorizeUrl: EdgeTag shape, and oidc-provider accepts the request', async () => {
  const { codeChallenge } = ft.createPkce()
  const edgetag = new URL(ft.buildAuthorizeUrl({
    authorizeUrl: 'https://app.edgetag.io/oauth/app/login', clientId: '3f2b8c1e-9d4a-4e7b-8f6c-2a1d0e9b7c55',
    redirectUri: 'https://my.app/callback', scope: 'full', state: 'st ate', codeChallenge,
  }))
  assert.deepEqual(Object.fromEntries(edgetag.searchParams), {
    response_type: 'code', client_id: '3f2b8c1e-9d4a-4e7b-8f6c-2a1d0e9b7c55', redirect_uri: 'https://my.app/callback',
    scope: 'full', state: 'st ate', code_challenge: codeChallenge, code_challenge_method: 'S256',
  })
  assert.equal(edgetag.origin + edgetag.pathname, 'https://app.edgetag.io/oauth/app/login')
  for (const bad of [{ authorizeUrl: 'http://evil.example/login' }, { codeChallenge: 'short' }, { clientId: 42 }, { extraParams: { state: 'x' } }]) {
    assert.throws(() => ft.buildAuthorizeUrl({ authorizeUrl: 'https://a.example/', clientId: 'c', state: 's', codeChallenge, ...bad }),
      (e) => e instanceof ft.OAuthError && ['invalid_options', 'insecure_url'].includes(e.code))
  }
  const url = ft.buildAuthorizeUrl({ authorizeUrl: oidc.authorizeUrl, clientId: OIDC_CLIENT.id, redirectUri: REDIRECT,
    scope: 'openid offline_access', state: 'xyz', codeChallenge, extraParams: { prompt: 'consent' } })
  const res = await fetch(url, { redirect: 'manual' })
  assert.equal(res.status, 303, await res.text())
  assert.match(res.headers.get('location'), /\/interaction\//, 'the provider took the request to its login step')
})

test('exchangeCode with the verifier → tokens; the cache seeded from them refreshes with rotation', async () => {
  const pk = ft.createPkce()
  const code = await oidc.mintCode({ codeChallenge: pk.codeChallenge })
  const before = oidc.counts.token
  const set = await ft.exchangeCode({ ...client(), code, codeVerifier: pk.codeVerifier, redirectUri: REDIRECT })
  assert.equal(oidc.counts.token, before + 1)
  assert.equal(typeof set.accessToken, 'string')
  assert.equal(typeof set.refreshToken, 'string')
  assert.equal(set.tokenType, 'Bearer')
  assert.ok(set.expiresAt > Date.now())

  const cache = ft.TokenCache.fromTokenSet(set, client())
  assert.equal(await cache.getAccessToken(), set.accessToken, 'no first refresh')
  assert.equal(oidc.counts.token, before + 1)
  const refreshed = await cache.refresh()
  assert.notEqual(refreshed.accessToken, set.accessToken)
  assert.notEqual(refreshed.refreshToken, set.refreshToken, 'rotated')
  const again = await cache.refresh()
  assert.notEqual(again.accessToken, refreshed.accessToken, 'the rotated refresh token was used')
  assert.equal(oidc.counts.token, before + 3)
})

test('exchangeCode failures: wrong verifier, reused code, bad options', async () => {
  const pk = ft.createPkce()
  const code = await oidc.mintCode({ codeChallenge: pk.codeChallenge })
  const other = ft.createPkce()
  let e
  try { await ft.exchangeCode({ ...client(), code, codeVerifier: other.codeVerifier, redirectUri: REDIRECT }) } catch (err) { e = err }
  assert.ok(e instanceof ft.OAuthError)
  assert.equal(e.code, 'invalid_grant')
  assert.equal(e.status, 400)
  for (const s of [code, other.codeVerifier, OIDC_CLIENT.secret]) assert.ok(!JSON.stringify(e).includes(s) && !e.message.includes(s))

  for (const bad of [{ code: '' }, { codeVerifier: 'too-short' }, { codeVerifier: undefined }, { tokenUrl: 'http://evil.example/token' }, { extraParams: { code_verifier: 'x' } }]) {
    let err
    try { await ft.exchangeCode({ ...client(), code: 'c', codeVerifier: pk.codeVerifier, ...bad }) } catch (x) { err = x }
    assert.ok(err instanceof ft.OAuthError && ['invalid_options', 'insecure_url'].includes(err.code), JSON.stringify(bad))
  }
  assert.throws(() => ft.TokenCache.fromTokenSet({ tokenType: 'Bearer' }, client()), (x) => x.code === 'invalid_options')
  assert.throws(() => ft.TokenCache.fromTokenSet({ accessToken: 'a' }, client()), (x) => x.code === 'invalid_options', 'no refresh token anywhere')
  const boom = new Error('clock broke')
  assert.throws(() => ft.TokenCache.fromTokenSet({ accessToken: 'a', refreshToken: 'r' }, { ...client(), now: () => { throw boom } }),
    (x) => x === boom, 'what now throws passes through unchanged')
})

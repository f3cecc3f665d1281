// refreshAccessToken from the packed tarball against oidc-provider with rotation.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { OIDC_CLIENT, startOidc } from './oidc.mjs'
import { project } from './helpers.mjs'

let oidc, p, ft
before(async () => {
  oidc = await startOidc()
  p = await project('oidc', { 'package.json': '{"name":"app","private":true}' })
  ft = createRequire(join(p.dir, 'index.js'))('freshtoken')
})
after(async () => {
  await oidc.close()
  p.cleanup()
})

const opts = (refreshToken) => ({ tokenUrl: oidc.tokenUrl, clientId: OIDC_CLIENT.id, clientSecret: OIDC_CLIENT.secret, refreshToken })

test('oidc-provider: refresh with Basic auth (reserved characters), rotation, reuse refused', async () => {
  const first = await oidc.mintRefreshToken()
  const t = await ft.refreshAccessToken(opts(first))
  assert.equal(typeof t.accessToken, 'string')
  assert.ok(t.accessToken.length > 10)
  assert.equal(t.tokenType, 'Bearer')
  assert.equal(t.expiresIn, 3600)
  assert.ok(t.refreshToken && t.refreshToken !== first, 'rotated refresh token returned')
  assert.equal(typeof t.raw.id_token, 'string')

  const second = await ft.refreshAccessToken(opts(t.refreshToken))
  assert.ok(second.refreshToken && second.refreshToken !== t.refreshToken)

  await assert.rejects(ft.refreshAccessToken(opts(first)), (e) => {
    assert.ok(e instanceof ft.OAuthError && e instanceof Error)
    assert.equal(e.code, 'invalid_grant')
    assert.equal(e.status, 400)
    assert.equal(e.retryable, false)
    assert.ok(!JSON.stringify(e).includes(first) && !String(e).includes(first))
    return true
  })
})

test('oidc-provider: wrong client secret is invalid_client, and the secret is not echoed', async () => {
  const rt = await oidc.mintRefreshToken()
  await assert.rejects(ft.refreshAccessToken({ ...opts(rt), clientSecret: 'wrong-secret-123' }), (e) => {
    assert.equal(e.code, 'invalid_client')
    assert.equal(e.status, 401)
    assert.ok(!JSON.stringify(e).includes('wrong-secret-123'))
    return true
  })
})

test('oidc-provider: client_secret_post authenticates too (credentials in the form body)', async () => {
  const rt = await oidc.mintRefreshToken()
  const t = await ft.refreshAccessToken({ ...opts(rt), clientAuth: 'client_secret_post' })
  assert.ok(t.refreshToken && t.refreshToken !== rt)
  await assert.rejects(ft.refreshAccessToken({ ...opts(t.refreshToken), clientAuth: 'client_secret_post', clientSecret: 'nope-nope' }), { code: 'invalid_client' })
})

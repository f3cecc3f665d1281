// Client authentication against servers that read RFC 6749 §2.3.1 differently (#13): the
// bundled server in each of its styles, and @node-oauth/oauth2-server (no Basic decoding).
// Auto mode (no clientAuth, no basicAuthEncoding) must find the way each accepts, remember
// it, and never spend a refresh token on a refused request.
import assert from 'node:assert/strict'
import http from 'node:http'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import OAuth2Server from '@node-oauth/oauth2-server'
import { startTokenServer } from '../server/token-server.mjs'
import { project } from './helpers.mjs'

// Reserved characters (and a space) in both parts: what base64 secrets and human ids carry.
const ID = 'edge tag/app'
const SECRET = 's3cr3t+/=:&x y'

let p, ft
before(async () => {
  p = await project('auth', { 'package.json': '{"name":"app","private":true}' })
  ft = createRequire(join(p.dir, 'index.js'))('freshtoken')
})
after(() => p.cleanup())

async function bundled(clientAuth, t) {
  const server = await startTokenServer({ clientId: ID, clientSecret: SECRET, clientAuth, rotate: true })
  t.after(() => server.close())
  return server
}

// [server style, requests for the first refresh in auto mode]
for (const [style, first] of [
  ['basic', 1], // form-decoding (oidc-provider, django-oauth-toolkit)
  ['basic-percent', 1], // percent-decoding (Authlib): accepted at once because a space is %20
  ['basic-raw', 2], // no decoding (oauth2-server, oxide-auth): Basic form refused, then raw
  ['post', 3], // only the body: Basic form, Basic raw, then client_secret_post
]) {
  test(`auto client auth against a ${style} server: ${first} request(s), then remembered`, async (t) => {
    const server = await bundled(style, t)
    const base = { tokenUrl: server.tokenUrl, clientId: ID, clientSecret: SECRET }
    const a = await ft.refreshAccessToken({ ...base, refreshToken: 'rt-initial' })
    assert.match(a.accessToken, /^at-/)
    assert.equal(server.stats().tokenRequests, first)
    const b = await ft.refreshAccessToken({ ...base, refreshToken: a.refreshToken })
    assert.match(b.accessToken, /^at-/)
    assert.equal(server.stats().tokenRequests, first + 1, 'the accepted way is remembered')
    assert.equal(server.stats().reuseDetected, 0)

    // A TokenCache shares what was learnt; 20 callers, one request.
    const cache = new ft.TokenCache({ ...base, refreshToken: b.refreshToken })
    const got = await Promise.all(Array.from({ length: 20 }, () => cache.getAccessToken()))
    assert.equal(new Set(got).size, 1)
    assert.equal(server.stats().tokenRequests, first + 2)
    assert.equal(server.stats().reuseDetected, 0)
  })
}

test('an explicit clientAuth or basicAuthEncoding is never second-guessed', async (t) => {
  const server = await bundled('basic-raw', t)
  const base = { tokenUrl: server.tokenUrl, clientId: ID, clientSecret: SECRET, refreshToken: 'rt-initial' }
  for (const pinned of [{ basicAuthEncoding: 'form' }, { clientAuth: 'client_secret_basic' }]) {
    await assert.rejects(ft.refreshAccessToken({ ...base, ...pinned }), { code: 'invalid_client', status: 401 })
  }
  assert.equal(server.stats().tokenRequests, 2, 'one request each, no fallback')
  const ok = await ft.refreshAccessToken({ ...base, basicAuthEncoding: 'raw' })
  assert.match(ok.accessToken, /^at-/)
  assert.equal(server.stats().tokenRequests, 3)
})

test('a wrong secret: every way refused once, invalid_client, nothing secret in the error', async (t) => {
  const server = await bundled('basic', t)
  const wrong = 'wr0ng+/= secret'
  const e = await ft.refreshAccessToken({ tokenUrl: server.tokenUrl, clientId: ID, clientSecret: wrong, refreshToken: 'rt-initial' })
    .then(() => assert.fail('resolved'), (e) => e)
  assert.ok(e instanceof ft.OAuthError)
  assert.equal(e.code, 'invalid_client')
  assert.equal(e.status, 401)
  assert.equal(e.retryable, false)
  assert.equal(server.stats().tokenRequests, 3, 'Basic form, Basic raw, post: then the refusal')
  for (const text of [String(e), JSON.stringify(e), e.description ?? '']) {
    assert.ok(!text.includes(wrong) && !text.includes('rt-initial'), text)
  }
  // The refresh token was never spent: the right secret still works with it.
  const ok = await ft.refreshAccessToken({ tokenUrl: server.tokenUrl, clientId: ID, clientSecret: SECRET, refreshToken: 'rt-initial' })
  assert.match(ok.accessToken, /^at-/)
})

test('a server that refused for another reason (invalid_grant, 5xx) is not asked again', async (t) => {
  const server = await bundled('basic-raw', t)
  const base = { tokenUrl: server.tokenUrl, clientId: ID, clientSecret: SECRET }
  await assert.rejects(ft.refreshAccessToken({ ...base, refreshToken: 'rt-unknown' }), { code: 'invalid_grant' })
  assert.equal(server.stats().tokenRequests, 2, 'form refused; raw authenticated, then invalid_grant')
  server.queueFault('status:503')
  await assert.rejects(ft.refreshAccessToken({ ...base, refreshToken: 'rt-initial' }), { code: 'http_error', status: 503 })
  assert.equal(server.stats().tokenRequests, 3, 'a 503 is not a refusal: no fallback')
  const ok = await ft.refreshAccessToken({ ...base, refreshToken: 'rt-initial' })
  assert.match(ok.accessToken, /^at-/)
  assert.equal(server.stats().tokenRequests, 4, 'raw remembered from the invalid_grant answer')
})

/** @node-oauth/oauth2-server 5 behind node:http, with rotation (its default). */
async function startNodeOauth() {
  const refresh = new Map()
  const client = { id: ID, grants: ['refresh_token'] }
  let requests = 0
  const model = {
    getClient: async (id, secret) => (id === ID && secret === SECRET ? client : null),
    getRefreshToken: async (rt) => refresh.get(rt) ?? null,
    revokeToken: async (t) => refresh.delete(t.refreshToken),
    saveToken: async (token, c, user) => {
      const saved = { ...token, client: c, user }
      if (token.refreshToken) refresh.set(token.refreshToken, saved)
      return saved
    },
  }
  refresh.set('rt-initial', { refreshToken: 'rt-initial', client, user: { id: 'u1' } })
  const oauth = new OAuth2Server({ model, accessTokenLifetime: 7200 })
  const server = http.createServer(async (req, res) => {
    requests++
    let body = ''
    for await (const chunk of req) body += chunk
    const request = new OAuth2Server.Request({ method: req.method, headers: req.headers, query: {}, body: Object.fromEntries(new URLSearchParams(body)) })
    const response = new OAuth2Server.Response()
    try {
      await oauth.token(request, response)
    } catch {
      // The handler has already written the §5.2 error into `response`.
    }
    res.writeHead(response.status, { 'content-type': 'application/json', ...response.headers })
    res.end(JSON.stringify(response.body))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    tokenUrl: `http://127.0.0.1:${server.address().port}/token`,
    requests: () => requests,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r) }),
  }
}

test('@node-oauth/oauth2-server (no Basic decoding): auto finds raw, rotation works, errors are real', async (t) => {
  const s = await startNodeOauth()
  t.after(() => s.close())
  const base = { tokenUrl: s.tokenUrl, clientId: ID, clientSecret: SECRET }
  const a = await ft.refreshAccessToken({ ...base, refreshToken: 'rt-initial' })
  assert.equal(a.tokenType, 'Bearer')
  // It computes expires_in from its own expiry date, so a second may have passed.
  assert.ok(a.expiresIn >= 7198 && a.expiresIn <= 7200, String(a.expiresIn))
  assert.ok(a.refreshToken && a.refreshToken !== 'rt-initial', 'rotated')
  assert.equal(s.requests(), 2, 'Basic form refused as invalid_client, then raw accepted')
  const b = await ft.refreshAccessToken({ ...base, refreshToken: a.refreshToken })
  assert.ok(b.refreshToken)
  assert.equal(s.requests(), 3, 'remembered: raw first')

  // Its own refusal of the form-encoded header, when pinned.
  const e = await ft.refreshAccessToken({ ...base, refreshToken: b.refreshToken, basicAuthEncoding: 'form' })
    .then(() => assert.fail('resolved'), (e) => e)
  assert.ok(e instanceof ft.OAuthError)
  assert.equal(e.code, 'invalid_client')
  assert.equal(e.status, 401)
  assert.ok(!JSON.stringify(e).includes(SECRET) && !String(e).includes(b.refreshToken))
  // The rotated-away token is refused as invalid_grant, with no fallback.
  const before = s.requests()
  await assert.rejects(ft.refreshAccessToken({ ...base, refreshToken: 'rt-initial' }), { code: 'invalid_grant', status: 400 })
  assert.equal(s.requests(), before + 1)
})

// The packed tarball against a real Python OAuth server: Authlib (Flask) with rotation,
// tests/server/authlib_server.py. Authlib percent-decodes the Basic credential with
// `unquote` (a `+` stays a `+`), so a space in the id or secret must go out as %20.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { project } from './helpers.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const PYTHON = join(here, '..', '.venv', 'bin', 'python')
// Reserved characters and a space in both parts.
const ID = 'edge tag/app'
const SECRET = 's3cr3t+/=:&x y'

let server, base, p, ft
before(async () => {
  const child = spawn(PYTHON, [join(here, '..', 'server', 'authlib_server.py'), ID, SECRET], {
    env: { ...process.env, AUTHLIB_INSECURE_TRANSPORT: '1' }, // plain http on 127.0.0.1
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const timer = setTimeout(() => child.kill(), 30_000)
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`the Authlib server exited (${code}) before listening: make setup installs tests/.venv`)
  })
  const [line] = await Promise.race([once(child.stdout, 'data'), exited])
  clearTimeout(timer)
  const { port, refreshToken } = JSON.parse(String(line))
  const url = `http://127.0.0.1:${port}`
  server = {
    child,
    first: refreshToken,
    stats: async () => (await fetch(`${url}/stats`)).json(),
    mint: async () => (await (await fetch(`${url}/mint`, { method: 'POST' })).json()).refreshToken,
  }
  base = { tokenUrl: `${url}/token`, clientId: ID, clientSecret: SECRET }
  p = await project('authlib', { 'package.json': '{"name":"app","private":true}' })
  ft = createRequire(join(p.dir, 'index.js'))('freshtoken')
})
after(async () => {
  server?.child.stdin.end()
  if (server && server.child.exitCode === null) await once(server.child, 'exit')
  p?.cleanup()
})

const noSecretIn = (e, ...secrets) => {
  for (const s of [SECRET, ...secrets]) {
    assert.ok(!String(e).includes(s) && !JSON.stringify(e).includes(s) && !String(e.description).includes(s))
  }
}

test('Authlib: refresh with Basic auth (a space and reserved characters) at the first try, rotation, reuse refused', async () => {
  const before = await server.stats()
  const a = await ft.refreshAccessToken({ ...base, refreshToken: server.first })
  assert.ok(a.accessToken.length > 20)
  assert.equal(a.tokenType, 'Bearer')
  assert.equal(a.expiresIn, 3600)
  assert.equal(a.scope, 'read write')
  assert.ok(a.refreshToken && a.refreshToken !== server.first, 'rotated')
  assert.equal((await server.stats()).tokenRequests - before.tokenRequests, 1, 'no fallback needed: the space went out as %20')

  const b = await ft.refreshAccessToken({ ...base, refreshToken: a.refreshToken, clientAuth: 'client_secret_basic' })
  assert.ok(b.refreshToken && b.refreshToken !== a.refreshToken)

  await assert.rejects(ft.refreshAccessToken({ ...base, refreshToken: server.first }), (e) => {
    assert.ok(e instanceof ft.OAuthError && e instanceof Error)
    assert.equal(e.code, 'invalid_grant')
    assert.equal(e.status, 400)
    assert.equal(e.retryable, false)
    noSecretIn(e, server.first, a.accessToken)
    return true
  })
  assert.equal((await server.stats()).reuse, 1, 'the server saw the one replay this test sent')
})

test('Authlib: a wrong secret is invalid_client 401 after the auto fallbacks, and the right one still works', async () => {
  const rt = await server.mint()
  const before = await server.stats()
  await assert.rejects(ft.refreshAccessToken({ ...base, clientSecret: 'not the secret', refreshToken: rt }), (e) => {
    assert.equal(e.code, 'invalid_client')
    assert.equal(e.status, 401)
    assert.match(e.description, /client_secret_basic/)
    noSecretIn(e, rt, 'not the secret')
    return true
  })
  // Basic form-encoded, Basic unencoded (the id encodes differently), client_secret_post.
  assert.equal((await server.stats()).tokenRequests - before.tokenRequests, 3)
  const t = await ft.refreshAccessToken({ ...base, refreshToken: rt })
  assert.ok(t.refreshToken, 'the refused attempts did not spend the refresh token')
})

test('Authlib: a TokenCache with a store, 20 concurrent callers, one request, the rotated token persisted and used next', async () => {
  const m = new Map()
  const store = { get: async (k) => m.get(k), put: async (k, v) => { m.set(k, v) } }
  const cache = new ft.TokenCache({ ...base, refreshToken: await server.mint(), store, storeKey: 'authlib' })
  const before = await server.stats()
  const got = await Promise.all(Array.from({ length: 20 }, () => cache.getAccessToken()))
  assert.equal(new Set(got).size, 1)
  assert.equal((await server.stats()).tokenRequests - before.tokenRequests, 1)
  const stored = JSON.parse(m.get('authlib'))
  assert.equal(stored.accessToken, got[0])

  // A second cache (another process) on the same store: it adopts the rotated refresh token,
  // so its forced refresh is accepted, not refused as a replay.
  const other = new ft.TokenCache({ ...base, refreshToken: 'the provisioned one, long rotated away', store, storeKey: 'authlib' })
  const fresh = await other.refresh()
  assert.notEqual(fresh.accessToken, got[0])
  assert.notEqual(JSON.parse(m.get('authlib')).refreshToken, stored.refreshToken, 'rotated again and persisted')
  assert.equal((await server.stats()).reuse - before.reuse, 0, 'no replay')
})

// examples/worker under `wrangler dev` (real workerd, offline), from the packed tarball,
// against the bundled token server: the Durable Object broker, the KV-backed cache, the
// 401 → invalidate → retry path, and an OAuthError reaching the Worker.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startTokenServer } from '../server/token-server.mjs'
import { CLIENT_SECRET, TGZ, run } from './helpers.mjs'

const EXAMPLE = fileURLToPath(new URL('../../examples/worker', import.meta.url))
const WRANGLER = fileURLToPath(new URL('../node_modules/.bin/wrangler', import.meta.url))

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)) })
})

test('examples/worker under wrangler dev: broker, KV cache, 401 retry, OAuthError', async (t) => {
  const server = await startTokenServer()
  t.after(() => server.close())
  const dir = mkdtempSync(join(tmpdir(), 'freshtoken-example-worker-'))
  cpSync(EXAMPLE, dir, { recursive: true, filter: (src) => !/node_modules|\.wrangler/.test(src) })
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', TGZ], { cwd: dir, timeout: 120_000 })

  const [port, inspector] = [await freePort(), await freePort()]
  const vars = { TOKEN_URL: server.tokenUrl, RESOURCE_URL: server.origin + '/v1/resource', CLIENT_SECRET, REFRESH_TOKEN: 'rt-initial' }
  const args = ['dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector),
    ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`])]
  let log = ''
  const child = spawn(WRANGLER, args, {
    cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: '1', WRANGLER_SEND_METRICS: 'false', WRANGLER_LOG_PATH: join(dir, 'logs'), NO_COLOR: '1' },
  })
  child.stdout.on('data', (d) => { log += d })
  child.stderr.on('data', (d) => { log += d })
  // Kill wrangler first, then remove its folder (it writes there until it dies).
  t.after(async () => {
    try { process.kill(-child.pid, 'SIGKILL') } catch {}
    await new Promise((r) => child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r))
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 })
  })

  const get = async (path) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(15_000) })
    return { status: res.status, body: await res.json() }
  }
  for (let i = 0; i < 120 && !/Ready on/.test(log); i++) await new Promise((r) => setTimeout(r, 500))
  assert.match(log, /Ready on/, log)

  server.queueFault('invalid_client')
  const failed = await get('/broker')
  assert.equal(failed.status, 502)
  assert.deepEqual({ ...failed.body, message: undefined }, { error: 'invalid_client', status: 401, message: undefined })
  assert.doesNotMatch(failed.body.message, new RegExp(CLIENT_SECRET))
  // Auto client auth: the refused Basic header, then client_secret_post once (refused too).
  assert.equal(server.stats().tokenRequests, 2)
  // Within the failure cooldown (1 s) the broker answers with the same error, sending nothing.
  assert.equal((await get('/broker')).status, 502)
  assert.equal(server.stats().tokenRequests, 2)
  await new Promise((r) => setTimeout(r, 1100))

  const broker = await get('/broker')
  assert.equal(broker.status, 200)
  assert.equal(broker.body.via, 'durable-object')
  assert.equal(broker.body.tokenType, 'Bearer')
  assert.ok(broker.body.expiresAt > Date.now() + 7000_000)
  assert.equal(server.stats().tokenRequests, 3)

  const resource = await get('/resource')
  assert.deepEqual(resource, { status: 200, body: { ok: true, data: 'protected resource' } })
  assert.equal(server.stats().tokenRequests, 3, 'the broker served its cached token')

  await fetch(server.origin + '/control/revoke', { method: 'POST' }) // every token now gets 401
  const retried = await get('/resource')
  assert.deepEqual(retried, { status: 200, body: { ok: true, data: 'protected resource' } })
  assert.equal(server.stats().tokenRequests, 4, '401 → brokerInvalidate → one refresh → retry')

  const kv = await get('/kv')
  assert.equal(kv.body.via, 'kv')
  assert.equal(server.stats().tokenRequests, 5)
  assert.equal((await get('/kv')).body.expiresAt, kv.body.expiresAt)
  assert.equal(server.stats().tokenRequests, 5, 'the KV cache served from memory')
  t.diagnostic(`wrangler dev: ${server.stats().tokenRequests} token requests`)
})

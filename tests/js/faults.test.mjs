// The fault matrix from the packed tarball, in real Node and in real workerd: every fault of
// API.md → the documented error, for refreshAccessToken and for a TokenCache that then
// serves the next call. One table (fault-runner.mjs), two hosts.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { startTokenServer } from '../server/token-server.mjs'
import { CASES } from './fault-runner.mjs'
import { project } from './helpers.mjs'
import { bundleWorker, startWorker } from './workerd.mjs'

const RUNNER = readFileSync(new URL('./fault-runner.mjs', import.meta.url), 'utf8')
let server, p, refusedUrl
before(async () => {
  server = await startTokenServer()
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)) })
  })
  refusedUrl = `http://127.0.0.1:${port}/v1/oauth-app/client/token`
  p = await project('faults', {
    'package.json': JSON.stringify({ name: 'faults', private: true, type: 'module' }),
    'fault-runner.mjs': RUNNER,
    'worker.js': `import * as ft from 'freshtoken'\nimport { runFaults } from './fault-runner.mjs'\n` +
      `export default { async fetch(req) { const u = new URL(req.url); ` +
      `return Response.json(await runFaults(ft, u.searchParams.get('origin'), u.searchParams.get('refused'))) } }`,
  })
})
after(async () => {
  await server.close()
  p.cleanup()
})

function check(results, host) {
  assert.equal(results.length, CASES.length)
  for (const [i, [fault, code, status, retryable, extra]] of CASES.entries()) {
    const r = results[i]
    const want = { name: 'OAuthError', code, status, retryable, isOAuthError: true }
    const got = (x) => x && typeof x === 'object' ? { name: x.name, code: x.code, status: x.status ?? undefined, retryable: x.retryable, isOAuthError: x.isOAuthError } : x
    assert.deepEqual(got(r.direct), want, `${host} refreshAccessToken, fault ${fault}`)
    if (extra === 'retryAfter7s') assert.equal(r.direct.retryAfterMs, 7000, fault)
    if (extra === 'retryAfterDate') assert.ok(r.direct.retryAfterMs >= 27_000 && r.direct.retryAfterMs <= 30_000, `${fault}: ${r.direct.retryAfterMs}`)
    if (extra === 'directOnly') continue // a cache's signal is its lifetime: aborting it ends the cache
    assert.deepEqual(got(r.cache), want, `${host} TokenCache, fault ${fault}`)
    assert.equal(r.after, 'token', `${host}: the same cache serves the next call after ${fault}`)
  }
}

test(`fault matrix in Node: ${CASES.length} faults × (refreshAccessToken, TokenCache + next call)`, async () => {
  const ft = await import(pathToFileURL(join(p.dir, 'node_modules/freshtoken/node.mjs')))
  const { runFaults } = await import(pathToFileURL(join(p.dir, 'fault-runner.mjs')))
  check(await runFaults(ft, server.origin, refusedUrl), 'node')
})

test(`fault matrix in workerd: ${CASES.length} faults × (refreshAccessToken, TokenCache + next call)`, async (t) => {
  const mf = startWorker(await bundleWorker(p.dir))
  t.after(() => mf.dispose())
  const res = await mf.dispatchFetch(`http://worker.local/?origin=${encodeURIComponent(server.origin)}&refused=${encodeURIComponent(refusedUrl)}`,
    { signal: AbortSignal.timeout(60_000) })
  const text = await res.text()
  assert.equal(res.status, 200, text)
  check(JSON.parse(text), 'workerd')
})

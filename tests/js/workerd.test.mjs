// The packed tarball in a fresh Worker project (the `workerd` condition), run in real
// workerd: a real refresh against the token server, a real OAuthError.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startTokenServer } from '../server/token-server.mjs'
import { HOST_SCRIPT, assertHostResult, project } from './helpers.mjs'
import { bundleWorker, startWorker } from './workerd.mjs'

let server
before(async () => { server = await startTokenServer() })
after(() => server.close())

test('workerd (miniflare): import with no init, refresh, OAuthError', async () => {
  const p = await project('workerd', {
    'package.json': JSON.stringify({ name: 'worker', private: true, type: 'module' }),
    'worker.js': `import * as ft from 'freshtoken'\n${HOST_SCRIPT}\n` +
      `export default { async fetch(req) { const origin = new URL(req.url).searchParams.get('origin'); ` +
      `return Response.json({ exports: Object.keys(ft).sort(), ...(await check(ft, origin)) }) } }`,
  })
  const mf = startWorker(await bundleWorker(p.dir))
  try {
    const res = await mf.dispatchFetch(`http://worker.local/?origin=${encodeURIComponent(server.origin)}`)
    const text = await res.text()
    assert.equal(res.status, 200, text)
    const r = JSON.parse(text)
    assert.deepEqual(r.exports, ['OAuthError', 'TokenCache', 'buildAuthorizeUrl', 'createPkce', 'exchangeCode', 'refreshAccessToken', 'revokeToken'])
    assertHostResult(assert, r)
  } finally {
    await mf.dispose()
    p.cleanup()
  }
})

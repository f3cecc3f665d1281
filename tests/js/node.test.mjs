// The packed tarball in fresh Node projects: ESM `import` and CommonJS `require`.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startTokenServer } from '../server/token-server.mjs'
import { CLIENT_ID, CLIENT_SECRET, HOST_SCRIPT, assertHostResult, project, run } from './helpers.mjs'

let server
before(async () => { server = await startTokenServer() })
after(() => server.close())

for (const [kind, type, file, load] of [
  ['esm', 'module', 'main.mjs', `import * as ft from 'freshtoken'`],
  ['cjs', 'commonjs', 'main.cjs', `const ft = require('freshtoken')`],
]) {
  test(`node ${kind}: import, refresh, OAuthError`, async () => {
    const p = await project(`node-${kind}`, {
      'package.json': JSON.stringify({ name: 'app', private: true, type }),
      [file]: `${load}\n${HOST_SCRIPT}\ncheck(ft, process.argv[2]).then((r) => console.log(JSON.stringify({ exports: Object.keys(ft).sort(), ...r })))`,
    })
    try {
      const { stdout } = await run('node', [file, server.origin], { cwd: p.dir, timeout: 30_000 })
      const r = JSON.parse(stdout)
      // CommonJS shows the whole wasm-bindgen glue, setKeepAlive (for workerd-like hosts) included.
      const expected = ['OAuthError', 'TokenCache', 'buildAuthorizeUrl', 'createPkce', 'exchangeCode', 'refreshAccessToken', 'revokeToken', ...(kind === 'cjs' ? ['setKeepAlive'] : [])]
      assert.deepEqual(r.exports.filter((k) => k !== 'default'), expected)
      assertHostResult(assert, r)
    } finally {
      p.cleanup()
    }
  })
}

test('node: the README one-liners print function', async () => {
  const p = await project('node-oneliner', { 'package.json': '{"name":"app","private":true}' })
  try {
    const esm = await run('node', ['-e', "import('freshtoken').then(m => console.log(typeof m.refreshAccessToken))"], { cwd: p.dir })
    assert.equal(esm.stdout.trim(), 'function')
    const cjs = await run('node', ['-e', "console.log(typeof require('freshtoken').refreshAccessToken)"], { cwd: p.dir })
    assert.equal(cjs.stdout.trim(), 'function')
    const both = await run('node', ['--input-type=module', '-e',
      "import { createRequire } from 'node:module'; import * as e from 'freshtoken'; const c = createRequire(process.cwd() + '/x.js')('freshtoken'); console.log(e.OAuthError === c.OAuthError)"], { cwd: p.dir })
    assert.equal(both.stdout.trim(), 'true', 'ESM and CJS share one instance and one OAuthError class')
  } finally {
    p.cleanup()
  }
})

test('node: a node-fetch style fetch (a Node stream body, no Content-Length) refreshes', async () => {
  // Found trying the `fetch` option as node-fetch users would: its body is a Node stream, not
  // a WHATWG one, and without a Content-Length the refresh failed as network_error.
  const { Readable } = await import('node:stream')
  const { createRequire } = await import('node:module')
  const { join } = await import('node:path')
  const p = await project('node-fetch-shape', { 'package.json': '{"name":"app","private":true}' })
  try {
    const ft = createRequire(join(p.dir, 'index.js'))('freshtoken')
    const nodeFetchLike = async (url, init) => {
      const res = await fetch(url, init)
      const text = await res.text()
      const headers = new Headers([...res.headers].filter(([k]) => k !== 'content-length'))
      return { status: res.status, ok: res.ok, headers, body: Readable.from([text]), text: async () => text }
    }
    const base = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: 'rt-initial', fetch: nodeFetchLike }
    const set = await ft.refreshAccessToken({ ...base, tokenUrl: server.tokenUrl })
    assert.match(set.accessToken, /^at-/)
    const err = await ft.refreshAccessToken({ ...base, tokenUrl: server.origin + '/f/invalid_grant' }).catch((e) => e)
    assert.equal(err.code, 'invalid_grant')
    assert.equal(err.status, 400)
  } finally {
    p.cleanup()
  }
})

// Cold start in real workerd (miniflare): a fresh workerd for each run, timed from its start
// until a Worker's first refresh has answered. An empty Worker gives the floor; the figure
// for a library is what it adds to that. Bundled as wrangler would (tests/js/workerd.mjs).
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleWorker, startWorker } from '../tests/js/workerd.mjs'

const O4W_DIR = fileURLToPath(new URL('../tests/node_modules/oauth4webapi/', import.meta.url))

/** Median ms per contender: `{ emptyMs, freshtoken, oauth4webapi }`. */
export async function workerdColdStart({ server, client, pkg, runs }) {
  const dir = mkdtempSync(join(tmpdir(), '.freshtoken-bench-workerd-'))
  try {
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(pkg, join(dir, 'node_modules', 'freshtoken'))
    symlinkSync(O4W_DIR, join(dir, 'node_modules', 'oauth4webapi'))
    const opts = JSON.stringify(client)
    const as = JSON.stringify({ issuer: server.origin, token_endpoint: server.tokenUrl })
    const workers = {
      emptyMs: `export default { async fetch() { return Response.json({ ok: true }) } }`,
      freshtoken: `import { refreshAccessToken } from 'freshtoken'
        export default { async fetch() { const s = await refreshAccessToken(${opts}); return Response.json({ ok: !!s.accessToken }) } }`,
      oauth4webapi: `import * as oauth from 'oauth4webapi'
        export default { async fetch() {
          const as = ${as}, c = { client_id: ${JSON.stringify(client.clientId)} }
          const res = await oauth.refreshTokenGrantRequest(as, c, oauth.ClientSecretBasic(${JSON.stringify(client.clientSecret)}), ${JSON.stringify(client.refreshToken)}, { [oauth.allowInsecureRequests]: true })
          const s = await oauth.processRefreshTokenResponse(as, c, res)
          return Response.json({ ok: !!s.access_token })
        } }`,
    }
    const out = {}
    for (const [name, source] of Object.entries(workers)) {
      writeFileSync(join(dir, `${name}.js`), source)
      const script = await bundleWorker(dir, `${name}.js`)
      const times = []
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now()
        const mf = startWorker(script)
        try {
          const res = await mf.dispatchFetch('http://bench.local/')
          const body = await res.json()
          if (!body.ok) throw new Error(`${name}: the Worker's refresh failed`)
          times.push(performance.now() - t0)
        } finally {
          await mf.dispose()
        }
      }
      out[name] = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]
    }
    return out
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// The packed tarball in the browsers besides Chromium (#13): Firefox ESR (geckodriver) and
// WebKitGTK's MiniBrowser (WebKitWebDriver under Xvfb), each loading the page a user's esbuild
// bundle makes: a real cross-origin refresh, a real OAuthError, 20 callers -> 1 request.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startTokenServer } from '../server/token-server.mjs'
import { serveStatic } from './chromium.mjs'
import { HOST_MAIN, assertCacheResult, project, run } from './helpers.mjs'
import { firefox, webkit } from './webdriver.mjs'

const ESBUILD = fileURLToPath(new URL('../node_modules/.bin/esbuild', import.meta.url))
const APP = `import { refreshAccessToken, TokenCache, OAuthError } from 'freshtoken'
${HOST_MAIN}
window.result = main(new URLSearchParams(location.search).get('origin')).then((r) => JSON.stringify(r), (e) => 'ERR ' + (e && e.stack || e))
`

let server, site, p
before(async () => {
  server = await startTokenServer()
  p = await project('browsers', {
    'package.json': JSON.stringify({ name: 'app', private: true, type: 'module' }),
    'src/index.js': APP,
    'dist/index.html': '<!doctype html><meta charset="utf-8"><script type="module" src="index.js"></script>',
  })
  await run(ESBUILD, ['src/index.js', '--bundle', '--format=esm', '--minify', '--outdir=dist', '--log-level=warning'], { cwd: p.dir })
  await run('cp', [join(p.dir, 'node_modules/freshtoken/freshtoken_bg.wasm'), join(p.dir, 'dist/')])
  site = await serveStatic(join(p.dir, 'dist'))
})
after(async () => {
  await site?.close()
  await server?.close()
  p?.cleanup()
})

for (const [name, open] of [['Firefox ESR', firefox], ['WebKitGTK MiniBrowser', webkit]]) {
  test(`${name}: real refresh, OAuthError, single flight`, async () => {
    const browser = await open()
    try {
      const text = await browser.page(`${site.origin}/?origin=${encodeURIComponent(server.origin)}`)
      assert.equal(typeof text, 'string')
      assert.ok(!text.startsWith('ERR'), `${name}: ${text}`)
      assertCacheResult(assert, JSON.parse(text), name)
    } finally {
      await browser.close()
    }
  })
}

// The packed tarball in a fresh Vite project (the `browser` condition), built, served and run
// in headless Chromium: a real refresh against the token server (CORS), a real OAuthError.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { build } from 'vite'
import { startTokenServer } from '../server/token-server.mjs'
import { launch, serveStatic } from './chromium.mjs'
import { HOST_SCRIPT, assertHostResult, project } from './helpers.mjs'

let server, browser
before(async () => {
  server = await startTokenServer()
  browser = await launch()
})
after(async () => {
  await browser?.close()
  await server.close()
})

test('browser bundle (vite): import with no init, refresh, OAuthError', async () => {
  const p = await project('vite', {
    'package.json': JSON.stringify({ name: 'app', private: true, type: 'module' }),
    'index.html': '<!doctype html><script type="module" src="./main.js"></script>',
    'main.js': `import * as ft from 'freshtoken'\n${HOST_SCRIPT}\n` +
      `window.result = check(ft, new URLSearchParams(location.search).get('origin')).then((r) => JSON.stringify(r), (e) => 'ERR ' + e)`,
  })
  const site = await (async () => {
    await build({ root: p.dir, logLevel: 'warn', build: { outDir: join(p.dir, 'dist') } })
    return serveStatic(join(p.dir, 'dist'))
  })()
  try {
    const page = await browser.newPage()
    const errors = []
    page.on('pageerror', (e) => errors.push(String(e)))
    await page.goto(`${site.origin}/?origin=${encodeURIComponent(server.origin)}`)
    const text = await page.waitForFunction(() => window.result, null, { timeout: 20_000 }).then(() => page.evaluate(() => window.result))
    assert.deepEqual(errors, [])
    assert.ok(!text.startsWith('ERR'), text)
    assertHostResult(assert, JSON.parse(text))
  } finally {
    await site.close()
    p.cleanup()
  }
})

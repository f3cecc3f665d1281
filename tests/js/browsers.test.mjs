// The packed tarball in the browsers besides Chromium (#13): Firefox ESR (geckodriver) and
// WebKitGTK's MiniBrowser (WebKitWebDriver under Xvfb), each loading the page a user's esbuild
// bundle makes: a real cross-origin refresh, a real OAuthError, 20 callers -> 1 request.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startTokenServer } from '../server/token-server.mjs'
import { HOST_MAIN, assertCacheResult, esbuildSite } from './helpers.mjs'
import { firefox, webkit } from './webdriver.mjs'

const APP = `import { refreshAccessToken, TokenCache, OAuthError } from 'freshtoken'
${HOST_MAIN}
window.result = main(new URLSearchParams(location.search).get('origin')).then((r) => JSON.stringify(r), (e) => 'ERR ' + (e && e.stack || e))
`

let server, site
before(async () => {
  server = await startTokenServer()
  site = await esbuildSite('browsers', APP)
})
after(async () => {
  await site?.close()
  await server?.close()
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

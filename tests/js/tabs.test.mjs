// Single flight across browser tabs (#14): pages of one origin in headless Chromium, each
// with a TokenCache on freshtoken/tabs (localStorage + Web Locks), against the bundled
// token server rotating with reuse detection (CORS, another port).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startTokenServer } from '../server/token-server.mjs'
import { launch } from './chromium.mjs'
import { CLIENT_ID, CLIENT_SECRET, esbuildSite } from './helpers.mjs'

const APP = `import { TokenCache } from 'freshtoken'
import { tabStore } from 'freshtoken/tabs'
window.start = (tokenUrl, extra = {}) => {
  const { noLocks, ...opts } = extra
  window.cache = new TokenCache({
    tokenUrl, clientId: ${JSON.stringify(CLIENT_ID)}, clientSecret: ${JSON.stringify(CLIENT_SECRET)},
    clientAuth: 'client_secret_basic', refreshToken: 'rt-initial', storeKey: 'tabs', refreshSkewMs: 1500,
    store: tabStore(noLocks ? { locks: null } : {}), ...opts,
  })
  return typeof window.cache.constructor
}
window.burst = async (n) => {
  const got = await Promise.allSettled(Array.from({ length: n }, () => window.cache.getAccessToken()))
  return { tokens: [...new Set(got.filter((g) => g.status === 'fulfilled').map((g) => g.value))], errors: [...new Set(got.filter((g) => g.status === 'rejected').map((g) => g.reason.code + ' ' + g.reason.message))], expiresAt: window.cache.expiresAt }
}
`

let browser, site
before(async () => {
  site = await esbuildSite('tabs', APP)
  browser = await launch()
})
after(async () => {
  await browser?.close()
  await site?.close()
})

/** `n` tabs of the site in one context (one origin: shared localStorage and Web Locks). */
async function tabs(n, tokenUrl, extra) {
  const context = await browser.newContext()
  const pages = []
  for (let i = 0; i < n; i++) {
    const page = await context.newPage()
    await page.goto(site.origin + '/')
    await page.waitForFunction(() => typeof window.start === 'function', null, { timeout: 30_000 })
    await page.evaluate(([u, e]) => window.start(u, e), [tokenUrl, extra])
    pages.push(page)
  }
  return { context, pages }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

test('tabs: 5 tabs × 20 callers × 3 expiries → 1 token request per expiry, 0 reuses', async () => {
  const server = await startTokenServer({ rotate: true, lifetimeSec: 3, grantDelayMs: 200 })
  const { context, pages } = await tabs(5, server.tokenUrl)
  try {
    const rounds = 3
    const all = new Set()
    for (let r = 0; r < rounds; r++) {
      const got = await Promise.all(pages.map((pg) => pg.evaluate(() => window.burst(20))))
      for (const g of got) {
        assert.deepEqual(g.errors, [])
        assert.equal(g.tokens.length, 1)
        all.add(g.tokens[0])
      }
      assert.equal(new Set(got.map((g) => g.tokens[0])).size, 1, 'every tab has the same token')
      await sleep(Math.max(0, got[0].expiresAt - 1500 - Date.now() + 50))
    }
    const stats = server.stats()
    console.log(`tabs: 5 tabs × ${rounds} expiries: ${stats.tokenRequests} token requests, ${stats.reuseDetected} reuses`)
    assert.equal(stats.reuseDetected, 0)
    assert.equal(stats.tokenRequests, rounds)
    assert.equal(all.size, rounds)
  } finally {
    await context.close()
    await server.close()
  }
})

test('tabs: closing the tab that holds the lock mid-refresh → another tab completes', async () => {
  const server = await startTokenServer({ rotate: true, lifetimeSec: 60, grantDelayMs: 1500 })
  const { context, pages } = await tabs(3, server.tokenUrl)
  try {
    const [holder, ...rest] = pages
    holder.evaluate(() => window.burst(5)).catch(() => {}) // never settles: the tab closes
    for (let i = 0; i < 200 && !server.stats().pending; i++) await sleep(20)
    assert.equal(server.stats().pending, 1, 'the holder is mid-refresh')
    await holder.close()
    const started = Date.now()
    const got = await Promise.all(rest.map((pg) => pg.evaluate(() => window.burst(10))))
    for (const g of got) assert.deepEqual(g.errors, [])
    assert.equal(new Set(got.map((g) => g.tokens[0])).size, 1)
    const stats = server.stats()
    console.log(`tabs: holder closed mid-refresh; the others had a token ${Date.now() - started} ms later; ${stats.tokenRequests} requests, ${stats.abandoned} abandoned, ${stats.reuseDetected} reuses`)
    assert.equal(stats.reuseDetected, 0)
    assert.equal(stats.abandoned, 1)
    assert.equal(stats.tokenRequests, 2)
  } finally {
    await context.close()
    await server.close()
  }
})

test('tabs: without Web Locks → single flight within each tab, a sibling tab\'s stored token adopted', async () => {
  const server = await startTokenServer({ rotate: true, lifetimeSec: 60 })
  const { context, pages } = await tabs(2, server.tokenUrl, { noLocks: true })
  try {
    const a = await pages[0].evaluate(() => window.burst(20))
    assert.deepEqual(a.errors, [])
    const b = await pages[1].evaluate(() => window.burst(20))
    assert.deepEqual(b.tokens, a.tokens, 'adopted from localStorage')
    assert.equal(server.stats().tokenRequests, 1)
  } finally {
    await context.close()
    await server.close()
  }
})

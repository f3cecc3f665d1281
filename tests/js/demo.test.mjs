// The `make demo` page in Debian's headless Chromium (playwright-core), against the demo
// server and its bundled token server: a token, the countdown moving, a 503 retried, an
// invalid_grant shown with its code, the 401-once API call, 375 px dark mode; screenshots
// go to test-output/.
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startDemo } from '../../www/serve.mjs'
import { startTokenServer } from '../server/token-server.mjs'
import { CLIENT_SECRET, run } from './helpers.mjs'
import { launch } from './chromium.mjs'

const OUT = fileURLToPath(new URL('../../test-output/', import.meta.url))
let demo, browser
before(async () => {
  mkdirSync(OUT, { recursive: true })
  demo = await startDemo({ port: 0, tokenPort: 0, lifetimeSec: 30 })
  browser = await launch()
})
after(async () => {
  await browser?.close()
  await demo?.close()
})

/** Waits for a log line matching `selector` (and `text`, if given). */
const logLine = (page, selector, text) =>
  page.locator(`#log li${selector}`, text ? { hasText: text } : {}).first().waitFor({ timeout: 15_000 })

test('demo page: token, countdown, 503 retried, invalid_grant, 401 once, screenshots', async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1250 }, colorScheme: 'light' })
  const problems = []
  page.on('pageerror', (e) => problems.push(e.message))
  // The browser reports the deliberate 503, 400 and 401 as failed resource loads; anything else counts.
  page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource: .* status of (503|400|401)/.test(m.text())) problems.push(m.text()) })
  await page.goto(demo.url)

  await page.locator('#state[data-state="fresh"]').waitFor({ timeout: 15_000 })
  const masked = await page.textContent('#token')
  assert.match(masked, /^at-•+.{4}$/, 'the token is masked')
  await page.click('#reveal')
  assert.match(await page.textContent('#token'), /^at-[A-Za-z0-9_-]+$/, 'revealed')
  assert.equal(await page.getAttribute('#reveal', 'aria-pressed'), 'true')
  await page.click('#reveal')

  const width = () => page.$eval('#fill', (el) => parseFloat(el.style.width))
  const w0 = await width()
  const c0 = await page.textContent('#countdown')
  await page.waitForTimeout(1200)
  assert.ok(await width() < w0, 'the countdown bar moves')
  assert.notEqual(await page.textContent('#countdown'), c0)
  assert.match(await page.$eval('#skew', (el) => el.style.left), /^50(\.00)?%$/, 'skew marked at half of a 30 s lifetime (60 s skew, capped)')

  await page.click('[data-fault="status:503"]')
  await page.click('#refresh')
  await logLine(page, '[data-kind="warn"]', 'POST token → 503')
  await logLine(page, '[data-kind="retry"]', 'retry after HTTP 503')
  await logLine(page, '[data-kind="refresh"]')
  await page.locator('#state[data-state="fresh"]').waitFor()

  await page.click('[data-fault="invalid_grant"]')
  await page.click('#refresh')
  await logLine(page, '[data-code="invalid_grant"]', 'refresh() → invalid_grant 400')
  await page.click('#get') // the same cache recovers
  await page.locator('#state[data-state="fresh"]').waitFor()

  await page.click('#api')
  await logLine(page, '', 'GET /v1/resource → 401')
  await logLine(page, '[data-kind="ok"]', 'API answered 200')
  await page.locator('#state[data-state="fresh"]').waitFor()

  await page.screenshot({ path: OUT + 'demo.png', fullPage: true })
  const text = await page.evaluate(() => document.body.innerText)
  assert.doesNotMatch(text, new RegExp(CLIENT_SECRET), 'the secret is only in its password field')
  assert.deepEqual(problems, [])
  await page.close()
})

test('demo page: 375 px wide, dark, labelled controls', async () => {
  const page = await browser.newPage({ viewport: { width: 375, height: 900 }, colorScheme: 'dark' })
  await page.goto(demo.url)
  await page.locator('#state[data-state="fresh"]').waitFor({ timeout: 15_000 })
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 0, `no horizontal scrolling at 375 px (overflow ${overflow}px)`)
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
  assert.equal(bg, 'rgb(14, 17, 23)', 'dark theme')
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, button')]
    .filter((el) => !(el.labels?.length || el.textContent.trim() || el.getAttribute('aria-label')))
    .map((el) => el.id || el.outerHTML))
  assert.deepEqual(unlabelled, [])
  await page.screenshot({ path: OUT + 'demo-375-dark.png', fullPage: true })
  await page.close()
})

test('demo page: Connect runs authorize (PKCE) → code exchange → a seeded cache', async () => {
  const page = await browser.newPage({ viewport: { width: 900, height: 1000 } })
  const problems = []
  page.on('pageerror', (e) => problems.push(e.message))
  await page.goto(demo.url)
  await page.locator('#state[data-state="fresh"]').waitFor({ timeout: 15_000 })
  const before = demo.tokens.stats().tokenRequests
  await page.click('#connect')
  await logLine(page, '[data-kind="refresh"]', 'connected: code exchanged, new refresh token')
  assert.equal(new URL(page.url()).search, '', 'the code left the address bar')
  await page.locator('#state[data-state="fresh"]').waitFor()
  assert.equal(demo.tokens.stats().tokenRequests, before + 1, 'one request: the exchange; the cache needed no refresh')
  await page.click('#refresh') // the refresh token from the exchange works
  await logLine(page, '[data-kind="refresh"]', 'new token')
  assert.deepEqual(problems, [])
  await page.close()
})

test('examples/node.mjs (the terminal half of make demo) tells its story', async (t) => {
  const server = await startTokenServer({ lifetimeSec: 30 })
  t.after(() => server.close())
  const { stdout } = await run('node', [fileURLToPath(new URL('../../examples/node.mjs', import.meta.url)), server.tokenUrl], { timeout: 30_000 })
  for (const line of [
    /getAccessToken\(\): at-•+\S{4}, expires .* \(1 request\)/,
    /10,000 more getAccessToken\(\): \d+ ns each, still 1 request/,
    /forced expiry, 2 concurrent callers → one refresh: same token, 2 requests in all/,
    /refresh\(\) meeting a 503: retried, 2 requests, token ok/,
    /refresh\(\) meeting invalid_grant: OAuthError invalid_grant 400 — "injected invalid_grant" \(not retried, token cleared: hasToken=false\)/,
    /a caller within the 1 s failure cooldown gets the same invalid_grant, and no request is sent/,
    /after the cooldown the same cache works: at-/,
    /refreshAccessToken\(\) against a hanging server: timeout after 500 ms, retryable=true/,
  ]) assert.match(stdout, line)
  assert.equal(server.stats().tokenRequests, 7)
})

test('demo page: refresh ahead — the event stream shows a background refresh while the token stays served', async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1250 } })
  const problems = []
  page.on('pageerror', (e) => problems.push(e.message))
  try {
    await page.goto(demo.url)
    await page.locator('#state[data-state="fresh"]').waitFor({ timeout: 15_000 })
    await logLine(page, '[data-kind="event"]', 'refreshEnd ok=true')
    // 30 s tokens, skew capped at 15 s: the keep-fresh calls start one background refresh.
    await page.locator('#log li[data-kind="event"]', { hasText: 'backgroundRefresh' }).first().waitFor({ timeout: 30_000 })
    const events = await page.locator('#log li[data-kind="event"] .msg').allTextContents()
    const i = events.findIndex((t) => t.startsWith('backgroundRefresh'))
    assert.ok(i >= 0)
    await page.locator('#log li[data-kind="event"]', { hasText: 'refreshEnd ok=true' }).nth(1).waitFor({ timeout: 15_000 })
    const all = await page.locator('#log li[data-kind="event"] .msg').allTextContents()
    assert.ok(all.some((t) => /^request attempt=1 durationMs=\d+ ok=true/.test(t)), all.join(' | '))
    assert.ok(!(await page.locator('#log li[data-kind="error"]').count()), 'no caller failed')
    await page.screenshot({ path: OUT + 'demo-refresh-ahead.png', fullPage: true })
    assert.deepEqual(problems, [])
  } finally {
    await page.close()
  }
})

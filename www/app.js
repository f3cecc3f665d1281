// The demo page: a TokenCache from the 'freshtoken' package, shown live. Everything the page
// knows about requests it learns from a logging `fetch` it gives the cache, and the hooks.
import { TokenCache, OAuthError, createPkce, buildAuthorizeUrl, exchangeCode } from 'freshtoken'

const $ = (id) => document.getElementById(id)
const config = await (await fetch('/config.json')).json()
const fields = ['tokenUrl', 'clientId', 'clientSecret', 'refreshToken']
for (const f of fields) $(f).value = config[f]

let cache
let tokenRequests = 0
let lastFailed = null // the last token request's failure, to tell a retry from a new refresh
let revealed = false
let skewMs = 60_000
let lifetimeMs = config.lifetimeSec * 1000

/** The page's fetch: forwards to the real one and logs every token request and API call. */
async function loggingFetch(input, init) {
  const request = new Request(input, init)
  const isToken = request.url === $('tokenUrl').value
  const label = isToken ? 'POST token' : `${request.method} ${new URL(request.url).pathname}`
  const started = performance.now()
  if (isToken) {
    tokenRequests++
    if (lastFailed && cache?.refreshing) log('retry', `retry after ${lastFailed}`)
  }
  try {
    const res = await fetch(request)
    const ms = Math.round(performance.now() - started)
    const retryAfter = res.headers.get('retry-after')
    log(res.ok ? 'ok' : 'warn', `${label} → ${res.status}${retryAfter ? ` (Retry-After: ${retryAfter})` : ''}`, `${ms} ms`)
    if (isToken) lastFailed = res.ok ? null : `HTTP ${res.status}`
    return res
  } catch (e) {
    log('error', `${label} → network error`)
    if (isToken) lastFailed = 'a network error'
    throw e
  }
}

/** A new cache from the settings; seeded with `tokenSet` (after a code exchange) if given. */
function newCache(tokenSet) {
  skewMs = Number($('skew-s').value) * 1000
  const options = {
    tokenUrl: $('tokenUrl').value,
    clientId: $('clientId').value,
    clientSecret: $('clientSecret').value || undefined,
    refreshToken: tokenSet?.refreshToken ?? $('refreshToken').value,
    refreshSkewMs: skewMs,
    retry: { retries: 2, minDelayMs: 300, maxDelayMs: 5000 },
    timeoutMs: 10_000,
    fetch: loggingFetch,
    // The cache's own account of its work (never a secret): shown in the log as "event".
    onEvent: (e) => log('event', e.type + eventDetail(e)),
    onTokens: (set) => {
      lifetimeMs = (set.expiresIn ?? config.lifetimeSec) * 1000
      log('refresh', `new token, expires in ${set.expiresIn ?? '?'} s` + (set.raw.refresh_token ? ', refresh token rotated' : ''))
      if (set.raw.refresh_token) $('refreshToken').value = set.refreshToken
    },
  }
  cache = tokenSet ? TokenCache.fromTokenSet(tokenSet, options) : new TokenCache(options)
  if (tokenSet) lifetimeMs = (tokenSet.expiresIn ?? config.lifetimeSec) * 1000
  render()
}

// Step 1 of the flow: PKCE and state kept for the way back, then off to the login page.
$('connect').onclick = () => {
  const pkce = createPkce()
  const state = createPkce().codeVerifier.slice(0, 16) // any unguessable value will do
  sessionStorage.setItem('freshtoken-demo', JSON.stringify({ verifier: pkce.codeVerifier, state }))
  log('info', 'connect: to the login page with a PKCE challenge')
  location.assign(buildAuthorizeUrl({
    authorizeUrl: config.authorizeUrl, clientId: $('clientId').value, redirectUri: location.origin + '/',
    scope: 'full', state, codeChallenge: pkce.codeChallenge,
  }))
}

/** Steps 2 and 3, back from the login page: exchange the code, seed a cache with the tokens. */
async function finishConnect() {
  const params = new URLSearchParams(location.search)
  if (!params.has('code') && !params.has('error')) return false
  const saved = JSON.parse(sessionStorage.getItem('freshtoken-demo') ?? 'null')
  sessionStorage.removeItem('freshtoken-demo')
  history.replaceState(null, '', '/')
  if (!saved || params.get('state') !== saved.state || params.has('error')) {
    log('error', `connect: ${params.get('error') ?? 'state does not match: not our request'}`, '', 'invalid_request')
    return false
  }
  try {
    const set = await exchangeCode({
      tokenUrl: $('tokenUrl').value, clientId: $('clientId').value, clientSecret: $('clientSecret').value || undefined,
      code: params.get('code'), codeVerifier: saved.verifier, redirectUri: location.origin + '/', fetch: loggingFetch,
    })
    $('refreshToken').value = set.refreshToken
    newCache(set)
    log('refresh', `connected: code exchanged, new refresh token, token expires in ${set.expiresIn} s`)
    return true
  } catch (e) {
    log('error', `exchangeCode() → ${e.code}${e.status ? ' ' + e.status : ''}`, '', e.code)
    return false
  }
}

/** Runs one cache call, logging its outcome (errors with code and status); `quiet` skips
 *  logging cache hits (the keep-fresh timer). */
async function call(name, work, quiet = false) {
  const before = tokenRequests
  try {
    const result = await work()
    if (name === 'getAccessToken()' && tokenRequests === before && !quiet) log('hit', `${name} → from memory`)
    return result
  } catch (e) {
    if (e instanceof OAuthError) {
      const where = e.status ? ` ${e.status}` : ''
      log('error', `${name} → ${e.code}${where}${e.description ? ` — ${e.description}` : ''}`, e.retryAfterMs !== undefined ? `retryAfterMs ${e.retryAfterMs}` : '', e.code)
    } else {
      log('error', `${name} → ${e.name}: ${e.message}`)
    }
  } finally {
    lastFailed = null
    render()
  }
}

const get = (quiet) => call('getAccessToken()', () => cache.getAccessToken(), quiet)

$('get').onclick = () => get(false)
$('refresh').onclick = () => call('refresh()', () => cache.refresh())
$('invalidate').onclick = () => { cache.invalidate(); log('info', 'invalidate() → token dropped, the refresh token kept'); render() }
$('api').onclick = () => call('cache.fetch(API)', async () => {
  await fetch(config.controlUrl + '/revoke', { method: 'POST' })
  log('fault', 'server revoked every access token: the next API call gets 401')
  const res = await cache.fetch(config.resourceUrl)
  const body = await res.json()
  log(res.ok ? 'ok' : 'warn', `API answered ${res.status}${res.ok ? `: ${body.data}` : ''}`)
})
for (const b of document.querySelectorAll('.fault')) {
  b.onclick = async () => {
    await fetch(config.controlUrl + '/fault', { method: 'POST', body: JSON.stringify({ fault: b.dataset.fault }) })
    log('fault', `next token request: ${b.textContent}`)
  }
}
$('reveal').onclick = () => {
  revealed = !revealed
  $('reveal').setAttribute('aria-pressed', String(revealed))
  $('reveal').textContent = revealed ? 'Hide' : 'Reveal'
  render()
}
$('clear').onclick = () => { $('log').replaceChildren() }
$('settings').onsubmit = (e) => {
  e.preventDefault()
  try {
    newCache()
    log('info', 'settings applied: a new TokenCache')
  } catch (err) {
    log('error', `new TokenCache → ${err.code}: ${err.message}`, '', err.code)
  }
}

/** Appends a log line: time, kind, text. */
function log(kind, text, detail = '', code = '') {
  const li = document.createElement('li')
  li.dataset.kind = kind
  if (code) li.dataset.code = code
  const time = document.createElement('time')
  time.textContent = new Date().toLocaleTimeString([], { hour12: false }) + '.' + String(Date.now() % 1000).padStart(3, '0')
  const badge = document.createElement('span')
  badge.className = 'badge'
  badge.textContent = kind
  const msg = document.createElement('span')
  msg.className = 'msg'
  msg.textContent = text
  li.append(time, badge, msg)
  if (detail) {
    const d = document.createElement('span')
    d.className = 'detail'
    d.textContent = detail
    li.append(d)
  }
  const list = $('log')
  list.prepend(li)
  while (list.children.length > 200) list.lastChild.remove()
}

const mask = (t) => t.length <= 10 ? '•'.repeat(t.length) : `${t.slice(0, 3)}${'•'.repeat(12)}${t.slice(-4)}`

/** Draws the token, its state and the countdown bar with the refresh point marked. */
/** An event's fields, as `key=value` (they never hold a secret). */
function eventDetail(e) {
  const parts = Object.entries(e).filter(([k, v]) => k !== 'type' && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? Math.round(v) : v}`)
  return parts.length ? ' ' + parts.join(' ') : ''
}

function render() {
  const token = cache.peek()
  const expiresAt = cache.expiresAt
  // Within the skew the token is still served while the cache refreshes it in the background.
  const ahead = !token && cache.hasToken && expiresAt - Date.now() > 5000
  const state = cache.refreshing ? (ahead ? 'ahead' : 'refreshing') : token ? 'fresh' : ahead ? 'served' : cache.hasToken ? 'stale' : 'none'
  $('state').dataset.state = state
  $('state').textContent = { ahead: 'served, refreshing ahead…', served: 'served; refreshes ahead on next call', refreshing: 'refreshing…', fresh: 'fresh', stale: 'stale: refreshes on next call', none: 'no token' }[state]
  const shown = token ?? (ahead ? '(still served while it refreshes ahead)' : cache.hasToken ? '(stale)' : '—')
  $('token').textContent = token && !revealed ? mask(token) : shown
  if (expiresAt === undefined) {
    $('fill').style.width = '0%'
    $('skew').hidden = true
    $('meter').setAttribute('aria-valuenow', '0')
    $('countdown').textContent = 'Ask for a token to start.'
    return
  }
  const left = Math.max(0, expiresAt - Date.now())
  const pct = Math.min(100, (left / lifetimeMs) * 100)
  const skew = Math.min(skewMs, lifetimeMs / 2)
  $('fill').style.width = pct.toFixed(2) + '%'
  $('fill').dataset.late = String(left <= skew)
  $('skew').hidden = false
  $('skew').style.left = ((skew / lifetimeMs) * 100).toFixed(2) + '%'
  $('meter').setAttribute('aria-valuenow', pct.toFixed(0))
  $('countdown').textContent = left > 0
    ? `Expires in ${(left / 1000).toFixed(1)} s · the cache refreshes ahead when ${(skew / 1000).toFixed(0)} s are left; callers wait only in the last 5 s`
    : 'Expired: the next call refreshes'
}

const connected = await finishConnect()
if (!connected) newCache()
setInterval(render, 100)
setInterval(() => { if ($('auto').checked && !cache.refreshing) get(true) }, 2000)
get(false)

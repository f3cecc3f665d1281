// An EdgeTag-shaped OAuth token server with fault injection, for tests and `make demo`.
// Listens on 127.0.0.1 only.
//
//   GET  /oauth/app/login             authorize (PKCE S256): approves at once, back to redirect_uri
//   POST /v1/oauth-app/client/token   Basic client auth (or another way: `clientAuth` option),
//                                     grant_type=refresh_token, client_credentials or
//                                     authorization_code (+ code_verifier)
//   POST /f/<fault>                   the same endpoint, with <fault> applied to this request
//   POST /echo                        a token whose `echo` field is the request as received
//   GET  /v1/resource                 a protected resource (401 unless a live Bearer token)
//   POST /control/fault               {"fault": "...", "count": 1}: faults for the next requests
//   GET  /control/stats               request counters
//   POST /control/reset               counters and faults back to zero
//   POST /control/revoke              revokes every access token issued so far
//
// Faults: status:<code>[:json|html|empty], retry-after:<value>[:<code>], invalid_grant,
// invalid_client, error-200, html, not-json, truncated, empty, big, redirect, hang, stall,
// reset, reset-mid, slow:<ms>, expires-string, expires-zero, no-expires, echo-secret,
// echo-all (every secret of the request, and new tokens, in an error), grant-any (a token for
// any credentials).
import http from 'node:http'
import { createHash, randomBytes } from 'node:crypto'

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, accept, x-tenant',
  'access-control-expose-headers': 'retry-after',
  'access-control-max-age': '600',
}

/** Form-urldecodes one component the WHATWG way (`+` is a space). */
const formDecode = (s) => decodeURIComponent(s.replace(/\+/g, ' '))

/** Parses `Authorization: Basic …` per RFC 6749 §2.3.1 (both parts form-urlencoded). */
export function parseBasic(header) {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header || '')
  if (!m) return null
  const decoded = Buffer.from(m[1], 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  if (i < 0) return null
  try {
    return { id: formDecode(decoded.slice(0, i)), secret: formDecode(decoded.slice(i + 1)) }
  } catch {
    return null
  }
}

/**
 * The client a request authenticates as, the way servers seen in the wild read it:
 * `basic` (RFC 6749 §2.3.1 form-decoding: oidc-provider, django-oauth-toolkit), `basic-percent`
 * (percent-decoding, `+` stays `+`: Authlib), `basic-raw` (no decoding: @node-oauth/oauth2-server,
 * oxide-auth), `post` (only client_id and client_secret in the body).
 */
export function authenticate(header, form, style = 'basic') {
  if (style === 'post') {
    if (header) return null
    return { id: form.get('client_id'), secret: form.get('client_secret') }
  }
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header || '')
  if (style === 'basic' || !m) return parseBasic(header)
  const decoded = Buffer.from(m[1], 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  if (i < 0) return null
  const decode = style === 'basic-percent' ? decodeURIComponent : (x) => x
  try {
    return { id: decode(decoded.slice(0, i)), secret: decode(decoded.slice(i + 1)) }
  } catch {
    return null
  }
}

const token = (prefix) => prefix + '-' + randomBytes(12).toString('base64url')

export async function startTokenServer(options = {}) {
  const cfg = {
    clientId: '3f2b8c1e-9d4a-4e7b-8f6c-2a1d0e9b7c55',
    clientSecret: 'edgetag-demo-secret',
    refreshToken: 'rt-initial',
    lifetimeSec: 7200,
    rotate: false,
    ...options,
  }
  const state = {
    live: new Set([cfg.refreshToken]), // refresh tokens that work now
    used: new Set(), // rotated-away refresh tokens (reuse → revoke all)
    access: new Map(), // access token → expiry (ms)
    faults: [], // queued faults for the next token requests
    codes: new Map(), // authorization code → { challenge, redirect, expires }
    stats: { tokenRequests: 0, resourceRequests: 0, reuseDetected: 0, abandoned: 0, byFault: {} },
    sockets: new Set(),
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, { error: 'server_error', error_description: String(err) })
    })
  })
  server.on('connection', (s) => {
    state.sockets.add(s)
    s.on('close', () => state.sockets.delete(s))
  })

  async function handle(req, res) {
    const url = new URL(req.url, 'http://x')
    const body = await readBody(req)
    if (req.method === 'OPTIONS') return send(res, 204, null)
    if (url.pathname === '/control/fault' && req.method === 'POST') {
      const { fault, count = 1 } = JSON.parse(body || '{}')
      for (let i = 0; i < Math.min(count, 100); i++) state.faults.push(fault)
      return send(res, 200, { queued: state.faults.length })
    }
    if (url.pathname === '/control/stats') return send(res, 200, { ...state.stats, queued: state.faults.length })
    if (url.pathname === '/control/reset' && req.method === 'POST') {
      state.stats = { tokenRequests: 0, resourceRequests: 0, reuseDetected: 0, byFault: {} }
      state.faults = []
      return send(res, 200, {})
    }
    if (url.pathname === '/control/revoke' && req.method === 'POST') {
      state.access.clear() // every access token issued so far now gets 401
      return send(res, 200, {})
    }
    if (url.pathname === '/v1/resource') return resource(req, res)
    if (url.pathname === '/oauth/app/login' && req.method === 'GET') return authorize(url, res)
    if (req.method !== 'POST') return send(res, 404, { error: 'not_found' })
    if (url.pathname === '/echo') {
      state.stats.tokenRequests++
      return send(res, 200, {
        access_token: token('at-echo'),
        expires_in: 60,
        echo: { method: req.method, headers: req.headers, body },
      })
    }
    let fault = null
    if (url.pathname.startsWith('/f/')) fault = decodeURIComponent(url.pathname.slice(3))
    else if (url.pathname === '/v1/oauth-app/client/token') fault = state.faults.shift() ?? null
    else return send(res, 404, { error: 'not_found' })
    state.stats.tokenRequests++
    if (fault) {
      state.stats.byFault[fault] = (state.stats.byFault[fault] || 0) + 1
      if (await applyFault(fault, req, res, body)) return
    }
    return grant(req, res, body, fault)
  }

  async function grant(req, res, body, fault) {
    const form = new URLSearchParams(body)
    const client = authenticate(req.headers.authorization, form, cfg.clientAuth)
    if (!client || client.id !== cfg.clientId || client.secret !== cfg.clientSecret) {
      return send(res, 401, { error: 'invalid_client', error_description: 'client authentication failed' }, { 'www-authenticate': 'Basic' })
    }
    if (cfg.grantDelayMs) {
      // A slow token endpoint: a client that goes away meanwhile (killed) never gets a
      // grant, as on a server that commits only with the response.
      let gone = false
      res.on('close', () => { gone = !res.writableFinished })
      state.stats.pending = (state.stats.pending || 0) + 1
      await new Promise((r) => setTimeout(r, cfg.grantDelayMs))
      state.stats.pending--
      if (gone) return void state.stats.abandoned++
    }
    if (form.get('grant_type') === 'authorization_code') return codeGrant(form, res)
    if (form.get('grant_type') === 'client_credentials') {
      // RFC 6749 §4.4: machine to machine, no refresh token; scope and audience echoed.
      const at = token('at-cc')
      state.access.set(at, Date.now() + cfg.lifetimeSec * 1000)
      const scope = form.get('scope')
      const audience = form.get('audience')
      return send(res, 200, { access_token: at, token_type: 'Bearer', expires_in: cfg.lifetimeSec, ...(scope ? { scope } : {}), ...(audience ? { audience } : {}) })
    }
    if (form.get('grant_type') !== 'refresh_token') {
      return send(res, 400, { error: 'unsupported_grant_type' })
    }
    const rt = form.get('refresh_token')
    if (state.used.has(rt)) {
      // Reuse of a rotated-away token: revoke the whole grant (RFC 9700 §4.14.2).
      state.stats.reuseDetected++
      state.live.clear()
      return send(res, 400, { error: 'invalid_grant', error_description: 'refresh token reuse detected; grant revoked' })
    }
    if (!state.live.has(rt)) {
      return send(res, 400, { error: 'invalid_grant', error_description: 'unknown refresh token' })
    }
    const at = token('at')
    const lifetime = cfg.lifetimeSec
    state.access.set(at, Date.now() + lifetime * 1000)
    const reply = { access_token: at, expires_in: lifetime }
    if (cfg.tokenType) reply.token_type = cfg.tokenType // EdgeTag sends none; oauth4webapi requires one
    if (fault === 'expires-string') reply.expires_in = String(lifetime)
    if (fault === 'expires-zero') reply.expires_in = 0
    if (fault === 'no-expires') delete reply.expires_in
    if (cfg.rotate) {
      const next = token('rt')
      state.live.delete(rt)
      state.used.add(rt)
      state.live.add(next)
      reply.refresh_token = next
    }
    return send(res, 200, reply)
  }

  /** EdgeTag's login page, approving at once: back to redirect_uri with a code and state. */
  function authorize(url, res) {
    const q = url.searchParams
    const redirect = q.get('redirect_uri')
    if (q.get('client_id') !== cfg.clientId || !redirect) return send(res, 400, { error: 'invalid_request', error_description: 'unknown client or no redirect_uri' })
    const back = new URL(redirect)
    if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? '')) {
      back.searchParams.set('error', 'invalid_request')
    } else {
      const code = token('code')
      state.codes.set(code, { challenge: q.get('code_challenge'), redirect, expires: Date.now() + 60_000 })
      back.searchParams.set('code', code)
    }
    if (q.has('state')) back.searchParams.set('state', q.get('state'))
    res.writeHead(302, { location: back.href, ...CORS }).end()
  }

  /** grant_type=authorization_code with PKCE: a new grant, so a new refresh token. */
  function codeGrant(form, res) {
    const c = state.codes.get(form.get('code'))
    state.codes.delete(form.get('code'))
    const verifier = form.get('code_verifier') ?? ''
    const ok = c && c.expires > Date.now() && (!form.has('redirect_uri') || form.get('redirect_uri') === c.redirect) &&
      createHash('sha256').update(verifier).digest('base64url') === c.challenge
    if (!ok) return send(res, 400, { error: 'invalid_grant', error_description: 'bad code, verifier or redirect_uri' })
    const at = token('at')
    const rt = token('rt')
    state.live.add(rt)
    state.access.set(at, Date.now() + cfg.lifetimeSec * 1000)
    return send(res, 200, { access_token: at, expires_in: cfg.lifetimeSec, refresh_token: rt })
  }

  function resource(req, res) {
    state.stats.resourceRequests++
    const m = /^Bearer (.+)$/.exec(req.headers.authorization || '')
    const exp = m && state.access.get(m[1])
    if (!exp || exp <= Date.now()) {
      return send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' })
    }
    return send(res, 200, { ok: true, data: 'protected resource' })
  }

  /** Applies a fault; true when it fully answered (or killed) the request. */
  async function applyFault(fault, req, res, body) {
    const [kind, arg, arg2] = fault.split(':')
    switch (kind) {
      case 'status': {
        const code = Number(arg)
        if (arg2 === 'html') return sendRaw(res, code, 'text/html', '<html><body>Oops</body></html>'), true
        if (arg2 === 'empty') return sendRaw(res, code, 'text/plain', ''), true
        if (arg2 === 'json') return send(res, code, { error: 'server_error', error_description: 'injected' }), true
        return sendRaw(res, code, 'text/plain', 'injected ' + code), true
      }
      case 'retry-after': {
        const code = Number(arg2 || 429)
        const value = /^\d+$/.test(arg) ? arg : new Date(Date.now() + Number(arg.slice(1)) * 1000).toUTCString()
        return sendRaw(res, code, 'text/plain', 'slow down', { 'retry-after': value }), true
      }
      case 'invalid_grant':
        return send(res, 400, { error: 'invalid_grant', error_description: 'injected invalid_grant' }), true
      case 'invalid_client':
        return send(res, 401, { error: 'invalid_client', error_description: 'injected invalid_client' }), true
      case 'error-200':
        return send(res, 200, { error: 'invalid_grant', error_description: 'error inside a 200' }), true
      case 'echo-secret': {
        const form = new URLSearchParams(body)
        const client = parseBasic(req.headers.authorization)
        const desc = 'bad token ' + form.get('refresh_token') + ' for secret ' + (client?.secret ?? '')
        return send(res, 400, { error: 'invalid_grant', error_description: desc, error_uri: 'https://x.invalid/?rt=' + form.get('refresh_token') }), true
      }
      case 'echo-all': {
        // Everything secret the request carried, and fresh tokens, inside an error reply.
        const form = new URLSearchParams(body)
        const secret = parseBasic(req.headers.authorization)?.secret ?? form.get('client_secret') ?? ''
        const rt = form.get('refresh_token') ?? ''
        const at = token('at')
        return send(res, 400, {
          error: 'invalid_grant', access_token: at, refresh_token: rt,
          error_description: `rt=${rt} secret=${secret} at=${at} enc=${encodeURIComponent(rt)}/${encodeURIComponent(secret)}`,
          error_uri: `https://x.invalid/?rt=${encodeURIComponent(rt)}&s=${encodeURIComponent(secret)}&at=${at}`,
        }), true
      }
      case 'grant-any':
        return send(res, 200, { access_token: token('at'), expires_in: cfg.lifetimeSec }), true
      case 'html':
        return sendRaw(res, 200, 'text/html', '<!doctype html><p>login</p>'), true
      case 'not-json':
        return sendRaw(res, 200, 'application/json', 'access_token=abc'), true
      case 'truncated':
        return sendRaw(res, 200, 'application/json', '{"access_token":"abc","expi'), true
      case 'empty':
        return sendRaw(res, 200, 'application/json', ''), true
      case 'big': {
        const size = 1.5 * 1024 * 1024
        const chunked = arg === 'chunked'
        res.writeHead(200, { 'content-type': 'application/json', ...CORS, ...(chunked ? {} : { 'content-length': String(size) }) })
        const pad = 'x'.repeat(64 * 1024)
        res.write('{"access_token":"abc","pad":"')
        for (let n = 30; n < size - 2; n += pad.length) if (!res.write(pad.slice(0, Math.min(pad.length, size - 2 - n)))) await new Promise((r) => res.once('drain', r))
        res.end('"}')
        return true
      }
      case 'redirect':
        return sendRaw(res, 302, 'text/plain', '', { location: '/v1/oauth-app/client/token' }), true
      case 'hang':
        return true // never answer
      case 'stall':
        res.writeHead(200, { 'content-type': 'application/json', ...CORS })
        res.write('{"access_token":')
        return true // headers and part of the body, then nothing
      case 'reset':
        req.socket.destroy()
        return true
      case 'reset-mid':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000', ...CORS })
        res.write('{"access_token":"abc"')
        setTimeout(() => req.socket.destroy(), 20)
        return true
      case 'slow':
        await new Promise((r) => setTimeout(r, Number(arg)))
        return false
      default:
        return false // expires-* and the like only change the success reply
    }
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(cfg.port ?? 0, '127.0.0.1', resolve)
  })
  const { port } = server.address()
  const origin = `http://127.0.0.1:${port}`
  return {
    origin,
    port,
    tokenUrl: origin + '/v1/oauth-app/client/token',
    config: cfg,
    stats: () => ({ ...state.stats }),
    queueFault: (fault, count = 1) => { for (let i = 0; i < count; i++) state.faults.push(fault) },
    reset: () => { state.stats = { tokenRequests: 0, resourceRequests: 0, reuseDetected: 0, byFault: {} }; state.faults = [] },
    close: () => new Promise((resolve) => {
      for (const s of state.sockets) s.destroy()
      server.close(() => resolve())
    }),
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = ''
    req.setEncoding('utf8')
    req.on('data', (c) => { data += c; if (data.length > 1e6) req.destroy() })
    req.on('end', () => resolve(data))
    req.on('error', reject)
  })
}

function send(res, status, obj, headers = {}) {
  if (obj === null) {
    res.writeHead(status, { ...CORS, ...headers })
    return res.end()
  }
  sendRaw(res, status, 'application/json', JSON.stringify(obj), headers)
}

/** With a Content-Length, as most servers send a small JSON body (writeHead alone would
 * commit the headers before the body is known, and so send it chunked). */
function sendRaw(res, status, type, text, headers = {}) {
  const length = { 'content-length': String(Buffer.byteLength(text)) }
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...length, ...CORS, ...headers })
  res.end(text)
}

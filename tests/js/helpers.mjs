// Shared by the packed-tarball tests: temp projects with the tarball installed, and the
// token server.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

export const run = promisify(execFile)
export const TGZ = process.env.FRESHTOKEN_TGZ
if (!TGZ) throw new Error('FRESHTOKEN_TGZ is not set: run through `make test-js`')

export const CLIENT_ID = '3f2b8c1e-9d4a-4e7b-8f6c-2a1d0e9b7c55'
export const CLIENT_SECRET = 'edgetag-demo-secret'

/** A fresh project folder with `files` written and the packed tarball installed. */
export async function project(name, files, { base = tmpdir() } = {}) {
  const dir = mkdtempSync(join(base, `.freshtoken-${name}-`))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  const started = Date.now()
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', TGZ], { cwd: dir, timeout: 120_000 })
  // Once seen taking minutes in a full run: say so, to find out where.
  if (Date.now() - started > 10_000) console.error(`project ${name}: npm install took ${Date.now() - started} ms`)
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * The installed package's web glue, initialised here so the test holds the instance's
 * `memory` (the memory tests read and grow it): `{ p, ft, memory }`.
 */
export async function withMemory(name) {
  const p = await project(name, { 'package.json': '{"name":"app","private":true,"type":"module"}' })
  const dir = join(p.dir, 'node_modules', 'freshtoken')
  const ft = await import(pathToFileURL(join(dir, 'freshtoken.js')))
  const memory = wasmMemory(ft.initSync({ module: readFileSync(join(dir, 'freshtoken_bg.wasm')) }))
  return { p, ft, memory }
}

/** The instance's memory among the exports `initSync` returns (their names are minified). */
export const wasmMemory = (exports) => Object.values(exports).find((v) => v instanceof WebAssembly.Memory)

/** The script every host runs: one good refresh and one invalid_grant, results as JSON. */
export const HOST_SCRIPT = `
async function check({ refreshAccessToken, OAuthError }, origin) {
  const base = { clientId: ${JSON.stringify(CLIENT_ID)}, clientSecret: ${JSON.stringify(CLIENT_SECRET)}, refreshToken: 'rt-initial' }
  const ok = await refreshAccessToken({ ...base, tokenUrl: origin + '/v1/oauth-app/client/token' })
  let err
  try { await refreshAccessToken({ ...base, tokenUrl: origin + '/f/invalid_grant' }) } catch (e) { err = e }
  const brand = [Object.assign(new Error('x'), { name: 'OAuthError', code: 'c' }), new Error('x'), { name: 'OAuthError', code: 'c' }]
  return {
    brand: brand.map((e) => e instanceof OAuthError),
    accessToken: ok.accessToken, tokenType: ok.tokenType, expiresIn: ok.expiresIn, rawExpiresIn: ok.raw.expires_in,
    err: { name: err.name, code: err.code, status: err.status, description: err.description, retryable: err.retryable,
           isError: err instanceof Error, isOAuthError: err instanceof OAuthError, hasStack: typeof err.stack === 'string',
           json: JSON.stringify(err) },
  }
}
`

/** Assertions shared by every host test. */
export function assertHostResult(assert, r) {
  assert.deepEqual(r.brand, [true, false, false], 'instanceof OAuthError: an Error named OAuthError with a string code')
  assert.match(r.accessToken, /^at-/)
  assert.equal(r.tokenType, 'Bearer')
  assert.equal(r.expiresIn, 7200)
  assert.equal(r.rawExpiresIn, 7200)
  assert.deepEqual(
    { ...r.err, json: undefined },
    { name: 'OAuthError', code: 'invalid_grant', status: 400, description: 'injected invalid_grant', retryable: false,
      isError: true, isOAuthError: true, hasStack: true, json: undefined },
  )
  assert.deepEqual(JSON.parse(r.err.json), {
    name: 'OAuthError', code: 'invalid_grant', status: 400, description: 'injected invalid_grant', retryable: false,
  })
}

/** HOST_SCRIPT's `check`, then 20 concurrent TokenCache callers: `main(origin)` expects
 *  `refreshAccessToken`, `TokenCache` and `OAuthError` in scope. */
export const HOST_MAIN = `${HOST_SCRIPT}
async function main(origin) {
  const r = await check({ refreshAccessToken, OAuthError }, origin)
  const cache = new TokenCache({ tokenUrl: origin + '/v1/oauth-app/client/token', clientId: ${JSON.stringify(CLIENT_ID)},
    clientSecret: ${JSON.stringify(CLIENT_SECRET)}, refreshToken: 'rt-initial' })
  const before = (await (await fetch(origin + '/control/stats')).json()).tokenRequests
  const tokens = await Promise.all(Array.from({ length: 20 }, () => cache.getAccessToken()))
  const after = (await (await fetch(origin + '/control/stats')).json()).tokenRequests
  return { ...r, cacheRequests: after - before, cacheTokens: new Set(tokens).size }
}`

/** assertHostResult, and 20 concurrent getAccessToken calls → 1 request, 1 token. */
export function assertCacheResult(assert, r, name) {
  assertHostResult(assert, r)
  assert.deepEqual([r.cacheRequests, r.cacheTokens], [1, 1], `${name}: 20 concurrent getAccessToken → 1 request`)
}

/** A project whose `app` (src/index.js) a user's esbuild bundles into a page, served on
 *  127.0.0.1 with the wasm beside it. */
export async function esbuildSite(name, app) {
  const { serveStatic } = await import('./chromium.mjs')
  const esbuild = new URL('../node_modules/.bin/esbuild', import.meta.url).pathname
  const p = await project(name, {
    'package.json': JSON.stringify({ name: 'app', private: true, type: 'module' }),
    'src/index.js': app,
    'dist/index.html': '<!doctype html><meta charset="utf-8"><script type="module" src="index.js"></script>',
  })
  await run(esbuild, ['src/index.js', '--bundle', '--format=esm', '--minify', '--outdir=dist', '--log-level=warning'], { cwd: p.dir })
  await run('cp', [join(p.dir, 'node_modules/freshtoken/freshtoken_bg.wasm'), join(p.dir, 'dist/')])
  const site = await serveStatic(join(p.dir, 'dist'))
  return { origin: site.origin, close: async () => { await site.close(); p.cleanup() } }
}

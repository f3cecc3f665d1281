// The package's TypeScript declarations, checked by tsc (strict, nodenext, skipLibCheck off)
// from the packed tarball: an ESM file and a CommonJS file using every export the way the
// README does. A wrong declaration fails here, not in a user's build.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { project, run } from './helpers.mjs'

const TSC = fileURLToPath(new URL('../node_modules/.bin/tsc', import.meta.url))

const ESM = `
import { refreshAccessToken, TokenCache, OAuthError, createPkce, buildAuthorizeUrl, exchangeCode, type TokenSet } from 'freshtoken'
import initWeb, { initSync, setKeepAlive } from 'freshtoken/web'
const set: TokenSet = await refreshAccessToken({ tokenUrl: 'https://x/t', clientId: 'c', clientSecret: 's', refreshToken: 'r',
  clientAuth: 'client_secret_basic', basicAuthEncoding: 'form', timeoutMs: 5000, extraParams: { audience: 'a' } })
const store = new Map<string, string>()
const cache = new TokenCache({ tokenUrl: 'https://x/t', clientId: 'c', refreshToken: 'r', refreshSkewMs: 60_000,
  store: { get: (k) => store.get(k) ?? null, put: (k, v) => { store.set(k, v) } }, onTokens: (t) => { void t.accessToken },
  retry: { retries: 2, minDelayMs: 200, maxDelayMs: 5000 } })
const token: string = await cache.getAccessToken()
const whole: TokenSet = await cache.getToken()
const peeked: string | undefined = cache.peek()
const exp: number | undefined = cache.expiresAt
const res: Response = await cache.fetch('https://api.example/v1/things', { method: 'GET' })
cache.invalidate()
const pkce = createPkce()
const method: 'S256' = pkce.codeChallengeMethod
const url: string = buildAuthorizeUrl({ authorizeUrl: 'https://x/a', clientId: 'c', redirectUri: 'https://app/cb', scope: 'full', state: 's', codeChallenge: pkce.codeChallenge })
const exchanged: TokenSet = await exchangeCode({ tokenUrl: 'https://x/t', clientId: 'c', clientSecret: 's', code: 'x', codeVerifier: pkce.codeVerifier, redirectUri: 'https://app/cb' })
const seeded: TokenCache = TokenCache.fromTokenSet(exchanged, { tokenUrl: 'https://x/t', clientId: 'c' })
try { await seeded.refresh() } catch (e) {
  if (e instanceof OAuthError) { const c: string = e.code; const s: number | undefined = e.status; const r: boolean = e.retryable; void [c, s, r] }
}
setKeepAlive(undefined)
import { redisStore } from 'freshtoken/redis'
import { tabStore } from 'freshtoken/tabs'
const shared = new TokenCache({ tokenUrl: 'https://x/t', clientId: 'c', refreshToken: 'r', lockTtlMs: 30_000,
  store: redisStore({ sendCommand: async (args: string[]) => args.length }, { prefix: 'app:' }) })
const tabbed = new TokenCache({ tokenUrl: 'https://x/t', clientId: 'c', refreshToken: 'r', store: tabStore({ locks: null }) })
const m2m = new TokenCache({ grant: 'client_credentials', tokenUrl: 'https://x/t', clientId: 'c', clientSecret: 's', scope: 'read', extraParams: { audience: 'a' } })
const one: TokenSet = await refreshAccessToken({ grant: 'client_credentials', tokenUrl: 'https://x/t', clientId: 'c', clientSecret: 's' })
await m2m.revoke().catch(() => {})
const locked: boolean | Promise<boolean> = redisStore({ call: async (...a: string[]) => a }).lock('k', 'o', 1000)
void [set, token, whole, peeked, exp, res, method, url, initWeb, initSync, shared, tabbed, locked, one]
`
const CJS = `
import ft = require('freshtoken')
const cache = new ft.TokenCache({ tokenUrl: 'https://x/t', clientId: 'c', refreshToken: 'r' })
const token: Promise<string> = cache.getAccessToken()
const isErr = (e: unknown): boolean => e instanceof ft.OAuthError && e.code === 'invalid_grant'
export = { token, isErr }
`

test('TypeScript: the declarations type-check for ESM and CommonJS users (tsc --strict, nodenext)', async () => {
  const p = await project('types', {
    'package.json': JSON.stringify({ name: 'types', private: true, type: 'module' }),
    'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022',
      strict: true, noEmit: true, skipLibCheck: false, lib: ['es2022', 'dom'] }, files: ['esm.mts', 'cjs.cts'] }),
    'esm.mts': ESM,
    'cjs.cts': CJS,
  })
  try {
    const r = await run(TSC, ['-p', '.'], { cwd: p.dir, timeout: 120_000 }).catch((e) => e)
    assert.equal(r.code ?? 0, 0, `tsc:\n${r.stdout}${r.stderr}`)
  } finally {
    p.cleanup()
  }
})

// freshtoken in a terminal, against the bundled EdgeTag-shaped token server.
//   node examples/node.mjs [tokenUrl]     (make demo starts the server and runs this)
// Imports the built package (build/pkg), exactly as a user's `import 'freshtoken'` would.
import { refreshAccessToken, OAuthError } from '../build/pkg/node.mjs'

const tokenUrl = process.argv[2] || 'http://127.0.0.1:47900/v1/oauth-app/client/token'
const origin = new URL(tokenUrl).origin
const client = { clientId: '3f2b8c1e-9d4a-4e7b-8f6c-2a1d0e9b7c55', clientSecret: 'edgetag-demo-secret' }
const mask = (t) => t.slice(0, 6) + '…' + t.slice(-4)
const log = (...a) => console.log(new Date().toISOString().slice(11, 23), ...a)

const t = await refreshAccessToken({ tokenUrl, ...client, refreshToken: 'rt-initial' })
log(`refreshed: ${t.tokenType} ${mask(t.accessToken)}, expires in ${t.expiresIn}s (at ${new Date(t.expiresAt).toISOString()})`)

for (const fault of ['status:503', 'retry-after:2', 'invalid_grant', 'hang']) {
  try {
    await refreshAccessToken({ tokenUrl: origin + '/f/' + fault, ...client, refreshToken: 'rt-initial', timeoutMs: 500 })
  } catch (e) {
    if (!(e instanceof OAuthError)) throw e
    log(`fault ${fault.padEnd(14)} → ${e.code}${e.status ? ' ' + e.status : ''}, retryable=${e.retryable}` +
      (e.retryAfterMs !== undefined ? `, retryAfterMs=${e.retryAfterMs}` : '') + ` — ${e.message}`)
  }
}

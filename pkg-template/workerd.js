// Cloudflare Workers: workerd will not compile wasm from bytes, so the .wasm comes in
// as a module (wrangler's default for .wasm imports) and is instantiated synchronously.
// workerd cancels a request's I/O when that request ends; `waitUntil` keeps a shared
// refresh alive for the other requests waiting on it (README: "the concurrency rule").
import wasm from './freshtoken_bg.wasm'
import * as cf from 'cloudflare:workers'
import { initSync, setKeepAlive } from './freshtoken.js'
initSync({ module: wasm })
setKeepAlive(cf.waitUntil)
export { refreshAccessToken, TokenCache, OAuthError, createPkce, buildAuthorizeUrl, exchangeCode, revokeToken } from './freshtoken.js'

// Cloudflare Workers: workerd will not compile wasm from bytes, so the .wasm comes in
// as a module (wrangler's default for .wasm imports) and is instantiated synchronously.
import wasm from './freshtoken_bg.wasm'
import { initSync } from './freshtoken.js'
initSync({ module: wasm })
export { refreshAccessToken, TokenCache, OAuthError } from './freshtoken.js'

// Browsers through a bundler (Vite, webpack, esbuild + the .wasm copied beside the bundle):
// the bundler turns this URL into an asset; top-level await makes importing enough.
import init from './freshtoken.js'
await init({ module_or_path: new URL('./freshtoken_bg.wasm', import.meta.url) })
export { refreshAccessToken, TokenCache, OAuthError, createPkce, buildAuthorizeUrl, exchangeCode, revokeToken } from './freshtoken.js'

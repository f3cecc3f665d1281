// Vercel / Next.js edge (`edge-light`): no compiling wasm from bytes there, so the .wasm comes
// in as a module (Next's `?module` import) and is instantiated synchronously. Next's local
// edge sandbox hands over a module compiled in another realm, which fails the glue's
// `instanceof WebAssembly.Module` (the engine itself accepts it): give it this realm's prototype.
import wasm from './freshtoken_bg.wasm?module'
import { initSync } from './freshtoken.js'
const { Module } = WebAssembly
initSync({ module: wasm instanceof Module ? wasm : Object.setPrototypeOf(wasm, Module.prototype) })
export { refreshAccessToken, TokenCache, OAuthError, createPkce, buildAuthorizeUrl, exchangeCode, revokeToken } from './freshtoken.js'

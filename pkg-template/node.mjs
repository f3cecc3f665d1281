// Node ESM: the CommonJS build (it loads the wasm synchronously), so ESM and CJS
// importers share one instance and one OAuthError class.
import freshtoken from './freshtoken.cjs'
export const { refreshAccessToken, TokenCache, OAuthError, createPkce, buildAuthorizeUrl, exchangeCode } = freshtoken

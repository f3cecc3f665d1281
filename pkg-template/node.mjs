// Node ESM: the CommonJS build (its wasm is inline, so server bundlers such as Next.js's carry
// it along), so ESM and CJS importers share one instance and one OAuthError class.
import freshtoken from './freshtoken.cjs'
export const { refreshAccessToken, TokenCache, OAuthError, createPkce, buildAuthorizeUrl, exchangeCode, revokeToken } = freshtoken

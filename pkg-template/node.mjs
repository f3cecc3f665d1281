// Node ESM: the CommonJS build, loaded through `require` (not `import`, which would have Node
// scan its source for export names: ~2.4 ms of a cold import), so ESM and CJS importers share
// one instance and one OAuthError class.
import { createRequire } from 'node:module'
const freshtoken = createRequire(import.meta.url)('./freshtoken.cjs')
export const { refreshAccessToken, TokenCache, OAuthError, createPkce, buildAuthorizeUrl, exchangeCode, revokeToken } = freshtoken

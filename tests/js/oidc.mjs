// A real OAuth server nobody here wrote: oidc-provider on 127.0.0.1, refresh-token rotation
// on, a confidential client whose secret has reserved characters. The first refresh token
// is minted through the provider's own models (no browser login needed).
import { createServer } from 'node:http'
import Provider from 'oidc-provider'

export const OIDC_CLIENT = { id: 'freshtoken client/1', secret: 'p@ss:w/rd +&=%?~' }

export async function startOidc({ ttlSec = 3600, rotate = true } = {}) {
  const http = createServer()
  await new Promise((r) => http.listen(0, '127.0.0.1', r))
  const issuer = `http://127.0.0.1:${http.address().port}`
  const provider = new Provider(issuer, {
    clients: [{
      client_id: OIDC_CLIENT.id,
      client_secret: OIDC_CLIENT.secret,
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    rotateRefreshToken: rotate,
    ttl: { AccessToken: ttlSec, RefreshToken: 14 * 86400, Grant: 14 * 86400 },
    issueRefreshToken: () => true,
    features: { revocation: { enabled: true }, clientCredentials: { enabled: true } },
  })
  const counts = { token: 0 }
  const handler = provider.callback()
  http.on('request', (req, res) => {
    if (req.url.startsWith('/token')) counts.token++
    handler(req, res)
  })
  /** Mints a fresh grant and its first refresh token. */
  async function mintRefreshToken(accountId = 'user-1') {
    const grant = new provider.Grant({ accountId, clientId: OIDC_CLIENT.id })
    grant.addOIDCScope('openid offline_access')
    const grantId = await grant.save()
    const client = await provider.Client.find(OIDC_CLIENT.id)
    const rt = new provider.RefreshToken({ client, accountId, grantId, scope: 'openid offline_access', gty: 'authorization_code' })
    return rt.save()
  }
  /** Mints an authorization code for a PKCE challenge, as the provider would after login. */
  async function mintCode({ codeChallenge, redirectUri = 'https://app.example/cb', scope = 'openid offline_access', accountId = 'user-1' }) {
    const grant = new provider.Grant({ accountId, clientId: OIDC_CLIENT.id })
    grant.addOIDCScope(scope)
    const grantId = await grant.save()
    const client = await provider.Client.find(OIDC_CLIENT.id)
    const code = new provider.AuthorizationCode({ client, accountId, grantId, redirectUri, scope, codeChallenge, codeChallengeMethod: 'S256' })
    return code.save()
  }
  return {
    issuer,
    authorizeUrl: issuer + '/auth',
    mintCode,
    tokenUrl: issuer + '/token',
    revocationUrl: issuer + '/token/revocation',
    provider,
    counts,
    mintRefreshToken,
    close: () => new Promise((r) => { http.closeAllConnections?.(); http.close(r) }),
  }
}

// freshtoken in a Cloudflare Worker, two ways:
//   GET /broker    — the TokenBroker Durable Object owns the refresh (safe with rotating
//                    refresh tokens: one refresh per expiry across every isolate)
//   GET /kv        — a module-scope TokenCache with Workers KV as its store (fine when the
//                    server does not rotate refresh tokens)
//   GET /resource  — calls the protected API with the broker's token; on a 401 tells the
//                    broker, then retries once with a fresh token
import { TokenCache } from 'freshtoken'
import { TokenBroker, brokerAccessToken, brokerInvalidate, brokerToken } from 'freshtoken/workers'

export class Tokens extends TokenBroker {
  // Static: no RPC caller can call it. Secrets come from the Worker's env only.
  static options(env) {
    return {
      tokenUrl: env.TOKEN_URL,
      clientId: env.CLIENT_ID,
      clientSecret: env.CLIENT_SECRET,
      refreshToken: env.REFRESH_TOKEN,
    }
  }
}

let cache // one per isolate: shared by all its requests

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url)
    try {
      if (pathname === '/broker') {
        const { tokenType, expiresAt } = await brokerToken(env.TOKENS, 'edgetag')
        return Response.json({ via: 'durable-object', tokenType, expiresAt })
      }
      if (pathname === '/kv') {
        cache ??= new TokenCache({ ...Tokens.options(env), store: env.TOKENS_KV })
        const { tokenType, expiresAt } = await cache.getToken()
        return Response.json({ via: 'kv', tokenType, expiresAt })
      }
      if (pathname === '/resource') return callApi(env)
      return new Response('try /broker, /kv or /resource\n', { status: 404 })
    } catch (e) {
      // OAuthError fields are safe to show: they never contain a secret.
      return Response.json({ error: e.code ?? e.name, status: e.status, message: e.message }, { status: 502 })
    }
  },
}

async function callApi(env) {
  for (let attempt = 0; ; attempt++) {
    const token = await brokerAccessToken(env.TOKENS, 'edgetag')
    const res = await fetch(env.RESOURCE_URL, { headers: { authorization: `Bearer ${token}` } })
    if (res.status !== 401 || attempt === 1) return res
    await brokerInvalidate(env.TOKENS, 'edgetag', token)
  }
}

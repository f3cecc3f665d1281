// The comparison for `make bench`: the same contract as freshtoken's TokenCache hit path
// (fresh while now < expiresAt − min(skew, lifetime/2); one refresh promise shared by every
// caller; RFC 6749 §6 request with Basic auth), written the way a careful JS author would.
// Not shipped.
export class PureTokenCache {
  #o
  #token = null
  #expiresAt = 0
  #lifetimeMs = 0
  #inflight = null
  constructor(o) {
    this.#o = { refreshSkewMs: 60_000, now: Date.now, ...o }
  }
  #fresh() {
    if (this.#token === null) return false
    const skew = Math.min(this.#o.refreshSkewMs, this.#lifetimeMs / 2)
    return this.#o.now() < this.#expiresAt - skew
  }
  peek() {
    return this.#fresh() ? this.#token : undefined
  }
  getAccessToken() {
    if (this.#fresh()) return Promise.resolve(this.#token)
    return this.#refresh()
  }
  #refresh() {
    this.#inflight ??= (async () => {
      try {
        const sentAt = this.#o.now()
        const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+')
        const res = await fetch(this.#o.tokenUrl, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
            authorization: 'Basic ' + btoa(enc(this.#o.clientId) + ':' + enc(this.#o.clientSecret)),
          },
          body: 'grant_type=refresh_token&refresh_token=' + enc(this.#o.refreshToken),
        })
        const json = await res.json()
        if (!res.ok || typeof json.access_token !== 'string') throw new Error('refresh failed: ' + res.status)
        this.#token = json.access_token
        this.#lifetimeMs = (json.expires_in ?? 3600) * 1000
        this.#expiresAt = sentAt + this.#lifetimeMs
        return this.#token
      } finally {
        this.#inflight = null
      }
    })()
    return this.#inflight
  }
}

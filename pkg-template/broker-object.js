// The TokenBroker Durable Object: a thin shell over the Rust TokenCache, with Durable Object
// storage as its store. One object per named client owns that client's refresh.
import { DurableObject } from 'cloudflare:workers'
import { TokenCache } from './workerd.js'

/** Most names (and credentials) one object keeps a cache for; the oldest go first. */
const MAX_ENTRIES = 32

export class TokenBroker extends DurableObject {
  #byName = new Map() // name → Promise<TokenCache>
  #byKey = new Map() // storeKey → TokenCache: single flight per credential, not per name

  /** Override: the TokenCache options for the client `name`, from `env` (may be async).
   *  Static, so no RPC caller can reach it and read the secrets. `minTokenAgeMs` defaults
   *  to 10 s here: an RPC caller looping invalidate() forces at most one request per 10 s. */
  static options(env, name) {
    throw new Error(`TokenBroker: define static options(env, name) in your subclass (asked for ${JSON.stringify(name)})`)
  }

  /** RPC: `{ value: { accessToken, tokenType, expiresAt } }` or `{ error }`. */
  async token(name) {
    return settle(async () => {
      const { accessToken, tokenType, expiresAt } = await (await this.#cache(name)).getToken()
      return { accessToken, tokenType, expiresAt }
    })
  }

  /** RPC: forgets `accessToken` if it is still the current one, also when this instance has
   *  not loaded it from storage yet (the cache then refuses it from there). */
  async invalidate(name, accessToken) {
    return settle(async () => {
      if (typeof accessToken === 'string') (await this.#cache(name)).invalidate(accessToken)
    })
  }

  #cache(name) {
    let cache = this.#byName.get(name)
    if (!cache) {
      cache = this.#build(name)
      remember(this.#byName, name, cache)
      cache.catch(() => this.#byName.delete(name)) // bad options: try again next call
    }
    return cache
  }

  async #build(name) {
    const storage = this.ctx.storage
    const cache = new TokenCache({
      minTokenAgeMs: 10_000,
      ...(await this.constructor.options(this.env, name)),
      store: { get: (key) => storage.get(key), put: (key, value) => storage.put(key, value) },
    })
    const same = this.#byKey.get(cache.storeKey)
    if (same) {
      cache.free()
      return same
    }
    remember(this.#byKey, cache.storeKey, cache)
    return cache
  }
}

/** `map.set(key, value)`, dropping the oldest entry past MAX_ENTRIES. */
function remember(map, key, value) {
  if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value)
  map.set(key, value)
}

/** Results and errors as plain data (RPC would keep only an Error's name and message): an
 *  OAuthError with its own fields (never a secret; `cause` stays here), others by name and message. */
async function settle(work) {
  try {
    return { value: await work() }
  } catch (e) {
    const { name = 'Error', message = String(e) } = Object(e)
    return { error: name === 'OAuthError' ? { ...e, message } : { name, message } }
  }
}

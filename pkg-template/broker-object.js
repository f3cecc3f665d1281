// The TokenBroker Durable Object: a thin shell over the Rust TokenCache, with Durable Object
// storage as its store. One object per named client owns that client's refresh.
import { DurableObject } from 'cloudflare:workers'
import { TokenCache } from './workerd.js'

export class TokenBroker extends DurableObject {
  #caches = new Map()

  /** Override: the TokenCache options for the client `name`, from `env` (may be async).
   *  Static, so no RPC caller can reach it and read the secrets. */
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

  /** RPC: forgets `accessToken` if it is still the current one. */
  async invalidate(name, accessToken) {
    return settle(async () => {
      const cache = await this.#cache(name)
      if (cache.peek() === accessToken) cache.invalidate()
    })
  }

  /** One TokenCache per name, made once even under concurrent first calls. */
  #cache(name) {
    let cache = this.#caches.get(name)
    if (!cache) {
      const storage = this.ctx.storage
      cache = (async () => new TokenCache({
        ...(await this.constructor.options(this.env, name)),
        store: { get: (key) => storage.get(key), put: (key, value) => storage.put(key, value) },
      }))()
      this.#caches.set(name, cache)
      cache.catch(() => this.#caches.delete(name)) // bad options: try again next call
    }
    return cache
  }
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

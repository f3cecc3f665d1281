import type { TokenStore } from './index.js'

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /** Put before every key (the token entry and its `:lock`). Default `''`. */
  prefix?: string
}

/** The Redis commands the store sends: node-redis 4+ (`sendCommand`) or ioredis (`call`). */
export type RedisClient =
  | { sendCommand(args: string[]): Promise<unknown> }
  | { call(...args: string[]): Promise<unknown> }

/**
 * A `TokenCache` store with a lock on your Redis client: many processes (and machines)
 * share one refresh per expiry. Give the client `disableOfflineQueue: true` (node-redis) or
 * `enableOfflineQueue: false` (ioredis) so that a Redis outage fails a refresh at once
 * instead of queueing it.
 */
export function redisStore(client: RedisClient, options?: RedisStoreOptions): Required<TokenStore>

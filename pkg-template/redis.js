// freshtoken/redis: a TokenCache store on your own Redis client, node-redis (4+) or ioredis.
// It only maps the store calls to Redis commands; when to lock, re-read, wait and release is
// decided by the cache (Rust). The lock: SET <key>:lock <owner> NX PX <ttl>; released by a
// script that deletes it only if this owner still holds it (a holder that overran its TTL
// must not free a successor's lock).
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

export function redisStore(client, { prefix = '' } = {}) {
  const ioredis = typeof client?.call === 'function'
  if (!ioredis && typeof client?.sendCommand !== 'function') {
    throw new TypeError('redisStore(client): pass a node-redis or ioredis client')
  }
  const cmd = ioredis ? (args) => client.call(...args) : (args) => client.sendCommand(args)
  const lockKey = (key) => prefix + key + ':lock'
  return {
    get: (key) => cmd(['GET', prefix + key]),
    put: (key, value) => cmd(['SET', prefix + key, value]),
    lock: async (key, owner, ttlMs) => (await cmd(['SET', lockKey(key), owner, 'NX', 'PX', String(ttlMs)])) === 'OK',
    unlock: (key, owner) => cmd(['EVAL', RELEASE, '1', lockKey(key), owner]),
  }
}

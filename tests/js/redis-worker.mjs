// One process of tests/js/redis.test.mjs: a TokenCache on redisStore over its own Redis
// client. Prints {"ready":true}, waits for "go" on stdin, then for each round: `callers`
// concurrent getAccessToken() calls, then 10,000 hits counting the Redis commands they send,
// then sleeps until the token is stale. Prints {"done":…} and exits.
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const cfg = JSON.parse(process.argv[2])
const fromApp = createRequire(join(cfg.appDir, 'package.json'))
const fromTests = createRequire(join(cfg.testsDir, 'package.json'))
const { TokenCache } = await import(pathToFileURL(fromApp.resolve('freshtoken')))
const { redisStore } = await import(pathToFileURL(fromApp.resolve('freshtoken/redis')))

let commands = 0
let client
if (cfg.client === 'ioredis') {
  const { Redis } = fromTests('ioredis')
  client = new Redis({ host: '127.0.0.1', port: cfg.redisPort, enableOfflineQueue: false, lazyConnect: true })
  await client.connect()
  const call = client.call.bind(client)
  client.call = (...a) => (commands++, call(...a))
} else {
  const { createClient } = fromTests('redis')
  client = createClient({ socket: { host: '127.0.0.1', port: cfg.redisPort }, disableOfflineQueue: true })
  await client.connect()
  const send = client.sendCommand.bind(client)
  client.sendCommand = (...a) => (commands++, send(...a))
}

const cache = new TokenCache({
  tokenUrl: cfg.tokenUrl,
  clientId: cfg.clientId,
  clientSecret: cfg.clientSecret,
  clientAuth: 'client_secret_basic',
  refreshToken: cfg.refreshToken,
  refreshSkewMs: cfg.skewMs,
  store: redisStore(client, { prefix: 'test:' }),
  storeKey: cfg.storeKey,
  ...(cfg.lockTtlMs ? { lockTtlMs: cfg.lockTtlMs } : {}),
})
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n')
say({ ready: true })
const lines = createInterface({ input: process.stdin })
await new Promise((r) => lines.once('line', r))

const rounds = []
for (let r = 0; r < cfg.rounds; r++) {
  const got = await Promise.allSettled(Array.from({ length: cfg.callers }, () => cache.getAccessToken()))
  const tokens = new Set(got.filter((g) => g.status === 'fulfilled').map((g) => g.value))
  const errors = got.filter((g) => g.status === 'rejected').map((g) => `${g.reason?.code ?? ''} ${g.reason?.message}`)
  const before = commands
  for (let i = 0; i < 10_000 && cache.peek(); i++) await cache.getAccessToken()
  rounds.push({ tokens: [...tokens], errors: [...new Set(errors)], hitCommands: commands - before })
  const wait = (cache.expiresAt ?? 0) - cfg.skewMs - Date.now() + 30
  if (r + 1 < cfg.rounds && wait > 0) await new Promise((res) => setTimeout(res, Math.min(wait, 10_000)))
}
say({ done: true, rounds })
lines.close()
await (cfg.client === 'ioredis' ? client.quit() : client.quit())

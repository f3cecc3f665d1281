// `make bench`: freshtoken against a pure-JS implementation of the same contract and against
// oauth4webapi, side by side in one process (cold start: in fresh processes), on a local
// keep-alive token server. Writes bench/results.json and bench/results.md. Measures only:
// nothing here asserts a time.
//   node --expose-gc bench/run.mjs [--quick]
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import * as oauth from '../tests/node_modules/oauth4webapi/build/index.js'
import { OAuth2Client, OAuth2Fetch } from '../tests/node_modules/@badgateway/oauth2-client/dist/index.js'
import { workerdColdStart } from './workerd-cold.mjs'
import { startTokenServer } from '../tests/server/token-server.mjs'
import { PureTokenCache } from './pure-cache.mjs'

const PKG = fileURLToPath(new URL('../build/pkg/', import.meta.url))
const O4W = fileURLToPath(new URL('../tests/node_modules/oauth4webapi/build/index.js', import.meta.url))
const BGW = fileURLToPath(new URL('../tests/node_modules/@badgateway/oauth2-client/dist/index.js', import.meta.url))
const run = promisify(execFile)
const QUICK = process.argv.includes('--quick')
const scale = (n) => (QUICK ? Math.ceil(n / 10) : n)

const ft = await import(pathToFileURL(PKG + 'freshtoken.js'))
// The instance's memory, among its exports (their names are minified).
const memory = Object.values(ft.initSync({ module: readFileSync(PKG + 'freshtoken_bg.wasm') })).find((v) => v instanceof WebAssembly.Memory)
const server = await startTokenServer({ tokenType: 'Bearer' })
const client = { tokenUrl: server.tokenUrl, clientId: server.config.clientId, clientSecret: server.config.clientSecret, refreshToken: 'rt-initial' }
const gc = () => globalThis.gc?.()
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const results = {}

/** @badgateway/oauth2-client, told the token endpoint and Basic auth (no discovery). */
const badgateway = () => new OAuth2Client({ server: server.origin, tokenEndpoint: server.tokenUrl, clientId: client.clientId, clientSecret: client.clientSecret, authenticationMethod: 'client_secret_basic' })
const rtToken = { accessToken: '', refreshToken: client.refreshToken, expiresAt: null }
/** Its cache + fetch wrapper, holding a token got through a refresh (no timers). */
const badgatewayFetch = () => { const c = badgateway(); return new OAuth2Fetch({ client: c, getNewToken: () => c.refreshToken(rtToken), scheduleRefresh: false }) }
/** The floor: one bare fetch of the same request and response.json(). */
const basic = 'Basic ' + btoa(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`)
const bareRefresh = async () => {
  const res = await fetch(server.tokenUrl, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: 'grant_type=refresh_token&refresh_token=' + encodeURIComponent(client.refreshToken) })
  return res.json()
}

/** ns per call of `fn` (awaited when `isAsync`), median of `rounds`, alternating the contenders. */
async function race(contenders, n, rounds = 7) {
  const samples = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]))
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(contenders)) {
      gc()
      const t0 = process.hrtime.bigint()
      await fn(n)
      samples[name].push(Number(process.hrtime.bigint() - t0) / n)
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]))
}

// 1. Cache hits.
{
  const wasm = new ft.TokenCache(client)
  const pure = new PureTokenCache(client)
  const bgw = badgatewayFetch()
  await wasm.getAccessToken()
  await pure.getAccessToken()
  await bgw.getAccessToken()
  const n = scale(200_000)
  const hit = await race({
    freshtoken: async (k) => { for (let i = 0; i < k; i++) await wasm.getAccessToken() },
    pureJs: async (k) => { for (let i = 0; i < k; i++) await pure.getAccessToken() },
    badgateway: async (k) => { for (let i = 0; i < k; i++) await bgw.getAccessToken() },
  }, n)
  const peek = await race({
    freshtoken: (k) => { let t; for (let i = 0; i < k; i++) t = wasm.peek(); return t },
    pureJs: (k) => { let t; for (let i = 0; i < k; i++) t = pure.peek(); return t },
  }, scale(1_000_000))
  results.hit = { ...hit, ratio: hit.freshtoken / hit.pureJs, goal: 1.2 }
  results.peek = { ...peek, ratio: peek.freshtoken / peek.pureJs, goal: 1.5 }
  wasm.free()
}

// 2. Refresh round trip (keep-alive loopback).
{
  const as = { issuer: server.origin, token_endpoint: server.tokenUrl }
  const o4wClient = { client_id: client.clientId }
  const auth = oauth.ClientSecretBasic(client.clientSecret)
  const n = scale(1_000)
  const rt = await race({
    freshtoken: async (k) => { for (let i = 0; i < k; i++) await ft.refreshAccessToken(client) },
    oauth4webapi: async (k) => {
      for (let i = 0; i < k; i++) {
        const res = await oauth.refreshTokenGrantRequest(as, o4wClient, auth, client.refreshToken, { [oauth.allowInsecureRequests]: true })
        await oauth.processRefreshTokenResponse(as, o4wClient, res)
      }
    },
    // A cold pure-JS cache per call: exactly one refresh each.
    pureJs: async (k) => { for (let i = 0; i < k; i++) await new PureTokenCache(client).getAccessToken() },
    badgateway: async (k) => { const c = badgateway(); for (let i = 0; i < k; i++) await c.refreshToken(rtToken) },
    bareFetch: async (k) => { for (let i = 0; i < k; i++) await bareRefresh() },
  }, n, 5)
  results.refresh = { ...rt, ratio: rt.freshtoken / rt.oauth4webapi, goal: 1.0 }
}

// 2b. The libraries' own CPU per refresh: the same grant through a fetch that answers at once
// with a ready Response (no socket, no server), so what remains is each library's work.
{
  const body = JSON.stringify({ access_token: 'at-' + 'x'.repeat(40), token_type: 'Bearer', expires_in: 7200, refresh_token: 'rt-next' })
  const respond = async () => new Response(body, { headers: { 'content-type': 'application/json', 'content-length': String(body.length) } })
  const as = { issuer: server.origin, token_endpoint: server.tokenUrl }
  const o4wClient = { client_id: client.clientId }
  const auth = oauth.ClientSecretBasic(client.clientSecret)
  const bgw = new OAuth2Client({ server: server.origin, tokenEndpoint: server.tokenUrl, clientId: client.clientId, clientSecret: client.clientSecret, authenticationMethod: 'client_secret_basic', fetch: respond })
  const opts = { ...client, fetch: respond }
  const n = scale(20_000)
  const own = await race({
    freshtoken: async (k) => { for (let i = 0; i < k; i++) await ft.refreshAccessToken(opts) },
    oauth4webapi: async (k) => {
      for (let i = 0; i < k; i++) {
        const res = await oauth.refreshTokenGrantRequest(as, o4wClient, auth, client.refreshToken, { [oauth.customFetch]: respond, [oauth.allowInsecureRequests]: true })
        await oauth.processRefreshTokenResponse(as, o4wClient, res)
      }
    },
    badgateway: async (k) => { for (let i = 0; i < k; i++) await bgw.refreshToken(rtToken) },
    // The floor: making the Response and reading its JSON.
    responseOnly: async (k) => { for (let i = 0; i < k; i++) await (await respond()).json() },
  }, n, 5)
  results.ownCpu = { ...own, ratio: own.freshtoken / own.oauth4webapi }
}

// 3. 10,000 concurrent callers on a cold cache.
{
  // Median of 5 cold caches (the first also pays the JIT's warm-up); requests counted per cache.
  const runs = []
  for (let r = 0; r < 5; r++) {
    const before = server.stats().tokenRequests
    const cache = new ft.TokenCache(client)
    const t0 = performance.now()
    const tokens = await Promise.all(Array.from({ length: 10_000 }, () => cache.getAccessToken()))
    runs.push({ wallMs: performance.now() - t0, tokenRequests: server.stats().tokenRequests - before, distinctTokens: new Set(tokens).size })
    cache.free()
  }
  const mid = runs.sort((a, b) => a.wallMs - b.wallMs)[2]
  results.concurrent = { callers: 10_000, ...mid, maxTokenRequests: Math.max(...runs.map((x) => x.tokenRequests)) }
}

// 4. Memory: hits and refreshes on one cache; caches created and dropped.
{
  const cache = new ft.TokenCache(client)
  for (let i = 0; i < 10_000; i++) await cache.getAccessToken()
  for (let i = 0; i < 100; i++) await cache.refresh()
  gc()
  const warm = { wasm: memory.buffer.byteLength, heap: process.memoryUsage().heapUsed }
  const hits = scale(1_000_000)
  const refreshes = scale(10_000)
  for (let i = 0; i < hits; i++) await cache.getAccessToken()
  for (let i = 0; i < refreshes; i++) await cache.refresh()
  gc()
  const after = { wasm: memory.buffer.byteLength, heap: process.memoryUsage().heapUsed }
  cache.free()
  for (let i = 0; i < 10_000; i++) new ft.TokenCache(client).free()
  gc()
  const cachesWarm = memory.buffer.byteLength
  const caches = scale(100_000)
  for (let i = 0; i < caches; i++) new ft.TokenCache(client).free()
  gc()
  results.memory = {
    hits, refreshes, wasmBefore: warm.wasm, wasmAfter: after.wasm, heapBefore: warm.heap, heapAfter: after.heap,
    cachesCreatedAndFreed: caches, wasmBeforeCaches: cachesWarm, wasmAfterCaches: memory.buffer.byteLength,
  }
}

// 5. Cold start: a fresh process each time; import, then the first refresh.
{
  const script = (imp, call) => `
    const t0 = performance.now()
    ${imp}
    const t1 = performance.now()
    ${call}
    console.log(JSON.stringify({ importMs: t1 - t0, firstCallMs: performance.now() - t0 }))`
  const opts = JSON.stringify(client)
  const kinds = {
    freshtoken: script(`const ft = await import(${JSON.stringify(pathToFileURL(PKG + 'node.mjs').href)})`,
      `await ft.refreshAccessToken(${opts})`),
    oauth4webapi: script(`const oauth = await import(${JSON.stringify(pathToFileURL(O4W).href)})`,
      `const as = { issuer: ${JSON.stringify(server.origin)}, token_endpoint: ${JSON.stringify(server.tokenUrl)} }
       const res = await oauth.refreshTokenGrantRequest(as, { client_id: ${JSON.stringify(client.clientId)} }, oauth.ClientSecretBasic(${JSON.stringify(client.clientSecret)}), 'rt-initial', { [oauth.allowInsecureRequests]: true })
       await oauth.processRefreshTokenResponse(as, { client_id: ${JSON.stringify(client.clientId)} }, res)`),
    badgateway: script(`const { OAuth2Client } = await import(${JSON.stringify(pathToFileURL(BGW).href)})`,
      `await new OAuth2Client({ server: ${JSON.stringify(server.origin)}, tokenEndpoint: ${JSON.stringify(server.tokenUrl)}, clientId: ${JSON.stringify(client.clientId)}, clientSecret: ${JSON.stringify(client.clientSecret)}, authenticationMethod: 'client_secret_basic' }).refreshToken({ refreshToken: 'rt-initial' })`),
  }
  results.coldStart = {}
  for (const [name, code] of Object.entries(kinds)) {
    const runs = []
    for (let i = 0; i < (QUICK ? 3 : 9); i++) {
      runs.push(JSON.parse((await run(process.execPath, ['--input-type=module', '-e', code], { timeout: 30_000 })).stdout))
    }
    results.coldStart[name] = { importMs: median(runs.map((r) => r.importMs)), firstCallMs: median(runs.map((r) => r.firstCallMs)) }
  }
}

// 6. Cold start in workerd: a fresh workerd per run; until the first refresh has answered.
results.workerd = await workerdColdStart({ server, client, pkg: PKG, runs: QUICK ? 3 : 11 })

await server.close()

// Sizes, for the record.
const sizes = JSON.parse(execFileSync(process.execPath, [fileURLToPath(new URL('../tests/size.mjs', import.meta.url)), PKG, '--json']).toString())

const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${os.platform()} ${os.arch()}`
const date = new Date().toISOString().slice(0, 10)
const f = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const r = results
const signed = (x) => (x < 0 ? '−' : '+') + f(Math.abs(x), 1)
const md = `Measured ${date} on ${machine}${QUICK ? ' (--quick: a tenth of the iterations)' : ''}.

| figure | freshtoken | comparison | ratio (goal) |
|---|---|---|---|
| cache hit \`await getAccessToken()\` | ${f(r.hit.freshtoken)} ns | pure JS ${f(r.hit.pureJs)} ns (@badgateway/oauth2-client \`OAuth2Fetch\` ${f(r.hit.badgateway)} ns) | ${f(r.hit.ratio, 2)}× (≤ ${r.hit.goal}×) |
| \`peek()\` | ${f(r.peek.freshtoken)} ns | pure JS ${f(r.peek.pureJs)} ns | ${f(r.peek.ratio, 2)}× (≤ ${r.peek.goal}×) |
| refresh round trip, keep-alive loopback | ${f(r.refresh.freshtoken / 1000)} µs | oauth4webapi ${f(r.refresh.oauth4webapi / 1000)} µs (pure JS ${f(r.refresh.pureJs / 1000)} µs, @badgateway ${f(r.refresh.badgateway / 1000)} µs, bare \`fetch\` + \`json()\` ${f(r.refresh.bareFetch / 1000)} µs) | ${f(r.refresh.ratio, 2)}× (≤ ${r.refresh.goal}×) |
| a refresh's own CPU (a fetch that answers at once: no socket, no server) | ${f(r.ownCpu.freshtoken / 1000, 1)} µs | oauth4webapi ${f(r.ownCpu.oauth4webapi / 1000, 1)} µs (@badgateway ${f(r.ownCpu.badgateway / 1000, 1)} µs; making the Response and reading its JSON ${f(r.ownCpu.responseOnly / 1000, 1)} µs) | ${f(r.ownCpu.ratio, 2)}× |
| 10,000 concurrent callers, cold cache (median of 5) | ${r.concurrent.maxTokenRequests} token request per cache at most, ${f(r.concurrent.wallMs)} ms wall | | |
| wasm memory: ${f(r.memory.hits)} hits + ${f(r.memory.refreshes)} refreshes after warm-up | ${f(r.memory.wasmBefore)} → ${f(r.memory.wasmAfter)} bytes | JS heap ${f(r.memory.heapBefore / 1e6, 1)} → ${f(r.memory.heapAfter / 1e6, 1)} MB | |
| wasm memory: ${f(r.memory.cachesCreatedAndFreed)} caches created and freed | ${f(r.memory.wasmBeforeCaches)} → ${f(r.memory.wasmAfterCaches)} bytes | | |
| cold start: import | ${f(r.coldStart.freshtoken.importMs, 1)} ms | oauth4webapi ${f(r.coldStart.oauth4webapi.importMs, 1)} ms (@badgateway ${f(r.coldStart.badgateway.importMs, 1)} ms) | ${f(r.coldStart.freshtoken.importMs / r.coldStart.oauth4webapi.importMs, 2)}× (≤ 1.5×) |
| cold start: import + first refresh | ${f(r.coldStart.freshtoken.firstCallMs, 1)} ms | oauth4webapi ${f(r.coldStart.oauth4webapi.firstCallMs, 1)} ms (@badgateway ${f(r.coldStart.badgateway.firstCallMs, 1)} ms) | ${f(r.coldStart.freshtoken.firstCallMs / r.coldStart.oauth4webapi.firstCallMs, 2)}× |
| workerd cold start (median of 11): a fresh workerd until its first refresh answered, minus an empty Worker's (${f(r.workerd.emptyMs, 0)} ms) | ${signed(r.workerd.freshtoken - r.workerd.emptyMs)} ms | oauth4webapi ${signed(r.workerd.oauth4webapi - r.workerd.emptyMs)} ms | |
| what a Worker loads (gzip -9) | ${f(sizes.hosts['workerd (wasm + glue + entry)'].gz)} bytes | oauth4webapi refresh path 5.1 KB (issue figure) | |
`
writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify({ date, machine, quick: QUICK, results, sizes }, null, 2) + '\n')
writeFileSync(new URL('./results.md', import.meta.url), md)
console.log(md)

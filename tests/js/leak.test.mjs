// Caches created and dropped in a loop leave the wasm memory flat: with free(), and when
// left to wasm-bindgen's FinalizationRegistry. Reads the memory through the `web` entry's
// initSync, which returns the instance's exports. Run with --expose-gc (make test-js does).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { startTokenServer } from '../server/token-server.mjs'
import { CLIENT_ID, CLIENT_SECRET, project, wasmMemory } from './helpers.mjs'

let p, ft, memory, exports
before(async () => {
  p = await project('leak', { 'package.json': '{"name":"app","private":true,"type":"module"}' })
  const dir = join(p.dir, 'node_modules', 'freshtoken')
  ft = await import(pathToFileURL(join(dir, 'freshtoken.js')))
  exports = ft.initSync({ module: readFileSync(join(dir, 'freshtoken_bg.wasm')) })
  memory = wasmMemory(exports)
})
after(() => p.cleanup())

const opts = { tokenUrl: 'https://auth.example/token', clientId: 'c', clientSecret: 's', refreshToken: 'r' }
const settle = async () => { for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)) } }

test('100,000 callers waiting on one refresh hold no wasm memory each (one request, every caller its token)', async () => {
  let requests = 0
  const fetch = async () => {
    requests++
    await new Promise((r) => setTimeout(r, 20))
    return new Response(JSON.stringify({ access_token: 'AT-' + requests, expires_in: 7200 }), { headers: { 'content-type': 'application/json' } })
  }
  const warmUp = new ft.TokenCache({ ...opts, fetch })
  await Promise.all(Array.from({ length: 1_000 }, () => warmUp.getAccessToken()))
  warmUp.free()
  const warm = memory.buffer.byteLength
  const cache = new ft.TokenCache({ ...opts, fetch })
  const waiting = Array.from({ length: 100_000 }, (_, i) => (i % 10 ? cache.getAccessToken() : cache.getToken()))
  const got = await Promise.all(waiting)
  console.log(`# 100,000 waiting callers: wasm memory ${warm} → ${memory.buffer.byteLength} bytes`)
  assert.equal(requests, 2)
  assert.ok(got.every((v, i) => (i % 10 ? v : v.accessToken) === 'AT-2'))
  // A Rust future per waiting caller (before c326373) grew it by 19.7 MB here.
  assert.ok(memory.buffer.byteLength <= warm + 1024 * 1024, `grew from ${warm} to ${memory.buffer.byteLength}`)
  cache.free()
})

test('100,000 caches created and freed: wasm memory flat after warm-up', async () => {
  for (let i = 0; i < 10_000; i++) new ft.TokenCache(opts).free()
  const warm = memory.buffer.byteLength
  for (let i = 0; i < 100_000; i++) new ft.TokenCache(opts).free()
  console.log(`# free(): wasm memory ${warm} → ${memory.buffer.byteLength} bytes`)
  assert.equal(memory.buffer.byteLength, warm)
})

test('100,000 caches dropped without free(): the FinalizationRegistry reclaims them', async () => {
  assert.equal(typeof globalThis.gc, 'function', 'run with node --expose-gc')
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 10_000; i++) new ft.TokenCache(opts)
    await settle()
  }
  const warm = memory.buffer.byteLength
  const heap = process.memoryUsage().heapUsed
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 10_000; i++) new ft.TokenCache(opts)
    await settle()
  }
  const heapAfter = process.memoryUsage().heapUsed
  console.log(`# dropped: wasm memory ${warm} → ${memory.buffer.byteLength} bytes; JS heap ${heap} → ${heapAfter} bytes`)
  assert.ok(memory.buffer.byteLength <= warm + 1024 * 1024, `grew from ${warm} to ${memory.buffer.byteLength}`)
  assert.ok(heapAfter <= heap + 8 * 1024 * 1024, `JS heap grew from ${heap} to ${heapAfter}`)
})

test('1,000,000 cache hits and 2,000 refreshes: wasm memory and JS heap flat after warm-up', async (t) => {
  const server = await startTokenServer()
  t.after(() => server.close())
  const cache = new ft.TokenCache({ ...opts, tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: 'rt-initial' })
  for (let i = 0; i < 10_000; i++) await cache.getAccessToken()
  for (let i = 0; i < 200; i++) await cache.refresh()
  await settle()
  const warm = { wasm: memory.buffer.byteLength, heap: process.memoryUsage().heapUsed }
  for (let i = 0; i < 1_000_000; i++) await cache.getAccessToken()
  for (let i = 0; i < 2_000; i++) await cache.refresh()
  await settle()
  const now = { wasm: memory.buffer.byteLength, heap: process.memoryUsage().heapUsed }
  console.log(`# hits: wasm memory ${warm.wasm} → ${now.wasm} bytes; JS heap ${warm.heap} → ${now.heap} bytes`)
  assert.equal(now.wasm, warm.wasm)
  assert.ok(now.heap <= warm.heap + 8 * 1024 * 1024, `JS heap grew from ${warm.heap} to ${now.heap}`)
  assert.equal(server.stats().tokenRequests, 1 + 200 + 2_000, 'hits made no requests')
  cache.free()
})

test('300,000 calls that throw an OAuthError leak nothing; 100,000 peeks with a throwing clock do not corrupt memory', () => {
  const bad = { tokenUrl: 'https://x/', clientId: 'c', refreshToken: 'r', retry: { retries: -1 } }
  const run = (n) => {
    for (let i = 0; i < n; i++) {
      assert.throws(() => new ft.TokenCache(bad), (e) => e.code === 'invalid_options')
      assert.throws(() => ft.buildAuthorizeUrl({}), (e) => e.code === 'invalid_options')
      assert.throws(() => ft.setKeepAlive(42), (e) => e.code === 'invalid_options')
    }
  }
  const slots = () => Object.values(exports).filter((v) => v instanceof WebAssembly.Table).reduce((n, t) => n + t.length, 0)
  run(10_000)
  const warm = { wasm: memory.buffer.byteLength, slots: slots() }
  run(100_000)
  console.log(`# throwing calls: wasm memory ${warm.wasm} → ${memory.buffer.byteLength} bytes, table slots ${warm.slots} → ${slots()}`)
  assert.deepEqual({ wasm: memory.buffer.byteLength, slots: slots() }, warm)

  // A JS exception caught inside wasm (here the caller's clock throwing) leaks one
  // externref slot in wasm-bindgen 0.2.130: its `catch` shim returns early without taking
  // the import's return value. Bounded here so it cannot get worse unnoticed; and the
  // instance must stay sound (a trap would show as a RuntimeError).
  const clock = new ft.TokenCache({ tokenUrl: 'https://x/', clientId: 'c', refreshToken: 'r', now: () => { throw new Error('clock') } })
  const before = slots()
  for (let i = 0; i < 100_000; i++) assert.equal(clock.peek(), undefined)
  const leaked = slots() - before
  console.log(`# 100,000 caught clock exceptions: table grew by ${leaked} slots`)
  assert.ok(leaked <= 2 * 100_000, `table grew by ${leaked}`)
  assert.throws(() => new ft.TokenCache(bad), (e) => e.code === 'invalid_options', 'the instance still works')
})

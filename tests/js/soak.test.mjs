// Soaks of issue #12, defect 1: token and error-body sizes that alternate between large and
// small made the old hand-written allocator hand larger freed runs to smaller requests and
// grow without bound (1.2 MB → 264 MB after 500 calls). Each pattern runs a warm-up, then
// measures wasm memory at checkpoints: it must plateau. Bounded: ~1,500 calls in all.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { withMemory } from './helpers.mjs'

let p, ft, memory
before(async () => ({ p, ft, memory } = await withMemory('soak')))
after(() => p.cleanup())

const base = { tokenUrl: 'https://auth.example/token', clientId: 'soak-client', clientSecret: 'soak-client-secret', refreshToken: 'soak-refresh-token' }

/** A fetch that answers each call with the next of `bodies` (status, JSON text), in turn. */
function alternating(bodies) {
  let i = 0
  return async () => {
    const [status, text] = bodies[i++ % bodies.length]
    return new Response(text, { status, headers: { 'content-type': 'application/json' } })
  }
}
const token = (chars) => [200, JSON.stringify({ access_token: 'a'.repeat(chars), expires_in: 7200 })]
const errorBody = (chars) => [400, JSON.stringify({ error: 'invalid_request', error_description: 'd'.repeat(chars) })]

/** Runs `call` `warm` times, then `rounds` × `per` more, reading memory after each round. */
async function soak(name, call, { warm, rounds, per }) {
  for (let i = 0; i < warm; i++) await call()
  const mb = (n) => (n / 1048576).toFixed(1)
  const marks = [memory.buffer.byteLength]
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < per; i++) await call()
    marks.push(memory.buffer.byteLength)
  }
  console.log(`soak ${name}: wasm memory after warm-up and each of ${rounds} rounds of ${per}: ${marks.map(mb).join(' → ')} MB`)
  // A plateau: the last half of the run adds nothing, and the whole run adds at most 8 MB.
  const mid = marks[Math.floor(rounds / 2)]
  assert.equal(marks[rounds], mid, `${name}: still growing in the second half (${marks.map(mb).join(' → ')} MB)`)
  assert.ok(marks[rounds] - marks[0] <= 8 * 1048576, `${name}: grew ${mb(marks[rounds] - marks[0])} MB`)
}

test('soak: access tokens alternating 1,000,000 / 40,000 characters through refreshAccessToken', async () => {
  const fetch = alternating([token(1_000_000), token(40_000)])
  await soak('1 MB / 40 KB tokens', async () => {
    const set = await ft.refreshAccessToken({ ...base, fetch })
    assert.ok(set.accessToken.length === 1_000_000 || set.accessToken.length === 40_000)
  }, { warm: 40, rounds: 4, per: 60 })
})

test('soak: tokens alternating 40 KB / 70 KB, through refreshAccessToken and TokenCache.refresh()', async () => {
  const fetch = alternating([token(40_000), token(70_000)])
  await soak('40 KB / 70 KB tokens', () => ft.refreshAccessToken({ ...base, fetch }), { warm: 100, rounds: 4, per: 100 })
  const cache = new ft.TokenCache({ ...base, fetch })
  await soak('40 KB / 70 KB tokens, TokenCache.refresh()', () => cache.refresh(), { warm: 100, rounds: 4, per: 100 })
  cache.free()
})

test('soak: error bodies with error_description alternating 40 KB / 300 KB', async () => {
  const fetch = alternating([errorBody(40_000), errorBody(300_000)])
  await soak('40 KB / 300 KB error descriptions', async () => {
    await assert.rejects(ft.refreshAccessToken({ ...base, fetch }), (e) => e.code === 'invalid_request' && e.description.length >= 40_000)
  }, { warm: 50, rounds: 4, per: 60 })
})

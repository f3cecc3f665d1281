// The packed tarball in the other JavaScript hosts a user brings: Deno 2 and Bun 1 (each
// resolving `freshtoken` from node_modules by its own export conditions), and Vercel's
// edge-runtime (the `edge-light` entry as Next.js bundles it, in the VM that refuses to compile
// wasm from bytes). Each: a real refresh, a real OAuthError, 20 concurrent cache callers → 1
// request. Firefox and WebKit are in browsers.test.mjs.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { EdgeRuntime } from 'edge-runtime'
import { startTokenServer } from '../server/token-server.mjs'
import { HOST_MAIN, assertCacheResult, project, run } from './helpers.mjs'

const NODE_MODULES = fileURLToPath(new URL('../node_modules/', import.meta.url))
const DENO = join(NODE_MODULES, '@deno/linux-x64-glibc/deno')
const BUN = join(NODE_MODULES, '@oven/bun-linux-x64/bin/bun')

const SCRIPT = `import { refreshAccessToken, TokenCache, OAuthError } from 'freshtoken'
${HOST_MAIN}
main(REPLACE_ORIGIN).then((r) => console.log(JSON.stringify(r)), (e) => { console.log('ERR ' + (e && e.stack || e)) })
`

let server
before(async () => { server = await startTokenServer() })
after(() => server.close())

const script = () => SCRIPT.replace('REPLACE_ORIGIN', JSON.stringify(server.origin))

function check(name, stdout) {
  assert.ok(!stdout.startsWith('ERR'), `${name}: ${stdout}`)
  assertCacheResult(assert, JSON.parse(stdout), name)
}

for (const [host, cmd, args] of [
  ['Deno 2', DENO, ['run', '--quiet', '--allow-net=127.0.0.1', '--allow-read', '--allow-env', 'main.mjs']],
  ['Bun 1', BUN, ['main.mjs']],
]) {
  test(`${host}: import from node_modules, refresh, OAuthError, single flight`, async (t) => {
    const p = await project(host.split(' ')[0].toLowerCase(), {
      'package.json': JSON.stringify({ name: 'app', private: true, type: 'module' }),
      'main.mjs': script(),
    })
    t.after(() => p.cleanup())
    const { stdout: version } = await run(cmd, ['--version'])
    const env = { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', DENO_DIR: join(p.dir, '.deno') }
    const { stdout } = await run(cmd, args, { cwd: p.dir, env, timeout: 60_000 })
    check(host, stdout.trim())
    console.log(`${host} (${version.trim().split('\n')[0]}): real refresh, OAuthError, single flight`)
  })
}

test("Vercel's edge-runtime: the edge-light entry, its wasm injected as a compiled module (as Next.js does)", async (t) => {
  const p = await project('edge-runtime', {
    'package.json': JSON.stringify({ name: 'app', private: true, type: 'module' }),
    'main.mjs': script(),
  })
  t.after(() => p.cleanup())
  const wasmFile = join(p.dir, 'node_modules/freshtoken/freshtoken_bg.wasm')
  // Next.js turns `import wasm from './x.wasm?module'` into a global the sandbox defines.
  const wasmGlobal = {
    name: 'wasm-module-global',
    setup(b) {
      b.onResolve({ filter: /\.wasm\?module$/ }, () => ({ path: 'wasm', namespace: 'wasm-global' }))
      b.onLoad({ filter: /.*/, namespace: 'wasm-global' }, () => ({ contents: 'export default globalThis.__freshtokenWasm' }))
    },
  }
  const out = await build({
    entryPoints: [join(p.dir, 'main.mjs')], bundle: true, write: false, format: 'iife', platform: 'neutral',
    conditions: ['edge-light', 'worker', 'browser'], mainFields: ['browser', 'module', 'main'], plugins: [wasmGlobal], logLevel: 'warning',
  })
  const lines = []
  const runtime = new EdgeRuntime({
    codeGeneration: { strings: false, wasm: false }, // as on Vercel's edge: no wasm from bytes
    extend: (context) => Object.assign(context, {
      __freshtokenWasm: new WebAssembly.Module(readFileSync(wasmFile)), // compiled out here: another realm
      console: { ...context.console, log: (line) => lines.push(line) },
    }),
  })
  assert.throws(() => runtime.evaluate('new WebAssembly.Module(new Uint8Array([0,97,115,109,1,0,0,0]))'), /disallowed/, 'the VM refuses wasm from bytes, as the edge does')
  runtime.evaluate(out.outputFiles[0].text)
  for (let i = 0; i < 300 && !lines.length; i++) await new Promise((r) => setTimeout(r, 100))
  assert.equal(lines.length, 1, 'one result line within 30 s')
  check('edge-runtime', String(lines[0]))
  console.log("Vercel's edge-runtime: real refresh, OAuthError, single flight")
})

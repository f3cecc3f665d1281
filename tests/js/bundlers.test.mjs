// The packed tarball in fresh browser projects, built by each bundler as a user would (its
// defaults, named imports), served, and run in headless Chromium: a real refresh, a real
// OAuthError, TokenCache single flight. Reports what each page loads (gzip -9).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build, createServer, preview } from 'vite'
import { startTokenServer } from '../server/token-server.mjs'
import { launch, serveStatic } from './chromium.mjs'
import { HOST_MAIN, assertCacheResult, project, run } from './helpers.mjs'
import { freePort } from './webdriver.mjs'

const BIN = fileURLToPath(new URL('../node_modules/.bin/', import.meta.url))
const NODE_MODULES = fileURLToPath(new URL('../node_modules/', import.meta.url))

const IMPORTS = `import { refreshAccessToken, TokenCache, OAuthError } from 'freshtoken'`
const MAIN = HOST_MAIN
const RESULT = `window.result = main(new URLSearchParams(location.search).get('origin')).then((r) => JSON.stringify(r), (e) => 'ERR ' + (e && e.stack || e))`
// What a user writes: named imports, no init call.
const APP = `${IMPORTS}\n${MAIN}\n${RESULT}\n`
const HTML = (src) => `<!doctype html><meta charset="utf-8"><script type="module" src="${src}"></script>`

let server, browser
before(async () => {
  server = await startTokenServer()
  browser = await launch()
})
after(async () => {
  await browser?.close()
  await server.close()
})

/** Loads `url` in Chromium; returns the page's result and the bytes (gzip -9) it fetched. */
async function runPage(url) {
  const page = await browser.newPage()
  const errors = []
  let gz = 0
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('response', async (res) => {
    if (res.url().startsWith(server.origin)) return
    try { gz += gzipSync(await res.body(), { level: 9 }).length } catch {}
  })
  try {
    await page.goto(`${url}?origin=${encodeURIComponent(server.origin)}`)
    await page.waitForFunction(() => window.result, null, { timeout: 20_000 })
    const text = await page.evaluate(() => window.result)
    return { text, errors, gz }
  } finally {
    await page.close()
  }
}

function check(name, { text, errors, gz }) {
  assert.deepEqual(errors, [], name)
  assert.ok(!text.startsWith('ERR'), `${name}: ${text}`)
  assertCacheResult(assert, JSON.parse(text), name)
  console.log(`${name}: real refresh, OAuthError, single flight${gz ? `; the page loads ${gz.toLocaleString('en')} bytes gzip -9` : ''}`)
}

/** A fresh project with the tarball and `files`; `dist` gets an index.html for `script`. */
async function app(name, files = {}) {
  return project(name, {
    'package.json': JSON.stringify({ name: 'app', private: true, type: 'module' }),
    'src/index.js': APP,
    ...files,
  })
}

const bundle = (cmd, args, cwd) => run(join(BIN, cmd), args, { cwd, timeout: 180_000, env: { ...process.env, NODE_PATH: NODE_MODULES } })

for (const mode of ['production', 'development']) {
  test(`webpack 5 (${mode}, no config): named imports work with no init call`, async (t) => {
    const p = await app('webpack-' + mode, { 'dist/index.html': HTML('main.js') })
    t.after(() => p.cleanup())
    await bundle('webpack', ['--mode', mode], p.dir)
    const site = await serveStatic(join(p.dir, 'dist'))
    t.after(() => site.close())
    check(`webpack ${mode}`, await runPage(site.origin + '/'))
  })
}

test('rspack 2 (production, no config)', async (t) => {
  const p = await app('rspack', { 'dist/index.html': HTML('main.js') })
  t.after(() => p.cleanup())
  await bundle('rspack', ['build', '--mode', 'production'], p.dir)
  const site = await serveStatic(join(p.dir, 'dist'))
  t.after(() => site.close())
  check('rspack production', await runPage(site.origin + '/'))
})

test('Vite 8: vite build + vite preview', async (t) => {
  const p = await app('vite-prod', { 'index.html': HTML('/src/index.js') })
  t.after(() => p.cleanup())
  await build({ root: p.dir, logLevel: 'warn' })
  const server = await preview({ root: p.dir, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, strictPort: false } })
  t.after(() => server.close())
  const url = server.resolvedUrls.local[0]
  check('vite build + preview', await runPage(url))
})

// What a user runs first: the dev server, whose dependency pre-bundling (esbuild) moves the
// glue away from its .wasm.
test('Vite 8: vite dev server (dependency pre-bundling on)', async (t) => {
  const p = await app('vite-dev', { 'index.html': HTML('/src/index.js') })
  t.after(() => p.cleanup())
  const server = await createServer({ root: p.dir, logLevel: 'warn', server: { host: '127.0.0.1', port: 0 } })
  await server.listen()
  t.after(() => server.close())
  check('vite dev', await runPage(server.resolvedUrls.local[0]))
})

test('Rollup 4 + node-resolve + import-meta-assets (the one line README gives)', async (t) => {
  const config = `import { nodeResolve } from '@rollup/plugin-node-resolve'
import { importMetaAssets } from '@web/rollup-plugin-import-meta-assets'
export default { input: 'src/index.js', output: { dir: 'dist', format: 'es' }, plugins: [nodeResolve({ browser: true }), importMetaAssets()] }
`
  const p = await app('rollup', { 'rollup.config.mjs': config, 'dist/index.html': HTML('index.js') })
  t.after(() => p.cleanup())
  // The plugins, as if installed in the project (one install for the suite, in tests/).
  for (const dep of ['@rollup/plugin-node-resolve', '@web/rollup-plugin-import-meta-assets']) {
    mkdirSync(join(p.dir, 'node_modules', dep, '..'), { recursive: true })
    symlinkSync(join(NODE_MODULES, dep), join(p.dir, 'node_modules', dep))
  }
  await bundle('rollup', ['-c', '--silent'], p.dir)
  const site = await serveStatic(join(p.dir, 'dist'))
  t.after(() => site.close())
  check('rollup', await runPage(site.origin + '/'))
})

test('esbuild (browser, ESM bundle) + the .wasm copied beside it, as README says', async (t) => {
  const p = await app('esbuild', { 'dist/index.html': HTML('index.js') })
  t.after(() => p.cleanup())
  await bundle('esbuild', ['src/index.js', '--bundle', '--format=esm', '--minify', '--outdir=dist', '--log-level=warning'], p.dir)
  await run('cp', [join(p.dir, 'node_modules/freshtoken/freshtoken_bg.wasm'), join(p.dir, 'dist/')])
  const site = await serveStatic(join(p.dir, 'dist'))
  t.after(() => site.close())
  check('esbuild', await runPage(site.origin + '/'))
})

// Server code bundled for Node (a Lambda, a CLI): the bundle alone, copied to a folder with no
// node_modules, must carry the wasm (the inline copy) and run a real refresh.
for (const format of ['esm', 'cjs']) {
  test(`esbuild for Node (${format} bundle, run without node_modules)`, async (t) => {
    const source = `${IMPORTS}\n${MAIN}\nmain(process.argv[2]).then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e); process.exit(1) })\n`
    const p = await app('esbuild-node-' + format, { 'src/server.js': source })
    t.after(() => p.cleanup())
    const out = `server.${format === 'esm' ? 'mjs' : 'cjs'}`
    await bundle('esbuild', ['src/server.js', '--bundle', '--platform=node', `--format=${format}`, `--outfile=dist/${out}`, '--log-level=warning'], p.dir)
    const alone = mkdtempSync(join(tmpdir(), '.freshtoken-alone-'))
    t.after(() => rmSync(alone, { recursive: true, force: true }))
    copyFileSync(join(p.dir, 'dist', out), join(alone, out))
    const { stdout } = await run(process.execPath, [join(alone, out), server.origin], { cwd: alone, timeout: 60_000 })
    check(`esbuild node ${format}`, { text: stdout.trim(), errors: [], gz: 0 })
  })
}

for (const packageExports of [false, true]) {
  test(`Parcel 2 (production${packageExports ? ', packageExports on' : ', defaults'})`, async (t) => {
    const pkg = { name: 'app', private: true, type: 'module', ...(packageExports && { '@parcel/resolver-default': { packageExports } }) }
    const p = await app('parcel', { 'package.json': JSON.stringify(pkg), 'src/index.html': HTML('./index.js') })
    t.after(() => p.cleanup())
    await bundle('parcel', ['build', 'src/index.html', '--no-cache', '--no-source-maps', '--log-level', 'warn'], p.dir)
    const site = await serveStatic(join(p.dir, 'dist'))
    t.after(() => site.close())
    check(`parcel${packageExports ? ' (packageExports)' : ''}`, await runPage(site.origin + '/'))
  })
}

// Next.js 16: a client component (its page in Chromium), a Node route and an edge route, each
// doing the same checks; built with Turbopack (the default) and with webpack. The project sits
// inside tests/ so that next and react resolve from the suite's one install.
const NEXT_ROUTE = (runtime) => `${IMPORTS}
export const runtime = '${runtime}'
export const dynamic = 'force-dynamic'
${MAIN}
export async function GET(req) { return Response.json(await main(new URL(req.url).searchParams.get('origin'))) }
`
const NEXT_APP = {
  'package.json': JSON.stringify({ name: 'next-app', private: true }),
  'next.config.mjs': `export default { turbopack: { root: ${JSON.stringify(fileURLToPath(new URL('..', import.meta.url)))} } }\n`,
  'app/layout.js': 'export default function RootLayout({ children }) { return <html><body>{children}</body></html> }\n',
  'app/page.js': `'use client'
import { useEffect } from 'react'
${IMPORTS}
${MAIN}
export default function Page() {
  useEffect(() => { ${RESULT} }, [])
  return <p>freshtoken</p>
}
`,
  'app/api/node/route.js': NEXT_ROUTE('nodejs'),
  'app/api/edge/route.js': NEXT_ROUTE('edge'),
}

for (const bundler of ['turbopack', 'webpack']) {
  test(`Next.js 16 (${bundler}): client component, Node route, edge route`, async (t) => {
    const p = await project('next-' + bundler, NEXT_APP, { base: fileURLToPath(new URL('../', import.meta.url)) })
    t.after(() => p.cleanup())
    const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }
    await run(join(BIN, 'next'), ['build', ...(bundler === 'webpack' ? ['--webpack'] : [])], { cwd: p.dir, env, timeout: 300_000 })
    const port = await freePort()
    const next = spawn(join(BIN, 'next'), ['start', '-H', '127.0.0.1', '-p', String(port)], { cwd: p.dir, env, stdio: 'ignore' })
    t.after(() => next.kill())
    const origin = `http://127.0.0.1:${port}`
    await waitFor(origin + '/api/node?origin=' + encodeURIComponent(server.origin))
    for (const route of ['node', 'edge']) {
      const res = await fetch(`${origin}/api/${route}?origin=${encodeURIComponent(server.origin)}`)
      assert.equal(res.status, 200, `${route} route`)
      check(`next ${bundler} ${route} route`, { text: await res.text(), errors: [], gz: 0 })
    }
    check(`next ${bundler} client component (the page, React included)`, await runPage(origin + '/'))
  })
}

/** Polls `url` until it answers (at most 30 s). */
async function waitFor(url) {
  for (let i = 0; i < 300; i++) {
    try { await fetch(url); return } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${url} did not answer in 30 s`)
}

test('the packed package.json: sideEffects names the entries that initialise; a top-level browser field', async () => {
  const p = await app('pkgjson')
  try {
    const pkg = JSON.parse(readFileSync(join(p.dir, 'node_modules/freshtoken/package.json'), 'utf8'))
    assert.ok(Array.isArray(pkg.sideEffects) && pkg.sideEffects.includes('./browser.js') && pkg.sideEffects.includes('./workerd.js'), JSON.stringify(pkg.sideEffects))
    assert.ok(!pkg.sideEffects.some((f) => /workers\.js|broker/.test(f)), 'freshtoken/workers stays side-effect free (wasm-free)')
    assert.equal(pkg.browser, './browser.js')
    for (const f of pkg.sideEffects) assert.ok(statSync(join(p.dir, 'node_modules/freshtoken', f)).isFile(), f)
    assert.ok(readdirSync(join(p.dir, 'node_modules/freshtoken')).includes('freshtoken_bg.wasm'))
  } finally {
    p.cleanup()
  }
})

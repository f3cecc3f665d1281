// Bundles a Worker the way wrangler does (esbuild, the `workerd` export condition, .wasm kept
// as a module) and runs it in real workerd through miniflare.
import { dirname, join } from 'node:path'
import * as esbuild from 'esbuild'
import { Miniflare } from 'miniflare'

export async function bundleWorker(projectDir, entry = 'worker.js') {
  const outdir = join(projectDir, 'out')
  await esbuild.build({
    entryPoints: [join(projectDir, entry)],
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    loader: { '.wasm': 'copy' },
    external: ['cloudflare:*', 'node:*'],
    logLevel: 'warning',
  })
  return join(outdir, entry)
}

export function startWorker(scriptPath, options = {}) {
  return new Miniflare({
    modules: true,
    scriptPath,
    modulesRoot: dirname(scriptPath),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-01',
    ...options,
  })
}

// Bundles a Worker the way wrangler does (esbuild, the `workerd` export condition, .wasm kept
// as a module) and runs it in real workerd through miniflare.
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import * as esbuild from 'esbuild'
import { Miniflare } from 'miniflare'

/** Bundles `entry` of `projectDir` into `projectDir/out-<name>/`; returns the script path. */
export async function bundleWorker(projectDir, entry = 'worker.js') {
  const outdir = join(projectDir, 'out-' + entry.replace(/\W/g, '_'))
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
  return join(outdir, entry.replace(/\.\w+$/, '.js'))
}

/** The files a bundle consists of (a wasm-free Worker has no .wasm among them). */
export const bundleFiles = (scriptPath) => readdirSync(dirname(scriptPath)).sort()

/** Miniflare options for one Worker script. */
export function workerOptions(scriptPath, options = {}) {
  return {
    modules: true,
    scriptPath,
    modulesRoot: dirname(scriptPath),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-01',
    ...options,
  }
}

/**
 * Real workerd with one Worker (`scriptPath`) or several (`workers: [...]`). workerd's own
 * stdout/stderr (console output and its warnings) collect in `mf.output`.
 */
export function startWorker(scriptPath, options = {}) {
  const output = []
  const capture = { handleRuntimeStdio(out, err) { out.on('data', (d) => output.push(String(d))); err.on('data', (d) => output.push(String(d))) } }
  const mf = new Miniflare(scriptPath ? { ...workerOptions(scriptPath, options), ...capture } : { ...options, ...capture })
  mf.output = output
  return mf
}

/** The warning workerd prints when a promise is settled from another request's context. */
export const CROSS_REQUEST_WARNING = /different request context|cross-request/i

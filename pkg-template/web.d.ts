export * from './index.js'

/** What `init` accepts: a URL or path of the .wasm, its bytes, a Response or a compiled module. */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module

/** Loads the wasm (once). Needed only when importing `freshtoken/web` without a bundler. */
export default function init(options?: { module_or_path?: InitInput | Promise<InitInput> }): Promise<unknown>

/** Instantiates the wasm synchronously from bytes or a compiled module. */
export declare function initSync(options: { module: BufferSource | WebAssembly.Module }): unknown

/**
 * Hosts whose I/O belongs to the request that started it (workerd) pass their `waitUntil`,
 * so a shared refresh outlives the request that started it. The `workerd` entry of
 * `freshtoken` does this itself. `undefined` turns it off.
 */
export declare function setKeepAlive(waitUntil: ((promise: Promise<unknown>) => void) | undefined): void
